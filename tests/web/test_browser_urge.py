"""催办 of a selection in a real browser: tick all on /items, one message, confirm, the report (1280 and 390 px)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.db import make_engine
from models.tables import Item, Status
from tests.web.test_browser import ARTIFACTS, chromium_path, live_server, log_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("DUBAN_SHOTS", ARTIFACTS / "urge"))


@pytest.mark.parametrize("width", [1280, 390])
def test_a_supervisor_urges_every_item_shown(chromium_path, live_server, sqlite_url, width):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    base, _item_id = live_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path,
                                    args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 600).new_page()
        log_in(page, base, "sup@dc.gov.cn")

        page.goto(f"{base}/items")
        page.get_by_label("全选本页可催办的事项").check()
        expect(page.locator("input[name=item]:checked")).to_have_count(2)
        page.fill("#urge-box textarea[name=text]", "请于本周五前报送最新进展")
        page.screenshot(path=str(SHOTS / f"items-{width}.png"), full_page=True)
        page.click("#urge-selected")
        expect(page.locator("h1")).to_have_text("确认催办以下 2 个事项？")
        page.screenshot(path=str(SHOTS / f"confirm-{width}.png"), full_page=True)
        _sign_off(sqlite_url, "13")  # meanwhile 新时代意见/13 is signed off: it is left alone, and the report says so
        page.click("#confirm-bulk")
        expect(page.locator("#report")).to_contain_text("已催办：1 · 未办理：1")
        expect(page.locator("#report li.refused")).to_contain_text("在您确认前已有变动")
        page.screenshot(path=str(SHOTS / f"report-{width}.png"), full_page=True)
        page.goto(f"{base}/items")
        urged = page.locator("#results tbody tr", has_text="新时代意见/12")
        expect(urged.locator("td").last).to_have_text("1")  # the 催办 count
        expect(page.locator("#results tbody tr", has_text="新时代意见/13").locator("input[name=item]")).to_have_count(0)
        browser.close()


def _sign_off(database_url: str, number: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        item = session.exec(select(Item).where(Item.number == number)).one()
        item.status = Status.SIGNED_OFF
        session.add(item)
        session.commit()
    engine.dispose()
