"""The menu is drawn once per language, page, person, form token and path, then remembered
(web.render.menu): what it shows still follows each of them."""

from __future__ import annotations

import re


def test_the_remembered_menu_follows_the_page_the_person_and_the_language(
    world, client_for, session
):  # type: ignore[no-untyped-def]
    sup = world.people["sup"]
    client = client_for(sup)
    items, again = client.get("/items").text, client.get("/items").text
    assert items == again
    assert re.search(r'<a href="/items" class="on" aria-current="page">', items)
    dashboard = client.get("/").text
    assert re.search(r'<a href="/" class="on" aria-current="page">', dashboard)
    assert 'name="next" value="/"' in dashboard and 'name="next" value="/items"' in items

    sup.name = "改名后的督查"
    session.add(sup)
    session.commit()
    assert "改名后的督查" in client.get("/items").text

    officer = client_for(world.people["lead"]).get("/items").text
    assert 'href="/approvals"' in items and 'href="/approvals"' not in officer

    token = client.get("/password").text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/lang", data={"csrf_token": token, "lang": "en", "next": "/items"})
    english = client.get("/items").text
    assert ">Dashboard</a>" in english and ">Dashboard</a>" not in items
