"""The weekly digest: contents per audience, the attachment, once per address and week, empty ones skipped."""

from __future__ import annotations

import email
import io
import re
import threading
from datetime import date, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import load_settings
from models.outbox import DigestSent, OutboxMessage, body
from models.tables import Role
from notifications import digest as digest_module
from notifications.digest import _Renderer, compile_digests, iso_week, queue_digests, write_previews
from tests.factories import make_document, make_item, make_person, make_unit

_BOUNDARY = re.compile(r"=_duban_[0-9a-f]{24}")
SETTINGS = {"delivery_window": False, "base_url": "https://duban.example"}


def settings() -> Any:
    return load_settings(**SETTINGS)


def digests(session: Session) -> dict[tuple[str, str], email.message.EmailMessage]:
    session.expire_all()
    out = {}
    for row in session.exec(select(OutboxMessage).where(OutboxMessage.kind.startswith("digest_"))).all():  # type: ignore[attr-defined]
        out[(row.kind.removeprefix("digest_"), row.recipients[0])] = email.message_from_string(body(session, row.id), policy=policy.default)  # type: ignore[arg-type]
    return out  # type: ignore[return-value]


def text(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def html(message: Any) -> str:
    return str(message.get_body(("html",)).get_content())


def test_supervisor_gets_overdue_and_escalated_items_by_level_and_unit(session: Session, now: Any, mail_world: Any) -> None:
    queue_digests(session, now, settings())
    body = text(digests(session)[("supervisor", "sup@dc.gov.cn")])
    assert body.index("【第2级升级督办】") < body.index("【第1级升级督办】") < body.index("【逾期未升级】")
    assert "新时代意见/1 推动政策落地见效：逾期14天；原定时限2024-05-20" in body
    assert "新时代意见/4" not in body  # due soon, not overdue
    assert "1. 市发改委：在办3项，逾期2项，本周销号1项，落实率25.0%" in body
    assert "2. 市经信委：在办2项，逾期1项，本周销号0项，落实率33.3%" in body


def test_leadership_gets_rates_per_document_the_way_the_office_writes_them(session: Session, now: Any, mail_world: Any) -> None:
    queue_digests(session, now, settings())
    message = digests(session)[("leadership", "leader@dc.gov.cn")]
    body = text(message)
    assert "《新时代意见》7项落实2项，占28.6%，较上周+14.3个百分点；逾期3项。" in body
    assert "第2级及以上升级督办事项（1项）" in body and "新时代意见/1" in body
    assert 'class="bar"' in html(message)  # the rate chart, drawn in HTML: no images, no CDN


def test_units_get_their_overdue_and_due_soon_items_as_lead_and_co_unit(session: Session, now: Any, mail_world: Any) -> None:
    queue_digests(session, now, settings())
    sent = digests(session)
    jxw = text(sent[("unit", "jxw@example.gov.cn")])
    assert "逾期14天：新时代意见/1 推动政策落地见效（配合" in jxw
    assert "逾期3天：新时代意见/3" in jxw and "剩余2天：新时代意见/4" in jxw
    assert ("unit", "jxw2@example.gov.cn") in sent  # every contact of the unit
    assert "新时代意见/5" not in text(sent[("unit", "fgw@example.gov.cn")])  # due in two months


def test_the_escalation_list_is_attached_as_a_workbook(session: Session, now: Any, mail_world: Any) -> None:
    queue_digests(session, now, settings())
    message = digests(session)[("supervisor", "sup@dc.gov.cn")]
    attachment, _notice = list(message.iter_attachments())  # the weekly notice follows (test_digest_read_side.py)
    assert attachment.get_filename() == "督办清单-2024年第23周.xlsx"
    sheet = load_workbook(io.BytesIO(attachment.get_content())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("事项", "内容", "牵头单位", "升级督办")
    assert [r[0] for r in rows[1:]] == ["新时代意见/1", "新时代意见/2", "新时代意见/3"]


def test_the_escalation_list_keeps_formula_like_text_as_text(session: Session, now: Any, mail_world: Any) -> None:
    from models.tables import ProgressReport
    from tests.models.test_sheets import RISKY, assert_no_formulas

    items = mail_world["items"]
    for item, text in zip((items["level2"], items["level1"], items["overdue"]), RISKY, strict=False):
        item.title = text
        session.add(item)
    session.add(ProgressReport(item_id=items["level2"].id, unit_id=mail_world["units"]["fgw"].id,
                               person_id=mail_world["people"]["supervisor"].id, text="@SUM(A1)",
                               at=now - timedelta(hours=2)))  # Monday 07:00 in Shanghai, Sunday in UTC
    session.commit()
    queue_digests(session, now, settings())
    attachment = next(digests(session)[("supervisor", "sup@dc.gov.cn")].iter_attachments())
    assert_no_formulas(attachment.get_content())
    rows = list(load_workbook(io.BytesIO(attachment.get_content())).active.iter_rows(values_only=True))
    assert {row[1] for row in rows[1:]} == set(RISKY[:3])
    assert [(row[7], row[8].date()) for row in rows[1:] if row[7]] == [("@SUM(A1)", date(2024, 6, 3))]


def test_an_english_supervisor_gets_the_english_digest(session: Session, now: Any, mail_world: Any) -> None:
    mail_world["people"]["supervisor"].locale = "en"
    session.commit()
    queue_digests(session, now, settings())
    message = digests(session)[("supervisor", "sup@dc.gov.cn")]
    assert message["Subject"] == "[duban] week 23 of 2024: 3 of your items overdue or escalated"
    assert "Escalation level 2" in text(message)


def test_running_again_in_the_same_week_queues_nothing_and_next_week_queues_again(session: Session, now: Any, mail_world: Any) -> None:
    first = queue_digests(session, now, settings())
    assert first.queued == 5 and first.as_dict()["unit"] == 3
    again = queue_digests(session, now + timedelta(days=3), settings())  # late, after downtime: same week
    assert (again.queued, again.already_sent) == (0, 5)
    assert queue_digests(session, now + timedelta(days=7), settings()).queued == 5
    weeks = {row.week for row in session.exec(select(DigestSent)).all()}
    assert weeks == {"2024-W23", "2024-W24"}


def test_a_digest_missed_on_monday_goes_out_later_that_week(session: Session, now: Any, mail_world: Any) -> None:
    thursday = now + timedelta(days=3)
    summary = queue_digests(session, thursday, settings())
    assert summary.queued == 5 and summary.week == iso_week(now.date())


def test_empty_digests_are_not_sent(session: Session, now: Any) -> None:
    unit = make_unit(session, contact_emails=["calm@example.gov.cn"])
    supervisor = make_person(session, Role.SUPERVISOR, email="calm-sup@dc.gov.cn")
    make_item(session, lead_unit=unit, supervisor=supervisor, deadline=date(2024, 9, 30))
    session.commit()
    summary = queue_digests(session, now, settings())
    sent = digests(session)
    assert ("supervisor", "calm-sup@dc.gov.cn") not in sent and ("unit", "calm@example.gov.cn") not in sent
    assert summary.empty == 2


def test_parallel_runs_queue_each_digest_exactly_once(engine: Engine, now: Any) -> None:
    with Session(engine) as session:
        supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
        document = make_document(session)
        for i in range(15):
            unit = make_unit(session, contact_emails=[f"unit{i}@example.gov.cn"])
            make_item(session, document=document, lead_unit=unit, supervisor=supervisor, deadline=date(2024, 5, 1))
        session.commit()
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(engine) as session:
                barrier.wait()
                queue_digests(session, now, settings())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(engine) as session:
        queue_digests(session, now, settings())  # and once more after them
        keys = [(r.kind, r.recipients[0]) for r in session.exec(select(OutboxMessage)).all()]
    assert len(keys) == len(set(keys)) == 16  # 15 units and the supervisor
    assert errors == []


def test_preview_writes_html_files_and_queues_nothing(session: Session, now: Any, mail_world: Any, tmp_path: Path) -> None:
    written = write_previews(session, now, settings(), tmp_path / "preview")
    assert len(written) == 5
    assert "督办周报（2024年第23周）" in (tmp_path / "preview" / "supervisor-sup_dc.gov.cn.html").read_text()
    assert session.exec(select(OutboxMessage)).all() == []


def test_the_digest_is_due_from_monday_nine_until_the_end_of_the_week(now: Any) -> None:
    from notifications.digest import digest_due

    monday_nine = now  # 2024-06-03 09:00 Shanghai
    assert not digest_due(monday_nine - timedelta(minutes=1), settings())
    assert digest_due(monday_nine, settings())
    assert digest_due(monday_nine + timedelta(days=6, hours=14), settings())  # Sunday 23:00
    assert not digest_due(monday_nine, load_settings(**SETTINGS, digest_cron="0 9 * * tue"))


def test_the_scheduled_digest_catches_up_once_after_downtime(db_url: str, session: Session, now: Any, mail_world: Any,
                                                             monkeypatch: Any) -> None:
    from config.settings import get_settings
    from flows.digest import weekly_digest

    monkeypatch.setenv("DUBAN_DELIVERY_WINDOW", "false")
    get_settings.cache_clear()
    try:
        early = weekly_digest.fn(now=(now - timedelta(hours=1)).isoformat(), database_url=db_url)
        assert early["skipped"] == "not yet time for this week's digest"
        back_on_wednesday = weekly_digest.fn(now=(now + timedelta(days=2)).isoformat(), database_url=db_url)
        assert back_on_wednesday["queued"] == 5
        again = weekly_digest.fn(now=(now + timedelta(days=2, minutes=5)).isoformat(), database_url=db_url)
        assert again["skipped"] == "this week's digests are already queued"
    finally:
        get_settings.cache_clear()


def test_contacts_of_one_unit_get_the_same_digest_with_their_own_to_and_message_id(session: Session, now: Any, mail_world: Any) -> None:
    queue_digests(session, now, settings())
    rows = {r.recipients[0]: r for r in session.exec(select(OutboxMessage)).all()}
    first, second = rows["jxw@example.gov.cn"], rows["jxw2@example.gov.cn"]
    a, b = (email.message_from_string(body(session, r.id), policy=policy.default) for r in (first, second))  # type: ignore[arg-type]
    assert (a["To"], b["To"]) == ("jxw@example.gov.cn", "jxw2@example.gov.cn")
    assert (a["Message-ID"], b["Message-ID"]) == (first.message_id, second.message_id)
    assert first.message_id != second.message_id
    assert text(a) == text(b) and list(a.keys()) == list(b.keys())


def test_items_imported_as_done_count_as_done_last_week_too(session: Session, now: Any) -> None:
    """A ledger imported with 已落实 items: the rate did not jump this week, so the change is 0."""
    from models.read.due import Day
    from models.tables import Status
    from notifications.digest_context import document_table

    document, unit = make_document(session, "新时代意见"), make_unit(session, "市发改委")
    month_ago = now - timedelta(days=30)
    for number, status in (("1", Status.SIGNED_OFF), ("2", Status.SIGNED_OFF), ("3", Status.ASSIGNED)):
        make_item(session, document=document, lead_unit=unit, number=number, status=status,
                  created_at=month_ago, updated_at=month_ago, deadline=date(2024, 12, 31))
    session.commit()
    (row,) = document_table(session, Day.at(now, settings().tz), "")
    assert (row["rate"], row["change"]) == (66.7, 0.0)


def test_admins_hear_about_sweep_warnings_silence_and_dead_mail_and_nothing_in_a_healthy_week(session: Session, now: Any) -> None:
    from models.outbox import OutboxStatus
    from models.sweep_tables import SweepRun

    make_person(session, Role.ADMIN, name="张管理", email="admin@dc.gov.cn")
    make_person(session, Role.ADMIN, name="Admin", email="admin-en@dc.gov.cn", locale="en")
    session.add(SweepRun(now=now - timedelta(hours=1), examined=40, notifications=3, warnings=[]))
    session.commit()
    healthy = queue_digests(session, now, settings())
    assert healthy.as_dict()["admin"] == 0 and healthy.empty >= 2

    week = now + timedelta(days=7)  # next week: the last sweep is 7 days old, one warned, a message died
    session.add(SweepRun(now=week - timedelta(days=2), examined=5, notifications=1,
                         warnings=["calendar: 2027 is covered neither by the chinese-calendar package"]))
    session.add(OutboxMessage(key="k-dead", kind="reminder", recipients=["gone@example.gov.cn"], subject="【督办提醒】新时代意见/1",
                              message_id="<dead@x>", status=OutboxStatus.DEAD, next_attempt_at=week,
                              created_at=week - timedelta(days=1), last_error="550 5.1.1 user unknown"))
    session.commit()
    summary = queue_digests(session, week, settings())
    assert summary.as_dict()["admin"] == 2
    sent = digests(session)
    zh, en = sent[("admin", "admin@dc.gov.cn")], sent[("admin", "admin-en@dc.gov.cn")]
    assert zh["Subject"] == "【督办系统】2024年第24周 运行情况：3个问题待处理"
    body = text(zh)
    assert "运行1次，检查事项5项次" in body and "超过一天没有运行巡检" in body
    assert "- calendar: 2027 is covered neither by the chinese-calendar package" in body
    assert "无法投递的邮件：1封" in body and "gone@example.gov.cn" in body and "550 5.1.1 user unknown" in body
    assert en["Subject"] == "[duban] System health, week 24 of 2024: 3 problems to fix"
    assert "No sweep for more than a day" in text(en) and "550 5.1.1 user unknown" in html(en)


def test_due_soon_in_the_unit_digest_is_the_policys_first_reminder_in_working_days(session: Session, now: Any) -> None:
    unit = make_unit(session, "市水利局", contact_emails=["slj@example.gov.cn"])
    document = make_document(session, "防汛意见")
    # Monday 3 June 2024; Monday 10 June is the Dragon Boat Festival: 7 working days ahead is Thursday 13 June.
    make_item(session, document=document, lead_unit=unit, deadline=date(2024, 6, 13), number="1")
    make_item(session, document=document, lead_unit=unit, deadline=date(2024, 6, 14), number="2")
    session.commit()
    queue_digests(session, now, settings())
    body = text(digests(session)[("unit", "slj@example.gov.cn")])
    assert "1项将在7个工作日内到期" in body and "剩余10天：防汛意见/1" in body
    assert "防汛意见/2" not in body


def test_leadership_gets_last_month_s_scores_each_point_a_click_away(session: Session, now: Any, mail_world: Any) -> None:
    queue_digests(session, now, settings())
    message = digests(session)[("leadership", "leader@dc.gov.cn")]
    body = text(message)
    # May: 新时代意见/1 overdue from 21 May (two working weeks begun), /2 from 31 May (one)
    assert "2024-05-01至2024-05-31考核得分（基础分100）：" in body
    assert body.index("1. 市经信委：100分（扣0分，加0分）") < body.index("2. 市发改委：94分（扣6分，加0分）")
    assert 'href="https://duban.example/score?period=month&amp;on=2024-05-01"' in html(message)


def test_digests_rendered_once_for_several_addresses_are_each_the_mail_rendered_for_that_address(
        session: Session, now: Any, mail_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit's contacts and the leaders share one digest, rendered once and then readdressed: each
    queued mail is byte for byte the one rendered for its address alone, but for the MIME boundaries
    (the first address's, derived from its Message-ID)."""
    for n, locale in enumerate(["zh-CN", "en", "zh-CN"]):
        make_person(session, Role.LEADER, email=f"leader{n}@dc.gov.cn", locale=locale)
    session.commit()
    plain = load_settings(**SETTINGS, digest_attach_notice=False)  # the 通报 .docx is built anew each time
    # and so is the workbook, its zip entries stamped with the time: its rows stand for it here.
    monkeypatch.setattr(digest_module, "escalation_xlsx", lambda rows, locale, tz: repr([r["id"] for r in rows]).encode())
    queue_digests(session, now, plain)
    queued = {(r.kind, r.recipients[0]): (r.key, body(session, r.id))  # type: ignore[arg-type]
              for r in session.exec(select(OutboxMessage)).all()}
    compiled, _ = compile_digests(session, now, plain)
    for digest in compiled:
        key, raw = queued[(f"digest_{digest.audience}", digest.recipient)]
        alone = _Renderer(now, plain).message(digest, key)[1]
        assert _BOUNDARY.sub("=_duban_", raw) == _BOUNDARY.sub("=_duban_", alone)
    assert sum(d.audience == "leadership" for d in compiled) == 4
    assert len({id(d.context) for d in compiled if d.audience == "leadership"}) == 1


def test_digests_are_queued_with_every_column_an_outbox_message_fills_in(session: Session, now: Any, mail_world: Any) -> None:
    """The digests' rows are inserted as columns (models.outbox.queue_columns), not built as OutboxMessage
    objects: each has what the constructor gave it, and the items its escalation list names."""
    queue_digests(session, now, settings())
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind.startswith("digest_"))).all()  # type: ignore[attr-defined]
    assert {r.kind for r in rows} == {"digest_supervisor", "digest_leadership", "digest_unit"}
    for row in rows:
        assert (row.status, row.attempts, row.claim, row.last_error, row.sent_at, row.refused_recipients,
                row.notification_ids) == ("pending", 0, None, "", None, {}, [])
        assert row.next_attempt_at == row.created_at == now and row.locale == "zh-CN" and len(row.recipients) == 1
        assert row.key.startswith(f"{row.kind.replace('_', ':')}:") and row.subject and row.message_id
    supervisor = next(r for r in rows if r.kind == "digest_supervisor")
    assert supervisor.item_ids and all(isinstance(i, int) for i in supervisor.item_ids)
    sent = {d.outbox_id for d in session.exec(select(DigestSent)).all() if d.recipient != "*"}
    assert sent == {r.id for r in rows}


def test_digests_are_written_once_their_bodies_reach_the_batch_size_and_let_go_once_written(
        session: Session, now: Any, mail_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch is written once its bodies reach WRITE_CHARS (here: one message each), and a digest's
    contents are no longer held once its mail is written (bench.digest's peak memory)."""
    import weakref

    order = digest_module._rendering_order
    rendered: list[weakref.ref[Any]] = []
    written: list[tuple[int, list[bool]]] = []

    def rendering_order(found: list[Any]) -> list[Any]:
        ordered = order(found)
        rendered.extend(weakref.ref(d) for d in ordered)
        return ordered

    def queue_columns(session: Session, messages: Any) -> list[int]:
        before = sum(n for n, _ in written)
        written.append((len(messages), [ref() is None for ref in rendered[:before]]))
        return write(session, messages)

    write = digest_module.queue_columns
    monkeypatch.setattr(digest_module, "WRITE_CHARS", 1)
    monkeypatch.setattr(digest_module, "_rendering_order", rendering_order)
    monkeypatch.setattr(digest_module, "queue_columns", queue_columns)
    summary = queue_digests(session, now, settings())
    assert summary.queued == len(rendered) == len(written) >= 4
    assert all(n == 1 and all(gone) for n, gone in written)
    assert len(digests(session)) == summary.queued
