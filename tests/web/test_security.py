"""CSRF on every form POST, escaping of what people type, login throttling, cookies, redirects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.routing import APIRoute
from sqlmodel import select

from models.lifecycle import Action, apply
from models.tables import ItemEvent, Role, Unit
from tests.factories import make_item, make_person
from tests.web.conftest import CSRF, PASSWORD, password_hash
from web.app import create_app


def _page_posts(app) -> list[str]:  # type: ignore[no-untyped-def]
    from web.routes import approvals, auth, dashboard, ical, items, ledger_import, outbox, score

    routers = [m.router for m in (approvals, auth, dashboard, ical, items, ledger_import, outbox, score)] + [ical.pages]
    return sorted(
        route.path for router in routers
        for route in router.routes if isinstance(route, APIRoute) and "POST" in route.methods
    )


def test_every_form_post_is_listed_here(app):
    # A new POST route must be added to the CSRF test below (and carry the token).
    assert _page_posts(app) == [
        "/account/calendar", "/account/calendar/{feed_id}/revoke", "/account/tokens", "/account/tokens/{token_id}/revoke",
        "/approvals/confirm", "/approvals/return", "/approvals/sign-off", "/import", "/import/apply", "/items/urge",
        "/items/urge/confirm", "/items/{item_id}/act", "/lang", "/login",
        "/logout", "/outbox/{message_id}/retry", "/password",
    ]


def test_every_page_route_that_takes_a_form_checks_its_csrf_token_first():
    # PageRouter adds csrf_protect to the routes with an unsafe method only (it passes safe ones untouched).
    from web.deps import PageRouter, csrf_protect
    from web.routes import admin, approvals, auth, dashboard, ical, items, outbox, score

    routers = [m.router for m in (admin, approvals, auth, dashboard, items, outbox, score)] + [ical.pages]
    assert all(isinstance(router, PageRouter) for router in routers)
    routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    for route in routes:
        first = route.dependant.dependencies[0].call if route.dependant.dependencies else None
        assert (first is csrf_protect) == bool(route.methods - {"GET", "HEAD", "OPTIONS"}), route.path
    assert sum(bool(route.methods - {"GET"}) for route in routes) >= 20


def test_a_request_reads_the_clock_once(monkeypatch):
    from starlette.requests import Request

    from web.deps import request_now

    readings = iter([datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)])
    monkeypatch.setattr("config.clock.now", lambda: next(readings))
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    assert request_now(request) == request_now(request) == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_every_form_post_without_the_right_csrf_token_is_refused(world, client_for, session, app, token):
    client = client_for(world.people["admin"])
    item = world.items["ours"]
    posts = {
        "/account/calendar": {},
        "/account/calendar/1/revoke": {},
        "/account/tokens": {},
        "/account/tokens/1/revoke": {},
        "/approvals/confirm": {"action": "sign_off", "item": str(item.id)},
        "/approvals/return": {"item": str(item.id), "version": "1", "text": "缺少文号"},
        "/approvals/sign-off": {"item": str(item.id), "version": "1"},
        "/import": {},
        "/import/apply": {"token": "x" * 32},
        "/items/urge": {"item": str(item.id), "version": "1", "text": "请报送"},
        "/items/urge/confirm": {"item": str(item.id), "text": "请报送"},
        f"/items/{item.id}/act": {"action": "cancel", "reason": "重复事项"},
        "/lang": {"lang": "en"},
        "/login": {"email": "admin@dc.gov.cn", "password": PASSWORD},
        "/logout": {},
        "/outbox/1/retry": {},
        "/password": {"current": PASSWORD, "new": "a new password", "repeated": "a new password"},
    }
    assert len(posts) == len(_page_posts(app))
    for path, fields in posts.items():
        data = fields if token is None else {**fields, "csrf_token": token}
        # The import form is multipart, as a browser sends it (its route refuses anything else first).
        files = {"files": ("ledger.csv", b"a,b\n")} if path == "/import" else None
        response = client.post(path, data=data, files=files)
        assert response.status_code == 403, path
        assert "页面已过期" in response.text
    session.expire_all()
    assert session.exec(select(ItemEvent)).all() == []
    assert client.get("/items").status_code == 200  # still logged in: /logout was refused too


def test_csrf_token_in_the_htmx_header_is_accepted(world, client_for):
    client = client_for(world.people["lead"])
    response = client.post(f"/items/{world.items['ours'].id}/act", headers={"X-CSRF-Token": CSRF},
                           data={"action": "report_progress", "text": "已召开协调会"})
    assert response.status_code == 303


SCRIPT = "<script>alert('x')</script>"


def test_script_in_titles_reasons_and_unit_names_is_shown_as_text(world, client_for, session, now):
    unit = session.get(Unit, world.units["fgw"].id)
    unit.name = f"单位{SCRIPT}"
    session.add(unit)
    item = make_item(session, document=None, lead_unit=unit, supervisor=world.people["sup"],
                     title=f"事项{SCRIPT}")
    lead = world.people["lead"]
    apply(session, item, Action.REPORT_PROGRESS, lead, now, text=f"进展{SCRIPT}")
    apply(session, item, Action.SUBMIT, lead, now, evidence=f"材料{SCRIPT}")
    apply(session, item, Action.RETURN, world.people["sup"], now, reason=f"理由{SCRIPT}")
    apply(session, item, Action.SUBMIT, lead, now, evidence="补充")
    session.commit()
    pages = {
        who: [client_for(world.people[who]).get(path).text for path in paths]
        for who, paths in {
            "sup": ["/", "/?units=all", "/items", f"/items/{item.id}", "/approvals", "/digest", "/outbox"],
            "lead": ["/my", f"/items/{item.id}"],
        }.items()
    }
    for who, texts in pages.items():
        for text in texts:
            assert "<script>alert" not in text, who
    item_page = pages["sup"][3]
    for shown in ("事项", "单位", "进展", "材料", "理由"):
        assert f"{shown}&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in item_page


def test_login_sets_a_httponly_lax_session_and_goes_where_asked(world, anon):
    page = anon.get("/login?next=/items")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = anon.post("/login", data={"csrf_token": token, "email": "LEAD@fgw.gov.cn ",
                                          "password": PASSWORD, "next": "/items"})
    assert response.status_code == 303 and response.headers["location"] == "/items"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert anon.get("/items").status_code == 200


def test_session_cookie_is_secure_when_served_over_https(web_settings):
    from fastapi.testclient import TestClient

    app = create_app(web_settings.model_copy(update={"base_url": "https://duban.example.gov.cn"}))
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    client.get("/login")
    assert "secure" in client.get("/login").headers.get("set-cookie", "secure").lower()
    app.state.engine.dispose()


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(world, anon, target):
    token = anon.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    response = anon.post("/login", data={"csrf_token": token, "email": "lead@fgw.gov.cn",
                                          "password": PASSWORD, "next": target})
    assert response.headers["location"] == "/"


def test_password_change_ends_other_sessions(world, client_for, session):
    person = make_person(session, Role.OFFICER, world.units["fgw"], password_hash=password_hash())
    session.commit()
    this, other = client_for(person), client_for(person)
    response = this.post("/password", data={"csrf_token": CSRF, "current": PASSWORD,
                                            "new": "another secret", "repeated": "another secret"})
    assert response.status_code == 303
    assert this.get("/items").status_code == 200
    assert other.get("/items").status_code == 303


def test_password_change_needs_the_current_password(world, client_for):
    client = client_for(world.people["lead"])
    response = client.post("/password", data={"csrf_token": CSRF, "current": "not it",
                                              "new": "another secret", "repeated": "another secret"})
    assert response.status_code == 400 and "当前密码错误" in response.text


def test_logout_ends_the_session(world, client_for):
    client = client_for(world.people["lead"])
    assert client.post("/logout", data={"csrf_token": CSRF}).status_code == 303
    assert client.get("/items").status_code == 303


def _log_in(client):  # type: ignore[no-untyped-def]
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"csrf_token": token, "email": "lead@fgw.gov.cn", "password": PASSWORD})
    assert response.status_code == 303
    return client.cookies.get("duban_session")


def test_a_cookie_saved_before_logout_no_longer_works(world, anon, app):
    from fastapi.testclient import TestClient

    saved = _log_in(anon)
    assert anon.post("/logout", data={"csrf_token": anon.get("/password").text.split(
        'name="csrf_token" value="')[1].split('"')[0]}).status_code == 303
    replay = TestClient(app, follow_redirects=False, cookies={"duban_session": saved})
    assert replay.get("/items").status_code == 303
    assert replay.get("/api/v1/items").status_code == 401  # and the API never took cookies


def test_a_cookie_saved_before_a_password_change_no_longer_works(world, anon, app):
    from fastapi.testclient import TestClient

    saved = _log_in(anon)
    elsewhere = TestClient(app, follow_redirects=False)
    _log_in(elsewhere)
    token = elsewhere.get("/password").text.split('name="csrf_token" value="')[1].split('"')[0]
    response = elsewhere.post("/password", data={"csrf_token": token, "current": PASSWORD,
                                                 "new": "another secret", "repeated": "another secret"})
    assert response.status_code == 303
    assert elsewhere.get("/items").status_code == 200  # the session that changed it stays
    replay = TestClient(app, follow_redirects=False, cookies={"duban_session": saved})
    assert replay.get("/items").status_code == 303


def test_a_session_ends_after_twelve_hours(world, client_for, now):
    from config import clock

    client = client_for(world.people["lead"])
    with clock.frozen(now + timedelta(hours=11, minutes=59)):
        assert client.get("/items").status_code == 200
    with clock.frozen(now + timedelta(hours=12)):
        assert client.get("/items").status_code == 303


def test_a_deactivated_person_is_logged_out(world, client_for, session):
    client = client_for(world.people["lead"])
    person = session.get(type(world.people["lead"]), world.people["lead"].id)
    person.active = False
    session.add(person)
    session.commit()
    assert client.get("/items").status_code == 303
