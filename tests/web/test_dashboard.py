"""The dashboard's figures: same counts as `duban report`, scoped for officers, a weekly trend."""

from __future__ import annotations

from datetime import date, timedelta

from models.lifecycle import Action, apply
from models.read.figures import build_figures, build_report, week_starts
from models.tables import Status
from tests.conftest import TZ
from tests.factories import make_document, make_item


def test_figures_match_the_report_for_people_who_see_everything(world, session, now):
    make_item(session, lead_unit=world.units["czj"], status=Status.SIGNED_OFF)
    make_item(session, lead_unit=world.units["czj"], status=Status.CANCELLED)
    session.commit()
    figures = build_figures(session, world.people["leader"], now, TZ)
    report = build_report(session, now, TZ)
    assert [(r.name, r.total, r.signed_off, r.rate, r.overdue) for r in figures.documents] == [
        (r["document"], r["total"], r["signed_off"], r["rate"], r["overdue"]) for r in report["documents"]
    ]
    assert sorted((r.name, r.total, r.signed_off, r.open, r.overdue) for r in figures.units) == sorted(
        (r["unit"], r["total"], r["signed_off"], r["open"], r["overdue"]) for r in report["units"]
    )


def test_officers_figures_count_only_their_items(world, session, now):
    figures = build_figures(session, world.people["lead"], now, TZ)
    assert figures.overall.total == 1
    assert [u.name for u in figures.units] == ["市发改委"]


def test_unit_lights_red_overdue_yellow_due_soon_green_otherwise(world, session, now):
    figures = {u.name: u for u in build_figures(session, world.people["sup"], now, TZ).units}
    assert figures["市商务局"].light == "red"  # theirs: 2024-05-31, overdue on 2024-06-03
    assert figures["市商务局"].due_soon == 1  # unsupervised: 2024-06-05
    assert figures["市发改委"].light == "green"  # ours: 2024-06-30


def test_trend_follows_sign_offs_over_the_past_weeks(session, world, now):
    document = make_document(session, "趋势文件")
    items = [make_item(session, document=document, lead_unit=world.units["fgw"], supervisor=world.people["sup"],
                       status=Status.SUBMITTED) for _ in range(4)]
    session.commit()
    # one signed off three weeks ago, one last week, one today; one left open
    for item, days_ago in zip(items, (21, 7, 0), strict=False):
        apply(session, item, Action.SIGN_OFF, world.people["sup"], now - timedelta(days=days_ago))
    session.commit()
    figures = build_figures(session, world.people["sup"], now, TZ)
    row = next(r for r in figures.documents if r.name == "趋势文件")
    assert row.rate == 75.0
    assert row.trend[-1] == 75.0 and len(row.trend) == len(figures.week_starts) == 8
    # end of the week before last: only the first sign-off; end of last week: two
    assert row.trend[-3:] == [25.0, 50.0, 75.0]
    assert row.trend[0] == 0.0


def test_week_starts_are_mondays_oldest_first():
    starts = week_starts(date(2024, 6, 5), weeks=3)
    assert starts == [date(2024, 5, 20), date(2024, 5, 27), date(2024, 6, 3)]


def test_dashboard_page_shows_rate_and_links(world, client_for, session, now):
    page = client_for(world.people["sup"]).get("/").text
    assert 'id="overall-rate">0.0%' in page
    assert "/items?document=%E6%96%B0" in page  # 新时代意见, url-encoded
    assert "<svg" in page


def test_escalation_counts_link_to_the_filtered_list(world, client_for, session):
    theirs = world.items["theirs"]
    theirs.escalation_level = 2
    session.add(theirs)
    session.commit()
    client = client_for(world.people["sup"])
    assert 'href="/items?open=1&amp;level=2"' in client.get("/").text  # open items at that level, as counted
    listed = client.get("/items", params={"open": "1", "level": "2"}).text
    assert theirs.title in listed and world.items["ours"].title not in listed


def test_cached_figures_are_reused_until_an_item_changes(world, session, now):
    from web.figures import FiguresCache

    cache = FiguresCache()
    first = cache.get(session, world.people["sup"], now, TZ)
    assert cache.get(session, world.people["leader"], now, TZ) is first  # same scope: everything
    assert cache.get(session, world.people["lead"], now, TZ) is not first  # an officer's own scope
    item = world.items["ours"]
    apply(session, item, Action.REPORT_PROGRESS, world.people["lead"], now, text="进展")
    session.commit()
    assert cache.get(session, world.people["sup"], now, TZ) is not first
    assert cache.get(session, world.people["sup"], now + timedelta(days=1), TZ) is not first  # a new day


def test_past_weeks_of_the_trend_count_only_the_items_that_existed_then(session, world, now):
    document = make_document(session, "新增事项文件")
    old = [make_item(session, document=document, lead_unit=world.units["fgw"], supervisor=world.people["sup"],
                     status=Status.SUBMITTED) for _ in range(2)]
    session.commit()
    apply(session, old[0], Action.SIGN_OFF, world.people["sup"], now - timedelta(days=21))
    # added this week: two open items, and one imported as already signed off
    make_item(session, document=document, lead_unit=world.units["fgw"], created_at=now, updated_at=now)
    make_item(session, document=document, lead_unit=world.units["fgw"], created_at=now, updated_at=now)
    make_item(session, document=document, lead_unit=world.units["fgw"], status=Status.SIGNED_OFF,
              created_at=now, updated_at=now)
    session.commit()
    figures = build_figures(session, world.people["sup"], now, TZ)
    row = next(r for r in figures.documents if r.name == "新增事项文件")
    assert (row.total, row.signed_off, row.rate) == (5, 2, 40.0)
    assert row.trend[-5:] == [0.0, 50.0, 50.0, 50.0, 40.0]  # 1 of the 2 that existed, until this week


def test_rank_numbers_share_a_place_at_equal_rates():
    from models.read.figures import Row, rank_numbers, ranked

    assert rank_numbers([90.0, 50.0, 50.0, 10.0, 10.0, 0.0]) == [1, 2, 2, 4, 4, 6]
    rows = [Row("乙", 2, 1, overdue=1), Row("甲", 4, 2, overdue=0), Row("丙", 1, 1), Row("丁", 5, 0, overdue=3)]
    assert [r.name for r in ranked(rows)] == ["丙", "甲", "乙", "丁"]  # 100%, 50% with fewer overdue, 50%, 0%


def _supervisor_with_one_unit_all_signed_off(world, client_for, session):  # type: ignore[no-untyped-def]
    """市财政局 leads three items, all signed off (100%); the other units' items are open (0%)."""
    for _ in range(3):
        make_item(session, lead_unit=world.units["czj"], status=Status.SIGNED_OFF)
    session.commit()
    return client_for(world.people["sup"])


def test_units_ranked_by_rate_on_the_dashboard(world, client_for, session):
    sup = _supervisor_with_one_unit_all_signed_off(world, client_for, session)
    assert 'href="/?rank=rate"' in sup.get("/").text
    page = sup.get("/?rank=rate").text
    table = page.split('id="units"', 1)[1].split("</table>", 1)[0]
    rows = [row.split("</tr>", 1)[0] for row in table.split("<tr>")[2:]]
    assert [row.split('<td class="num">', 2)[1].split("<", 1)[0] for row in rows] == ["1", "2", "2"]
    assert "市财政局" in rows[0] and "按落实率排名" in page


def _sheets(response) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    from io import BytesIO

    from openpyxl import load_workbook

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(BytesIO(response.content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}


def test_figures_export_holds_documents_and_units_ranked_by_rate(world, client_for, session):
    sup = _supervisor_with_one_unit_all_signed_off(world, client_for, session)
    assert 'href="/report.xlsx"' in sup.get("/").text
    sheets = _sheets(sup.get("/report.xlsx"))
    assert list(sheets) == ["按文件", "单位落实率排名"]
    documents, units = sheets["按文件"], sheets["单位落实率排名"]
    assert documents[0][0] == "截至 2024-06-03 09:00"
    assert documents[1] == ("文件", "总数", "已销号", "落实率", "在办", "即将到期", "逾期", "未签收", "签收率", "催办",
                            "按时报送率")
    assert documents[-1][7:] == (6 - 3, 0.0, 0, None)  # the open ones wait for their 签收, none urged, none recurs
    assert documents[-1][:3] == ("总体", 6, 3) and documents[-1][3] == 0.5
    assert units[1][:2] == ("名次", "牵头单位")
    assert [(row[0], row[1], row[4]) for row in units[2:]] == [(1, "市财政局", 1.0), (2, "市发改委", 0.0),
                                                              (2, "市商务局", 0.0)]


def test_figures_export_is_scoped_and_in_the_page_language(world, client_for):
    from tests.web.conftest import CSRF

    officer = client_for(world.people["lead"])
    assert officer.post("/lang", data={"csrf_token": CSRF, "lang": "en"}).status_code == 303
    sheets = _sheets(officer.get("/report.xlsx"))
    assert list(sheets) == ["By document", "Units ranked by rate"]
    assert [row[1] for row in sheets["Units ranked by rate"][2:]] == ["市发改委"]  # only the officer's own unit
    assert sheets["By document"][1][0] == "Document"


def test_items_export_words_headers_and_states_in_the_page_language(world, client_for):
    from tests.web.conftest import CSRF

    sup = client_for(world.people["sup"])
    rows = _sheets(sup.get("/items.xlsx"))["台账"]
    assert rows[0][:9] == ("文件", "编号", "事项", "类别", "牵头单位", "配合单位", "完成时限", "督办人", "状态")
    assert {row[8] for row in rows[1:]} <= {"已交办", "办理中", "待销号", "已销号", "已撤销"}
    assert sup.post("/lang", data={"csrf_token": CSRF, "lang": "en"}).status_code == 303
    sheets = _sheets(sup.get("/items.xlsx"))
    assert sheets["Ledger"][0][:4] == ("Document", "Number", "Title", "Category")


def test_figures_export_needs_a_login(world, anon):
    response = anon.get("/report.xlsx", follow_redirects=False)
    assert response.status_code in (303, 401) and not response.content.startswith(b"PK")


def test_an_export_longer_than_the_limit_is_refused_not_cut_short(world, client_for, monkeypatch):
    import models.read.listed as listed

    def limit(rows: int) -> None:  # one binding: the views and the CLI's lists read listed's
        monkeypatch.setattr(listed, "MAX_EXPORT_ROWS", rows)

    sup = client_for(world.people["sup"])
    whole = len(_sheets(sup.get("/items.xlsx"))["台账"]) - 1
    limit(whole)  # exactly the limit: exported whole
    assert len(_sheets(sup.get("/items.xlsx"))["台账"]) - 1 == whole
    limit(whole - 1)  # one more than it holds: refused, naming the limit
    refused = sup.get("/items.xlsx")
    assert refused.status_code == 400 and "text/html" in refused.headers["content-type"]
    assert f"该列表超过{whole - 1:,}项" in refused.text and "缩小范围" in refused.text


def test_the_digest_page_frames_each_digest_as_it_is_mailed(world, session, now, client_for, web_settings):
    """/digest/mail shows the chosen digest's HTML as queue_digests renders it into the mail."""
    import email
    from email import policy

    from sqlmodel import select

    from models.outbox import OutboxMessage, body
    from notifications.digest import queue_digests

    queue_digests(session, now, web_settings)
    session.expire_all()
    mailed = {}
    for row in session.exec(select(OutboxMessage)).all():
        message = email.message_from_string(body(session, row.id), policy=policy.default)
        mailed[(row.kind.removeprefix("digest_"), row.recipients[0])] = message.get_body(("html",)).get_content()
    assert {"supervisor", "leadership"} <= {audience for audience, _ in mailed}
    client = client_for(world.people["sup"])
    for (audience, recipient), html in mailed.items():
        page = client.get("/digest/mail", params={"audience": audience, "recipient": recipient}).text
        assert page == html.replace("\r\n", "\n"), (audience, recipient)


def test_the_digest_page_names_each_recipient_as_a_clerk_knows_them(world, session, now, client_for, web_settings):
    """The chips and the heading name a supervisor by name and a contact address by its units (the address
    stays as the chip's title), not by the bare address."""
    import html
    import re

    from notifications.digest import preview_digests

    swj = world.units["swj"]  # the one unit with a digest in this world
    swj.contact_emails = [*(swj.contact_emails or []), "second@swj.gov.cn"]  # one unit, two contacts: one name
    session.add(swj)
    session.commit()
    digests = preview_digests(session, now, web_settings)
    page = client_for(world.people["sup"]).get("/digest").text
    assert 'title="second@swj.gov.cn"' in page
    found = re.findall(r'title="([^"]+)">[^<]* · ([^<]+?)(?: <small>([^<]*)</small>)?</a></li>', page)
    chips = {recipient: label for recipient, label, _ in found}
    labels = [label for _, label, _ in found]
    for recipient, label, address in found:  # a name two recipients share carries each one's address
        assert address == (recipient if labels.count(label) > 1 else ""), (recipient, label)
    assert sum(1 for *_, address in found if address) == 2  # 市商务局's two contacts
    supervisor = next(d for d in digests if d.audience == "supervisor")
    person = next(p for p in world.people.values() if p.email.lower() == supervisor.recipient)
    assert person.name and html.unescape(chips[supervisor.recipient]) == person.name
    unit = next(d for d in digests if d.audience == "unit")
    assert html.unescape(chips[unit.recipient]) == "、".join(s["unit"] for s in unit.context["sections"])
    assert unit.recipient not in html.unescape(chips[unit.recipient])
