"""SMTP transport (aiosmtplib): connections that each carry many messages, typed failures."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aiosmtplib

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
            "local_hostname": settings.mail_from.rpartition("@")[2] or "localhost",
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
    def __init__(self, client: aiosmtplib.SMTP, timeout: float) -> None:
        self.client = client
        self.timeout = timeout
        self.sent = 0

    async def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> dict[str, str]:
        """Send one message; returns the recipients the server refused (address -> reply).

        Raises DeliveryError when no recipient accepted it.
        """
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

    @property
    def usable(self) -> bool:
        return self.client.is_connected

    async def close(self) -> None:
        try:
            async with asyncio.timeout(min(self.timeout, 5.0)):
                await self.client.quit()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            self.client.close()


def _reply_text(reply: aiosmtplib.SMTPResponse) -> str:
    return f"{reply.code} {reply.message}".strip()
