"""In a real browser: an admin deactivates a person on /admin/people, who then cannot log in."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from models.db import make_engine
from models.tables import Role
from tests.factories import make_person
from tests.web.conftest import PASSWORD, password_hash
from tests.web.test_browser import ARTIFACTS, chromium_path, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_an_admin_deactivates_a_person(chromium_path, live_server, sqlite_url):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    base, _ = live_server
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        make_person(session, Role.ADMIN, name="赵管理", email="admin@dc.gov.cn", password_hash=password_hash())
        session.commit()
    engine.dispose()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )

        def login(email: str):  # type: ignore[no-untyped-def]
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            return page

        admin = login("admin@dc.gov.cn")
        admin.wait_for_url(f"{base}/")
        admin.goto(f"{base}/admin/people")
        row = admin.locator("tr", has_text="officer@fgw.gov.cn")
        admin.once("dialog", lambda dialog: dialog.accept())  # the question, from duban.js
        row.locator("form[data-confirm] button").click()
        expect(row).to_contain_text("已停用")
        expect(admin.locator("#admin-changes")).to_contain_text("officer@fgw.gov.cn")
        admin.screenshot(path=str(ARTIFACTS / "admin-people-desktop.png"), full_page=True)
        admin.set_viewport_size({"width": 390, "height": 844})
        admin.screenshot(path=str(ARTIFACTS / "admin-people-phone.png"), full_page=True)

        officer = login("officer@fgw.gov.cn")
        expect(officer).to_have_url(f"{base}/login")
        browser.close()
    assert [text for text in problems if "Content Security Policy" in text] == []
