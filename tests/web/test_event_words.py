"""The `submitted` event and notice read as 销号申请 (the submission), the state of the same id as 待销号."""

from __future__ import annotations

from config.i18n import gettext
from models.read.timeline import event_word
from tests.web.conftest import CSRF


def test_the_submission_and_the_state_it_leads_to_have_their_own_words() -> None:
    assert event_word("submitted", "zh-CN") == "销号申请" and gettext("zh-CN", "submitted") == "待销号"
    assert event_word("submitted", "en") == "submission for sign-off" and gettext("en", "submitted") == "awaiting sign-off"
    assert event_word("commented", "zh-CN") == "留言" and event_word("returned", "zh-CN") == "退回"  # the rest as before
    assert event_word("no_such_kind", "zh-CN") == "no_such_kind"


def test_the_timeline_calls_it_a_submission(world, client_for) -> None:
    lead = client_for(world.people["lead"])
    item = world.items["ours"]
    data = {"csrf_token": CSRF, "action": "submit", "evidence": "文件已印发"}
    assert lead.post(f"/items/{item.id}/act", data=data).status_code == 303
    page = lead.get(f"/items/{item.id}").text
    timeline = page[page.index('<ol class="timeline">'):]
    assert "<b>销号申请</b>" in timeline and "<b>待销号</b>" not in timeline
