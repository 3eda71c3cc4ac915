"""Evidence files (佐证材料) on progress reports and submissions: kinds by content, limits while reading,
stored by hash, downloaded only by those who may see the item, listed on the page, in approvals and the API."""

from __future__ import annotations

import stat
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from models.accounts import create_token
from models.attachments import Attachment
from models.tables import ItemEvent
from tests.web.conftest import CSRF, login_cookie
from tests.web.test_uploads import BOUNDARY, _multipart, _post_raw

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _report(client, item, files, text="已召开协调会", action="report_progress"):  # type: ignore[no-untyped-def]
    fields = {"csrf_token": CSRF, "version": str(item.version), "action": action,
              "text" if action == "report_progress" else "evidence": text}
    return client.post(f"/items/{item.id}/files", data=fields,
                       files=[("files", (name, data, "application/octet-stream")) for name, data in files])


def _count(session, table) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.exec(select(func.count()).select_from(table)).one()


def test_an_officer_attaches_a_pdf_and_whoever_sees_the_item_downloads_it(world, client_for, session, web_settings):
    item = world.items["ours"]
    lead = client_for(world.people["lead"])
    response = _report(lead, item, [("整改报告.pdf", PDF)])
    assert response.status_code == 303, response.text
    [row] = session.exec(select(Attachment)).all()
    assert (row.name, row.size, row.content_type, row.item_id) == ("整改报告.pdf", len(PDF), "application/pdf", item.id)
    event = session.get(ItemEvent, row.event_id)
    assert event is not None and event.kind == "progress_reported" and row.report_id is not None
    stored = web_settings.attachments_dir / row.sha256[:2] / row.sha256[2:4] / row.sha256
    assert stored.read_bytes() == PDF and stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert f'href="/attachments/{row.id}"' in lead.get(f"/items/{item.id}").text

    for who in ("co", "sup", "leader"):
        download = client_for(world.people[who]).get(f"/attachments/{row.id}")
        assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        f"attachment; filename=\"____.pdf\"; filename*=UTF-8''{quote('整改报告.pdf')}")
    assert client_for(world.people["other"]).get(f"/attachments/{row.id}").status_code == 404
    assert client_for(world.people["lead"]).get("/attachments/99999").status_code == 404


def test_the_api_lists_an_items_files_with_name_size_and_hash(world, client_for, session, anon, now):
    item = world.items["ours"]
    assert _report(client_for(world.people["lead"]), item, [("a.pdf", PDF), ("b.png", PNG)]).status_code == 303
    token = create_token(session, world.people["sup"], now)
    session.commit()
    detail = anon.get(f"/api/v1/items/{item.id}", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(a["name"], a["size"], a["content_type"]) for a in detail["attachments"]] == [
        ("a.pdf", len(PDF), "application/pdf"), ("b.png", len(PNG), "image/png")]
    assert all(len(a["sha256"]) == 64 for a in detail["attachments"])


@pytest.mark.parametrize("name, data", [("report.pdf", b"<html><script>alert(1)</script></html>"),
                                        ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
                                        ("empty.pdf", b"")])
def test_a_file_whose_content_is_not_an_accepted_kind_is_refused_and_nothing_is_written(
        world, client_for, session, web_settings, name, data):
    item = world.items["ours"]
    events = _count(session, ItemEvent)
    response = _report(client_for(world.people["lead"]), item, [("ok.pdf", PDF), (name, data)])
    assert response.status_code == 400
    assert f"{name}：不接受此类文件" in response.text
    assert _count(session, ItemEvent) == events and _count(session, Attachment) == 0
    assert not [p for p in web_settings.attachments_dir.rglob("*") if p.is_file()]


def test_the_size_limit_stops_reading_and_writes_nothing(app, world, session, web_settings):
    web_settings.attachment_max_mb = 1
    item = world.items["ours"]
    body = _multipart(("csrf_token", None, CSRF.encode()), ("action", None, b"report_progress"),
                      ("text", None, "进展".encode()), ("files", "big.pdf", PDF + b"0" * (3 * 1024 * 1024)))
    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
    status, read = _post_raw(app, f"/items/{item.id}/files", chunks, cookie=login_cookie(app, world.people["lead"]))
    assert status == 400 and read < len(chunks) // 2
    assert _count(session, Attachment) == 0
    assert not [p for p in web_settings.attachments_dir.rglob("*") if p.is_file()]


@pytest.mark.parametrize("who", [None, "other", "leader"])
def test_those_who_may_not_report_are_refused_before_the_body_is_read(app, world, who):
    item = world.items["ours"]
    body = _multipart(("csrf_token", None, CSRF.encode()), ("action", None, b"report_progress"),
                      ("files", "a.pdf", PDF * 1000))
    status, read = _post_raw(app, f"/items/{item.id}/files", [body[:1000], body[1000:]],
                             cookie=login_cookie(app, world.people[who]) if who else None)
    assert read == 0
    assert status == {None: 303, "other": 404, "leader": 403}[who]


def test_files_go_only_with_progress_or_a_submission(world, client_for, session):
    item = world.items["ours"]
    response = _report(client_for(world.people["lead"]), item, [("a.pdf", PDF)], action="request_extension")
    assert response.status_code == 400 and "只有报送进展和申请销号时可以上传佐证材料" in response.text
    assert _count(session, Attachment) == 0


def test_a_submitted_image_is_previewed_on_the_approvals_list(world, client_for, session):
    item = world.items["ours"]
    response = _report(client_for(world.people["lead"]), item, [("现场照片.png", PNG)], text="已完成", action="submit")
    assert response.status_code == 303, response.text
    [row] = session.exec(select(Attachment)).all()
    page = client_for(world.people["sup"]).get("/approvals").text
    assert f'<img class="thumb" src="/attachments/{row.id}/thumbnail"' in page and "现场照片.png" in page


def test_the_same_file_twice_is_stored_once_and_listed_twice(world, client_for, session, web_settings):
    item = world.items["ours"]
    lead = client_for(world.people["lead"])
    assert _report(lead, item, [("a.pdf", PDF)]).status_code == 303
    session.refresh(item)
    assert _report(lead, item, [("again.pdf", PDF)], text="再次报送").status_code == 303
    assert _count(session, Attachment) == 2
    assert len([p for p in web_settings.attachments_dir.rglob("*") if p.is_file()]) == 1


def test_attachment_rows_cannot_be_changed_or_deleted(world, client_for, session):
    item = world.items["ours"]
    assert _report(client_for(world.people["lead"]), item, [("a.pdf", PDF)]).status_code == 303
    for statement in ("UPDATE attachment SET name = 'x'", "DELETE FROM attachment"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert _count(session, Attachment) == 1


def test_a_conflict_keeps_what_was_typed(world, client_for, session):
    item = world.items["ours"]
    lead = client_for(world.people["lead"])
    stale = item.version
    assert _report(lead, item, [("a.pdf", PDF)]).status_code == 303
    fields = {"csrf_token": CSRF, "version": str(stale), "action": "report_progress", "text": "我写的进展"}
    response = lead.post(f"/items/{item.id}/files", data=fields, files=[("files", ("b.pdf", PDF, "application/pdf"))])
    assert response.status_code == 409 and "我写的进展" in response.text
    assert _count(session, Attachment) == 1


assert BOUNDARY  # the raw posts share the upload tests' multipart writer


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_post_without_the_right_csrf_token_is_refused_and_writes_nothing(world, client_for, session, web_settings,
                                                                           token):
    item = world.items["ours"]
    lead = client_for(world.people["lead"])
    fields = {"action": "report_progress", "text": "进展", **({"csrf_token": token} if token else {})}
    for files in ([("files", ("a.pdf", PDF, "application/pdf"))], None):  # multipart, and a plain form
        response = lead.post(f"/items/{item.id}/files", data=fields, files=files)
        assert response.status_code == 403 and "页面已过期" in response.text
    assert _count(session, ItemEvent) == 0 and _count(session, Attachment) == 0
    assert not [p for p in web_settings.attachments_dir.rglob("*") if p.is_file()]


def test_the_api_takes_files_with_a_report_and_serves_them_to_those_who_see_the_item(app, world, anon, session, now):
    item = world.items["ours"]
    tokens = {who: create_token(session, world.people[who], now) for who in ("lead", "co", "other")}
    session.commit()

    def auth(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[who]}"}

    response = anon.post(f"/api/v1/items/{item.id}/files", headers=auth("lead"),
                         data={"action": "report_progress", "text": "已召开协调会", "version": str(item.version)},
                         files=[("files", ("纪要.pdf", PDF, "application/pdf"))])
    assert response.status_code == 200, response.text
    [listed] = response.json()["attachments"]
    assert (listed["name"], listed["size"]) == ("纪要.pdf", len(PDF))
    download = anon.get(f"/api/v1/attachments/{listed['id']}", headers=auth("co"))
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")
    assert anon.get(f"/api/v1/attachments/{listed['id']}", headers=auth("other")).status_code == 404
    bad = anon.post(f"/api/v1/items/{item.id}/files", headers=auth("lead"), data={"action": "report_progress", "text": "x"},
                    files=[("files", ("x.pdf", b"<html>", "application/pdf"))])
    assert bad.status_code == 400 and bad.json()["code"] == "attachment.bad_type"
    spec = anon.get("/api/v1/openapi.json").json()
    assert "multipart/form-data" in spec["paths"]["/api/v1/items/{item_id}/files"]["post"]["requestBody"]["content"]


def test_the_api_refuses_an_upload_without_a_token_or_right_before_reading_it(app, world, session, now):
    item = world.items["ours"]
    other = create_token(session, world.people["other"], now)
    session.commit()
    body = _multipart(("action", None, b"report_progress"), ("files", "a.pdf", PDF * 1000))
    assert _post_raw(app, f"/api/v1/items/{item.id}/files", [body[:1000], body[1000:]]) == (401, 0)
    assert _post_raw(app, f"/api/v1/items/{item.id}/files", [body[:1000], body[1000:]], token=other) == (404, 0)


def _photo(width: int, height: int, kind: str = "PNG") -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA" if kind == "PNG" else "RGB", (width, height), (200, 30, 30, 128)).save(out, kind)
    return out.getvalue()


def test_an_image_is_previewed_as_a_small_jpeg_to_those_who_see_the_item(world, client_for, session, web_settings):
    import io

    from PIL import Image

    item = world.items["ours"]
    photo = _photo(1600, 1200)
    assert _report(client_for(world.people["lead"]), item, [("现场照片.png", photo), ("纪要.pdf", PDF)]).status_code == 303
    image, pdf = session.exec(select(Attachment).order_by(Attachment.id)).all()
    preview = client_for(world.people["sup"]).get(f"/attachments/{image.id}/thumbnail")
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    assert preview.headers["x-content-type-options"] == "nosniff"
    with Image.open(io.BytesIO(preview.content)) as small:
        assert small.size == (320, 240)
    assert len(preview.content) < len(photo)
    assert client_for(world.people["other"]).get(f"/attachments/{image.id}/thumbnail").status_code == 404
    assert client_for(world.people["sup"]).get(f"/attachments/{pdf.id}/thumbnail").status_code == 404  # not an image


def test_a_damaged_image_has_no_preview_but_still_downloads(world, client_for, session):
    item = world.items["ours"]
    lead = client_for(world.people["lead"])
    assert _report(lead, item, [("broken.png", PNG)]).status_code == 303
    [row] = session.exec(select(Attachment)).all()
    assert lead.get(f"/attachments/{row.id}/thumbnail").status_code == 404
    assert lead.get(f"/attachments/{row.id}").content == PNG


def test_files_a_killed_upload_left_behind_go_an_hour_later(world, client_for, web_settings, now):
    from datetime import timedelta

    incoming = web_settings.attachments_dir / "incoming"
    incoming.mkdir(parents=True)
    old = incoming / f"{int((now - timedelta(minutes=61)).timestamp())}-left"
    recent = incoming / f"{int((now - timedelta(minutes=5)).timestamp())}-arriving"
    old.write_bytes(b"x")
    recent.write_bytes(b"y")
    assert _report(client_for(world.people["lead"]), world.items["ours"], [("a.pdf", PDF)]).status_code == 303
    assert not old.exists() and recent.exists()
