"""Ledger uploads that cannot stall or swell the server: read only after the role check, limits
enforced while reading, private files that go after an hour, the dry run off the event loop."""

from __future__ import annotations

import asyncio
import stat
import threading
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import models.ledger.apply
from config import clock
from tests.ledger.conftest import LEDGER, LEDGER_HEADER, UNITS, UNITS_HEADER, write_csv, write_xlsx
from tests.web.conftest import CSRF, login_cookie

BOUNDARY = "duban-test-boundary"
NEW_LEDGER = [["营商环境方案", *row[1:]] for row in LEDGER]


def _files(tmp_path: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    units = write_csv(tmp_path / "units.csv", [UNITS_HEADER, *UNITS])
    items = write_csv(tmp_path / "ledger.csv", [LEDGER_HEADER, *NEW_LEDGER])
    return [("files", (p.name, p.read_bytes(), "text/csv")) for p in (units, items)]


def _multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def _post_raw(app: Any, path: str, chunks: list[bytes], cookie: str | None = None,
              length: int | None = None, token: str | None = None) -> tuple[int, int]:
    """POST the body chunk by chunk straight to the ASGI app: (status, how many chunks it read).

    The test client reads a whole body before the app sees it; this shows what the app itself reads.
    """
    headers = [(b"host", b"testserver.local"), (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]
    if cookie:
        headers.append((b"cookie", f"duban_session={cookie}".encode()))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 5000), "server": ("testserver.local", 80)}
    read = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    asyncio.run(app(scope, receive, send))
    return status, read


def _big_body(filename: str = "ledger.csv") -> list[bytes]:
    body = _multipart(("csrf_token", None, CSRF.encode()), ("files", filename, b"x" * (3 * 1024 * 1024)))
    return [body[i:i + 65536] for i in range(0, len(body), 65536)]


def test_an_anonymous_upload_is_refused_before_its_body_is_read(app, world):
    chunks = _big_body()
    status, read = _post_raw(app, "/import", chunks)
    assert status == 303  # to the login page
    assert read == 0


def test_an_officer_upload_is_refused_before_its_body_is_read(app, world):
    status, read = _post_raw(app, "/import", _big_body(), cookie=login_cookie(app, world.people["lead"]))
    assert (status, read) == (403, 0)


def test_the_size_limit_stops_reading_and_keeps_nothing(app, world, web_settings):
    web_settings.import_max_mb = 1
    chunks = _big_body()
    status, read = _post_raw(app, "/import", chunks, cookie=login_cookie(app, world.people["sup"]))
    assert status == 400
    assert read < len(chunks) // 2  # stopped soon after the first megabyte
    assert list(web_settings.uploads_dir.iterdir()) == []


def test_a_declared_length_over_the_limit_is_refused_unread(app, world, web_settings):
    web_settings.import_max_mb = 1
    status, read = _post_raw(app, "/import", _big_body(), cookie=login_cookie(app, world.people["sup"]), length=50 * 1024 * 1024)
    assert (status, read) == (400, 0)


def test_a_file_before_the_csrf_token_is_refused_and_not_written(app, world, web_settings):
    body = _multipart(("files", "ledger.csv", b"a,b\r\n"), ("csrf_token", None, CSRF.encode()))
    status, _ = _post_raw(app, "/import", [body], cookie=login_cookie(app, world.people["sup"]))
    assert status == 403
    assert not any(web_settings.uploads_dir.rglob("*.csv"))


def test_a_wrong_kind_of_file_is_refused_before_its_bytes_are_read(app, world, web_settings):
    chunks = _big_body("evil.html")
    status, read = _post_raw(app, "/import", chunks, cookie=login_cookie(app, world.people["sup"]))
    assert status == 400 and read == 1


def test_uploads_are_private_and_go_once_applied(world, client_for, tmp_path, web_settings):
    admin = client_for(world.people["admin"])
    page = admin.post("/import", data={"csrf_token": CSRF}, files=_files(tmp_path))
    assert page.status_code == 200, page.text
    [folder] = web_settings.uploads_dir.iterdir()
    assert stat.S_IMODE(web_settings.uploads_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(f.stat().st_mode) for f in folder.iterdir()} == {0o600}
    token = page.text.split('name="token" value="')[1].split('"')[0]
    assert admin.post("/import/apply", data={"csrf_token": CSRF, "token": token}).status_code == 303
    assert list(web_settings.uploads_dir.iterdir()) == []


def test_an_upload_not_applied_expires_after_an_hour_and_is_removed(world, client_for, tmp_path, web_settings, now):
    admin = client_for(world.people["admin"])
    page = admin.post("/import", data={"csrf_token": CSRF}, files=_files(tmp_path))
    token = page.text.split('name="token" value="')[1].split('"')[0]
    with clock.frozen(now + timedelta(minutes=61)):
        late = admin.post("/import/apply", data={"csrf_token": CSRF, "token": token})
        assert late.status_code == 400 and "上传的文件已失效" in late.text
        assert admin.post("/import", data={"csrf_token": CSRF}, files=_files(tmp_path)).status_code == 200
    assert [f.name for f in web_settings.uploads_dir.iterdir()] != [token]
    assert len(list(web_settings.uploads_dir.iterdir())) == 1  # the old one is gone, the new one waits


def test_a_zip_bomb_workbook_is_refused_with_the_limit_named(world, client_for, tmp_path, web_settings):
    web_settings.xlsx_max_unzipped_mb = 2
    path = tmp_path / "bomb.xlsx"
    source = write_xlsx(tmp_path / "ledger.xlsx", {"台账": [LEDGER_HEADER, *NEW_LEDGER]})
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for entry in original.infolist():
            bomb.writestr(entry, original.read(entry))
        bomb.writestr("xl/sharedStrings.xml", b"<sst><si><t>" + b"A" * (4 * 1024 * 1024) + b"</t></si></sst>")
    page = client_for(world.people["sup"]).post("/import", data={"csrf_token": CSRF},
                                                files=[("files", ("bomb.xlsx", path.read_bytes(), "application/zip"))])
    assert page.status_code == 400
    assert "工作簿解压后为5MB，超过允许的2MB" in page.text


@pytest.fixture
def blocked_reading(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The dry run's reading waits until the test releases it (and says when it has started)."""
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    real = models.ledger.apply.read_files

    def read_files(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(timeout=120)  # only a safety net: the test releases it
        try:
            return real(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(models.ledger.apply, "read_files", read_files)
    return started, release, finished


def test_other_pages_answer_while_a_dry_run_is_reading(app, world, tmp_path, blocked_reading):
    started, release, finished = blocked_reading
    with TestClient(app, base_url="http://testserver.local", follow_redirects=False) as client:  # one event loop
        client.cookies.set("duban_session", login_cookie(app, world.people["sup"]), domain="testserver.local", path="/")
        answers: dict[str, Any] = {}
        upload = threading.Thread(target=lambda: answers.setdefault(
            "import", client.post("/import", data={"csrf_token": CSRF}, files=_files(tmp_path))))
        upload.start()
        try:
            assert started.wait(timeout=120)
            page = client.get("/items")
            assert page.status_code == 200
            assert not finished.is_set()  # it answered while the dry run was still reading
        finally:
            release.set()
            upload.join()
    assert answers["import"].status_code == 200 and "预检结果" in answers["import"].text


def test_a_dry_run_over_its_time_budget_is_stopped_with_a_message(app, world, client_for, tmp_path, web_settings,
                                                                  blocked_reading):
    started, release, finished = blocked_reading
    web_settings.import_parse_seconds = 0.2
    try:
        page = client_for(world.people["sup"]).post("/import", data={"csrf_token": CSRF}, files=_files(tmp_path))
    finally:
        release.set()
    assert page.status_code == 400
    assert "秒内未能读完上传的台账" in page.text
    assert finished.wait(timeout=120)
