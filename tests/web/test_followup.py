"""After an action the web app triggers follow-up flows (mail now) once the app is told how."""

from __future__ import annotations

from datetime import datetime

from flows import followup
from tests.web.test_items import _act


def test_actions_trigger_the_follow_up_after_commit_and_refusals_do_not(world, client_for, app):
    calls: list[datetime] = []
    app.state.followup = calls.append
    lead, sup = client_for(world.people["lead"]), client_for(world.people["sup"])
    item = world.items["ours"]
    assert _act(sup, item, "sign_off").status_code == 409  # refused: nothing to follow up
    assert calls == []
    assert _act(lead, item, "submit", evidence="文件已印发").status_code == 303
    assert len(calls) == 1


def test_follow_up_goes_to_the_prefect_server_only_in_server_mode(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert followup.server_mode() is False
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert followup.server_mode() is True
