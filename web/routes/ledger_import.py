"""Importing a ledger (/import): upload, see the dry run (changes, or every error with its row), apply.

The upload is read only after the login and role are checked, straight to a private folder with
its size limit enforced while it arrives (web/uploads.py). The dry run reads the files in a
worker thread, so every other page keeps answering, and is stopped after `import_parse_seconds`.
Uploads wait under data_dir/uploads/<token>/ (0700, files 0600) until applied, or an hour.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from config.datadir import private_folder
from config.settings import Settings
from models.errors import InvalidInput
from models.ledger.plan import LedgerError
from models.ledger.problems import Problem
from web.deps import NowDep, SessionDep, SettingsDep, SupervisorUser, csrf_protect
from web.i18n import problem_message
from web.render import flash, locale_for, redirect, render
from web.uploads import MB, receive, remove_folder, safe_name

router = APIRouter(include_in_schema=False)
KEPT = timedelta(hours=1)
SHOWN_PROBLEMS = 1000
# Two dry runs at once at most; a third waits its turn instead of taking a third core.
_READERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="duban-import")
_TOKEN = re.compile(r"(\d{10,12})-[A-Za-z0-9_\-]{16,64}")


class ReadingStopped(Exception):
    """The dry run ran out of time; its thread stops at the next row it reads."""


def _expired() -> InvalidInput:
    return InvalidInput("the upload has expired; choose the files again", code="upload.expired")


def _folder(settings: Settings, token: str, now: datetime) -> Path:
    """The folder of a live upload; a token that is malformed or older than an hour has none."""
    match = _TOKEN.fullmatch(token)
    if match is None or now.timestamp() - int(match.group(1)) > KEPT.total_seconds():
        raise _expired()
    return settings.uploads_dir / token


def remove_old_uploads(settings: Settings, now: datetime) -> None:
    """Uploads never applied go after an hour (checked whenever someone opens /import, uploads or applies)."""
    if not settings.uploads_dir.is_dir():
        return
    for folder in settings.uploads_dir.iterdir():
        match = _TOKEN.fullmatch(folder.name)
        if match is None or now.timestamp() - int(match.group(1)) > KEPT.total_seconds():
            remove_folder(folder)


@router.get("/import")
def import_page(request: Request, user: SupervisorUser, now: NowDep, settings: SettingsDep) -> Response:
    remove_old_uploads(settings, now)
    return render(request, "import.html", user, nav="import", summary=None, problems=None, token=None)


@router.post("/import")
async def check_upload(request: Request, session: SessionDep, user: SupervisorUser, now: NowDep,
                       settings: SettingsDep) -> Response:
    """Save the files where only this login can find them again, and show the dry run.

    No body parameters: the person's role is checked (a dependency) before the body is read.
    """
    # The login check's connection goes back to the pool while the body arrives (a slow upload
    # must not hold one); the person keeps the fields already loaded.
    session.expunge(user)
    session.rollback()
    remove_old_uploads(settings, now)
    token = f"{int(now.timestamp())}-{secrets.token_urlsafe(24)}"
    private_folder(settings.uploads_dir)
    folder = private_folder(settings.uploads_dir / token)
    names: set[str] = set()

    def sink(field: str, filename: str) -> Path:
        name = safe_name(filename, "ledger")
        if field != "files" or not name.lower().endswith((".xlsx", ".csv")):
            raise InvalidInput(f"{filename}: only .xlsx and .csv ledgers can be imported",
                               code="upload.bad_type", params={"file": filename})
        while name in names:
            name = f"_{name}"
        names.add(name)
        return folder / name

    try:
        upload = await receive(request, sink, max_file_bytes=settings.import_max_mb * MB)
        if not upload.files:
            raise InvalidInput("choose a file to upload", code="upload.none")
        summary = await _dry_run(request, [f.path for f in upload.files], now, settings)
    except LedgerError as exc:
        remove_folder(folder)
        return _refused(request, user, exc.problems)
    except BaseException:
        remove_folder(folder)
        raise
    request.session["upload"] = token
    return render(request, "import.html", user, nav="import", summary=summary, problems=None,
                  token=token)


async def _dry_run(request: Request, paths: list[Path], now: datetime, settings: Settings) -> dict[str, Any]:
    """The dry run in a worker thread with its own session; stopped after `import_parse_seconds`."""
    stop = threading.Event()

    def check_time(stage: str, done: int, total: int | None) -> None:
        if stop.is_set():
            raise ReadingStopped

    def work() -> dict[str, Any]:
        return _assign(paths, now, settings, dry_run=True, progress=check_time)

    running = asyncio.get_running_loop().run_in_executor(_READERS, work)
    try:
        return await asyncio.wait_for(running, timeout=settings.import_parse_seconds)
    except (TimeoutError, ReadingStopped):
        stop.set()
        seconds = round(settings.import_parse_seconds)
        raise InvalidInput(f"reading the ledger took longer than {seconds} seconds and was stopped; "
                           "split the file and try again", code="upload.too_slow", params={"seconds": seconds}
                           ) from None


@router.post("/import/apply", dependencies=[Depends(csrf_protect)])
def apply_upload(
    request: Request, session: SessionDep, user: SupervisorUser, now: NowDep, settings: SettingsDep,
    token: Annotated[str, Form()],
) -> Response:
    if request.session.get("upload") != token:
        raise _expired()
    folder = _folder(settings, token, now)
    paths = sorted(folder.glob("*")) if folder.is_dir() else []
    if not paths:
        raise _expired()
    session.commit()  # this request's own writes (the login's), so the flow's transaction waits on nothing
    try:
        _assign(paths, now, settings)
    except LedgerError as exc:  # the database changed since the dry run
        return _refused(request, user, exc.problems)
    request.session.pop("upload", None)
    remove_folder(folder)
    remove_old_uploads(settings, now)
    flash(request, "Import applied.")
    return redirect("/items?sort=updated")


def _assign(paths: list[Path], now: datetime, settings: Settings, **options: Any) -> dict[str, Any]:
    """The `assign` flow, as `duban import` runs it; in this process, so a page never waits on a Prefect API."""
    from flows.assign import assign
    from flows.runtime import run_flow

    return run_flow(assign, engine="local", files=[str(p) for p in paths], now=now.isoformat(),
                    database_url=settings.sqlalchemy_url, limits=settings.xlsx_limits, **options).result  # type: ignore[no-any-return]


def _refused(request: Request, user: SupervisorUser, problems: list[Problem]) -> Response:
    """Problems with their file, sheet, row and column (as the file has it), in the page's language.

    The first SHOWN_PROBLEMS: a file with 300,000 bad rows must not become a page of 300,000 rows.
    """
    locale = locale_for(request, user)
    shown = [(problem, problem_message(problem, locale)) for problem in problems[:SHOWN_PROBLEMS]]
    return render(request, "import.html", user, 400, nav="import", summary=None, problems=shown,
                  problem_count=len(problems), token=None)
