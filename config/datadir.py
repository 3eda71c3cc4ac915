"""Folders under the data directory, made closed to other users (0700), as `duban doctor` wants them.

`mkdir(mode=0o700, parents=True)` gives only the last folder that mode; the ones it makes above it get
the default (0755 under the usual umask). These make every missing folder of the path 0700 themselves.
"""

from __future__ import annotations

import os
from pathlib import Path


def make_private(path: Path) -> Path:
    """Each missing folder of `path`, the data directory too on first use, made 0700; folders that are
    there already are left as they are."""
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            folder.mkdir(mode=0o700, exist_ok=True)
    return path


def private_folder(path: Path) -> Path:
    """`path` made 0700 (only duban's user reads it), with any missing folder above it made 0700 too."""
    make_private(path)
    os.chmod(path, 0o700)
    return path
