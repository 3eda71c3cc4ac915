"""One read side: a figure equals the list its link opens; an officer's headline is their place in
the ranking; the timeline speaks words; units are found by part of their name or their code."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from models.read.figures import build_figures
from models.tables import ItemEvent, Status
from tests.conftest import TZ
from tests.factories import make_item


def _co_unit_ledger(session, world):  # type: ignore[no-untyped-def]
    """Units that lead some items and work on others as co-units, some overdue, some due soon, some done."""
    fgw, czj, swj = world.units["fgw"], world.units["czj"], world.units["swj"]
    make_item(session, lead_unit=czj, co_units=(fgw,), deadline=date(2024, 5, 20))  # overdue, fgw co
    make_item(session, lead_unit=swj, co_units=(fgw, czj), deadline=date(2024, 6, 4))  # due soon
    make_item(session, lead_unit=fgw, co_units=(swj,), status=Status.SIGNED_OFF)
    make_item(session, lead_unit=czj, status=Status.SIGNED_OFF)
    make_item(session, lead_unit=swj, co_units=(czj,), deadline=date(2024, 5, 1), status=Status.IN_PROGRESS)
    session.commit()


def _found(page: str) -> int:
    return int(re.search(r'id="found"[^>]*>(\d+)', page).group(1))  # type: ignore[union-attr]


def test_every_count_in_the_units_table_equals_the_list_its_link_opens(world, client_for, session):
    _co_unit_ledger(session, world)
    client = client_for(world.people["sup"])
    table = client.get("/", params={"units": "all"}).text.split('id="units"', 1)[1].split("</table>", 1)[0]
    links = re.findall(r'<td class="num[^"]*"[^>]*><a href="([^"]+)">(\d+)</a></td>', table)
    assert len(links) == 5 * 3  # open, due soon, overdue, signed off, 未签收 for each of the three units
    assert any("overdue=1" in href and int(n) > 0 for href, n in links)
    assert any("unacknowledged=1" in href and int(n) > 0 for href, n in links)
    for href, number in links:
        assert _found(client.get(unescape(href)).text) == int(number), href


def test_the_unit_table_says_it_counts_lead_items_and_the_list_says_which_it_shows(world, client_for, session):
    _co_unit_ledger(session, world)
    client = client_for(world.people["sup"])
    assert "各单位数字均按牵头事项统计" in client.get("/").text
    lead_only = client.get("/items", params={"unit": "市发改委", "unit_role": "lead"}).text
    either = client.get("/items", params={"unit": "市发改委"}).text
    assert "市发改委牵头的事项" in lead_only and "市发改委牵头或配合的事项" in either
    assert _found(lead_only) == 2 and _found(either) == 4


def test_an_officers_headline_rate_is_their_units_rate_in_the_ranking(world, client_for, session, now):
    _co_unit_ledger(session, world)
    officer = world.people["co"]  # 市财政局: leads one open and one done item, co-unit on three more
    mine = build_figures(session, officer, now, TZ)
    everyone = build_figures(session, world.people["sup"], now, TZ)
    ranked = {row.name: row for row in everyone.units}
    assert mine.overall.rate == ranked["市财政局"].rate == 50.0
    assert mine.places["市财政局"] == everyone.places["市财政局"]
    assert mine.co_items == 3  # open items it works on as a co-unit, told apart
    page = client_for(officer).get("/").text
    assert 'id="overall-rate">50.0%' in page and "本单位牵头事项" in page


def test_the_item_page_timeline_is_in_words_not_raw_payloads(world, client_for, session, now):
    item = world.items["ours"]
    session.add(ItemEvent(item_id=item.id, kind="imported", at=now, actor_label="import:ledger.xlsx",
                          from_status=None, to_status="assigned",
                          payload={"imported_as": "assigned", "deadline": "2024-06-30", "file": "ledger.xlsx",
                                   "row": 369}))
    session.add(ItemEvent(item_id=item.id, kind="repeat_reminder", at=now, actor_label="duban sweep",
                          from_status="assigned", to_status="assigned",
                          payload={"threshold": "repeat-55", "threshold_at": "2024-06-02T16:00:00+00:00",
                                   "level": 2, "workdays": 55, "deadline": "2024-06-30", "deadline_version": 1,
                                   "days_left": 0, "days_overdue": 80, "notified": None}))
    session.add(ItemEvent(item_id=item.id, kind="escalated", at=now, actor_label="duban sweep",
                          from_status="assigned", to_status="assigned",
                          payload={"threshold": "level-1", "level": 1, "notified": "escalated:1:v1:level-1"}))
    session.commit()
    page = client_for(world.people["sup"]).get(f"/items/{item.id}").text
    timeline = page.split('class="timeline"', 1)[1]
    for words in ("台账导入：ledger.xlsx 第369行", "导入时状态：已交办", "逾期55个工作日再次提醒", "无人接收通知",
                  "第1级升级督办", "已发通知", "逾期80天"):
        assert words in timeline, words
    for raw in ("repeat-55", "level-1", "imported_as", "None", "督办节点", "threshold", "row:"):
        assert raw not in timeline, raw


def test_units_are_found_by_part_of_their_name_or_their_code(world, client_for, session):
    world.units["fgw"].code = "FGW"
    session.add(world.units["fgw"])
    session.commit()
    client = client_for(world.people["sup"])
    for text in ("发改委", "fgw", "FGW", "市发改委"):
        page = client.get("/items", params={"unit": text}).text
        assert "推进营商环境改革" in page and "扩大对外开放" not in page, text
    assert '<datalist id="unit-names">' in client.get("/items").text
    assert '<option value="市商务局">' in client.get("/items").text
    ambiguous = client.get("/items", params={"unit": "市"}).text
    assert "对应多个单位" in ambiguous and "市发改委" in ambiguous and _found(ambiguous) == 0
    unknown = client.get("/items", params={"unit": "市发改局"}).text
    assert "相近的单位：市发改委" in unknown


def test_an_officer_picks_from_the_units_their_items_involve(world, client_for):
    page = client_for(world.people["co"]).get("/items").text
    options = re.findall(r'<option value="([^"]+)">', page.split('id="unit-names"', 1)[1].split("</datalist>", 1)[0])
    assert options == ["市发改委", "市财政局"]


def test_the_leadership_digest_counts_documents_as_the_dashboard_does(world, session, now, web_settings):
    from notifications.digest_context import compile_digests

    _co_unit_ledger(session, world)
    digests, _ = compile_digests(session, now, web_settings)
    leadership = next(d for d in digests if d.audience == "leadership")
    figures = build_figures(session, world.people["leader"], now, TZ)
    assert [(r["document"], r["total"], r["signed_off"], r["overdue"], r["rate"])
            for r in leadership.context["documents"]] == [
        (r.name, r.total, r.signed_off, r.overdue, r.rate) for r in figures.documents]


def test_the_desk_reads_a_sqlite_file_through_a_memory_map(app, db_url):  # type: ignore[no-untyped-def]
    import pytest
    from sqlalchemy import text

    from web.app import SQLITE_MMAP_BYTES

    if not db_url.startswith("sqlite"):
        pytest.skip("a SQLite setting")
    with app.state.engine.connect() as connection:
        assert connection.execute(text("PRAGMA mmap_size")).scalar_one() == SQLITE_MMAP_BYTES


def test_the_unit_names_to_pick_from_are_every_unit_in_order_and_follow_a_rename(world, session):
    """visible_units reads SQLite's names as one string (models/read/filters.py): the same list, in
    the same order, as the plain query; a name holding its separator falls back to that query."""
    from sqlmodel import col, select

    from models.read.filters import visible_units
    from models.tables import Unit
    from tests.factories import make_unit

    make_unit(session, "Zeta office")
    make_unit(session, "abc office")
    make_unit(session, "市A局")
    session.commit()

    def in_order() -> tuple[str, ...]:
        return tuple(session.exec(select(Unit.name).order_by(col(Unit.name))).all())

    supervisor = world.people["sup"]
    assert visible_units(session, supervisor) == in_order()
    assert len(in_order()) == 6
    world.units["swj"].name = "市商务委"
    session.add(world.units["swj"])
    session.commit()
    assert "市商务委" in visible_units(session, supervisor) and "市商务局" not in visible_units(session, supervisor)
    make_unit(session, "分隔\x1f符")
    session.commit()
    assert visible_units(session, supervisor) == in_order()
    assert "分隔\x1f符" in visible_units(session, supervisor)
