"""Evidence files (佐证材料): the attachment table, what a file is by its content, and the store by hash.

A file belongs to the progress report or submission it came with (its ItemEvent) and stays as
long as the item: rows are append-only like the audit trail, and the bytes are kept under
data_dir/attachments/ab/cd/<sha256>, named by content, never by anything a person typed. The
same layout on a shared volume serves several servers on one PostgreSQL database.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Column, func
from sqlmodel import Field, Session, SQLModel, col, select

from config.datadir import make_private
from models.db import UTCDateTime
from models.errors import InvalidInput
from models.lifecycle import Action, apply
from models.tables import Item, ItemEvent, Person, ProgressReport

MB = 1024 * 1024


class Attachment(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE (migration 0005_attachments)."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    event_id: int = Field(foreign_key="item_event.id", index=True)
    report_id: int | None = Field(default=None, foreign_key="progress_report.id")
    name: str = Field(max_length=255)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(max_length=64, index=True)
    content_type: str = Field(max_length=100)
    person_id: int = Field(foreign_key="person.id")
    at: datetime = Field(sa_type=UTCDateTime)

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


# kind (the setting `attachment_types`) -> content types it covers
KINDS: dict[str, tuple[str, ...]] = {
    "pdf": ("application/pdf",),
    "image": ("image/png", "image/jpeg", "image/gif", "image/webp"),
    "office": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-office",  # .doc/.xls/.ppt and WPS files: one OLE2 container
    ),
    "ofd": ("application/ofd",),  # 版式文档 (GB/T 33190), what government offices often issue
    "zip": ("application/zip",),
}
_OOXML = {"word/": KINDS["office"][0], "xl/": KINDS["office"][1], "ppt/": KINDS["office"][2]}


def sniff(path: Path) -> str | None:
    """The content type of the file at `path`, read from its first bytes (and a zip's listing), or None.

    Never from its name: a page renamed to .pdf is not a PDF. SVG and HTML are never accepted
    (a browser runs their scripts).
    """
    with path.open("rb") as stream:
        head = stream.read(16)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/vnd.ms-office"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path)
    return None


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return None
    if "[Content_Types].xml" in names:
        for prefix, content_type in _OOXML.items():
            if any(name.startswith(prefix) for name in names):
                return content_type
    if "OFD.xml" in names:
        return "application/ofd"
    return "application/zip"


@dataclass(frozen=True)
class StoredFile:
    """A received file, checked, in the store: what a row needs besides the item and the event."""

    name: str
    size: int
    sha256: str
    content_type: str


class AttachmentStore:
    """Files under `root` by sha256; a file arrives in root/incoming and moves in once checked."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def incoming(self, now: datetime) -> Path:
        """A fresh private path in root/incoming for a file on its way in, named by the time it came.

        Files a killed server left there go an hour later, when the next file comes in.
        """
        folder = self.root / "incoming"
        make_private(folder)  # the data directory too, on first use
        for left in folder.iterdir():
            stamp = left.name.partition("-")[0]
            if not stamp.isdigit() or now.timestamp() - int(stamp) > 3600:
                left.unlink(missing_ok=True)
        return folder / f"{int(now.timestamp())}-{secrets.token_hex(16)}"

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def check(self, path: Path, name: str, *, max_bytes: int, kinds: Iterable[str]) -> StoredFile:
        """What the received file at `path` is (size, kind by content, hash); not yet in the store.

        Raises InvalidInput naming the file, and removes it, when it is too large or of a kind
        not accepted.
        """
        kinds = list(kinds)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise InvalidInput(f"{name}: larger than {max_bytes // MB} MB", code="attachment.too_large",
                                   params={"file": name, "mb": max_bytes // MB})
            content_type = sniff(path)
            accepted = {t for kind in kinds for t in KINDS.get(kind, ())}
            if content_type not in accepted:
                raise InvalidInput(f"{name}: not an accepted kind of file (accepted: {', '.join(kinds)})",
                                   code="attachment.bad_type", params={"file": name, "kinds": kinds})
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return StoredFile(name[:255], size, _sha256(path), content_type)

    def put(self, path: Path, sha256: str) -> None:
        """Move a checked file into the store under its hash (a file already there is kept once)."""
        target = self.path_of(sha256)
        make_private(target.parent)
        if target.exists():
            path.unlink(missing_ok=True)
        else:
            os.chmod(path, 0o600)
            os.replace(path, target)

    def receive(self, source: Path, now: datetime, *, max_bytes: int, kinds: Iterable[str]) -> tuple[Path, StoredFile]:
        """Copy a local file (the CLI's --file) to `incoming` and check it, reading at most `max_bytes` + 1.

        `put` it once the action it goes with is allowed.
        """
        incoming = self.incoming(now)
        with source.open("rb") as reader, open(os.open(incoming, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                                               "wb") as writer:
            copied = 0
            while chunk := reader.read(MB):
                copied += len(chunk)
                if copied > max_bytes:
                    break
                writer.write(chunk)
        if copied > max_bytes:
            incoming.unlink(missing_ok=True)
            raise InvalidInput(f"{source.name}: larger than {max_bytes // MB} MB", code="attachment.too_large",
                               params={"file": source.name, "mb": max_bytes // MB})
        return incoming, self.check(incoming, source.name, max_bytes=max_bytes, kinds=kinds)


THUMBNAIL_BOX = (320, 240)
# Pillow refuses images larger than this (a decompression bomb); a 50-megapixel phone photo passes.
MAX_IMAGE_PIXELS = 64_000_000


def thumbnail(store: AttachmentStore, sha256: str) -> Path | None:
    """A small JPEG of the stored image `sha256` (made once, kept beside the store), or None when
    the image cannot be read (damaged, too many pixels): the page then shows the file's name only."""
    target = store.root / "thumbs" / sha256[:2] / f"{sha256}.jpg"
    if target.exists():
        return target
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(store.path_of(sha256)) as image:
            image.draft("RGB", THUMBNAIL_BOX)  # JPEG decodes at a fraction of its size
            small = ImageOps.exif_transpose(image) or image
            small.thumbnail(THUMBNAIL_BOX)
            if small.mode not in ("RGB", "L"):
                small = small.convert("RGBA")
                flat = Image.new("RGB", small.size, "white")
                flat.paste(small, mask=small.getchannel("A"))
                small = flat
            make_private(target.parent)
            partial = target.with_name(f"{target.name}.{secrets.token_hex(4)}")
            small.save(partial, "JPEG", quality=80)
            os.replace(partial, target)  # two viewers at once: each writes its own, the last one stays
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


def attach(session: Session, event: ItemEvent, actor: Person, files: Iterable[StoredFile]) -> list[Attachment]:
    """Rows for `files` on the event they came with (and its progress report). The caller commits."""
    report_id = None
    if event.kind == "progress_reported":
        report_id = session.exec(
            select(ProgressReport.id).where(ProgressReport.item_id == event.item_id,
                                            ProgressReport.person_id == actor.id, ProgressReport.at == event.at)
            .order_by(col(ProgressReport.id).desc())
        ).first()
    rows = [Attachment(item_id=event.item_id, event_id=event.id, report_id=report_id, name=f.name, size=f.size,
                       sha256=f.sha256, content_type=f.content_type, person_id=actor.id, at=event.at)  # type: ignore[arg-type]
            for f in files]
    session.add_all(rows)
    session.flush()
    return rows


def apply_with_files(session: Session, item: Item, action: Action, actor: Person, now: datetime,
                     files: list[StoredFile], **payload: object) -> ItemEvent:
    """`apply`, and the evidence files on the event it writes. Files go with progress and submissions only."""
    if files and action not in FILE_ACTIONS:
        raise InvalidInput(f"files can be attached to a progress report or a submission, not to {action}",
                           code="attachment.not_here", params={"action": action})
    event = apply(session, item, action, actor, now, **payload)
    attach(session, event, actor, files)
    return event


FILE_ACTIONS = (Action.REPORT_PROGRESS, Action.SUBMIT)


def submitted_files(session: Session, item_ids: list[int]) -> dict[int, list[Attachment]]:
    """Each item's files from its latest submission (what a supervisor judges it by)."""
    if not item_ids:
        return {}
    latest = (select(func.max(ItemEvent.id)).where(col(ItemEvent.item_id).in_(item_ids), ItemEvent.kind == "submitted")
              .group_by(col(ItemEvent.item_id)))
    found: dict[int, list[Attachment]] = {}
    for row in session.exec(select(Attachment).where(col(Attachment.event_id).in_(latest)).order_by(col(Attachment.id))):
        found.setdefault(row.item_id, []).append(row)
    return found


def as_listed(attachments: Iterable[Any]) -> Iterator[dict[str, object]]:
    """What the API and `duban show --json` list: id, name, size, sha256, content type, event, when
    (of Attachment objects or rows of those columns)."""
    for a in attachments:
        yield {"id": a.id, "name": a.name, "size": a.size, "sha256": a.sha256, "content_type": a.content_type,
               "event_id": a.event_id, "at": a.at}
