"""Evidence files on the desk and the API: progress reports and submissions with files, and downloads.

POST /items/{id}/files (and /api/v1/items/{id}/files with a bearer token) takes the fields of
/items/{id}/act plus `files`; it declares no body parameters, so who may act is checked before
the body is read (see web/uploads.py). A file is served by its attachment id to those who may
see its item, always as a download.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from models.attachments import (
    FILE_ACTIONS,
    MB,
    Attachment,
    AttachmentStore,
    StoredFile,
    apply_with_files,
    thumbnail,
)
from models.errors import ConflictError, Forbidden, InvalidInput, NotFound
from models.lifecycle import Action, allowed_actions, co_unit_ids
from models.read.views import as_json, item_detail
from models.tables import Person
from web.access import check_version, visible_item
from web.deps import ApiUser, CurrentUser, DbInt, NowDep, SessionDep, SettingsDep, after_change
from web.itemview import action_payload
from web.render import flash, redirect
from web.routes.items import _changed_meanwhile as changed_meanwhile
from web.uploads import Upload, receive

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"])
MAX_FILES = 10
_FIELDS = ("text", "percent", "evidence", "reason", "deadline", "comment")


@router.post("/items/{item_id}/files")
async def act_with_files(request: Request, item_id: DbInt, session: SessionDep, user: CurrentUser, now: NowDep,
                         settings: SettingsDep) -> Response:
    """Report progress or submit, with evidence files; all or nothing."""
    upload, store = await _receive(request, session, user, item_id, now, settings, csrf=True)
    try:
        await run_in_threadpool(_act, session, user, item_id, now, upload, store, settings)
    except ConflictError:  # as /act does: the page again with what they typed (files must be chosen again)
        session.rollback()
        typed = {name: upload.value(name) for name in ("action", *_FIELDS)}
        seen = upload.value("seen")
        return await run_in_threadpool(changed_meanwhile, request, session, user, now, settings, item_id, typed,
                                       int(seen) if seen.isdigit() else None)
    finally:
        upload.remove_files()  # those kept were moved into the store
    after_change(request, now)
    flash(request, "Done.")
    return redirect(f"/items/{item_id}")


_MULTIPART: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["action"], "properties": {
        "action": {"type": "string", "enum": [str(a) for a in FILE_ACTIONS]},
        "version": {"type": "integer", "description": "The item's version you acted on; 409 if it changed since"},
        "text": {"type": "string", "description": "report_progress: what was done"},
        "percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "evidence": {"type": "string", "description": "submit: what shows it is done"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
    }}}}}}


@api.post("/items/{item_id}/files", openapi_extra=_MULTIPART)
async def api_act_with_files(request: Request, item_id: DbInt, session: SessionDep, user: ApiUser, now: NowDep,
                             settings: SettingsDep) -> dict[str, Any]:
    """Report progress or submit with evidence files (multipart/form-data, `files` repeated); the item after it.

    403 if you may not report or submit on the item now (before the body is read), 400 for a file
    too large or of a kind not accepted, 409 if the item changed since `version`.
    """
    upload, store = await _receive(request, session, user, item_id, now, settings, csrf=False)
    try:
        await run_in_threadpool(_act, session, user, item_id, now, upload, store, settings)
    finally:
        upload.remove_files()
    after_change(request, now)

    def detail() -> dict[str, Any]:
        return as_json(item_detail(session, user, visible_item(session, user, item_id), now, settings.tz))

    return await run_in_threadpool(detail)


async def _receive(request: Request, session: SessionDep, user: Person, item_id: int, now: datetime,
                   settings: Settings, csrf: bool) -> tuple[Upload, AttachmentStore]:
    """Who may act is checked first; then the body is read, each file to `incoming` within the limit."""
    await run_in_threadpool(_may_attach, session, user, item_id)
    store = AttachmentStore(settings.attachments_dir)

    def sink(field: str, filename: str) -> Path:
        if field != "files":
            raise InvalidInput("the form is malformed", code="upload.malformed")
        return store.incoming(now)

    upload = await receive(request, sink, max_file_bytes=settings.attachment_max_mb * MB, max_files=MAX_FILES,
                           csrf=csrf)
    return upload, store


def _may_attach(session: SessionDep, user: Person, item_id: int) -> None:
    """Before the body is read: the item is visible and the person may report progress or submit now."""
    item = visible_item(session, user, item_id)
    if not set(allowed_actions(item, user, co_unit_ids(session, item))) & set(FILE_ACTIONS):
        raise Forbidden(f"{user.email} ({user.role}) may not report progress on or submit item {item_id} now",
                        code="attachment.not_allowed", params={"id": item_id})
    # Let go of the connection while the body arrives; the person keeps the fields already loaded.
    session.expunge(user)
    session.rollback()


def _act(session: SessionDep, user: Person, item_id: int, now: datetime, upload: Upload, store: AttachmentStore,
         settings: Settings) -> None:
    try:
        action = Action(upload.value("action"))
    except ValueError:
        raise InvalidInput(f"files can be attached to a progress report or a submission, not to {upload.value('action')!r}",
                           code="attachment.not_here", params={"action": upload.value("action")}) from None
    if action not in FILE_ACTIONS:
        raise InvalidInput(f"files can be attached to a progress report or a submission, not to {action}",
                           code="attachment.not_here", params={"action": action})
    version = upload.value("version")
    fields = {name: upload.value(name) for name in _FIELDS}
    payload = action_payload(action, fields)
    item = visible_item(session, user, item_id)
    check_version(item, int(version) if version.isdigit() else None)
    checked: list[StoredFile] = [store.check(f.path, f.filename, max_bytes=settings.attachment_max_mb * MB,
                                             kinds=settings.attachment_types) for f in upload.files]
    apply_with_files(session, item, action, user, now, checked, **payload)
    for received, stored in zip(upload.files, checked, strict=True):  # only once the action is allowed
        store.put(received.path, stored.sha256)
    session.commit()


@router.get("/attachments/{attachment_id}")
def download(attachment_id: DbInt, session: SessionDep, user: CurrentUser, settings: SettingsDep) -> Response:
    """The file, to those who may see its item (NotFound otherwise, as for a missing id)."""
    return _file(session, user, attachment_id, settings)


@router.get("/attachments/{attachment_id}/thumbnail")
def preview(attachment_id: DbInt, session: SessionDep, user: CurrentUser, settings: SettingsDep) -> Response:
    """A small JPEG of an image file, for the item page and approvals; 404 when there is none."""
    row = _visible_attachment(session, user, attachment_id)
    small = thumbnail(AttachmentStore(settings.attachments_dir), row.sha256) if row.is_image else None
    if small is None:
        raise NotFound(f"no preview of file {attachment_id}", code="attachment.not_found", params={"id": attachment_id})
    return FileResponse(small, media_type="image/jpeg", headers={
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400"})


@api.get("/attachments/{attachment_id}", response_class=FileResponse)
def api_download(attachment_id: DbInt, session: SessionDep, user: ApiUser, settings: SettingsDep) -> Response:
    """An evidence file (always as a download), if you may see its item; 404 otherwise."""
    return _file(session, user, attachment_id, settings)


def _visible_attachment(session: SessionDep, user: Person, attachment_id: int) -> Attachment:
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"no file with id {attachment_id}", code="attachment.not_found", params={"id": attachment_id})
    visible_item(session, user, row.item_id)
    return row


def _file(session: SessionDep, user: Person, attachment_id: int, settings: Settings) -> Response:
    row = _visible_attachment(session, user, attachment_id)
    path = AttachmentStore(settings.attachments_dir).path_of(row.sha256)
    if not path.is_file():
        raise NotFound(f"no file with id {attachment_id}", code="attachment.not_found", params={"id": attachment_id})
    return FileResponse(path, media_type=row.content_type, headers={
        "Content-Disposition": content_disposition(row.name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600",
    })


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the real one in RFC 5987 `filename*` (Chinese names)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
