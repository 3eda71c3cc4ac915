"""The import page (dry run, every error with its row, apply) and the outbox page (retry a dead message)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from models.outbox import OutboxMessage, OutboxStatus
from models.tables import Item
from tests.ledger.conftest import LEDGER, LEDGER_HEADER, UNITS, UNITS_HEADER, write_csv
from tests.web.conftest import CSRF, SCRIPT_TITLE

NEW_LEDGER = [["营商环境方案", *row[1:]] for row in LEDGER]  # a document the world does not have


def _files(tmp_path, ledger=NEW_LEDGER):  # type: ignore[no-untyped-def]
    units = write_csv(tmp_path / "units.csv", [UNITS_HEADER, *UNITS])
    items = write_csv(tmp_path / "ledger.csv", [LEDGER_HEADER, *ledger])
    return [("files", (p.name, p.read_bytes(), "text/csv")) for p in (units, items)]


def test_dry_run_shows_what_would_change_and_apply_writes_it(world, client_for, session, tmp_path):
    admin = client_for(world.people["admin"])
    before = len(session.exec(select(Item)).all())
    page = admin.post("/import", data={"csrf_token": CSRF}, files=_files(tmp_path))
    assert page.status_code == 200, page.text
    assert "预检结果" in page.text and "新增事项" in page.text
    session.expire_all()
    assert len(session.exec(select(Item)).all()) == before  # a dry run writes nothing
    token = page.text.split('name="token" value="')[1].split('"')[0]
    applied = admin.post("/import/apply", data={"csrf_token": CSRF, "token": token})
    assert applied.status_code == 303
    session.expire_all()
    assert len(session.exec(select(Item)).all()) > before
    again = admin.post("/import/apply", data={"csrf_token": CSRF, "token": token})
    assert again.status_code == 400  # the upload is used up


def test_errors_are_listed_with_their_rows_and_nothing_is_written(world, client_for, session, tmp_path):
    bad = [*NEW_LEDGER, ["新时代意见", "4", SCRIPT_TITLE, "", "不存在的单位", "", "明年", "", ""]]
    page = client_for(world.people["sup"]).post("/import", data={"csrf_token": CSRF}, files=_files(tmp_path, bad))
    assert page.status_code == 400
    assert "不存在的单位" in page.text and "<script>alert" not in page.text
    assert 'name="token"' not in page.text  # nothing to apply


def test_an_upload_cannot_be_applied_by_another_login(world, client_for, tmp_path):
    page = client_for(world.people["admin"]).post("/import", data={"csrf_token": CSRF}, files=_files(tmp_path))
    token = page.text.split('name="token" value="')[1].split('"')[0]
    response = client_for(world.people["sup"]).post("/import/apply", data={"csrf_token": CSRF, "token": token})
    assert response.status_code == 400


def test_only_ledgers_are_accepted(world, client_for):
    response = client_for(world.people["admin"]).post(
        "/import", data={"csrf_token": CSRF}, files=[("files", ("evil.html", b"<html>", "text/html"))]
    )
    assert response.status_code == 400 and "仅支持导入.xlsx或.csv格式的台账" in response.text


def _message(session, now, status, error=""):  # type: ignore[no-untyped-def]
    message = OutboxMessage(key=f"k-{status}", kind="returned", recipients=["fgw@example.gov.cn"],
                            subject="【督办】事项退回", message_id=f"<{status}@duban>", status=status,
                            attempts=3, next_attempt_at=now - timedelta(hours=1), last_error=error, created_at=now)
    session.add(message)
    session.commit()
    return message


def test_outbox_lists_messages_with_reasons_and_admin_retries_a_dead_one(world, client_for, session, now):
    dead = _message(session, now, OutboxStatus.DEAD, "550 mailbox unavailable")
    sent = _message(session, now, OutboxStatus.SENT)
    page = client_for(world.people["leader"]).get("/outbox").text
    assert "550 mailbox unavailable" in page and "/retry" not in page  # leaders look, admins act
    admin = client_for(world.people["admin"])
    assert f"/outbox/{dead.id}/retry" in admin.get("/outbox").text
    assert admin.post(f"/outbox/{sent.id}/retry", data={"csrf_token": CSRF}).status_code == 400
    assert admin.post(f"/outbox/{dead.id}/retry", data={"csrf_token": CSRF}).status_code == 303
    session.expire_all()
    assert session.get(OutboxMessage, dead.id).status == OutboxStatus.PENDING
    assert admin.post(f"/outbox/{dead.id}/retry", data={"csrf_token": CSRF}).status_code == 400


def test_caught_mail_is_readable_in_the_browser_and_escaped(world, client_for, app, tmp_path):
    import mailbox
    from email.message import EmailMessage

    box = mailbox.Maildir(str(tmp_path / "mail"), create=True)
    message = EmailMessage()
    message["To"], message["Subject"], message["Date"] = "fgw@example.gov.cn", f"催办{SCRIPT_TITLE}", "Mon, 03 Jun 2024 09:00:00 +0800"
    message.set_content("纯文本")
    message.add_alternative(f"<p>请尽快办理</p>{SCRIPT_TITLE}", subtype="html")
    key = box.add(message)
    app.state.maildir = tmp_path / "mail"
    client = client_for(world.people["admin"])
    listing = client.get("/outbox/caught").text
    assert "催办&lt;script&gt;" in listing and "<script>alert" not in listing
    shown = client.get("/outbox/caught", params={"key": key}).text
    assert 'sandbox=""' in shown and "&lt;p&gt;请尽快办理&lt;/p&gt;" in shown and "<script>alert" not in shown
    assert client_for(world.people["lead"]).get("/outbox/caught").status_code == 403


def test_caught_mail_is_listed_in_local_time_and_the_page_language(world, client_for, app, tmp_path):
    import mailbox
    from email.message import EmailMessage

    box = mailbox.Maildir(str(tmp_path / "mail"), create=True)
    message = EmailMessage()
    message["To"], message["Subject"], message["Date"] = "fgw@example.gov.cn", "提醒", "Mon, 03 Jun 2024 01:00:00 +0000"
    message.set_content("纯文本")
    key = box.add(message)
    app.state.maildir = tmp_path / "mail"
    client = client_for(world.people["admin"])
    listing = client.get("/outbox/caught").text
    shown = client.get("/outbox/caught", params={"key": key}).text
    for page in (listing, shown):
        assert "2024-06-03 09:00" in page and "发送时间" in page  # 01:00 UTC is 09:00 北京时间
        assert "+0000" not in page and "Mon, 03 Jun" not in page
        assert "时间均为北京时间" in page and "Asia/Shanghai" not in page
