"""People answers each unit's question once a run (a sweep asks the same units for thousands of items):
the answers are those worked out afresh for each item, and a load that adds units, people or documents
makes it work them out again."""

from __future__ import annotations

from config.policy import Audience, Recipient, UnitLeadersUp, load_policy
from models.notices import FALLBACK, People
from models.tables import Role
from tests.factories import make_document, make_item, make_person, make_unit

POLICY = """\
leadership_emails: [Mayor@Example.gov.cn]
default_supervisors: [office@example.gov.cn]
default:
  escalations:
    - {level: 1, after: 3, to: [unit_leaders], cc: [supervisor, co_units]}
"""
KINDS = [*Recipient, UnitLeadersUp(2)]
AUDIENCES = [Audience((kind,), (other,)) for kind in KINDS for other in KINDS] + [Audience((), (Recipient.LEAD_UNIT,))]


def test_answers_are_those_worked_out_afresh_for_each_item(session, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    policy = load_policy(path)
    city = make_unit(session, "市", leader_emails=["city@example.gov.cn"])
    county = make_unit(session, "县", parent_id=city.id, leader_emails=[" County@example.gov.cn "],
                       contact_emails=["county-office@example.gov.cn"])
    town = make_unit(session, "镇", parent_id=county.id, contact_emails=["town@example.gov.cn", "TOWN@example.gov.cn"],
                     leader_emails=["town-head@example.gov.cn"])
    bare = make_unit(session, "村", contact_emails=[], leader_emails=[])
    one, two = make_person(session, Role.SUPERVISOR, email="one@dc.gov.cn"), make_person(session, Role.SUPERVISOR)
    documents = [make_document(session), make_document(session, default_supervisor_id=two.id)]
    make_person(session, Role.ADMIN, email="admin@dc.gov.cn")
    items = [make_item(session, lead_unit=unit, supervisor=supervisor, document=document, co_units=co_units)
             for unit in (town, bare) for supervisor in (one, None) for document in documents
             for co_units in ((), (county,), (county, town))]
    session.commit()
    shared = People(session, policy)
    shared.load(items)
    for item in items:  # every item twice: the second time from what the first one left behind
        for _ in range(2):
            for kind in KINDS:
                fresh = People(session, policy)
                fresh.load([item])
                assert shared.resolve(kind, item) == fresh._resolve(kind, item), (kind, item.number)
            for audience in AUDIENCES:
                fresh = People(session, policy)
                fresh.load([item])
                assert shared.recipients(audience, item) == fresh._recipients(audience, item, None), audience
    assert shared.resolve(Recipient.LEAD_UNIT, items[0]) == ["town@example.gov.cn"]
    assert shared.resolve(Recipient.LEADERSHIP, items[0]) == ["mayor@example.gov.cn"]
    assert shared.recipients(Audience((), ()), items[-1]).fallback is FALLBACK[1]


def test_a_load_that_adds_a_unit_works_the_answers_out_again(session, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    policy = load_policy(path)
    town = make_unit(session, "镇", contact_emails=["town@example.gov.cn"])
    first, second = make_item(session, lead_unit=town), make_item(session, lead_unit=town)
    session.commit()
    people = People(session, policy)
    people.load_documents([first, second])
    assert people.resolve(Recipient.LEAD_UNIT, first) == []  # before its unit is loaded
    before = people.recipients(Audience((Recipient.LEAD_UNIT,)), first)
    assert (before.to, before.fallback) == (["office@example.gov.cn"], Recipient.DEFAULT_SUPERVISORS)
    people.load([second])
    assert people.resolve(Recipient.LEAD_UNIT, first) == ["town@example.gov.cn"]
    assert people.recipients(Audience((Recipient.LEAD_UNIT,)), first).to == ["town@example.gov.cn"]
