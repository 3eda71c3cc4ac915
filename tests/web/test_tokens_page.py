"""/account/tokens: a person lists, creates and revokes their own API tokens, and nobody else's."""

from __future__ import annotations

import re

from sqlmodel import select

from models.accounts import ApiToken, create_token, hash_token
from tests.web.conftest import CSRF

SECRET = re.compile(r'id="new-token-secret"[^>]*value="(dbn_[^"]+)"')


def _create(client) -> str:  # type: ignore[no-untyped-def]
    response = client.post("/account/tokens", data={"csrf_token": CSRF})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert "不会再次显示" in response.text
    match = SECRET.search(response.text)
    assert match, response.text
    return match.group(1)


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="token-(\d+)"', html)]


def test_the_page_lists_only_ones_own_tokens_in_local_time(world, client_for, session, now):
    mine = create_token(session, world.people["lead"], now)
    theirs = create_token(session, world.people["sup"], now)
    session.commit()
    page = client_for(world.people["lead"]).get("/account/tokens")
    assert page.status_code == 200
    assert mine[:10] in page.text and theirs[:10] not in page.text
    assert mine not in page.text  # only the hint, never the secret
    assert "2024-06-03 09:00" in page.text  # created at 01:00 UTC, shown in Asia/Shanghai
    assert "从未使用" in page.text
    admin_page = client_for(world.people["admin"]).get("/account/tokens").text
    assert _ids(admin_page) == [] and theirs[:10] not in admin_page and mine[:10] not in admin_page


def test_the_page_is_linked_from_the_account_menu_and_needs_a_login(world, client_for, anon):
    assert 'href="/account/tokens"' in client_for(world.people["lead"]).get("/password").text
    response = anon.get("/account/tokens")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_new_token_is_shown_once_and_works_against_the_api(world, client_for, anon, session):
    client = client_for(world.people["lead"])
    secret = _create(client)
    stored = session.exec(select(ApiToken).where(ApiToken.person_id == world.people["lead"].id)).one()
    assert stored.token_hash == hash_token(secret) and secret not in stored.hint
    listed = anon.get("/api/v1/items", headers={"Authorization": f"Bearer {secret}"})
    assert listed.status_code == 200
    assert [row["title"] for row in listed.json()["items"]] == [world.items["ours"].title]
    page = client.get("/account/tokens").text
    assert secret not in page and secret[:10] in page and _ids(page) == [stored.id]
    assert "从未使用" not in page  # the API call was recorded as its last use


def _id_of(session, secret: str) -> int:  # type: ignore[no-untyped-def]
    return int(session.exec(select(ApiToken.id).where(ApiToken.token_hash == hash_token(secret))).one())


def test_revoking_from_the_page_makes_the_api_refuse_the_token(world, client_for, anon, session):
    client = client_for(world.people["lead"])
    secret = _create(client)
    keep = _create(client)
    headers = {"Authorization": f"Bearer {secret}"}
    assert anon.get("/api/v1/me", headers=headers).status_code == 200
    token_id = _id_of(session, secret)
    assert _ids(client.get("/account/tokens").text) == [_id_of(session, keep), token_id]  # newest first
    response = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": CSRF})
    assert response.status_code == 303 and response.headers["location"] == "/account/tokens"
    assert anon.get("/api/v1/me", headers=headers).status_code == 401
    assert anon.get("/api/v1/me", headers={"Authorization": f"Bearer {keep}"}).status_code == 200
    page = client.get("/account/tokens").text
    assert "令牌已吊销" in page and "已吊销" in page
    assert f'action="/account/tokens/{token_id}/revoke"' not in page  # no button for a revoked token
    again = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": CSRF})
    assert again.status_code == 303 and "此前已吊销" in client.get("/account/tokens").text


def test_someone_elses_token_is_404_even_for_an_admin(world, client_for, anon, session, now):
    theirs = create_token(session, world.people["sup"], now)
    session.commit()
    token_id = _id_of(session, theirs)
    for who in ("lead", "sup2", "admin"):
        response = client_for(world.people[who]).post(f"/account/tokens/{token_id}/revoke",
                                                      data={"csrf_token": CSRF})
        assert response.status_code == 404, who
        assert "未找到编号为" in response.text
    assert client_for(world.people["lead"]).post("/account/tokens/999999/revoke",
                                                 data={"csrf_token": CSRF}).status_code == 404
    assert anon.get("/api/v1/me", headers={"Authorization": f"Bearer {theirs}"}).status_code == 200


def test_posts_without_the_csrf_token_create_and_revoke_nothing(world, client_for, session, now):
    secret = create_token(session, world.people["lead"], now)
    session.commit()
    token_id = session.exec(select(ApiToken.id)).one()
    client = client_for(world.people["lead"])
    created = client.post("/account/tokens", data={})
    assert created.status_code == 403 and "dbn_" not in created.text
    assert client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": "forged"}).status_code == 403
    session.expire_all()
    tokens = session.exec(select(ApiToken)).all()
    assert [(t.token_hash, t.revoked_at) for t in tokens] == [(hash_token(secret), None)]
