"""Security headers on every kind of response: pages, redirects, errors, static files and the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from web.app import create_app

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


def _assert_secure(headers) -> None:  # type: ignore[no-untyped-def]
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_every_kind_of_response_carries_the_security_headers(world, client_for, anon):
    client = client_for(world.people["sup"])
    responses = [
        client.get("/"), client.get("/items"), client.get(f"/items/{world.items['ours'].id}"),
        client.get("/items/999999"), client.get("/static/style.css"), anon.get("/login"), anon.get("/items"),
        anon.get("/api/v1/items"), anon.get("/api/v1/openapi.json"), client.post("/logout"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 200, 200, 303, 401, 200, 403]
    for response in responses:
        _assert_secure(response.headers)
        assert "strict-transport-security" not in response.headers  # served over plain HTTP


def test_hsts_only_when_the_base_url_is_https(web_settings):
    app = create_app(web_settings.model_copy(update={"base_url": "https://duban.example.gov.cn"}))
    response = TestClient(app, base_url="https://testserver").get("/login")
    app.state.engine.dispose()
    _assert_secure(response.headers)
    assert response.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_hold_no_inline_script_handler_or_style(template):
    """What the policy would refuse in the browser, found without one."""
    text = re.sub(r"\{#.*?#\}", "", (TEMPLATES / template).read_text(encoding="utf-8"), flags=re.S)  # comments
    for refused in (" onclick=", " onsubmit=", " onchange=", " oninput=", " onload=", "javascript:",
                    "style=", "<style", "hx-on"):
        assert refused not in text, f"{template}: {refused}"
    for tag in text.split("<script")[1:]:
        assert tag.lstrip().startswith("src="), f"{template}: inline <script>"


def test_the_digest_mail_preview_has_a_policy_of_its_own(world, client_for):
    """Mail HTML needs inline styles: allowed in its own frame, which may be framed by this site only."""
    response = client_for(world.people["sup"]).get("/digest/mail")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy and "sandbox" in policy
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert client_for(world.people["lead"]).get("/digest/mail").status_code == 403
