"""A mail catcher: an SMTP server on loopback that stores every message it gets in a Maildir."""

from __future__ import annotations

import mailbox
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer


class MaildirHandler:
    def __init__(self, maildir: Path) -> None:
        self.maildir = Path(maildir)
        self.box = mailbox.Maildir(str(self.maildir), create=True)
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        # Like a local delivery agent: say who it was delivered to, then the message as received.
        head = f"Return-Path: <{envelope.mail_from}>\r\nDelivered-To: {', '.join(envelope.rcpt_tos)}\r\n"
        with self._lock:
            self.box.add(head.encode() + content)
            self.count += 1
        return "250 Message stored"


class MailCatcher(Controller):
    def __init__(self, maildir: Path, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.handler_ = MaildirHandler(maildir)
        super().__init__(self.handler_, hostname=host, port=port, ready_timeout=10)

    def factory(self) -> SMTPServer:
        return SMTPServer(self.handler, hostname="duban-mailcatcher", decode_data=False,
                          data_size_limit=50 * 1024 * 1024)

    @property
    def maildir(self) -> Path:
        return self.handler_.maildir


def start_mailcatcher(maildir: Path, host: str = "127.0.0.1", port: int = 1025) -> MailCatcher:
    """Start the catcher in a background thread (stop it with `.stop()`)."""
    catcher = MailCatcher(maildir, host, port)
    catcher.start()
    return catcher


def deliver_to_maildir(engine: Any, now: Any, settings: Any, maildir: Path) -> tuple[Any, int]:
    """Send everything queued into `maildir` through a catcher on a free loopback port (the demo).

    Returns the delivery summary and how many messages the Maildir holds.
    """
    import socket

    from notifications.delivery import deliver
    from notifications.transport import SmtpTransport

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    catcher = start_mailcatcher(maildir, "127.0.0.1", port)
    try:
        quick = settings.model_copy(update={"delivery_window": False})
        summary = deliver(engine, now, quick, transport=SmtpTransport.from_settings(quick, host="127.0.0.1", port=port))
    finally:
        catcher.stop()
    return summary, len(mailbox.Maildir(str(maildir), create=False))
