"""The mail catcher stores what it receives in a Maildir; the demo delivers into it."""

from __future__ import annotations

import mailbox
import smtplib
from datetime import datetime
from pathlib import Path

from config.settings import load_settings
from models.db import make_engine
from notifications.mailcatcher import deliver_to_maildir, start_mailcatcher
from tests.mail.conftest import free_port, queue_mail


def test_mailcatcher_stores_each_message_in_the_maildir(tmp_path: Path) -> None:
    port = free_port()
    catcher = start_mailcatcher(tmp_path / "mail", port=port)
    try:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("a@x.cn", ["b@x.cn"], b"Subject: hello\r\nMessage-ID: <m1@x>\r\n\r\nbody\r\n")
    finally:
        catcher.stop()
    (message,) = list(mailbox.Maildir(str(tmp_path / "mail")))
    assert message["Message-ID"] == "<m1@x>" and message["Delivered-To"] == "b@x.cn"


def test_queued_mail_is_delivered_into_a_maildir_for_the_demo(sqlite_url: str, now: datetime, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    queue_mail(engine, [f"u{i}@example.gov.cn" for i in range(3)], kind="assigned")
    summary, stored = deliver_to_maildir(engine, now, load_settings(), tmp_path / "mail")
    assert summary.sent == 3 and stored == 3
