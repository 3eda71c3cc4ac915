"""Every page of the desk at phone (390 px) and desktop width, on the demo's data, in Debian's chromium.

Each page must fit the screen's width (no sideways scrolling) and axe-core must find no WCAG 2.1
A/AA violation. Screenshots go to test-artifacts/phone/ for a person to look at.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import Session, select

from config import clock
from config.settings import Settings
from models.accounts import create_token
from models.attachments import AttachmentStore, apply_with_files
from models.db import make_engine
from models.feeds import create_feed
from models.lifecycle import Action, apply
from models.outbox import OutboxMessage, OutboxStatus, bodies
from models.tables import Item, Person, ProgressReport, Role, Status, Unit
from tests.web.conftest import PASSWORD, chromium_executable, password_hash
from web.app import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "phone"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, "resultTypes": ["violations"]}
ADMIN, OFFICER = "admin@example.gov.cn", "fgw@example.gov.cn"
DEMO_AT = clock.parse_instant("2023-06-26T09:00+08:00")  # the demo's Monday (cli.ledger.DEMO_NOW)

# (name, who looks, address): every page of the desk. "{item}" is an item with history and actions.
PAGES = [
    ("login", None, "/login"),
    ("dashboard", ADMIN, "/"),
    ("dashboard-ranked", ADMIN, "/?rank=rate"),
    ("items", ADMIN, "/items"),
    ("items-overdue", ADMIN, "/items?overdue=1&sort=level"),
    ("items-unacknowledged", ADMIN, "/items?unacknowledged=1"),
    ("item", ADMIN, "/items/{item}"),
    ("item-officer", OFFICER, "/items/{item}"),
    ("my", OFFICER, "/my"),
    ("approvals", ADMIN, "/approvals"),
    ("import", ADMIN, "/import"),
    ("outbox", ADMIN, "/outbox"),
    ("caught", ADMIN, "/outbox/caught"),
    ("digest", ADMIN, "/digest"),
    ("score", ADMIN, "/score"),
    ("password", OFFICER, "/password"),
    ("tokens", OFFICER, "/account/tokens"),
    ("calendar", OFFICER, "/account/calendar"),
    ("error", ADMIN, "/items/999999"),
]

pytestmark = pytest.mark.browser


@pytest.fixture
def now() -> datetime:
    """The demo's own time (its Monday), so the pages show reminders, overdue items and escalation."""
    return DEMO_AT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`duban demo`'s database and mail catcher, with an admin, an extension request waiting, a
    dead message and an officer's tokens and calendar addresses, served by uvicorn on a free port."""
    from cli.ledger import demo as build_demo

    directory = tmp_path_factory.mktemp("demo")
    build_demo(directory=directory, now=None)
    settings = Settings(database_url=f"sqlite:///{directory / 'duban.db'}", data_dir=directory / ".duban")  # type: ignore[arg-type]
    engine = make_engine(f"sqlite:///{directory / 'duban.db'}")
    with Session(engine) as session:
        session.add(Person(name="系统管理员", email=ADMIN, role=Role.ADMIN, password_hash=password_hash()))
        officer = session.exec(select(Person).where(Person.email == OFFICER)).one()
        officer.password_hash = password_hash()
        for _ in range(2):
            create_token(session, officer, DEMO_AT)
            create_feed(session, officer, DEMO_AT)
        item = _item_with_history(session)
        _report_with_files(session, item, officer, settings, directory)
        apply(session, item, Action.REQUEST_EXTENSION, officer, DEMO_AT, deadline=item.deadline + timedelta(days=92),
              reason="方案需经市政府常务会议审议，会议安排在第三季度，申请延期至季度末")
        dead = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert dead is not None, "the demo queued no mail"
        dead.status, dead.attempts = OutboxStatus.DEAD, 8
        dead.last_error = "550 5.1.1 <nobody@example.gov.cn>: Recipient address rejected: User unknown in virtual mailbox table"
        session.add_all([officer, dead])
        session.commit()
        item_id = item.id
    engine.dispose()
    app = create_app(settings)
    app.state.maildir = directory / "mail"
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start within 20 s")
        time.sleep(0.05)
    yield {"base": f"http://127.0.0.1:{port}", "item": item_id, "mail": _mail_by_kind(directory)}
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


def _mail_by_kind(directory: Path) -> dict[str, str]:
    """The HTML part of the longest message of each kind the demo queued (digests, notices, escalations)."""
    engine = make_engine(f"sqlite:///{directory / 'duban.db'}")
    with Session(engine) as session:
        messages = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        raws = bodies(session, [m.id for m in messages])  # type: ignore[misc]
    engine.dispose()
    mail: dict[str, str] = {}
    for message in sorted(messages, key=lambda m: len(raws[m.id])):  # type: ignore[index]
        part = email.message_from_string(raws[message.id], policy=email.policy.default).get_body(("html",))  # type: ignore[index]
        if part is not None:
            mail[f"{message.kind}-{message.locale}"] = str(part.get_content())  # type: ignore[attr-defined]
    return mail


def _report_with_files(session: Session, item: Item, officer: Person, settings: Settings, directory: Path) -> None:
    """A progress report with a photo and a PDF, so the item page shows a thumbnail and downloads."""
    from PIL import Image

    photo, pdf = directory / "现场照片.png", directory / "专题协调会纪要（2023年6月）.pdf"
    Image.new("RGB", (640, 480), (180, 200, 220)).save(photo)
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    store, files = AttachmentStore(settings.attachments_dir), []
    for path in (photo, pdf):
        incoming, stored = store.receive(path, DEMO_AT, max_bytes=10 * 2**20, kinds=("image", "pdf"))
        store.put(incoming, stored.sha256)
        files.append(stored)
    apply_with_files(session, item, Action.REPORT_PROGRESS, officer, DEMO_AT - timedelta(days=1), files,
                     text="已召开专题协调会，形成方案初稿，现场照片及会议纪要见附件", percent=60)


def _item_with_history(session: Session) -> Item:
    """An item of 市发改委's in progress with a progress report: its page has forms and history."""
    item = session.exec(
        select(Item).join(Unit, Unit.id == Item.lead_unit_id).join(ProgressReport, ProgressReport.item_id == Item.id)
        .where(Unit.name == "市发改委", Item.status == Status.IN_PROGRESS).order_by(Item.id)
    ).first()
    assert item is not None, "the demo has no 市发改委 item in progress with a progress report"
    return item


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = chromium_executable()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=path,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages(demo: dict[str, Any], browser: Any) -> Iterator[Any]:
    """One logged-in tab per (who, size), opened on first use and reused by every test of the module.

    The demo is built before the browser starts: Playwright runs an event loop the demo's mail needs.
    """
    opened: dict[tuple[str | None, str, str], Any] = {}

    def page_for(who: str | None, size: str, lang: str = "zh-CN") -> Any:
        if (who, size, lang) not in opened:
            context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone", locale=lang)
            page = context.new_page()
            page.goto(f"{demo['base']}/login")
            if lang != "zh-CN":  # the page's own switch (kept in the session), as a person would choose it
                with page.expect_navigation():
                    page.evaluate("(lang) => document.querySelector(`form[action='/lang'] button[value='${lang}']`)"
                                  ".click()", lang)
            if who is not None:
                page.fill("input[name=email]", who)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{demo['base']}/")
            opened[who, size, lang] = page
        return opened[who, size, lang]

    yield page_for
    for page in opened.values():
        page.context.close()


def _overflow(page: Any) -> list[str]:
    """The page's width beyond the screen's (a phone's browser would zoom out to fit it, so the
    viewport's width is the measure, not innerWidth), and the shown elements sticking out past it."""
    return page.evaluate("""(width) => {
        const out = [];
        if (document.documentElement.scrollWidth > width)
            out.push(`page: scrollWidth ${document.documentElement.scrollWidth} > ${width}`);
        for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            // checkVisibility: the content of a closed <details> (the folded menu) is not shown,
            // though Chrome still lays it out in the closed box (an English word then sticks out).
            if (box.width && box.right > width + 1 && !el.closest('.scroll') && el.checkVisibility())
                out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(box.right)}: ${(el.textContent || '').trim().slice(0, 30)}`);
        }
        return out.slice(0, 10);
    }""", page.viewport_size["width"])


def _ragged_rows(page: Any) -> list[str]:
    """Rows with more or fewer cells than their table's head (a cell's label would then name another)."""
    return page.evaluate("""() => [...document.querySelectorAll('table')].flatMap(table => {
        const head = table.querySelectorAll('thead th').length;
        return [...table.querySelectorAll('tbody tr')]
            .filter(tr => head && tr.children.length !== head)
            .map(tr => `${table.id || table.className}: ${tr.children.length} cells, ${head} in the head`);
    }).slice(0, 5)""")


def _axe(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:5]]}"
            for v in results.response["violations"]]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize(("name", "who", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_page_fits_the_screen_and_passes_axe(pages, demo, name, who, path, size):
    page = pages(who, size)
    response = page.goto(demo["base"] + path.format(item=demo["item"]))
    assert response.status == (404 if name == "error" else 200), name
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{size}-{name}.png"), full_page=True)
    assert _overflow(page) == [], f"{name} at {size} is wider than the screen"
    assert _ragged_rows(page) == [], f"{name}: rows whose cells do not match the table's head"
    assert _axe(page) == [], f"{name} at {size}: axe-core found WCAG 2.1 A/AA violations"


@pytest.mark.parametrize(("name", "who", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_english_page_fits_a_phone_and_passes_axe(pages, demo, name, who, path):
    page = pages(who, "phone", "en")
    response = page.goto(demo["base"] + path.format(item=demo["item"]))
    assert response.status == (404 if name == "error" else 200), name
    assert page.evaluate("document.documentElement.lang") == "en"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-en-{name}.png"), full_page=True)
    wide = _overflow(page)
    assert wide == [], f"{name} in English at phone width is wider than the screen: {wide}"
    assert _ragged_rows(page) == [], f"{name}: rows whose cells do not match the table's head"
    assert _axe(page) == [], f"{name} in English at phone width: axe-core found WCAG 2.1 A/AA violations"


def test_phone_menu_folds_into_one_button_and_opens(pages, demo):
    from playwright.sync_api import expect

    page = pages(ADMIN, "phone")
    page.goto(f"{demo['base']}/items")
    menu = page.locator("details.menu")
    expect(menu.get_by_role("link", name="台账导入")).to_be_hidden()
    box = page.locator("header.top").bounding_box()
    assert box is not None and box["height"] < 60, "the bar is one row high on a phone"
    menu.locator("summary").click()
    expect(menu.get_by_role("link", name="台账导入")).to_be_visible()
    expect(menu.get_by_role("link", name="事项")).to_have_attribute("aria-current", "page")
    assert _axe(page) == []
    page.screenshot(path=str(ARTIFACTS / "phone-menu-open.png"), full_page=False)
    menu.get_by_role("link", name="台账导入").click()
    page.wait_for_url(f"{demo['base']}/import")


def test_phone_folds_the_item_filters_until_one_is_set(pages, demo):
    from playwright.sync_api import expect

    page = pages(ADMIN, "phone")
    page.goto(f"{demo['base']}/items")
    filters = page.locator("details.filter-box")
    expect(filters.locator("#q")).to_be_hidden()
    box = page.locator("main section.card").first.bounding_box()
    assert box is not None and box["height"] < 150, f"the folded filters take {box} on a phone"
    page.screenshot(path=str(ARTIFACTS / "phone-items-filters-folded.png"))
    filters.locator("summary").click()
    expect(filters.locator("#q")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "phone-items-filters-open.png"))
    page.goto(f"{demo['base']}/items?overdue=1&unit=市发改委")
    expect(page.locator("#q")).to_be_visible()  # a filter is set: open from the start, without a script
    expect(page.locator("details.filter-box > summary")).to_contain_text("已设2项")
    assert _axe(page) == []
    wide = pages(ADMIN, "desktop")
    wide.goto(f"{demo['base']}/items")
    expect(wide.locator("#q")).to_be_visible()  # wide screens: the form always shows, no summary
    expect(wide.locator("details.filter-box > summary")).to_be_hidden()


def test_phone_rows_keep_actions_on_screen(pages, demo):
    page = pages(ADMIN, "phone")
    page.goto(f"{demo['base']}/approvals")
    buttons = page.locator("main button:visible")
    assert buttons.count() > 0
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= SIZES["phone"]["width"]
    page.goto(f"{demo['base']}/items")
    title = page.locator("#results tbody tr").first.locator("td.title")
    box = title.bounding_box()
    assert box is not None and box["width"] > 200, "a title gets the row's width, not a column's"


def test_skip_link_moves_focus_to_the_page_content(pages, demo):
    page = pages(OFFICER, "desktop")
    page.goto(f"{demo['base']}/my")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert (skip.bounding_box() or {}).get("y", -1) >= 0, "the skip link shows when focused"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"


def test_focus_moves_to_the_results_after_a_filter_or_page_is_asked_for(pages, demo):
    from playwright.sync_api import expect

    page = pages(ADMIN, "desktop")
    page.goto(f"{demo['base']}/items")
    page.fill("#q", "推进")  # typing redraws the list but leaves the focus where the person types
    expect(page).to_have_url(f"{demo['base']}/items?q=%E6%8E%A8%E8%BF%9B")
    expect(page.locator("#results-status")).to_contain_text("条结果")
    assert page.evaluate("document.activeElement.id") == "q"
    page.locator("form.filters button").click()
    expect(page.locator("#found")).to_be_focused()
    page.fill("#q", "")
    expect(page).to_have_url(f"{demo['base']}/items")
    assert page.evaluate("document.activeElement.id") == "q"
    page.locator(".pager a[rel=next]").click()
    expect(page).to_have_url(f"{demo['base']}/items?page=2")
    expect(page.locator("#found")).to_be_focused()


def test_leaving_the_text_box_for_the_pager_asks_for_the_page_only(pages, demo):
    """The text box asks for its list as the person types; leaving it (a click on the pager) must not
    ask again: a second request for the unpaged list raced the page asked for and could win."""
    from playwright.sync_api import expect

    page = pages(ADMIN, "desktop")
    page.goto(f"{demo['base']}/items?q=%E6%8E%A8%E8%BF%9B")
    page.fill("#q", "")
    expect(page).to_have_url(f"{demo['base']}/items")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/items" in request.url else None)
    page.locator(".pager a[rel=next]").click()
    expect(page).to_have_url(f"{demo['base']}/items?page=2")
    expect(page.locator("#found")).to_be_focused()
    page.wait_for_timeout(600)  # longer than the text box's 400 ms wait: a late request would show
    assert asked == [f"{demo['base']}/items?page=2"]


def test_every_other_filter_asks_for_its_list_when_it_changes(pages, demo):
    from playwright.sync_api import expect

    page = pages(ADMIN, "desktop")
    page.goto(f"{demo['base']}/items")
    page.get_by_label("仅逾期").check()
    expect(page).to_have_url(re.compile(r"overdue=1"))
    page.fill("input[name=level]", "1")
    page.keyboard.press("Tab")
    expect(page).to_have_url(re.compile(r"level=1"))
    page.select_option("select[name=sort]", "-deadline")
    expect(page).to_have_url(re.compile(r"sort=-deadline"))
    page.fill("input[name=unit]", "市发改委")
    page.keyboard.press("Tab")
    expect(page).to_have_url(re.compile(r"unit=%E5%B8%82%E5%8F%91%E6%94%B9%E5%A7%94"))


def test_select_all_ticks_every_submitted_item(pages, demo):
    page = pages(ADMIN, "desktop")
    page.goto(f"{demo['base']}/approvals")
    boxes = page.locator("input[name=item]")
    assert boxes.count() >= 1
    page.get_by_label("全选").check()
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.get_by_label("全选").uncheck()
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))


def test_pages_carry_no_inline_scripts_or_event_handlers(pages, demo):
    page = pages(ADMIN, "desktop")
    for _, who, path in PAGES:
        if who != ADMIN:
            continue
        page.goto(demo["base"] + path.format(item=demo["item"]))
        inline = page.evaluate("""() => [...document.querySelectorAll('script:not([src])')].length
            + [...document.querySelectorAll('*')].filter(el => [...el.attributes].some(a => a.name.startsWith('on'))).length""")
        assert inline == 0, json.dumps(path)


def test_mail_reads_on_a_phone(pages, demo):
    """Each kind of mail, as a phone's mail app shows it: the item tables become one block per item."""
    page, wide = pages(None, "phone"), pages(None, "desktop")
    for tab in (page, wide):
        tab.goto("about:blank")  # the mail is not a page of the desk: none of the desk's content policy
    assert {"digest_unit-zh-CN", "digest_leadership-zh-CN", "notice-zh-CN"} <= set(demo["mail"])
    for kind, html in demo["mail"].items():
        wide.set_content(html)
        wide.screenshot(path=str(ARTIFACTS / f"mail-{kind}-desktop.png"))
        assert wide.locator("tr.head").first.is_visible(), f"{kind}: a wide screen shows the tables as tables"
        page.set_content(html)
        page.screenshot(path=str(ARTIFACTS / f"mail-{kind}.png"), full_page=True)
        assert _overflow(page) == [], f"{kind} mail is wider than the phone"
        cell = page.locator("td").first.bounding_box()
        assert cell is not None and cell["width"] > 200, f"{kind}: a cell is squeezed to {cell}"
        assert _axe(page) == [], f"{kind} mail: axe-core found WCAG 2.1 A/AA violations"
