"""The one clock: every reading of the current time in duban goes through `now()`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current instant, timezone-aware UTC (or the frozen instant, see `frozen`)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Freeze `now()` at `at` (tests, `--now`)."""
    global _frozen
    previous, _frozen = _frozen, as_utc(at)
    try:
        yield _frozen
    finally:
        _frozen = previous


def as_utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{at.isoformat()} has no UTC offset")
    return at.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant that carries its offset (`2024-06-30T09:00+08:00`, `...Z`)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time; write e.g. 2024-06-30T09:00+08:00"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; write e.g. 2024-06-30T09:00+08:00")
    return parsed.astimezone(UTC)
