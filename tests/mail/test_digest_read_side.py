"""The digest reads what everyone reads: its figures are the dashboard's and `duban report`'s, each
linking to the list it counts; the week's 批示; no digest for deactivated people; the weekly 通报 attached."""

from __future__ import annotations

import asyncio
import email
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from docx import Document as read_docx
from sqlmodel import Session, select
from starlette.requests import Request

from config import clock
from config.settings import load_settings
from models.db import make_engine
from models.lifecycle import Action, apply
from models.outbox import OutboxMessage, body
from models.read.figures import build_figures, build_report, by_attention
from models.read.filters import ItemFilter
from models.read.views import count_items
from models.tables import Item, Person, Role
from notifications.digest import queue_digests
from notifications.digest_context import compile_digests
from tests.factories import make_person
from web.routes.items import item_query

SETTINGS = {"delivery_window": False, "base_url": "https://duban.example"}
DEMO_AT = clock.parse_instant("2023-06-26T09:00+08:00")  # cli.ledger.DEMO_NOW


def settings(**overrides: Any) -> Any:
    return load_settings(**SETTINGS, **overrides)


def sent(session: Session) -> dict[tuple[str, str], Any]:
    session.expire_all()
    return {(row.kind.removeprefix("digest_"), row.recipients[0]): email.message_from_string(body(session, row.id), policy=policy.default)  # type: ignore[arg-type]
            for row in session.exec(select(OutboxMessage)).all() if row.kind.startswith("digest_")}


def text(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def html(message: Any) -> str:
    return str(message.get_body(("html",)).get_content())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, Any]]:
    """`duban demo`'s database and its policy (the leadership, the default supervisor)."""
    from cli.ledger import demo as build_demo

    directory: Path = tmp_path_factory.mktemp("demo")
    build_demo(directory=directory, now=None)
    engine = make_engine(f"sqlite:///{directory / 'duban.db'}")
    with Session(engine) as session:
        yield session, settings(policy_file=directory / "policy.yaml")
    engine.dispose()


def _listed(session: Session, url: str) -> int:
    """How many items the list at `url` (a digest's link) shows, read as the items page reads it."""
    params = dict(parse_qsl(urlsplit(url).query))
    request = Request({"type": "http", "query_string": urlsplit(url).query.encode(), "headers": []})
    query = asyncio.run(item_query(request, page=int(params.get("page", 1))))
    return count_items(session, None, query, DEMO_AT, load_settings().tz)


def test_the_demo_digests_count_as_the_report_and_the_dashboard_do(demo: tuple[Session, Any]) -> None:
    session, demo_settings = demo
    tz = demo_settings.tz
    digests, _ = compile_digests(session, DEMO_AT, demo_settings)
    report = build_report(session, DEMO_AT, tz)
    leadership = next(d for d in digests if d.audience == "leadership").context
    fields = ("total", "signed_off", "rate", "overdue")
    assert [(r["document"], *(r[f] for f in fields)) for r in leadership["documents"]] == [
        (r["document"], *(r[f] for f in fields)) for r in report["documents"]]
    per_unit = {r["unit"]: r for r in report["units"]}
    assert leadership["ranking"], "the demo has overdue units"
    for row in leadership["ranking"]:
        assert {f: row[f] for f in (*fields, "open")} == {f: per_unit[row["unit"]][f] for f in (*fields, "open")}
        assert _listed(session, row["url"]) == row["total"]
    # The units with overdue items, in the order the dashboard lists them.
    dashboard = by_attention(build_figures(session, None, DEMO_AT, tz).units)
    assert [r["unit"] for r in leadership["ranking"]] == [r.name for r in dashboard if r.overdue][:30]
    assert leadership["overdue"] == sum(r["overdue"] for r in report["units"])


def test_a_supervisor_s_unit_table_counts_the_list_each_row_links_to(demo: tuple[Session, Any]) -> None:
    session, demo_settings = demo
    digests, _ = compile_digests(session, DEMO_AT, demo_settings)
    supervisors = [d for d in digests if d.audience == "supervisor"]
    assert supervisors
    for digest in supervisors:
        mine = ItemFilter(supervisor=digest.recipient)
        assert sum(r["total"] for r in digest.context["units"]) == count_items(session, None, mine, DEMO_AT, demo_settings.tz)
        for row in digest.context["units"]:
            assert f"supervisor={digest.recipient.replace('@', '%40')}" in row["url"]
            assert _listed(session, row["url"]) == row["total"]
            assert _listed(session, row["url"] + "&overdue=1") == row["overdue"]


def _count_links(page: str) -> list[tuple[str, int]]:
    """The counts a digest's HTML links, with the address each opens."""
    from html import unescape

    return [(unescape(href), int(count)) for href, count in re.findall(r'<a href="([^"]+)">(\d+)</a>', page)]


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_html_digests_counts_open_the_lists_they_count(demo: tuple[Session, Any], locale: str) -> None:
    """A clerk who clicks "3 overdue" in a supervisor's unit table, the leadership's documents or its
    ranking gets the desk's list of those 3 items: the link is absolute (the configured base URL), in
    either language; a 0 is not linked."""
    from notifications.digest import digest_html

    session, demo_settings = demo
    digests, _ = compile_digests(session, DEMO_AT, demo_settings.model_copy(update={"locale": locale}))
    checked = 0
    for digest in (d for d in digests if d.audience in ("supervisor", "leadership")):
        page = digest_html(digest)
        links = _count_links(page)
        rows = digest.context["units"] if digest.audience == "supervisor" else [
            *digest.context["documents"], *digest.context["ranking"]]
        narrowings = ("open", "overdue") if digest.audience == "supervisor" else ("overdue",)
        wanted = {(f"{row['url']}&{name}=1", row[name]) for row in rows for name in narrowings if row[name]}
        if digest.audience == "leadership":
            wanted |= {(f"{row['url']}&open=1", row["open"]) for row in digest.context["ranking"] if row["open"]}
        assert wanted <= set(links), digest.recipient
        for url, count in set(links) & wanted:
            assert url.startswith("https://duban.example/items?")
            assert _listed(session, url) == count, url
            checked += 1
        assert '">0</a>' not in page
    assert checked > 30


def test_the_supervisor_filter_lists_that_supervisor_s_items_and_refuses_an_unknown_one(demo: tuple[Session, Any]) -> None:
    from models.errors import InvalidInput

    session, demo_settings = demo
    supervisor = session.exec(select(Person).where(Person.role == Role.SUPERVISOR)).first()
    assert supervisor is not None
    theirs = len(session.exec(select(Item.id).where(Item.supervisor_id == supervisor.id, Item.status != "cancelled")).all())
    assert count_items(session, None, ItemFilter(supervisor=supervisor.email.upper()), DEMO_AT, demo_settings.tz) == theirs
    assert ItemFilter(supervisor=supervisor.email).url() == f"/items?supervisor={supervisor.email.replace('@', '%40')}"
    with pytest.raises(InvalidInput) as refused:
        count_items(session, None, ItemFilter(supervisor="nobody@example.gov.cn"), DEMO_AT, demo_settings.tz)
    assert refused.value.code == "person.not_found"


def test_the_week_s_instructions_reach_the_supervisor_the_leadership_and_the_unit(session: Session, now: Any,
                                                                                 mail_world: Any) -> None:
    leader = mail_world["people"]["leader"]
    items = mail_world["items"]
    apply(session, items["later"], Action.INSTRUCT, leader, now - timedelta(days=2), text="请加快进度，月底前报送方案")
    apply(session, items["soon"], Action.INSTRUCT, leader, now - timedelta(days=9), text="上上周的批示")
    session.commit()
    queue_digests(session, now, settings())
    mail = sent(session)
    line = "新时代意见/5 推动政策落地见效：李主任 2024-06-01批示：请加快进度，月底前报送方案"
    for key in (("supervisor", "sup@dc.gov.cn"), ("leadership", "leader@dc.gov.cn"), ("unit", "fgw@example.gov.cn")):
        body = text(mail[key])
        assert "【本周领导批示】" in body and line.replace("推动政策落地见效", items["later"].title) in body, key
        assert "上上周的批示" not in body
        assert "<h2>本周领导批示</h2>" in html(mail[key])
    assert "本周领导批示" not in text(mail[("unit", "jxw@example.gov.cn")])  # not that unit's item


def test_instructions_read_in_english_for_an_english_reader(session: Session, now: Any, mail_world: Any) -> None:
    mail_world["people"]["supervisor"].locale = "en"
    apply(session, mail_world["items"]["later"], Action.INSTRUCT, mail_world["people"]["leader"],
          now - timedelta(days=1), text="Speed it up")
    session.commit()
    queue_digests(session, now, settings())
    body = text(sent(session)[("supervisor", "sup@dc.gov.cn")])
    assert "[Leaders' instructions this week]" in body and "李主任, 2024-06-02: Speed it up" in body


def test_a_unit_and_a_supervisor_with_nothing_due_but_an_instruction_still_hear_of_it(session: Session, now: Any) -> None:
    from datetime import date

    from tests.factories import make_document, make_item, make_unit

    unit = make_unit(session, "市水利局", contact_emails=["slj@example.gov.cn"])
    leader = make_person(session, Role.LEADER, name="赵主任", email="zhao@dc.gov.cn")
    supervisor = make_person(session, Role.SUPERVISOR, name="钱督查", email="qian@dc.gov.cn")
    item = make_item(session, document=make_document(session, "防汛意见"), lead_unit=unit, deadline=date(2024, 12, 31),
                     supervisor=supervisor)
    apply(session, item, Action.INSTRUCT, leader, now - timedelta(hours=3), text="汛期前完成")
    session.commit()
    queue_digests(session, now, settings())
    mail = sent(session)
    assert "赵主任 2024-06-03批示：汛期前完成" in text(mail[("unit", "slj@example.gov.cn")])
    to_supervisor = mail[("supervisor", "qian@dc.gov.cn")]
    assert to_supervisor["Subject"] == "【督办通报】2024年第23周 您督办事项的领导批示"
    assert "没有逾期或已升级督办的事项" in text(to_supervisor) and "清单见附件" not in text(to_supervisor)
    assert "赵主任 2024-06-03批示：汛期前完成" in text(to_supervisor)


def test_deactivated_people_get_no_digest_and_are_not_counted(session: Session, now: Any, mail_world: Any) -> None:
    from models.admin import deactivate

    # A second supervisor, a unit contact and an admin who are people of the desk, then deactivated.
    other = make_person(session, Role.SUPERVISOR, email="sup2@dc.gov.cn")
    mail_world["items"]["overdue"].supervisor_id = other.id
    contact = make_person(session, Role.OFFICER, email="jxw2@example.gov.cn", unit=mail_world["units"]["jxw"])
    make_person(session, Role.ADMIN, email="admin@dc.gov.cn")
    session.commit()
    before = compile_digests(session, now, settings())
    assert {("supervisor", "sup2@dc.gov.cn"), ("unit", "jxw2@example.gov.cn"), ("leadership", "leader@dc.gov.cn")} <= {
        (d.audience, d.recipient) for d in before[0]}
    for person in (other, contact, mail_world["people"]["leader"]):
        deactivate(session, person, now, by="test")
    session.commit()
    summary = queue_digests(session, now, settings())
    recipients = {(d.audience, d.recipient) for d in compile_digests(session, now, settings())[0]}
    for gone in ("sup2@dc.gov.cn", "jxw2@example.gov.cn", "leader@dc.gov.cn"):
        assert not any(recipient == gone for _, recipient in recipients)
        assert not any(recipient == gone for _, recipient in sent(session))
    assert ("unit", "jxw@example.gov.cn") in sent(session)  # the unit's active contact still hears
    # Counted neither as sent nor as empty: sup@, the units' two active contacts and the admin (no
    # sweep has run: a problem to hear about) are all that is left.
    assert (summary.queued, summary.empty) == (4, before[1])


def test_the_weekly_notice_is_attached_for_the_leadership_and_the_supervisors(session: Session, now: Any,
                                                                                mail_world: Any) -> None:
    queue_digests(session, now, settings())
    mail = sent(session)
    for key in (("leadership", "leader@dc.gov.cn"), ("supervisor", "sup@dc.gov.cn")):
        files = {a.get_filename(): a for a in mail[key].iter_attachments()}
        assert set(files) == {"督办清单-2024年第23周.xlsx", "通报-2024年第23周.docx"}, key
        notice = files["通报-2024年第23周.docx"]
        assert notice.get_content_type() == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        document = read_docx(io.BytesIO(notice.get_content()))
        words = "\n".join(p.text for p in document.paragraphs)
        assert "督通〔2024〕23号" in words and "《新时代意见》7项事项已落实2项，占28.6%" in words
        cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
        assert {"市发改委", "市经信委"} <= cells
    assert not list(mail[("unit", "fgw@example.gov.cn")].iter_attachments())


def test_the_weekly_notice_can_be_left_off(session: Session, now: Any, mail_world: Any) -> None:
    queue_digests(session, now, settings(digest_attach_notice=False))
    files = [a.get_filename() for a in sent(session)[("leadership", "leader@dc.gov.cn")].iter_attachments()]
    assert files == ["督办清单-2024年第23周.xlsx"]



def test_a_supervisor_added_after_the_week_s_run_gets_the_notice_in_their_language(session: Session, now: Any,
                                                                                  mail_world: Any) -> None:
    queue_digests(session, now, settings())
    late = make_person(session, Role.SUPERVISOR, email="late@dc.gov.cn", locale="en")
    mail_world["items"]["overdue"].supervisor_id = late.id
    session.commit()
    summary = queue_digests(session, now + timedelta(hours=2), settings())
    assert summary.queued == 1
    files = [a.get_filename() for a in sent(session)[("supervisor", "late@dc.gov.cn")].iter_attachments()]
    assert len(files) == 2 and any(name.endswith(".docx") and "notice" in name for name in files), files


def test_the_previewed_digests_are_those_mailed_word_for_word(session: Session, now: Any, mail_world: Any) -> None:
    """The dashboard's /digest and `duban digest --preview` show each digest as queue_digests mails it:
    the same compile call on the same city's rows, the HTML as build_digest renders it."""
    from notifications.digest import digest_html, preview_digests

    mail_world["people"]["supervisor"].locale = "en"
    apply(session, mail_world["items"]["later"], Action.INSTRUCT, mail_world["people"]["leader"],
          now - timedelta(days=1), text="请加快进度")
    session.commit()
    previews = {(d.audience, d.recipient): digest_html(d) for d in preview_digests(session, now, settings())}
    queue_digests(session, now, settings())
    mailed = {key: html(message).replace("\r\n", "\n") for key, message in sent(session).items()}
    assert {"supervisor", "leadership", "unit"} <= {audience for audience, _ in mailed}
    assert previews == mailed
    assert 'lang="en"' in previews[("supervisor", "sup@dc.gov.cn")]
