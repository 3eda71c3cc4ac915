"""The JSON API: tokens, items with filters, detail with timeline, actions, figures, outbox."""

from __future__ import annotations

import pytest

from models.accounts import ApiToken, create_token
from models.tables import Status


@pytest.fixture
def api(world, session, now, anon):  # type: ignore[no-untyped-def]
    tokens = {who: create_token(session, person, now) for who, person in world.people.items()}
    session.commit()

    def call(who, method, path, **kw):  # type: ignore[no-untyped-def]
        return anon.request(method, "/api/v1" + path, headers={"Authorization": f"Bearer {tokens[who]}"}, **kw)

    return call


def test_tokens_are_stored_only_as_hashes(world, session, now):
    token = create_token(session, world.people["lead"], now)
    session.commit()
    stored = session.exec(ApiToken.__table__.select()).all()  # type: ignore[attr-defined]
    assert token.startswith("dbn_") and all(token not in str(row) for row in stored)


def test_me_and_openapi(api, anon):
    assert api("lead", "GET", "/me").json()["email"] == "lead@fgw.gov.cn"
    spec = anon.get("/api/v1/openapi.json").json()
    assert "/api/v1/items" in spec["paths"] and "/api/v1/items/{item_id}/{action}" in spec["paths"]
    assert not any(path.startswith("/items") for path in spec["paths"])  # pages are not API


def test_list_filters_like_the_page(api, world):
    overdue = api("sup", "GET", "/items", params={"overdue": "true"}).json()
    assert [row["ref"] for row in overdue["items"]] == ["新时代意见/2"]
    assert overdue["items"][0]["light"] == "red"
    assert api("sup", "GET", "/items", params={"sort": "nonsense"}).status_code == 422
    assert api("sup", "GET", "/items", params={"per_page": 1}).json()["total"] == 3


def test_list_filters_by_supervisor_as_the_page_and_the_digest_links_do(api, world, client_for):
    mine = api("admin", "GET", "/items", params={"supervisor": "SUP2@dc.gov.cn"}).json()
    assert [row["id"] for row in mine["items"]] == [world.items["theirs"].id]
    assert api("admin", "GET", "/items", params={"supervisor": "nobody@dc.gov.cn"}).status_code == 400
    for field in ("supervisor", "unit", "document", "q"):  # PostgreSQL refuses a NUL: a 400, not a 500
        assert api("admin", "GET", "/items", params={field: "a\x00b"}).status_code == 400, field
    page = client_for(world.people["admin"]).get("/items", params={"supervisor": "sup2@dc.gov.cn"}).text
    assert f'href="/items/{world.items["theirs"].id}"' in page and f'href="/items/{world.items["ours"].id}"' not in page
    assert '<input type="hidden" name="supervisor" value="sup2@dc.gov.cn">' in page  # kept when a filter changes


def test_actions_through_the_api(api, world):
    item_id = world.items["ours"].id
    detail = api("lead", "GET", f"/items/{item_id}").json()
    assert "submit" in detail["actions"] and detail["timeline"] == []
    done = api("lead", "POST", f"/items/{item_id}/submit", json={"evidence": "文件已印发", "version": detail["version"]})
    assert done.status_code == 200 and done.json()["status"] == Status.SUBMITTED
    stale = api("sup", "POST", f"/items/{item_id}/return", json={"reason": "x", "version": detail["version"]})
    assert stale.status_code == 409
    assert api("leader", "POST", f"/items/{item_id}/sign_off", json={}).status_code == 403
    assert api("lead", "POST", f"/items/{item_id}/sign_off", json={}).status_code == 403
    returned = api("sup", "POST", f"/items/{item_id}/return", json={"reason": "缺少文号"})
    assert returned.json()["timeline"][0]["payload"]["reason"] == "缺少文号"
    assert api("sup", "POST", f"/items/{item_id}/return", json={"reason": "again"}).status_code == 409
    extension = api("lead", "POST", f"/items/{item_id}/request_extension", json={"deadline": "2024-09-30", "reason": "等待批复"})
    assert extension.json()["pending_extension"]["requested_deadline"] == "2024-09-30"


def test_report_and_outbox(api, world):
    report = api("leader", "GET", "/report").json()
    assert report["overall"]["total"] == 3 and len(report["overall"]["trend"]) == 8
    assert api("lead", "GET", "/report").json()["overall"]["total"] == 1
    assert isinstance(api("admin", "GET", "/outbox").json(), dict)
    assert api("lead", "GET", "/outbox").status_code == 403


def _token_ids(api, who, **params):  # type: ignore[no-untyped-def]
    response = api(who, "GET", "/tokens", params=params)
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()]


def test_people_list_and_revoke_their_own_tokens_and_a_revoked_token_stops_working(api, session, world):
    mine = _token_ids(api, "lead")
    assert len(mine) == 1
    assert api("lead", "DELETE", f"/tokens/{mine[0]}").json()["revoked_at"] is not None
    assert api("lead", "GET", "/me").status_code == 401
    stored = session.get(ApiToken, mine[0])
    session.refresh(stored)
    assert stored.revoked_at is not None


def test_others_tokens_are_hidden_from_everyone_but_admins(api, world):
    theirs = _token_ids(api, "sup")[0]
    assert api("lead", "DELETE", f"/tokens/{theirs}").status_code == 404  # as if it did not exist
    assert api("lead", "GET", "/tokens", params={"email": "sup@dc.gov.cn"}).status_code == 403
    assert api("sup", "GET", "/me").status_code == 200
    sup_email = api("sup", "GET", "/me").json()["email"]
    assert _token_ids(api, "admin", email=sup_email) == [theirs]
    assert api("admin", "DELETE", f"/tokens/{theirs}").status_code == 200
    assert api("sup", "GET", "/me").status_code == 401
    assert api("admin", "DELETE", "/tokens/999999").status_code == 404


def test_refusals_carry_a_code_and_params_beside_the_english_detail(api, world, anon):
    item_id = world.items["ours"].id
    assert api("lead", "POST", f"/items/{item_id}/submit", json={"evidence": "文件已印发"}).status_code == 200
    again = api("lead", "POST", f"/items/{item_id}/submit", json={"evidence": "文件已印发"})
    assert again.status_code == 409
    body = again.json()
    assert body["detail"].startswith("新时代意见/1: lead@fgw.gov.cn (officer) cannot submit: it is submitted")
    assert body["code"] == "action.wrong_state"
    assert body["params"] == {"ref": "新时代意见/1", "actor": "lead@fgw.gov.cn", "role": "officer",
                              "action": "submit", "status": "submitted", "allowed": ["assigned", "in_progress"]}
    missing = api("lead", "GET", "/items/999999").json()
    assert (missing["code"], missing["params"]) == ("item.not_found", {"id": 999999})
    assert anon.get("/api/v1/me").json()["code"] == "api.token_required"


def test_a_tokens_last_use_is_recorded_at_most_every_five_minutes(api, session, now):
    from datetime import timedelta

    from config import clock

    def last_used(token_id: int):  # type: ignore[no-untyped-def]
        session.expire_all()
        return session.get(ApiToken, token_id).last_used_at

    with clock.frozen(now):
        [token_id] = _token_ids(api, "lead")
        assert last_used(token_id) == now
    with clock.frozen(now + timedelta(minutes=4)):
        assert api("lead", "GET", "/me").status_code == 200
        assert last_used(token_id) == now  # within the resolution: no write
        assert api("lead", "GET", "/tokens").json()[0]["last_used_at"] is not None
    with clock.frozen(now + timedelta(minutes=6)):
        api("lead", "GET", "/me")
        assert last_used(token_id) == now + timedelta(minutes=6)
