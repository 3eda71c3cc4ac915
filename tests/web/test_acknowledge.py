"""签收 and 催办 on the item page."""

from __future__ import annotations

from tests.web.conftest import CSRF


def _act(client, item, action, **fields):
    return client.post(f"/items/{item.id}/act", data={"csrf_token": CSRF, "action": action, **fields})


def test_the_lead_officer_acknowledges_once_and_the_page_says_who(world, client_for):
    item, officer = world.items["ours"], client_for(world.people["lead"])
    page = officer.get(f"/items/{item.id}").text
    assert 'id="form-acknowledge"' in page and "尚未签收" in page
    assert _act(officer, item, "acknowledge").status_code == 303
    page = officer.get(f"/items/{item.id}").text
    assert 'id="form-acknowledge"' not in page, "acknowledged: the button is gone"
    assert "市发改委（" in page.split('id="item-acknowledged"')[1].split("</dd>")[0]


def test_a_supervisor_urges_with_words_and_an_officer_cannot(world, client_for):
    item = world.items["ours"]
    sup, officer = client_for(world.people["sup"]), client_for(world.people["lead"])
    assert 'id="form-urge"' in sup.get(f"/items/{item.id}").text
    assert 'id="form-urge"' not in officer.get(f"/items/{item.id}").text
    assert _act(sup, item, "urge", text="请本周内报送进展").status_code == 303
    page = sup.get(f"/items/{item.id}").text
    assert "已催办1次" in page and "请本周内报送进展" in page
    assert _act(officer, item, "urge", text="x").status_code == 403
