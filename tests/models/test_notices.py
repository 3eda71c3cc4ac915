"""Who is told what (models/notices.py): every notice kind reaches someone, or is reported."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from config.policy import DEFAULT_POLICY_FILE, Audience, Policy, PolicyError, Recipient, load_policy
from models.lifecycle import Action, apply
from models.notices import FALLBACK, NOTICES, THRESHOLD_TEMPLATES, People, template_for
from models.tables import Item, Notification, Role
from tests.factories import make_document, make_item, make_person, make_unit

TEMPLATES = Path(__file__).parents[2] / "notifications" / "templates"


def policy_with(**changes: object) -> Policy:
    base = load_policy(DEFAULT_POLICY_FILE)
    return Policy(default=base.default, leadership_emails=list(changes.get("leadership", [])),  # type: ignore[call-overload]
                  default_supervisors=list(changes.get("default_supervisors", [])))  # type: ignore[call-overload]


def every_notice(policy: Policy) -> list[tuple[str, Audience]]:
    """Each row of the table, and each threshold of the policy (with its audience)."""
    rules = policy.default
    thresholds = [("reminder", rules.reminder), ("overdue", rules.overdue), ("repeat_reminder", rules.repeat)]
    thresholds += [(f"escalated level {e.level}", e.audience) for e in rules.escalations]
    return [(kind, notice.audience) for kind, notice in NOTICES.items()] + thresholds


def bare_item(session: Session, **kw: object) -> Item:
    """An item whose own audiences name nobody: a lead unit without contacts or leaders, no supervisor."""
    lead = make_unit(session, contact_emails=[], leader_emails=[])
    return make_item(session, lead_unit=lead, **kw)  # type: ignore[arg-type]


def test_every_kind_has_its_template():
    for kind in [*NOTICES, *THRESHOLD_TEMPLATES]:
        for part in ("subject.txt", "txt", "html"):
            assert (TEMPLATES / f"{template_for(kind)}.{part}").exists(), (kind, part)


def test_every_notice_kind_reaches_its_audience_when_it_names_someone(session):
    lead = make_unit(session, contact_emails=["lead@fgw.gov.cn"], leader_emails=["boss@fgw.gov.cn"])
    co = make_unit(session, contact_emails=["co@czj.gov.cn"])
    supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    item = make_item(session, lead_unit=lead, co_units=(co,), supervisor=supervisor)
    policy = policy_with(leadership=["mayor@example.gov.cn"])
    people = People(session, policy)
    people.load([item])
    for kind, audience in every_notice(policy):
        found = people.recipients(audience, item)
        assert found.to and found.fallback is None, kind


def test_every_notice_kind_whose_audience_names_nobody_falls_back_or_is_reported(session):
    """The walk the issue asks for: each kind, with each step of the fallback, then with nobody at all."""
    admin = make_person(session, Role.ADMIN, email="admin@dc.gov.cn")
    doc_supervisor = make_person(session, Role.SUPERVISOR, email="docsup@dc.gov.cn")
    item_supervisor = make_person(session, Role.SUPERVISOR, email="itemsup@dc.gov.cn")
    document = make_document(session, default_supervisor_id=doc_supervisor.id)
    plain = make_document(session)
    policy = policy_with(default_supervisors=["office@dc.gov.cn"])
    steps = [
        (bare_item(session, document=plain, supervisor=item_supervisor), policy, Recipient.SUPERVISOR, "itemsup@dc.gov.cn"),
        (bare_item(session, document=document), policy, Recipient.DOCUMENT_SUPERVISOR, "docsup@dc.gov.cn"),
        (bare_item(session, document=plain), policy, Recipient.DEFAULT_SUPERVISORS, "office@dc.gov.cn"),
        (bare_item(session, document=plain), policy_with(), Recipient.ADMINS, "admin@dc.gov.cn"),
    ]
    assert [step[2] for step in steps] == list(FALLBACK)
    for item, office, fallback, address in steps:
        people = People(session, office)
        people.load([item])
        for kind, audience in every_notice(office):
            found = people.recipients(audience, item)
            if Recipient.SUPERVISOR in audience.to and fallback is Recipient.SUPERVISOR:
                assert (found.to, found.fallback) == ([address], None), kind  # its own audience
                continue
            assert (found.to, found.fallback) == ([address], fallback), (kind, fallback)
            assert found.notes() == {"fallback": fallback.value}
    admin.active = False
    session.add(admin)
    session.flush()
    people = People(session, policy_with())
    item = bare_item(session, document=plain)
    people.load([item])
    for kind, audience in every_notice(policy_with()):
        found = people.recipients(audience, item)
        assert found.unreached and found.notes() == {"unreached": True}, kind


@pytest.fixture
def officer_and_item(session: Session):  # type: ignore[no-untyped-def]
    lead = make_unit(session, contact_emails=["lead@fgw.gov.cn"])
    officer = make_person(session, Role.OFFICER, lead)
    doc_supervisor = make_person(session, Role.SUPERVISOR, email="docsup@dc.gov.cn")
    document = make_document(session, default_supervisor_id=doc_supervisor.id)
    item = make_item(session, lead_unit=lead, document=document, deadline=date(2024, 6, 30))
    session.commit()
    return officer, item, document


def test_submission_on_an_item_without_supervisor_tells_the_documents_default_supervisor(session, officer_and_item, now):
    officer, item, _ = officer_and_item
    apply(session, item, Action.SUBMIT, officer, now, evidence="已印发")
    session.commit()
    [notice] = session.exec(select(Notification).where(Notification.kind == "submitted")).all()
    assert notice.to_addrs == ["docsup@dc.gov.cn"] and notice.payload["fallback"] == "document_supervisor"
    assert not notice.unreached


def test_extension_request_that_reaches_nobody_is_recorded_as_unreached(session, officer_and_item, now):
    officer, item, document = officer_and_item
    document.default_supervisor_id = None
    session.add(document)
    session.commit()
    apply(session, item, Action.REQUEST_EXTENSION, officer, now, reason="待部委批复", deadline=date(2024, 9, 30))
    session.commit()
    [notice] = session.exec(select(Notification).where(Notification.kind == "extension_requested")).all()
    assert notice.unreached and notice.to_addrs == [] and notice.payload["unreached"] is True


def test_extension_request_without_supervisors_goes_to_the_admins(session, officer_and_item, now):
    officer, item, document = officer_and_item
    document.default_supervisor_id = None
    session.add(document)
    make_person(session, Role.ADMIN, email="admin@dc.gov.cn")
    session.commit()
    apply(session, item, Action.REQUEST_EXTENSION, officer, now, reason="待部委批复", deadline=date(2024, 9, 30))
    session.commit()
    [notice] = session.exec(select(Notification).where(Notification.kind == "extension_requested")).all()
    assert notice.to_addrs == ["admin@dc.gov.cn"] and notice.payload["fallback"] == "admins"


def test_default_supervisors_are_validated_with_their_line(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("leadership_emails: []\ndefault_supervisors:\n  - ok@dc.gov.cn\n  - not-an-email\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"policy.yaml:4: 'not-an-email' is not a plain email address"):
        load_policy(path)
    path.write_text("default_supervisors: [Office@DC.gov.cn]\n", encoding="utf-8")
    assert load_policy(path).default_supervisors == ["office@dc.gov.cn"]


def test_the_forecast_names_the_same_people_as_the_sweep_fallback_included(session):
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from config.calendar import load_calendar
    from models.forecast import forecast

    tz = ZoneInfo("Asia/Shanghai")
    lead = make_unit(session, contact_emails=["lead@fgw.gov.cn"], leader_emails=["boss@fgw.gov.cn"])
    supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    make_item(session, lead_unit=lead, supervisor=supervisor, deadline=date(2024, 10, 8),
              next_action_at=datetime(2024, 9, 1, tzinfo=UTC))
    session.commit()
    now = datetime(2024, 10, 21, 9, tzinfo=tz)
    entries = forecast(session, now=now, until=now + timedelta(days=1), policy=load_policy(DEFAULT_POLICY_FILE),
                       calendar=load_calendar(), tz=tz)
    told = {e.threshold: (e.to, e.fallback) for e in entries}
    assert told["level-2"] == (["sup@dc.gov.cn"], "supervisor")  # empty leadership: the fallback
    assert told["level-1"] == (["boss@fgw.gov.cn"], None)
    assert told["overdue"] == (["lead@fgw.gov.cn"], None)  # the lead unit's own notice in the catch-up


def test_the_parent_units_leaders_are_a_recipient_kind(session):
    parent = make_unit(session, contact_emails=["county@example.gov.cn"], leader_emails=["county-head@example.gov.cn"])
    lead = make_unit(session, parent_id=parent.id, leader_emails=["boss@example.gov.cn"])
    item = make_item(session, lead_unit=lead)
    people = People(session, policy_with())
    people.load([item])
    found = people.recipients(Audience((Recipient.PARENT_UNIT_LEADERS,), (Recipient.UNIT_LEADERS,)), item)
    assert (found.to, found.cc, found.fallback) == (["county-head@example.gov.cn"], ["boss@example.gov.cn"], None)
