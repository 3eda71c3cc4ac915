"""SMTP transport (aiosmtplib): connections that each carry many messages, typed failures."""

from __future__ import annotations

import asyncio
import collections
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import aiosmtplib

from notifications.mime import ascii_address, ascii_domain

if TYPE_CHECKING:  # the model (pydantic-settings) is built only where settings are read with it
    from config.settings import Settings

Security = Literal["none", "starttls", "tls"]


class DeliveryError(Exception):
    """A message was not accepted. `permanent` (a 5xx reply): do not try again.

    `connection_lost`: the connection cannot carry another message; the caller drops it.
    `unreachable`: the server cannot be reached or does not answer in time (no connection,
    a timeout): the rest of the run waits for the next one instead of queueing up timeouts.
    """

    def __init__(self, reply: str, *, permanent: bool, connection_lost: bool = False,
                 unreachable: bool = False) -> None:
        super().__init__(reply)
        self.reply = reply
        self.permanent = permanent
        self.connection_lost = connection_lost or unreachable
        self.unreachable = unreachable


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    security: Security = "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0  # the most one message (or one connection set-up) may take
    local_hostname: str = "localhost"
    tls_context: ssl.SSLContext | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> SmtpTransport:
        options: dict[str, object] = {
            "host": settings.smtp_host, "port": settings.smtp_port, "security": settings.smtp_security,
            "username": settings.smtp_username,
            "password": settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            "timeout": settings.smtp_timeout,
            "local_hostname": ascii_domain(settings.mail_from.rpartition("@")[2]) or "localhost",
        }
        return cls(**{**options, **overrides})  # type: ignore[arg-type]

    async def connect(self) -> SmtpConnection:
        """An open, greeted (and, as configured, encrypted and authenticated) connection."""
        client = aiosmtplib.SMTP(
            hostname=self.host, port=self.port, timeout=self.timeout,
            use_tls=self.security == "tls", start_tls=False,
            local_hostname=self.local_hostname, tls_context=self.tls_context,
        )
        try:
            async with asyncio.timeout(self.timeout):
                await client.connect()
                await client.ehlo()
                if self.security == "starttls":
                    if not client.supports_extension("starttls"):
                        # No silent downgrade: the password and the mail stay off the wire.
                        raise DeliveryError(
                            f"{self.host}:{self.port} does not offer STARTTLS; refusing to send in clear text "
                            "(DUBAN_SMTP_SECURITY=starttls)", permanent=False, unreachable=True)
                    await client.starttls(tls_context=self.tls_context)
                if self.username:
                    await client.login(self.username, self.password or "")
        except DeliveryError:
            client.close()
            raise
        except aiosmtplib.SMTPResponseException as exc:
            client.close()
            # Refused at greeting or login: a server or configuration problem, not this message's.
            raise DeliveryError(f"connecting to {self.host}:{self.port}: {_reply(exc)}",
                                permanent=False, unreachable=True) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise DeliveryError(f"connecting to {self.host}:{self.port}: {exc or type(exc).__name__}",
                                permanent=False, unreachable=True) from None
        return SmtpConnection(client, self.timeout)


class SmtpConnection:
    """One open connection. With a server that offers PIPELINING (RFC 2920), MAIL, RCPT and DATA
    go out in one write, and the message in a second: two round trips instead of four; and when
    the caller names the message that follows, its MAIL, RCPT and DATA ride in the same write as
    this message's data, so a message costs one write and one round trip. aiosmtplib still does
    everything before (greeting, STARTTLS, AUTH) and the sending when PIPELINING is not offered.
    """

    def __init__(self, client: aiosmtplib.SMTP, timeout: float) -> None:
        self.client = client
        self.timeout = timeout
        self.sent = 0
        self.pipeline: _Pipeline | None = None
        # The next message's envelope, already written after the last message's data: its
        # sender and recipients, and the futures of the MAIL, RCPT... and DATA replies.
        self.opened: tuple[tuple[str, ...], list[asyncio.Future[tuple[int, str]]]] | None = None
        transport = client.transport
        if client.supports_extension("pipelining") and transport is not None:
            self.pipeline = _Pipeline(transport)

    async def send(self, sender: str, recipients: Sequence[str], raw: bytes,
                   following: Sequence[str] | None = None) -> dict[str, str]:
        """Send one message; returns the recipients the server refused (address -> reply).

        `following`: the recipients of the message the caller sends next on this connection,
        from the same sender (its envelope may go out early; see the class). Raises
        DeliveryError when no recipient accepted it.
        """
        # Domains go in IDNA (no SMTPUTF8); the refusals name the addresses as the caller gave them.
        sender = ascii_address(sender)
        given = {ascii_address(addr): addr for addr in recipients}
        recipients = list(given)
        following = None if following is None else [ascii_address(addr) for addr in following]
        # A line break in an address would smuggle SMTP commands onto the connection: such an
        # address is never written; the message still goes to the others.
        if not _ADDRESS.fullmatch(sender):
            raise DeliveryError(f"not a deliverable address: {sender!r}", permanent=True)
        deliverable = _deliverable(recipients)
        if not deliverable:
            raise DeliveryError("not a deliverable address: " + ", ".join(map(repr, given.values())), permanent=True)
        undeliverable = {addr: "not a deliverable address" for addr in recipients if addr not in deliverable}
        recipients = deliverable
        if self.pipeline is not None:
            # The same filter as that message's own send: the envelope sent ahead must match it.
            following = _deliverable(following or ()) or None
            refused = await self._send_pipelined(self.pipeline, sender, recipients, raw, following)
        else:
            refused = await self._send_plain(sender, recipients, raw)
        return {given.get(addr, addr): reply for addr, reply in {**undeliverable, **refused}.items()}

    async def _send_plain(self, sender: str, recipients: Sequence[str], raw: bytes) -> dict[str, str]:
        try:
            async with asyncio.timeout(self.timeout):
                refused, _ = await self.client.sendmail(sender, list(recipients), raw)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            replies = {r.recipient: _reply(r) for r in exc.recipients}
            await self._reset()
            raise DeliveryError(
                "; ".join(f"{addr}: {reply}" for addr, reply in replies.items()),
                permanent=all(r.code >= 500 for r in exc.recipients),
            ) from None
        except aiosmtplib.SMTPServerDisconnected as exc:
            raise DeliveryError(f"server disconnected: {exc}", permanent=False, connection_lost=True) from None
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise DeliveryError(_reply(exc), permanent=exc.code >= 500) from None
        except (TimeoutError, aiosmtplib.SMTPTimeoutError) as exc:
            self.client.close()
            raise DeliveryError(f"no answer within {self.timeout:g}s ({type(exc).__name__})",
                                permanent=False, unreachable=True) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            self.client.close()
            raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False, connection_lost=True) from None
        self.sent += 1
        return {addr: _reply_text(reply) for addr, reply in refused.items()}

    async def _reset(self) -> None:
        """After a refusal, RSET so the connection can carry the next message."""
        try:
            async with asyncio.timeout(self.timeout):
                await self.client.rset()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            self.client.close()

    async def _send_pipelined(self, pipe: _Pipeline, sender: str, recipients: Sequence[str], raw: bytes,
                              following: Sequence[str] | None) -> dict[str, str]:
        try:
            async with asyncio.timeout(self.timeout):
                if self.opened is None:
                    futures = pipe.write(_envelope(sender, recipients), len(recipients) + 2)
                elif self.opened[0] == (sender, *recipients):
                    futures = self.opened[1]
                else:  # the server waits for another message's data: nothing else can go on this connection
                    raise RuntimeError(f"the envelope sent ahead was for {self.opened[0]}, not {recipients}")
                self.opened = None
                replies = [await f for f in futures]
                mail, rcpts, data = replies[0], replies[1:-1], replies[-1]
                refused = {r: f"{code} {text}" for r, (code, text) in zip(recipients, rcpts, strict=True) if code >= 300}
                if data[0] == 354 and (mail[0] >= 300 or len(refused) == len(recipients)):
                    await pipe.exchange(b".\r\n", 1)  # end the empty transaction the server opened
                if mail[0] >= 300 or len(refused) == len(recipients) or data[0] != 354:
                    await pipe.exchange(b"RSET\r\n", 1)
                    if mail[0] >= 300:
                        raise DeliveryError(f"{mail[0]} {mail[1]}", permanent=mail[0] >= 500)
                    if len(refused) == len(recipients):
                        raise DeliveryError("; ".join(f"{a}: {r}" for a, r in refused.items()),
                                            permanent=all(code >= 500 for code, _ in rcpts))
                    raise DeliveryError(f"{data[0]} {data[1]}", permanent=data[0] >= 500)
                body = raw if raw.endswith(b"\r\n") else raw + b"\r\n"
                if body.startswith(b".") or b"\n." in body:  # rare: base64 and most text never need it
                    body = _DOT.sub(b"..", body)
                if following is None:
                    futures = pipe.write(body + b".\r\n", 1)
                else:
                    futures = pipe.write(body + b".\r\n" + _envelope(sender, following), len(following) + 3)
                    self.opened = ((sender, *following), futures[1:])
                code, text = await futures[0]
                if code >= 300:
                    raise DeliveryError(f"{code} {text}", permanent=code >= 500)
        except TimeoutError:
            self.client.close()
            raise DeliveryError(f"no answer within {self.timeout:g}s (TimeoutError)",
                                permanent=False, unreachable=True) from None
        except ConnectionError as exc:
            self.client.close()
            raise DeliveryError(f"server disconnected: {exc}", permanent=False, connection_lost=True) from None
        self.sent += 1
        return refused

    @property
    def usable(self) -> bool:
        if self.pipeline is not None:
            return self.pipeline.lost is None and self.client.is_connected
        return self.client.is_connected

    async def close(self) -> None:
        if self.opened is not None:  # the server may be waiting for data: QUIT would be taken as text
            self.client.close()
            return
        if self.pipeline is not None:
            try:
                async with asyncio.timeout(min(self.timeout, 5.0)):
                    await self.pipeline.exchange(b"QUIT\r\n", 1)
            except (TimeoutError, ConnectionError):
                pass
            self.client.close()
            return
        try:
            async with asyncio.timeout(min(self.timeout, 5.0)):
                await self.client.quit()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            self.client.close()


def _deliverable(addresses: Sequence[str]) -> list[str]:
    return [addr for addr in addresses if _ADDRESS.fullmatch(addr)]


def _envelope(sender: str, recipients: Sequence[str]) -> bytes:
    commands = [f"MAIL FROM:<{sender}>", *(f"RCPT TO:<{r}>" for r in recipients), "DATA"]
    return "".join(f"{c}\r\n" for c in commands).encode()


def _reply_text(reply: aiosmtplib.SMTPResponse) -> str:
    return f"{reply.code} {reply.message}".strip()


_DOT = re.compile(rb"(?m)^\.")  # dot-stuffing (RFC 5321 4.5.2)
_ADDRESS = re.compile(r"[^\x00-\x20<>()\[\]\\,;:\x7f]+@[^\x00-\x20<>()\[\]\\,;:@\x7f]+")


class _Pipeline(asyncio.Protocol):
    """Takes over an established connection's transport and pairs pipelined replies with their
    commands, in order (aiosmtplib's protocol reads one reply per command written)."""

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = bytearray()
        self.lines: list[str] = []
        self.waiting: collections.deque[asyncio.Future[tuple[int, str]]] = collections.deque()
        self.lost: Exception | None = None
        transport.set_protocol(self)

    async def exchange(self, data: bytes, replies: int) -> list[tuple[int, str]]:
        return [await f for f in self.write(data, replies)]

    def write(self, data: bytes, replies: int) -> list[asyncio.Future[tuple[int, str]]]:
        """Write commands; the futures get the next `replies` replies, in order."""
        if self.lost is not None:
            raise ConnectionError(str(self.lost))
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in range(replies)]
        self.waiting.extend(futures)
        self.transport.write(data)  # type: ignore[attr-defined]
        return futures

    def data_received(self, data: bytes) -> None:
        self.buffer.extend(data)
        while (end := self.buffer.find(b"\n")) >= 0:
            line = bytes(self.buffer[:end + 1]).decode("utf-8", "replace").rstrip("\r\n")
            del self.buffer[:end + 1]
            self.lines.append(line[4:].strip())
            if line[3:4] == "-":
                continue  # a multi-line reply goes on
            text, self.lines = "\n".join(self.lines), []
            try:
                code = int(line[:3])
            except ValueError:
                code = 500
            if self.waiting:
                future = self.waiting.popleft()
                if not future.done():
                    future.set_result((code, text))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("connection closed by the server")
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(ConnectionError(str(self.lost)))
                future.exception()  # retrieved here: not every waiter is awaited once one has failed

    def eof_received(self) -> bool:
        return False
