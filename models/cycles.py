"""Python's cycle collector paused for a batch job (standard library only: the CLI pauses it before
its imports)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Python's cycle collector paused while a batch job makes many rows, lines and dicts and few
    reference cycles; reference counting still frees them. The collector otherwise walks the
    growing heap again and again as they are made: scoring a year over 100,000 items, 0.4 s of 2.4 s
    CPU; the 10k reminder job (`duban run`: its imports, sweep and delivery), about 0.27 s of 3.3 s,
    for some 2,000 objects in cycles. It is process-wide: another thread's cycles wait the seconds until the next
    collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
