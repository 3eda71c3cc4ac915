"""The content security policy in a real browser: every main page, htmx swaps included, breaks none of it."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD
from tests.web.test_browser import chromium_path, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

PAGES = {  # the officer first: the item they submit is then waiting on the supervisor's approvals page
    "officer@fgw.gov.cn": ["/my", "/items/{item}"],
    "sup@dc.gov.cn": ["/", "/?units=all", "/items", "/items/{item}", "/approvals", "/import", "/outbox",
                      "/digest", "/password", "/account/tokens", "/items?due_soon=1", "/nowhere"],
}


def test_main_pages_break_no_content_security_policy(chromium_path, live_server):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    base, item_id = live_server
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for email, paths in PAGES.items():
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            # Chromium reports each refused script, style or frame as a console error naming the policy.
            page.on("console", lambda message, page=page: problems.append(f"{page.url}: {message.text}")
                    if message.type == "error" and "Content Security Policy" in message.text else None)
            page.on("pageerror", lambda error, page=page: problems.append(f"{page.url}: {error}"))
            page.goto(f"{base}/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            for path in paths:
                page.goto(base + path.format(item=item_id))
                page.wait_for_load_state("networkidle")
            if email.startswith("officer"):
                page.goto(f"{base}/items/{item_id}")
                page.locator("#form-submit [name=evidence]").fill("《实施方案》已印发")
                page.locator("#form-submit button[type=submit]").click()
                expect(page.locator("#item-status")).to_have_text("待销号")
                continue
            page.goto(f"{base}/items")
            page.fill("#q", "优化")  # an htmx swap, with its request indicator
            expect(page.locator("#results tbody tr")).to_have_count(1)
            page.goto(f"{base}/approvals")
            page.check("input[data-check-all]")  # the check-all box, now in web/static/duban.js
            expect(page.locator("input[name=item]").first).to_be_checked()
            page.goto(f"{base}/digest")  # the mail, framed from /digest/mail with its own policy
            mail = page.frame_locator("iframe.mail")
            expect(mail.locator("body")).to_contain_text("督办周报")  # the mail itself, not a login page
            expect(mail.locator("input")).to_have_count(0)
            page.goto(f"{base}/account/tokens")
            page.click("form[action='/account/tokens'] button")
            page.once("dialog", lambda dialog: dialog.accept())  # the revoke question, from duban.js
            page.locator("form[data-confirm] button").click()
            expect(page.locator("form[data-confirm]")).to_have_count(0)
        browser.close()
    assert problems == []


def test_a_refused_inline_script_is_reported(chromium_path, live_server):  # noqa: F811
    """The test above can fail: an inline script on one of our pages shows up as a console error."""
    from playwright.sync_api import sync_playwright

    base, _ = live_server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_context().new_page()
        page.goto(f"{base}/login")
        with page.expect_console_message(lambda message: "Content Security Policy" in message.text) as refused:
            page.evaluate("""() => { const s = document.createElement('div');
                s.innerHTML = '<img src="/static/none.png" onerror="window.ran = 1">'; document.body.append(s); }""")
        errors.append(refused.value.text)
        ran = page.evaluate("window.ran === 1")
        browser.close()
    assert not ran
    assert "inline event handler" in errors[0]
