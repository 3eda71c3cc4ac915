"""Every word the pages show has its zh-CN translation."""

from __future__ import annotations

import re
from pathlib import Path

from models.lifecycle import TRANSITIONS, Action
from models.tables import Role, Status
from web.i18n import ZH, translator

WEB = Path(__file__).resolve().parents[2] / "web"


def test_every_message_in_templates_and_routes_is_translated():
    used = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("routes/*.py")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\b_\("([^"]+)"\)', text))
        used |= set(re.findall(r'flash\(request, "([^"]+)"', text))
        used |= set(re.findall(r"\('[a-z_-]+', '([A-Z][^']+)'\)", text))  # (key, label) lists
    missing = sorted(m for m in used if m not in ZH)
    assert not missing, missing


def test_states_roles_events_and_actions_are_translated():
    words = [*Status, *Role, *(t.event for t in TRANSITIONS.values())]
    assert [w for w in words if w not in ZH] == []
    assert translator("en")("in_progress") == "in progress"
    assert translator("zh-CN")(Action.SIGN_OFF.value.replace("_", " ").capitalize()) == "销号"
