"""A form refused because the item changed meanwhile comes back with what was typed, and says what changed."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlmodel import select

from models.tables import ItemEvent, ProgressReport
from tests.web.conftest import CSRF


def _loaded(client: TestClient, item_id: int, action: str) -> dict[str, str]:
    """The hidden fields of `action`'s form, as the page showed them when it was loaded."""
    page = client.get(f"/items/{item_id}").text
    form = page.split(f'id="form-{action}"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'name="(version|seen)" value="(\d+)"', form))


def _act(client: TestClient, item_id: int, action: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(f"/items/{item_id}/act", data={"csrf_token": CSRF, "action": action, **fields})


def _form(page: str, action: str) -> str:
    return html.unescape(page.split(f'id="form-{action}"', 1)[1].split("</form>", 1)[0])


def test_typed_progress_survives_a_change_made_meanwhile_and_the_change_is_shown(world, client_for, session):
    lead, co = client_for(world.people["lead"]), client_for(world.people["co"])
    item_id = world.items["ours"].id
    loaded = _loaded(lead, item_id, "report_progress")
    assert _act(co, item_id, "report_progress", text="财政资金已拨付", **_loaded(co, item_id, "report_progress")).status_code == 303

    typed = "已召开协调会，形成会议纪要 <b>第3号</b>"
    response = _act(lead, item_id, "report_progress", text=typed, percent="40", **loaded)
    assert response.status_code == 409
    form = _form(response.text, "report_progress")
    assert f">{typed}</textarea>" in form and 'value="40"' in form
    assert "<b>第3号</b>" not in response.text  # kept as text, escaped
    note = response.text.split('id="changed-meanwhile"', 1)[1].split("</div>", 1)[0]
    assert "本次操作未执行" in note and "您填写的内容已保留" in note
    assert "报送进展" in note and world.people["co"].name in note  # what changed, and who did it
    assert "财政资金已拨付" not in _form(response.text, "submit")  # other forms stay empty
    session.expire_all()
    assert [r.text for r in session.exec(select(ProgressReport)).all()] == ["财政资金已拨付"]

    # The form as shown now carries the current version: sending it again goes through.
    again = dict(re.findall(r'name="(version|seen)" value="(\d+)"', form))
    assert _act(lead, item_id, "report_progress", text=typed, percent="40", **again).status_code == 303


def test_text_typed_for_an_action_closed_meanwhile_is_shown_to_copy(world, client_for, session):
    lead, sup = client_for(world.people["lead"]), client_for(world.people["sup"])
    item_id = world.items["ours"].id
    loaded = _loaded(lead, item_id, "submit")
    assert _act(sup, item_id, "cancel", reason="政策调整", **_loaded(sup, item_id, "cancel")).status_code == 303

    response = _act(lead, item_id, "submit", evidence="《实施方案》已印发（发改〔2024〕12号）", **loaded)
    assert response.status_code == 409
    assert 'id="form-submit"' not in response.text
    note = response.text.split('id="changed-meanwhile"', 1)[1].split("</div>", 1)[0]
    assert "该操作当前已不可执行" in note and "《实施方案》已印发（发改〔2024〕12号）" in note
    assert "已撤销" in note
    session.expire_all()
    assert [e.kind for e in session.exec(select(ItemEvent).order_by(ItemEvent.id)).all()] == ["cancelled"]
