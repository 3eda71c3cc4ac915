"""Importing a ledger (/import): upload, see the dry run (changes, or every error with its row), apply."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response

from models.errors import InvalidInput
from models.ledger.problems import Problem
from web.deps import NowDep, SessionDep, SettingsDep, SupervisorUser, csrf_protect
from web.i18n import problem_message
from web.render import flash, locale_for, redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def _upload_dir(settings: SettingsDep, token: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_\-]{16,64}", token):
        raise InvalidInput("the upload has expired; choose the files again", code="upload.expired")
    return Path(settings.data_dir) / "uploads" / token


@router.get("/import")
def import_page(request: Request, user: SupervisorUser) -> Response:
    return render(request, "import.html", user, nav="import", summary=None, problems=None, token=None)


@router.post("/import")
async def check_upload(
    request: Request, session: SessionDep, user: SupervisorUser, now: NowDep, settings: SettingsDep,
    files: list[UploadFile],
) -> Response:
    """Save the files where only this login can find them again, and show the dry run."""
    token = secrets.token_urlsafe(24)
    folder = _upload_dir(settings, token)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for upload in files:
        name = _SAFE_NAME.sub("_", Path(upload.filename or "ledger").name).lstrip(".") or "ledger"
        if not name.lower().endswith((".xlsx", ".csv")):
            shutil.rmtree(folder, ignore_errors=True)
            raise InvalidInput(f"{upload.filename}: only .xlsx and .csv ledgers can be imported",
                               code="upload.bad_type", params={"file": upload.filename})
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            shutil.rmtree(folder, ignore_errors=True)
            raise InvalidInput(f"{upload.filename}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
                               code="upload.too_large",
                               params={"file": upload.filename, "mb": MAX_UPLOAD_BYTES // (1024 * 1024)})
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    request.session["upload"] = token
    return _dry_run(request, session, user, now, paths, token)


def _dry_run(request: Request, session: SessionDep, user: SupervisorUser, now: NowDep,
             paths: list[Path], token: str) -> Response:
    from models.ledger import LedgerError, import_ledger

    try:
        summary = import_ledger(session, paths, now=now, dry_run=True)
    except LedgerError as exc:
        session.rollback()
        return _refused(request, user, exc.problems)
    session.rollback()
    return render(request, "import.html", user, nav="import", summary=summary.as_dict(), problems=None,
                  token=token)


@router.post("/import/apply")
def apply_upload(
    request: Request, session: SessionDep, user: SupervisorUser, now: NowDep, settings: SettingsDep,
    token: Annotated[str, Form()],
) -> Response:
    from models.ledger import LedgerError, import_ledger

    if request.session.get("upload") != token:
        raise InvalidInput("the upload has expired; choose the files again", code="upload.expired")
    folder = _upload_dir(settings, token)
    paths = sorted(folder.glob("*")) if folder.is_dir() else []
    if not paths:
        raise InvalidInput("the upload has expired; choose the files again", code="upload.expired")
    try:
        import_ledger(session, paths, now=now)
    except LedgerError as exc:  # the database changed since the dry run
        session.rollback()
        return _refused(request, user, exc.problems)
    session.commit()
    request.session.pop("upload", None)
    shutil.rmtree(folder, ignore_errors=True)
    flash(request, "Import applied.")
    return redirect("/items?sort=updated")


def _refused(request: Request, user: SupervisorUser, problems: list[Problem]) -> Response:
    """Every problem with its file, sheet, row and column (as the file has it), in the page's language."""
    locale = locale_for(request, user)
    shown = [(problem, problem_message(problem, locale)) for problem in problems]
    return render(request, "import.html", user, 400, nav="import", summary=None, problems=shown, token=None)
