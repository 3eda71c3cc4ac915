"""In a real browser: an officer attaches a PDF and a photo to a progress report on the item page."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD
from tests.web.test_browser import ARTIFACTS, chromium_path, live_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _photo() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_an_officer_attaches_a_pdf_and_a_photo_on_the_item_page(chromium_path, live_server, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    base, item_id = live_server
    (tmp_path / "整改报告.pdf").write_bytes(PDF)
    (tmp_path / "现场照片.png").write_bytes(_photo())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path,
                                    args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True).new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=email]", "officer@fgw.gov.cn")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")

        page.goto(f"{base}/items/{item_id}")
        form = page.locator("#form-report_progress")
        form.locator("[name=text]").fill("已召开专题协调会，会议纪要及现场照片见附件")
        form.locator("input[type=file]").set_input_files([str(tmp_path / "整改报告.pdf"), str(tmp_path / "现场照片.png")])
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()

        files = page.locator("ul.attachments")
        expect(files).to_contain_text("整改报告.pdf")
        expect(files.locator("img.thumb")).to_have_count(1)
        # the preview was made and drawn: 320 px wide, from the 800 px photo
        assert files.locator("img.thumb").evaluate("img => img.decode().then(() => img.naturalWidth)") == 320
        expect(page.locator(".timeline")).to_contain_text("整改报告.pdf")
        page.screenshot(path=str(ARTIFACTS / "7-evidence-files.png"), full_page=True)
        with page.expect_download() as download:
            files.locator("a", has_text="整改报告.pdf").click()
        assert download.value.suggested_filename == "整改报告.pdf"
        assert download.value.path().read_bytes() == PDF
        browser.close()
