"""The CLI's words: msgids looked up in the shared catalogs (config/i18n/), zh-CN (the default) or English.

`{name}` fields are filled in after translating, so a value is never read as a template.
Refusals are worded by their code, as on the pages.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from config.i18n import (
    CLAUSE_SEPARATOR,
    COLON,
    LIST_SEPARATOR,
    LOCALES,
    gettext,
    ngettext,
    zone_name,
)
from models.errors import DubanError
from models.ledger.problems import Problem
from web import i18n


def locale() -> str:
    """The configured locale; settings that cannot be read (their error is being shown) fall back."""
    from config.settings import SettingsError, get_settings

    try:
        return get_settings(plain=True).locale
    except SettingsError:
        chosen = os.environ.get("DUBAN_LOCALE", "")
        return chosen if chosen in LOCALES else "zh-CN"


def _(text: str, **params: Any) -> str:
    """`text` in the configured language (English when it has no translation), fields filled in."""
    words = gettext(locale(), text)
    return words.format(**params) if params else words


def n_(singular: str, plural: str, n: int, **params: Any) -> str:
    """The singular or plural form for `n` (English "1 item" / "3 items"), fields filled in with n too."""
    return ngettext(locale(), singular, plural, n).format(n=n, **params)


def error_text(exc: BaseException) -> str:
    """A refusal in the configured language.

    zh-CN words a DubanError by its code (web.i18n.error_message, as the pages do); English keeps
    the error's own sentence, which names more (the person, a "did you mean" hint).
    """
    language = locale()
    if isinstance(exc, DubanError) and language != "en":
        return i18n.error_message(exc, language)
    return str(exc)


def reason_text(exc: BaseException, ref: str) -> str:
    """A refusal as error_text words it, on a line that already names its item `ref`: without that
    reference (web.i18n.without_ref), so a bulk report's line says it once."""
    return i18n.without_ref(error_text(exc), ref)


def problem_text(problem: Problem) -> str:
    """Why a ledger cell or file is refused, in the configured language."""
    return i18n.problem_message(problem, locale())


def actor(label: str) -> str:
    """Who did it (the stored audit label), with the role in the configured language."""
    return i18n.actor_text(label, locale())


def details(payload: Mapping[str, Any]) -> str:
    """An event's payload as `field: value` pairs, the field names translated, ids as their labels."""
    separator, colon = CLAUSE_SEPARATOR[locale()], COLON[locale()]
    return separator.join(f"{_(key)}{colon}{_value(key, value)}" for key, value in payload.items())


_LABELLED_FIELDS = ("imported_as", "status", "from_status", "to_status")  # their values are states


def _value(key: str, value: Any) -> Any:
    if key in _LABELLED_FIELDS:
        return _(value)
    if key == "threshold":
        return threshold(str(value))
    if key == "level":
        return level(value)
    if key == "threshold_at":
        return _instant(value)
    if key == "notified":  # the notification's key, or None when nobody was told
        return _("yes") if value else _("no")
    return value


def threshold(key: str) -> str:
    """A sweep threshold's key (before-7, overdue, level-1, repeat-10) in words (models.read.timeline)."""
    from models.read.timeline import threshold_words

    return threshold_words(key, locale())


def local_time(at: datetime, *, seconds: bool = False) -> str:
    """An instant (naive ones are UTC, as stored) in the configured timezone, the zone in words."""
    from config.settings import get_settings

    settings = get_settings(plain=True)
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    shown = aware.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{shown} {zone_name(settings.timezone, locale())}"


def level(value: Any) -> str:
    """An escalation level as words: 第2级 / level 2; 0 is 未升级督办 / not escalated."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return str(value)
    return _("level {n}", n=n) if n else _("not escalated")


def _instant(value: Any) -> Any:
    """An ISO instant in the configured timezone, as the tables show times; anything else as is."""
    from config.clock import parse_instant
    from config.settings import SettingsError, get_settings

    try:
        return parse_instant(str(value)).astimezone(get_settings(plain=True).tz).strftime("%Y-%m-%d %H:%M")
    except (ValueError, SettingsError):
        return value


def counts(pairs: Iterable[tuple[str, int]]) -> str:
    """`kind count` pairs (events, audiences) with each kind translated; "none" when there are none."""
    return LIST_SEPARATOR[locale()].join(f"{_(kind)} {count}" for kind, count in pairs) or _("none")
