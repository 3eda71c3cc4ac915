"""Folders under the data directory are made 0700 each, not only the last one of a path."""

from __future__ import annotations

import hashlib
import stat
from datetime import UTC, datetime

from config.datadir import make_private, private_folder
from models.attachments import AttachmentStore


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_every_missing_folder_is_made_private_and_those_there_are_left(tmp_path):
    tmp_path.chmod(0o755)
    deep = make_private(tmp_path / "data" / "a" / "b")
    assert [_mode(p) for p in (tmp_path / "data", tmp_path / "data" / "a", deep)] == [0o700] * 3
    assert _mode(tmp_path) == 0o755  # there already: not this function's to change
    (tmp_path / "open").mkdir(mode=0o755)
    assert _mode(private_folder(tmp_path / "open")) == 0o700  # the folder itself is closed even if it was there


def test_the_file_store_makes_its_folders_private(tmp_path):
    store = AttachmentStore(tmp_path / "data" / "attachments")
    incoming = store.incoming(datetime(2024, 6, 3, tzinfo=UTC))
    incoming.write_bytes(b"evidence")
    digest = hashlib.sha256(b"evidence").hexdigest()
    store.put(incoming, digest)
    kept = store.path_of(digest)
    assert kept.read_bytes() == b"evidence"
    folders = [tmp_path / "data", store.root, kept.parent.parent, kept.parent]
    assert [_mode(p) for p in folders] == [0o700] * 4, [oct(_mode(p)) for p in folders]
