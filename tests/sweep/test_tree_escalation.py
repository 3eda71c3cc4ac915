"""Escalation up the unit tree (上级单位): each level's leaders, the fallback when a level names nobody,
and a unit tree with a cycle that never loops."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from config.policy import PolicyError, Recipient, UnitLeadersUp, load_policy
from models.ledger.apply import import_ledger
from models.ledger.plan import LedgerError
from models.notices import People
from models.schedule import thresholds
from models.tables import Notification, Role, Unit
from tests.conftest import TZ
from tests.factories import make_item, make_person, make_unit
from tests.ledger.conftest import UNITS_HEADER, write_csv
from tests.sweep.conftest import run_sweep

TREE_POLICY = """\
leadership_emails: [mayor@example.gov.cn]
default:
  escalations:
    - {level: 1, after: 3, to: [unit_leaders]}
    - {level: 2, after: 6, to: [parent_unit_leaders], cc: [supervisor]}
    - level: 3
      after: 9
      to: [{unit_leaders_up: 2}]
      cc: [supervisor]
    - {level: 4, after: 12, to: [leadership]}
"""
DEADLINE = date(2024, 10, 8)


@pytest.fixture
def tree_policy(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "policy.yaml"
    path.write_text(TREE_POLICY, encoding="utf-8")
    return load_policy(path)


def town_county_city(session):  # type: ignore[no-untyped-def]
    """市 (city) > 县 (county) > 镇 (town, the lead unit), each with its own leaders."""
    city = make_unit(session, "市政府", leader_emails=["city-head@example.gov.cn"])
    county = make_unit(session, "县政府", parent_id=city.id, leader_emails=["county-head@example.gov.cn"])
    town = make_unit(session, "镇政府", parent_id=county.id, contact_emails=["town@example.gov.cn"],
                     leader_emails=["town-head@example.gov.cn"])
    return town, county, city


def escalations_by_level(session):  # type: ignore[no-untyped-def]
    found = session.exec(select(Notification).where(Notification.kind == "escalated").order_by(Notification.id))
    return {n.payload["level"]: n for n in found}


def sweep_each_threshold(session, policy, calendar) -> None:  # type: ignore[no-untyped-def]
    """A sweep at each threshold's instant, so each level is its own notice (no catch-up)."""
    for threshold in thresholds(DEADLINE, policy.default, calendar, TZ):
        run_sweep(session, threshold.at + timedelta(minutes=5), policy, calendar)
        if threshold.key == "level-4":
            break


def thresholds_end(policy, calendar):  # type: ignore[no-untyped-def]
    return next(t.at for t in thresholds(DEADLINE, policy.default, calendar, TZ) if t.key == "level-4")


def test_policy_reads_levels_up_the_unit_tree(tree_policy):
    levels = [e.audience.to for e in tree_policy.default.escalations]
    assert levels == [(Recipient.UNIT_LEADERS,), (Recipient.PARENT_UNIT_LEADERS,), (UnitLeadersUp(2),),
                      (Recipient.LEADERSHIP,)]


def test_one_level_up_is_the_parent_units_leaders(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("default:\n  escalations:\n    - {level: 1, after: 3, to: [{unit_leaders_up: 1}]}\n",
                    encoding="utf-8")
    assert load_policy(path).default.escalations[0].audience.to == (Recipient.PARENT_UNIT_LEADERS,)


@pytest.mark.parametrize(("text", "message"), [
    ("    - {level: 1, after: 3, to: [{unit_leaders_up: 0}]}\n", r"policy.yaml:3: unit_leaders_up must be .* at least 1"),
    ("    - {level: 1, after: 3, to: [{unit_leaders_up: two}]}\n", r"policy.yaml:3: unit_leaders_up must be .*'two'"),
    ("    - level: 1\n      after: 3\n      to:\n        - lead_unit\n        - {ancestors: 2}\n",
     r"policy.yaml:7: a recipient written as a mapping must be \{unit_leaders_up: N\}"),
    ("    - {level: 1, after: 3, to: [parent_unit_leaders, {unit_leaders_up: 1}]}\n",
     r"policy.yaml:3: escalation level 1.to lists a recipient kind twice"),
])
def test_a_bad_walk_up_the_tree_is_refused_naming_the_line(tmp_path, text, message):
    path = tmp_path / "policy.yaml"
    path.write_text("default:\n  escalations:\n" + text, encoding="utf-8")
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_each_level_goes_one_unit_further_up_then_to_the_office_leadership(session, tree_policy, calendar):
    town, _, _ = town_county_city(session)
    supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    make_item(session, lead_unit=town, supervisor=supervisor, deadline=DEADLINE,
              next_action_at=thresholds_end(tree_policy, calendar) - timedelta(days=40))
    session.commit()
    sweep_each_threshold(session, tree_policy, calendar)
    sent = {level: (n.to_addrs, n.cc_addrs, n.payload.get("fallback")) for level, n in escalations_by_level(session).items()}
    assert sent == {
        1: (["town-head@example.gov.cn"], [], None),
        2: (["county-head@example.gov.cn"], ["sup@dc.gov.cn"], None),
        3: (["city-head@example.gov.cn"], ["sup@dc.gov.cn"], None),
        4: (["mayor@example.gov.cn"], [], None),
    }


def test_a_level_above_the_top_of_the_tree_falls_back_to_the_supervisor(session, tree_policy, calendar):
    county = make_unit(session, "县政府", leader_emails=["county-head@example.gov.cn"])  # no parent
    supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    make_item(session, lead_unit=county, supervisor=supervisor, deadline=DEADLINE,
              next_action_at=thresholds_end(tree_policy, calendar) - timedelta(days=40))
    session.commit()
    sweep_each_threshold(session, tree_policy, calendar)
    levels = escalations_by_level(session)
    for level in (2, 3):  # nobody above the county: the item's supervisor is told, and the payload says so
        assert (levels[level].to_addrs, levels[level].payload["fallback"], levels[level].unreached) == (
            ["sup@dc.gov.cn"], "supervisor", False)


def test_a_level_that_reaches_nobody_is_kept_as_unreached(session, tree_policy, calendar):
    county = make_unit(session, "县政府", leader_emails=["county-head@example.gov.cn"])
    make_item(session, lead_unit=county, deadline=DEADLINE,
              next_action_at=thresholds_end(tree_policy, calendar) - timedelta(days=40))
    session.commit()
    sweep_each_threshold(session, tree_policy, calendar)
    levels = escalations_by_level(session)
    assert levels[2].unreached and levels[2].to_addrs == [] and levels[3].unreached
    assert not levels[1].unreached and not levels[4].unreached


def test_a_unit_tree_with_a_cycle_names_nobody_instead_of_looping(session, tree_policy):
    a = make_unit(session, "甲", leader_emails=["a@example.gov.cn"])
    b = make_unit(session, "乙", parent_id=a.id, leader_emails=["b@example.gov.cn"])
    a.parent_id = b.id  # written by hand: the import and the admin page refuse it
    session.add(a)
    supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    item = make_item(session, lead_unit=b, supervisor=supervisor)
    session.commit()
    people = People(session, tree_policy)
    people.load([item])
    assert people.resolve(Recipient.PARENT_UNIT_LEADERS, item) == ["a@example.gov.cn"]
    assert people.resolve(UnitLeadersUp(2), item) == []  # back at 乙: a cycle, not 乙's leaders again
    found = people.recipients(tree_policy.default.escalations[2].audience, item)
    assert (found.to, found.fallback) == (["sup@dc.gov.cn"], Recipient.SUPERVISOR)


def test_an_import_that_closes_a_cycle_through_the_database_is_refused(session, tmp_path, now):
    city = make_unit(session, "市政府", code="CITY", contact_emails=["city@example.gov.cn"])
    make_unit(session, "县政府", code="COUNTY", parent_id=city.id, contact_emails=["county@example.gov.cn"])
    session.commit()
    units = write_csv(tmp_path / "units.csv", [UNITS_HEADER, ["CITY", "市政府", "县政府", "city@example.gov.cn", ""]])
    with pytest.raises(LedgerError, match="in a circle .市政府 → 县政府 → 市政府."):
        import_ledger(session, [units], now=now)
    session.rollback()
    assert session.exec(select(Unit).where(Unit.code == "CITY")).one().parent_id is None
