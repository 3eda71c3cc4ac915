"""Leaders' scope: a unit's leaders (分管领导) see the units they oversee; the office leadership sees all."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from models.read.figures import build_figures
from models.read.filters import ItemFilter
from models.read.views import count_items
from models.tables import Person, Role, Unit
from tests.factories import make_person

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def fgw_leader(session: Session, world) -> Person:  # type: ignore[no-untyped-def]
    """分管 市发改委 (listed among its leaders, in the units file's manner; own unit left empty)."""
    unit = session.get(Unit, world.units["fgw"].id)
    unit.leader_emails = [*unit.leader_emails, "Wang@fgw.gov.cn"]
    session.add(unit)
    leader = make_person(session, Role.LEADER, email="wang@fgw.gov.cn")
    session.commit()
    return leader


def test_a_unit_leader_sees_their_units_items_and_not_others(world, client_for, fgw_leader):
    client = client_for(fgw_leader)
    page = client.get("/items").text
    assert world.items["ours"].title in page
    assert world.items["theirs"].title not in page and world.items["unsupervised"].title not in page
    assert client.get(f"/items/{world.items['ours'].id}").status_code == 200
    assert client.get(f"/items/{world.items['theirs'].id}").status_code == 404
    # asking for another unit's items by name opens no door
    assert world.items["theirs"].title not in client.get("/items", params={"unit": "市商务局"}).text


def test_a_co_units_leader_sees_the_items_it_works_on(session, world, client_for):
    unit = session.get(Unit, world.units["czj"].id)
    unit.leader_emails = ["li@czj.gov.cn"]
    session.add(unit)
    leader = make_person(session, Role.LEADER, email="li@czj.gov.cn")
    session.commit()
    client = client_for(leader)
    assert client.get(f"/items/{world.items['ours'].id}").status_code == 200
    assert client.get(f"/items/{world.items['theirs'].id}").status_code == 404


def test_the_office_leadership_and_a_leader_without_units_see_all(world, client_for, fgw_leader, monkeypatch):
    page = client_for(world.people["leader"]).get("/items").text  # role leader, oversees no unit
    assert all(item.title in page for item in world.items.values())
    monkeypatch.setattr("models.read.filters._leadership_emails", lambda: {"wang@fgw.gov.cn"})
    client = client_for(fgw_leader)
    page = client.get("/items").text
    assert all(item.title in page for item in world.items.values())
    assert client.get(f"/items/{world.items['theirs'].id}").status_code == 200


def test_a_unit_leaders_dashboard_counts_their_units_and_equals_its_lists(session, world, client_for, fgw_leader,
                                                                         now: datetime):
    leader = session.get(Person, fgw_leader.id)
    figures = build_figures(session, leader, now, TZ)
    assert [row.name for row in figures.units] == ["市发改委"]
    assert figures.overall.total == 1
    assert count_items(session, leader, figures.overall.link or ItemFilter(), now, TZ) == figures.overall.total
    for row in [*figures.units, *figures.documents]:
        assert count_items(session, leader, row.link or ItemFilter(), now, TZ) == row.total, row.name
    everyone = build_figures(session, session.get(Person, world.people["leader"].id), now, TZ)
    assert everyone.overall.total == 3 and len(everyone.units) == 2
    page = client_for(fgw_leader).get("/").text
    assert "市发改委" in page and "市商务局" not in page


def test_a_unit_leader_reads_the_office_papers_and_finds_their_units_marked(world, client_for, fgw_leader):
    """The nav offers 考核得分 and the dashboard the weekly 通报 to every leader: both open for a unit's
    leader too (the city-wide ranking, their units marked), and the 督办通知单 of an item they see."""
    client = client_for(fgw_leader)
    assert 'href="/score"' in client.get("/").text and 'href="/notice/weekly.docx"' in client.get("/").text
    page = client.get("/score?period=year&on=2024-03-01")
    assert page.status_code == 200 and 'id="mine-note"' in page.text
    assert page.text.count('class="mine"') == 1  # 市发改委 only, among the three units
    assert client.get("/score.xlsx?period=year&on=2024-03-01").status_code == 200
    assert client.get("/notice/weekly.docx?week=2024-W23").status_code == 200
    assert client.get(f"/items/{world.items['ours'].id}/notice.docx").status_code == 200
    assert client.get(f"/items/{world.items['theirs'].id}/notice.docx").status_code == 404
    # officers still do not
    officer = client_for(world.people["lead"])
    assert officer.get("/score").status_code == 403 and officer.get("/notice/weekly.docx").status_code == 403
    # the office leadership sees the same table with nothing marked
    assert 'class="mine"' not in client_for(world.people["leader"]).get("/score?period=year&on=2024-03-01").text
