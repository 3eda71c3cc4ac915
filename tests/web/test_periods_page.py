"""The item page lists a recurring item's periods, and the API's item carries them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from config.calendar import WorkCalendar
from config.policy import DEFAULT_POLICY_FILE, load_policy
from models.periods import schedule_periods
from models.schedule import Schedule
from tests.web.conftest import CSRF
from tests.web.test_dashboard import _sheets


def recurring(session, item):
    """Make `item`, created 10 January 2024, report by the 10th of each quarter's first month."""
    item.frequency, item.created_at = "quarterly by month 1 day 10", datetime(2024, 1, 10, 1, 0, tzinfo=UTC)
    session.add(item)
    schedule_periods(session, [item], Schedule(load_policy(DEFAULT_POLICY_FILE), WorkCalendar(), ZoneInfo("Asia/Shanghai")))
    session.commit()


def test_the_item_page_lists_each_period_with_its_due_day(world, client_for, session):
    item = world.items["ours"]
    recurring(session, item)
    client = client_for(world.people["lead"])
    page = client.get(f"/items/{item.id}").text
    assert "<h2>定期报送</h2>" in page or "<h2>Reporting periods</h2>" in page
    assert "2024-01-01 – 2024-03-31" in page and "2024-04-10" in page  # Q1's report, due 10 April
    assert "2024-04-01 – 2024-06-30" in page and "2024-07-10" in page
    other = client.get(f"/items/{world.items['theirs'].id}").text
    assert "2024-04-10" not in other


def test_a_page_without_periods_has_no_periods_card(world, client_for):
    page = client_for(world.people["lead"]).get(f"/items/{world.items['ours'].id}").text
    assert "<h2>定期报送</h2>" not in page and "<h2>Reporting periods</h2>" not in page


def test_the_item_pages_edit_form_sets_the_frequency(world, client_for, engine):
    item, sup = world.items["ours"], client_for(world.people["sup"])
    page = sup.get(f"/items/{item.id}").text
    assert 'name="frequency"' in page
    form = {"csrf_token": CSRF, "action": "edit", "title": item.title, "deadline": item.deadline.isoformat(),
            "reason": "", "lead_unit": "市发改委", "co_units": "市财政局", "supervisor": "sup@dc.gov.cn",
            "category": "", "frequency": "每月", "version": str(item.version)}
    assert sup.post(f"/items/{item.id}/act", data=form).status_code == 303
    page = sup.get(f"/items/{item.id}").text
    assert "<h2>定期报送</h2>" in page or "<h2>Reporting periods</h2>" in page
    assert 'value="每月"' in page or 'value="monthly"' in page
    refused = sup.post(f"/items/{item.id}/act", data={**{k: v for k, v in form.items() if k != "version"}, "frequency": "每两周"})
    assert refused.status_code == 400 and "每两周" in refused.text


def test_the_dashboard_shows_the_on_time_reporting_rate(world, client_for, session):
    item = world.items["ours"]
    recurring(session, item)
    sup = client_for(world.people["sup"])
    page = sup.get("/").text
    assert "按时报送率" in page or "On-time reporting rate" in page
    assert 'id="overall-on-time-rate"' in page and 'title="0/1"' in page  # Q1's report, due 10 April, missing
    documents = next(iter(_sheets(sup.get("/report.xlsx")).values()))
    assert documents[1][-1] in ("按时报送率", "On-time reporting rate") and documents[-1][-1] == 0.0
