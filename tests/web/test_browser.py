"""End to end in a real browser (Debian's chromium): submit, return, resubmit, sign off, the rate moves."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from sqlmodel import Session

from config.settings import Settings
from models.db import make_engine
from models.tables import Role
from tests.factories import make_document, make_item, make_person, make_unit
from tests.web.conftest import PASSWORD, chromium_executable, password_hash
from web.app import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium_path() -> str:
    return chromium_executable()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The app under uvicorn on a free loopback port, in a thread, on a fresh SQLite database."""
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        fgw = make_unit(session, "市发改委")
        make_person(session, Role.OFFICER, fgw, name="王科员", email="officer@fgw.gov.cn", password_hash=password_hash())
        sup = make_person(session, Role.SUPERVISOR, name="李督查", email="sup@dc.gov.cn", password_hash=password_hash())
        document = make_document(session, "新时代意见", title="关于推动新时代高质量发展的意见")
        item = make_item(session, document=document, lead_unit=fgw, supervisor=sup, number="12",
                         title="制定出台优化营商环境实施方案", deadline=date(2024, 6, 30))
        make_item(session, document=document, lead_unit=fgw, supervisor=sup, number="13",
                  title="建立重点项目协调推进机制", deadline=date(2024, 6, 10))
        session.commit()
        item_id = item.id
    engine.dispose()
    with _serving(sqlite_url, tmp_path) as base:
        yield base, int(item_id)  # type: ignore[arg-type]


@contextmanager
def _serving(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread; its base address while it runs."""
    settings = Settings(database_url=sqlite_url, data_dir=tmp_path / "data")  # type: ignore[arg-type]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start within 20 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in on the login page and wait for the overview."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_officer_and_supervisor_take_an_item_to_sign_off(chromium_path, live_server):
    from playwright.sync_api import expect, sync_playwright

    base, item_id = live_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        officer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        supervisor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

        def login(page, email):  # type: ignore[no-untyped-def]
            page.goto(f"{base}/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")

        def act(page, action, **fields):  # type: ignore[no-untyped-def]
            page.goto(f"{base}/items/{item_id}")
            form = page.locator(f"#form-{action}")
            for name, value in fields.items():
                form.locator(f"[name={name}]").fill(value)
            form.locator("button[type=submit]").click()
            page.wait_for_load_state()

        login(officer, "officer@fgw.gov.cn")
        act(officer, "report_progress", text="已召开专题协调会，形成初稿", percent="60")
        officer.screenshot(path=str(ARTIFACTS / "0-officer-item.png"), full_page=True)
        act(officer, "submit", evidence="《实施方案》已印发")
        expect(officer.locator("#item-status")).to_have_text("待销号")
        officer.screenshot(path=str(ARTIFACTS / "1-officer-submitted.png"), full_page=True)

        login(supervisor, "sup@dc.gov.cn")
        expect(supervisor.locator("#overall-rate")).to_have_text("0.0%")
        supervisor.goto(f"{base}/approvals")
        expect(supervisor.locator("text=制定出台优化营商环境实施方案")).to_be_visible()
        supervisor.screenshot(path=str(ARTIFACTS / "2-approvals.png"), full_page=True)
        act(supervisor, "return", reason="缺少印发文号，请补充")
        expect(supervisor.locator("#item-status")).to_have_text("办理中")

        officer.goto(f"{base}/my")
        expect(officer.locator("text=制定出台优化营商环境实施方案").first).to_be_visible()
        officer.goto(f"{base}/items/{item_id}")
        expect(officer.locator(".timeline")).to_contain_text("缺少印发文号，请补充")
        act(officer, "submit", evidence="《实施方案》已印发，文号：发改〔2024〕12号")
        officer.screenshot(path=str(ARTIFACTS / "3-officer-resubmitted.png"), full_page=True)

        act(supervisor, "sign_off", comment="同意销号")
        expect(supervisor.locator("#item-status")).to_have_text("已销号")
        supervisor.screenshot(path=str(ARTIFACTS / "4-signed-off.png"), full_page=True)
        supervisor.goto(f"{base}/")
        expect(supervisor.locator("#overall-rate")).to_have_text("50.0%")
        supervisor.screenshot(path=str(ARTIFACTS / "5-dashboard.png"), full_page=True)
        supervisor.click("#rank-by-rate")
        expect(supervisor.locator("#units tbody tr").first.locator("td").first).to_have_text("1")
        with supervisor.expect_download() as download:
            supervisor.click("#export-figures")
        assert download.value.suggested_filename.startswith("duban-figures-")

        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
        login(phone, "officer@fgw.gov.cn")
        phone.goto(f"{base}/items")
        phone.screenshot(path=str(ARTIFACTS / "6-phone-items.png"), full_page=True)
        browser.close()


def test_filters_and_sort_redraw_only_the_item_table_and_keep_the_address(chromium_path, live_server):
    from playwright.sync_api import expect, sync_playwright

    base, _ = live_server
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in(page, base, "sup@dc.gov.cn")
        page.goto(f"{base}/items")
        rows = page.locator("#results tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("建立重点项目协调推进机制")  # earliest deadline first
        page.evaluate("window.sameDocument = true")  # gone if anything reloads the whole page

        page.fill("#q", "优化")  # typing alone, no submit
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("制定出台优化营商环境实施方案")
        query = "q=%E4%BC%98%E5%8C%96"
        expect(page).to_have_url(f"{base}/items?{query}")
        expect(page.locator("#export")).to_have_attribute("href", f"/items.xlsx?{query}")

        page.fill("#q", "")
        expect(rows).to_have_count(2)
        expect(page).to_have_url(f"{base}/items")
        page.select_option("select[name=sort]", "-deadline")
        expect(rows.first).to_contain_text("制定出台优化营商环境实施方案")
        expect(page).to_have_url(f"{base}/items?sort=-deadline")
        assert page.evaluate("window.sameDocument") is True

        page.go_back()  # the rows and the filters shown match the address again
        expect(page).to_have_url(f"{base}/items")
        expect(rows.first).to_contain_text("建立重点项目协调推进机制")
        expect(page.locator("select[name=sort]")).to_have_value("deadline")
        page.go_back()
        expect(page).to_have_url(f"{base}/items?{query}")
        expect(rows).to_have_count(1)
        expect(page.locator("#q")).to_have_value("优化")
        assert page.evaluate("window.sameDocument") is True
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "7-items-htmx.png"), full_page=True)
        browser.close()


PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
LAUNCH = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def desk(sqlite_url: str, tmp_path: Path) -> Iterator[dict[str, object]]:
    """Two units, one of them overseen by a leader; an officer of each role; three items, far from due."""
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        fgw = make_unit(session, "市发改委", leader_emails=["leader@fgw.gov.cn"])
        swj = make_unit(session, "市商务局", leader_emails=[])
        for role, unit, name, email in (
            (Role.OFFICER, fgw, "王科员", "officer@fgw.gov.cn"), (Role.OFFICER, fgw, "钱科员", "left@fgw.gov.cn"),
            (Role.LEADER, fgw, "孙主任", "leader@fgw.gov.cn"), (Role.ADMIN, None, "赵管理", "admin@dc.gov.cn"),
        ):
            make_person(session, role, unit, name=name, email=email, password_hash=password_hash())
        sup = make_person(session, Role.SUPERVISOR, name="李督查", email="sup@dc.gov.cn", password_hash=password_hash())
        document = make_document(session, "新时代意见", title="关于推动新时代高质量发展的意见")
        items = [make_item(session, document=document, lead_unit=unit, supervisor=sup, number=number, title=title,
                           deadline=date(2030, 6, 30))
                 for unit, number, title in ((fgw, "12", "制定出台优化营商环境实施方案"),
                                             (fgw, "13", "建立重点项目协调推进机制"), (swj, "14", "扩大对外开放"))]
        session.commit()
        ids = [int(item.id) for item in items]  # type: ignore[arg-type]
    engine.dispose()
    with _serving(sqlite_url, tmp_path) as base:
        yield {"base": base, "ids": ids, "files": tmp_path}


@pytest.mark.parametrize("width", [1280, 390])
def test_the_loop_on_the_desk(chromium_path, desk, width):
    """签收 and a PDF, 催办 and a new deadline, a leader's 批示 within their units, a person deactivated,
    and two items signed off at once with one comment through the confirmation step."""
    from playwright.sync_api import expect, sync_playwright

    base, (first, second, elsewhere) = desk["base"], desk["ids"]
    pdf = desk["files"] / "整改报告.pdf"  # type: ignore[operator]
    pdf.write_bytes(PDF)
    shots = ARTIFACTS / f"loop-{width}"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=LAUNCH)

        def login(email):  # type: ignore[no-untyped-def]
            page = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 600).new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            return page

        def act(page, item_id, action, **fields):  # type: ignore[no-untyped-def]
            page.goto(f"{base}/items/{item_id}")
            if action == "edit":
                page.click("#edit-item summary")
            form = page.locator(f"#form-{action}")
            for name, value in fields.items():
                form.locator(f"[name={name}]").fill(value)
            form.locator("button[type=submit]").click()
            page.wait_for_load_state()

        def shot(page, name):  # type: ignore[no-untyped-def]
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

        officer = login("officer@fgw.gov.cn")
        act(officer, first, "acknowledge")
        expect(officer.locator(".timeline")).to_contain_text("签收")
        officer.goto(f"{base}/items/{first}")
        form = officer.locator("#form-report_progress")
        form.locator("[name=text]").fill("已召开专题协调会，会议纪要见附件")
        form.locator("input[type=file]").set_input_files(str(pdf))
        form.locator("button[type=submit]").click()
        officer.wait_for_load_state()
        expect(officer.locator("ul.attachments")).to_contain_text("整改报告.pdf")
        shot(officer, "1-officer-acknowledged-and-attached")

        supervisor = login("sup@dc.gov.cn")
        act(supervisor, first, "urge", text="请于本周内报送实施方案初稿")
        expect(supervisor.locator(".timeline")).to_contain_text("请于本周内报送实施方案初稿")
        act(supervisor, first, "edit", deadline="2030-12-31", reason="市政府调整工作安排")
        expect(supervisor.locator(".timeline")).to_contain_text("完成时限：2030年6月30日 → 2030年12月31日")
        shot(supervisor, "2-supervisor-urged-and-edited")

        leader = login("leader@fgw.gov.cn")
        leader.goto(f"{base}/items")
        rows = leader.locator("#results tbody tr")
        expect(rows).to_have_count(2)  # 市发改委's two items, not 市商务局's
        expect(leader.locator("#results")).not_to_contain_text("扩大对外开放")
        assert leader.goto(f"{base}/items/{elsewhere}").status == 404
        act(leader, first, "instruct", text="要加快进度，确保年底前出台")
        expect(leader.locator("#instructions")).to_contain_text("要加快进度，确保年底前出台")
        shot(leader, "3-leader-instruction")

        admin = login("admin@dc.gov.cn")
        admin.goto(f"{base}/admin/people")
        row = admin.locator("tr", has_text="left@fgw.gov.cn")
        admin.once("dialog", lambda dialog: dialog.accept())  # duban.js asks first
        row.locator("form[data-confirm] button").click()
        expect(row).to_contain_text("已停用")
        shot(admin, "4-admin-deactivated")
        expect(login("left@fgw.gov.cn")).to_have_url(f"{base}/login")
        admin.goto(f"{base}/admin/documents")
        admin.fill("#documents input[name=category]", "改革类")
        admin.click("#documents form.inline button >> nth=0")
        expect(admin.locator("#admin-changes")).to_contain_text("改革类")
        admin.click("#documents button[id^=archive-]")
        expect(admin.locator("#documents tr.archived")).to_contain_text("已归档")
        shot(admin, "4b-admin-archived-a-document")
        admin.goto(f"{base}/items")
        expect(admin.locator("#results")).not_to_contain_text("扩大对外开放")
        if not admin.locator("input[name=archived]").is_visible():  # on a phone the filters fold behind 筛选
            admin.click("details.filter-box summary")
        admin.check("input[name=archived]")
        expect(admin.locator("#results")).to_contain_text("扩大对外开放")
        shot(admin, "4c-items-including-archived")
        admin.goto(f"{base}/admin/documents")
        admin.click("#documents button[id^=unarchive-]")
        expect(admin.locator("#documents tr.archived")).to_have_count(0)

        for item_id in (first, second):
            act(officer, item_id, "submit", evidence="《实施方案》已印发")
            expect(officer.locator("#item-status")).to_have_text("待销号")
        supervisor.goto(f"{base}/approvals")
        for item_id in (first, second):
            supervisor.check(f"input[name=item][value='{item_id}']")
        supervisor.fill("textarea[name=comment]", "材料齐全，同意销号")
        shot(supervisor, "5-approvals-chosen")
        supervisor.click("#bulk-sign-off")
        confirm = supervisor.locator("#confirm")
        expect(confirm).to_contain_text("制定出台优化营商环境实施方案")
        expect(confirm).to_contain_text("建立重点项目协调推进机制")
        expect(confirm.locator("#bulk-text")).to_have_text("材料齐全，同意销号")
        shot(supervisor, "6-approvals-confirm")
        supervisor.click("#confirm-bulk")
        report = supervisor.locator("#report")
        expect(report).to_contain_text("已销号：2")
        expect(report.locator("li.done")).to_have_count(2)
        shot(supervisor, "7-approvals-report")
        supervisor.goto(f"{base}/items/{second}")
        expect(supervisor.locator("#item-status")).to_have_text("已销号")
        expect(supervisor.locator(".timeline")).to_contain_text("材料齐全，同意销号")
        browser.close()
    assert [text for text in problems if "Content Security Policy" in text] == []
