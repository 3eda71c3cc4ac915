"""未签收 as a filter, a count and a group of My work; 签收率 and 催办 as figures (one definition each)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest

from models.accounts import create_token
from models.lifecycle import Action, apply
from models.read.figures import build_figures, build_report
from models.read.filters import ItemFilter
from models.read.views import count_items
from models.tables import Document, Item, ItemAcknowledgement, Status
from tests.conftest import TZ
from tests.factories import make_item
from tests.web.conftest import CSRF


def _found(page: str) -> int:
    return int(re.search(r'id="found"[^>]*>(\d+)', page).group(1))  # type: ignore[union-attr]


def _acknowledge(session, item, person, now):  # type: ignore[no-untyped-def]
    session.add(ItemAcknowledgement(item_id=item.id, unit_id=person.unit_id, person_id=person.id, at=now))


@pytest.fixture
def ledger(world, session, now):  # type: ignore[no-untyped-def]
    """ours (发改委) acknowledged by its lead unit; theirs and unsupervised (商务局) not; one 财政局 item
    acknowledged only by its co-unit 发改委; one submitted and one signed off without any 签收 (neither
    waits for one any more); one cancelled. 商务局's item urged twice, 发改委's once."""
    fgw, czj, swj = world.units["fgw"], world.units["czj"], world.units["swj"]
    people = world.people
    _acknowledge(session, world.items["ours"], people["lead"], now)
    document = session.get(Document, world.items["ours"].document_id)
    co_acked = make_item(session, document=document, lead_unit=czj, co_units=(fgw,), number="4",
                         deadline=date(2024, 7, 31))
    _acknowledge(session, co_acked, people["lead"], now)
    for unit, status, number in ((czj, Status.SUBMITTED, "5"), (swj, Status.SIGNED_OFF, "6"), (swj, Status.CANCELLED, "7")):
        make_item(session, document=document, lead_unit=unit, status=status, number=number)
    session.commit()
    for item, times in ((world.items["theirs"], 2), (world.items["ours"], 1)):
        for days_ago in reversed(range(times)):  # a day apart: a unit is urged at most once in 24 hours
            apply(session, item, Action.URGE, people["sup"], now - timedelta(days=days_ago), text="请尽快办理")
    session.commit()
    return {"co_acked": co_acked}


def test_the_filter_lists_items_their_lead_unit_has_not_acknowledged(world, ledger, client_for, session, now):
    rows = client_for(world.people["sup"]).get("/items", params={"unacknowledged": "1"}).text
    assert _found(rows) == 3 and "牵头单位尚未签收" in rows
    assert "扩大对外开放" in rows and "稳外贸稳外资" in rows and "推进营商环境改革" not in rows
    assert count_items(session, None, ItemFilter(unacknowledged=True), now, TZ) == 3
    # a co-unit's 签收 is not the lead unit's; a new lead unit acknowledges afresh
    assert count_items(session, None, ItemFilter(unacknowledged=True, unit="市财政局"), now, TZ) == 1
    session.get(Item, world.items["ours"].id).lead_unit_id = world.units["swj"].id  # type: ignore[union-attr]
    session.flush()
    assert count_items(session, None, ItemFilter(unacknowledged=True), now, TZ) == 4
    session.rollback()


def test_the_list_marks_unacknowledged_rows_and_counts_urges(world, ledger, client_for):
    page = client_for(world.people["sup"]).get("/items").text
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr><td class="(?:pick|light)">.*?>(新时代意见/\d+)<.*?</tr>', page, re.S)}
    assert "未签收" in rows["新时代意见/2"] and "未签收" not in rows["新时代意见/1"]
    assert re.search(r'data-label="催办">2</td>', rows["新时代意见/2"])
    assert re.search(r'data-label="催办">1</td>', rows["新时代意见/1"])


def test_the_dashboard_counts_link_to_exactly_their_lists(world, ledger, client_for):
    for who, expected in (("sup", 3), ("co", 1), ("other", 2)):  # an officer: their unit's lead items
        client = client_for(world.people[who])
        headline = re.search(r'<a href="([^"]+)" id="overall-unacknowledged">未签收 (\d+)</a>', client.get("/").text)
        assert headline is not None and int(headline.group(2)) == expected, who
        assert _found(client.get(unescape(headline.group(1))).text) == expected, who
    client = client_for(world.people["sup"])
    page = client.get("/", params={"units": "all"}).text
    documents = page.split("<h2>文件</h2>", 1)[1].split("</table>", 1)[0]
    links = re.findall(r'<td class="num" data-label="未签收"><a href="([^"]+)">(\d+)</a></td>', documents)
    assert links and sum(int(n) for _, n in links) == 3
    for href, number in links:
        assert _found(client.get(unescape(href)).text) == int(number), href


def test_acknowledgement_rate_and_urges_per_unit_and_document(world, ledger, session, now, client_for):
    figures = build_figures(session, world.people["sup"], now, TZ)
    units = {row.name: row for row in figures.units}
    # 发改委: its one item acknowledged; 财政局: the co-unit's 签收 does not count, the submitted item
    # waits for none; 商务局: two waiting, the signed-off one waits for none.
    assert (units["市发改委"].acknowledged, units["市发改委"].unacknowledged, units["市发改委"].acknowledge_rate) == (1, 0, 100.0)
    assert (units["市财政局"].acknowledged, units["市财政局"].unacknowledged, units["市财政局"].acknowledge_rate) == (0, 1, 0.0)
    assert (units["市商务局"].acknowledged, units["市商务局"].unacknowledged) == (0, 2)
    assert (units["市发改委"].urged, units["市财政局"].urged, units["市商务局"].urged) == (1, 0, 2)
    assert (figures.overall.acknowledged, figures.overall.unacknowledged, figures.overall.urged) == (1, 3, 3)
    assert figures.overall.acknowledge_rate == 25.0
    report = build_report(session, now, TZ)
    by_unit = {row["unit"]: row for row in report["units"]}
    assert {k: by_unit["市商务局"][k] for k in ("acknowledged", "unacknowledged", "acknowledge_rate", "urged")} == {
        "acknowledged": 0, "unacknowledged": 2, "acknowledge_rate": 0.0, "urged": 2}
    assert sum(row["unacknowledged"] for row in report["documents"]) == 3
    table = client_for(world.people["sup"]).get("/").text.split('id="units"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'data-label="签收率">100.0%</td>', table) and re.search(r'data-label="催办">2</td>', table)


def test_the_api_filters_and_reports_the_same(world, ledger, session, now, anon):
    token = create_token(session, world.people["sup"], now)
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    found = anon.get("/api/v1/items", params={"unacknowledged": "true"}, headers=headers).json()
    assert found["total"] == 3 and all(row["unacknowledged"] for row in found["items"])
    everything = {row["ref"]: row for row in anon.get("/api/v1/items", headers=headers).json()["items"]}
    assert everything["新时代意见/1"]["unacknowledged"] is False and everything["新时代意见/2"]["urged"] == 2
    report = anon.get("/api/v1/report", headers=headers).json()
    assert report["overall"]["unacknowledged"] == 3 and report["overall"]["acknowledge_rate"] == 25.0
    assert {row["name"]: row["urged"] for row in report["units"]}["市商务局"] == 2


def test_my_work_groups_are_the_lists_their_counts_link_to(world, client_for, session, now):
    fgw = world.units["fgw"]
    document = session.get(Document, world.items["ours"].document_id)
    make_item(session, document=document, lead_unit=fgw, number="8", deadline=date(2024, 5, 20))  # overdue
    make_item(session, document=document, lead_unit=fgw, number="9", deadline=date(2024, 6, 5))  # due soon
    session.commit()
    lead = client_for(world.people["lead"])
    page = lead.get("/my").text
    sections = dict(re.findall(r'<section class="card" id="my-(\w+)">(.*?)</section>', page, re.S))
    assert list(sections) == ["unacknowledged", "returned", "overdue", "due_soon"]
    for name, html in sections.items():
        href, number = re.search(r'<a href="([^"]+)" class="muted">(\d+)</a>', html).groups()  # type: ignore[union-attr]
        assert _found(lead.get(unescape(href)).text) == int(number) == html.count("<tr><td"), name
    assert "推进营商环境改革" in sections["unacknowledged"] and "待本单位签收" in page
    assert lead.post(f"/items/{world.items['ours'].id}/act",
                     data={"csrf_token": CSRF, "action": "acknowledge"}).status_code == 303
    assert "推进营商环境改革" not in lead.get("/my").text.split('id="my-returned"')[0]


def test_returned_items_are_a_filter_of_the_list_and_the_api(world, client_for, session, now, anon):
    item, lead, sup = world.items["ours"], world.people["lead"], world.people["sup"]
    apply(session, item, Action.SUBMIT, lead, now, evidence="文件已印发")
    apply(session, item, Action.RETURN, sup, now, reason="缺少文号")
    apply(session, item, Action.REPORT_PROGRESS, lead, now, text="补充文号中")  # still returned: no change of state
    token = create_token(session, sup, now)
    session.commit()
    page = client_for(sup).get("/items", params={"returned": "1"}).text
    assert _found(page) == 1 and "推进营商环境改革" in page and 'name="returned" value="1"' in page
    found = anon.get("/api/v1/items", params={"returned": "true"}, headers={"Authorization": f"Bearer {token}"}).json()
    assert [row["ref"] for row in found["items"]] == ["新时代意见/1"]
    apply(session, item, Action.SUBMIT, lead, now, evidence="附文号")
    session.commit()
    assert count_items(session, None, ItemFilter(returned=True), now, TZ) == 0


def test_the_cli_report_read_without_sqlalchemy_gives_the_same_figures(world, ledger, session, now):
    from models.admin import archive_document
    from tests.cli.test_report_plain import assert_plain_report_agrees

    assert_plain_report_agrees(session, now)
    archive_document(session, now, "test", session.get(Document, world.items["ours"].document_id))
    session.commit()
    assert_plain_report_agrees(session, now)
