"""`duban deliver`, `duban outbox`, `duban digest`, and the deliver flow run by Prefect."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from config.settings import get_settings
from models.outbox import OutboxMessage, OutboxStatus
from models.tables import Role
from tests.clirun import Result, cli_runner
from tests.factories import make_item, make_person, make_unit
from tests.mail.conftest import SmtpSink, notify


@pytest.fixture
def duban(db_url: str, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., Result]]:
    for name, value in {"DATABASE_URL": db_url, "SMTP_PORT": str(smtp_sink.port), "DELIVERY_WINDOW": "false",
                        "SMTP_TIMEOUT": "2", "LOCALE": "en"}.items():
        monkeypatch.setenv(f"DUBAN_{name}", value)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    get_settings.cache_clear()
    yield cli_runner(monkeypatch, capsys)
    get_settings.cache_clear()


def seed(session: Session, count: int = 3) -> None:
    unit = make_unit(session, contact_emails=["fgw@example.gov.cn"])
    for _ in range(count):
        notify(session, make_item(session, lead_unit=unit), "reminder", unit.contact_emails)
    make_person(session, Role.ADMIN, email="admin@dc.gov.cn")
    session.commit()


def test_deliver_prints_a_summary_and_the_engine(duban: Callable[..., Result], session: Session, smtp_sink: SmtpSink) -> None:
    seed(session)
    result = duban("deliver", "--now", "2024-06-03T09:00+08:00")
    assert result.code == 0, result.err
    assert "grouped 1 new message(s); sent 1, retried 0, dead 0" in result.out
    assert "engine: local" in result.out
    assert len(smtp_sink.handler.received) == 1


def test_outbox_lists_rows_and_an_admin_retries_a_dead_one(duban: Callable[..., Result], session: Session, smtp_sink: SmtpSink) -> None:
    seed(session)
    smtp_sink.handler.data_reply = "550 5.7.1 Rejected"
    duban("deliver", "--now", "2024-06-03T09:00+08:00")
    listing = duban("outbox", "--status", "dead")
    assert listing.code == 0 and "550 5.7.1 Rejected" in listing.out and "dead" in listing.out
    row_id = json.loads(duban("outbox", "--json").out)[0]["id"]

    refused = duban("outbox", "--retry", str(row_id), "--by", "fgw@example.gov.cn")
    assert refused.code == 1 and "no person with email" in refused.err
    smtp_sink.handler.data_reply = None
    assert duban("outbox", "--retry", str(row_id), "--by", "admin@dc.gov.cn", "--now", "2024-06-03T10:00+08:00").code == 0
    assert "sent 1" in duban("deliver", "--now", "2024-06-03T10:00+08:00").out
    session.expire_all()
    assert session.exec(select(OutboxMessage)).one().status == OutboxStatus.SENT


def test_outbox_rejects_an_unknown_status(duban: Callable[..., Result]) -> None:
    result = duban("outbox", "--status", "lost")
    assert result.code == 1 and "unknown status 'lost'" in result.err


def test_digest_queues_once_and_preview_writes_files(duban: Callable[..., Result], session: Session, mail_world: Any, tmp_path: Path) -> None:
    preview = duban("digest", "--now", "2024-06-03T09:00+08:00", "--preview", str(tmp_path))
    assert preview.code == 0 and "wrote 5 digest previews" in preview.out
    assert session.exec(select(OutboxMessage)).all() == []
    first = duban("digest", "--now", "2024-06-03T09:00+08:00")
    assert "week 23 of 2024: queued 5 digests (supervisors 1, leadership 1, units 3, admins 0)" in first.out
    second = duban("digest", "--now", "2024-06-04T09:00+08:00")
    assert "queued 0 digests" in second.out and "already sent this week 5" in second.out


@pytest.mark.usefixtures("prefect_harness")
def test_the_deliver_flow_runs_under_prefect(sqlite_url: str, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.deliver import deliver
    from flows.runtime import run_flow
    from models.db import make_engine

    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        seed(session, count=2)
    monkeypatch.setenv("DUBAN_SMTP_PORT", str(smtp_sink.port))
    monkeypatch.setenv("DUBAN_DELIVERY_WINDOW", "false")
    get_settings.cache_clear()
    try:
        outcome = run_flow(deliver, engine="prefect", now="2024-06-03T01:00:00+00:00", database_url=sqlite_url)
    finally:
        get_settings.cache_clear()
    assert outcome.engine == "prefect" and outcome.result["sent"] == 1
    assert len(smtp_sink.handler.received) == 1


def test_run_sweeps_and_sends_what_the_sweep_queued_in_one_process(duban: Callable[..., Result], session: Session,
                                                                   smtp_sink: SmtpSink) -> None:
    from datetime import UTC, date, datetime

    unit = make_unit(session, contact_emails=["fgw@example.gov.cn"])
    make_item(session, lead_unit=unit, deadline=date(2024, 5, 31), title="跑一次就送达",
              next_action_at=datetime(2024, 5, 1, tzinfo=UTC))
    session.commit()
    result = duban("run", "--now", "2024-06-03T09:00+08:00")
    assert result.code == 0, result.err
    assert "examined 1 items" in result.out and "notifications queued 1" in result.out
    assert "grouped 1 new message(s); sent 1, retried 0, dead 0" in result.out
    (received,) = smtp_sink.handler.received
    assert received.recipients == ["fgw@example.gov.cn"]
    assert "跑一次就送达" in received.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    again = json.loads(duban("run", "--now", "2024-06-03T09:05+08:00", "--json").out)
    assert (again["sweep"]["notifications"], again["deliver"]["sent"]) == (0, 0)
