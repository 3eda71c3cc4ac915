"""Errors a user can cause; every interface shows the message as is (exit 1, or a 4xx page).

`str(exc)` is the English sentence the CLI and the logs show. `code` (e.g.
"extension.already_waiting") and `params` (plain values: the item's ref, the action, dates as
ISO strings) let the web pages and API clients word the same refusal in another language.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any


def _plain(value: Any) -> Any:
    """A value JSON and str.format take as is: enums by value, dates as ISO strings."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class DubanError(Exception):
    """A refused action or bad input. The message names the item, row or rule."""

    def __init__(self, message: str = "", *, code: str | None = None,
                 params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.params: dict[str, Any] = {key: _plain(value) for key, value in (params or {}).items()}


class NotFound(DubanError):
    pass


class Forbidden(DubanError):
    pass


class InvalidTransition(DubanError):
    pass


class ConflictError(DubanError):
    """Someone else changed the item first; nothing of this action was applied."""


class InvalidInput(DubanError):
    pass


def database_detail(exc: BaseException) -> str:
    """The first line of what the database driver said, without SQLAlchemy's statement dump."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    return lines[0] if lines else type(inner).__name__
