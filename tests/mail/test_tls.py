"""Security modes against a TLS-capable aiosmtpd: STARTTLS with AUTH, implicit TLS, wrong password."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notifications.transport import DeliveryError, SmtpTransport
from tests.mail.conftest import SinkHandler, free_port

RAW = b"Message-ID: <tls1@x>\r\nSubject: hi\r\n\r\nbody\r\n"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"duban" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


class TlsController(Controller):
    def __init__(self, handler: SinkHandler, port: int, context: ssl.SSLContext, implicit: bool) -> None:
        self.context, self.implicit = context, implicit
        super().__init__(handler, hostname="127.0.0.1", port=port, ready_timeout=10,
                         ssl_context=context if implicit else None)

    def factory(self) -> SMTPServer:
        # aiosmtpd only counts STARTTLS as TLS for AUTH; the implicit-TLS port is encrypted from the start.
        return SMTPServer(self.handler, hostname="tls.test", authenticator=authenticator,
                          auth_require_tls=not self.implicit,
                          **({} if self.implicit else {"tls_context": self.context, "require_starttls": True}))


@pytest.fixture(params=["starttls", "tls"])
def tls_server(request: pytest.FixtureRequest, certificate: tuple[Path, Path]) -> Iterator[tuple[str, int, SinkHandler, ssl.SSLContext]]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(*certificate)
    client_context = ssl.create_default_context(cafile=str(certificate[0]))
    handler, port = SinkHandler(), free_port()
    controller = TlsController(handler, port, server_context, implicit=request.param == "tls")
    controller.start()
    try:
        yield request.param, port, handler, client_context
    finally:
        controller.stop()


def send(transport: SmtpTransport) -> dict[str, str]:
    async def go() -> dict[str, str]:
        conn = await transport.connect()
        try:
            return await conn.send("duban@dc.gov.cn", ["unit@example.gov.cn"], RAW)
        finally:
            await conn.close()

    return asyncio.run(go())


def test_encrypted_and_authenticated_delivery_in_both_tls_modes(tls_server: Any) -> None:
    mode, port, handler, context = tls_server
    transport = SmtpTransport("127.0.0.1", port, security=mode, username="duban", password="s3cret", tls_context=context)
    assert send(transport) == {}
    assert [r.message_id for r in handler.received] == ["<tls1@x>"]


def test_a_wrong_password_is_a_connection_problem_not_a_dead_message(tls_server: Any) -> None:
    mode, port, handler, context = tls_server
    transport = SmtpTransport("127.0.0.1", port, security=mode, username="duban", password="wrong", tls_context=context)
    with pytest.raises(DeliveryError) as refused:
        send(transport)
    assert not refused.value.permanent and refused.value.unreachable and "535" in refused.value.reply
    assert handler.received == []


@pytest.mark.parametrize("tls_server", ["starttls"], indirect=True)
def test_without_tls_a_server_requiring_starttls_gets_no_mail(tls_server: Any) -> None:
    _, port, handler, _ = tls_server
    with pytest.raises(DeliveryError):
        send(SmtpTransport("127.0.0.1", port, security="none"))
    assert handler.received == []
