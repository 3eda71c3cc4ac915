"""An item's timeline in words: what happened, with the import row, the sweep's threshold and who
was told, for the item page, the API's readers and `duban show` alike.

Words come from the shared catalogs (config/i18n) in the reader's locale, so this module says
*what* each entry says once and the web and the CLI only choose the language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from config.clock import parse_instant
from config.i18n import N_, day_name, gettext, locale_or_default, lookup, ngettext

EVENT = "event"  # msgctxt of an event's kind where it reads differently from the state of the same id
_THRESHOLD = re.compile(r"(before|level|repeat)-(\d+)")
# Fields of an event's payload that say nothing a reader needs (ids, the sweep's bookkeeping).
_UNSHOWN = frozenset({"request_id", "threshold_at", "level", "workdays", "deadline_version", "days_left",
                      "event_id", "document", "number", "summary", "old_lead_unit_id", "unit_id", "by_leader",
                      "period_starts"})  # `period` shows the same day
# What an event's `text` is, by the event's kind (a progress report's otherwise).
_TEXT_NAMES = {"urged": N_("Urging"), "instructed": N_("Instruction"), "commented": N_("Comment text")}


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    kind: str
    event: str  # what happened, in words
    actor_label: str  # as stored; callers show it with their `actor` words
    change: str = ""  # the new state in words, when the event changed it
    details: list[str] = field(default_factory=list)  # each a short phrase in words


class Event(Protocol):
    """What a timeline reads of an event (models.tables.ItemEvent, or a row read without the ORM)."""

    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def actor_label(self) -> str: ...
    @property
    def from_status(self) -> str | None: ...
    @property
    def to_status(self) -> str | None: ...
    @property
    def payload(self) -> dict[str, Any]: ...


class _Words:
    """Lookups in one locale's catalog, fields filled in after translating."""

    def __init__(self, locale: str) -> None:
        self.locale = locale_or_default(locale)

    def __call__(self, message: str, **params: Any) -> str:
        text = gettext(self.locale, message)
        return text.format(**params) if params else text

    def plural(self, singular: str, plural: str, n: int) -> str:
        return ngettext(self.locale, singular, plural, n).format(n=n)


def event_word(kind: str, locale: str) -> str:
    """An event's or a notice's kind in words. Most read as their id's one word (留言, 退回); where the
    state of the same id reads differently, the catalog words the event under msgctxt "event":
    `submitted` is the 销号申请 (submission) in a timeline or the outbox, the state 待销号."""
    locale = locale_or_default(locale)
    return lookup(locale, kind, EVENT) or gettext(locale, kind)


def threshold_words(key: str, locale: str) -> str:
    """A sweep threshold's key (before-7, overdue, level-1, repeat-10, see models.schedule) in words."""
    _ = _Words(locale)
    n_ = _.plural
    found = _THRESHOLD.fullmatch(key)
    if found is None:
        return _(key)
    kind, n = found.group(1), int(found.group(2))
    if kind == "before":
        return n_("{n} working day before the deadline", "{n} working days before the deadline", n)
    if kind == "level":
        return _("escalation level {n}", n=n)
    return n_("repeat reminder, {n} working day overdue", "repeat reminder, {n} working days overdue", n)


def timeline_lines(events: Iterable[Event], locale: str, tz: ZoneInfo) -> Iterable[TimelineLine]:
    """Each event as a line in `locale`'s words (times stay instants; callers show them locally)."""
    _ = _Words(locale)
    for event in events:
        change = ""
        if event.to_status and event.from_status != event.to_status and event.to_status != event.kind:
            change = _(event.to_status)
        yield TimelineLine(event.at, event.kind, event_word(event.kind, locale), event.actor_label, change,
                           details(event.kind, event.payload or {}, _, tz))


def details(kind: str, payload: Mapping[str, Any], _: _Words, tz: ZoneInfo) -> list[str]:
    """An event's payload as phrases in words; ids and bookkeeping are left out."""
    out: list[str] = []
    if "file" in payload:
        sheet = (f"（{payload['sheet']}）" if _.locale == "zh-CN" else f" ({payload['sheet']})") if payload.get("sheet") else ""
        source = f"{payload['file']}{sheet}"
        out.append(_("Ledger import: {file} row {row}", file=source, row=payload.get("row", "?")))
    if kind == "imported" and payload.get("imported_as"):
        out.append(field_words(_, "imported_as", _(str(payload["imported_as"]))))
    if "threshold" in payload:
        out.append(threshold_words(str(payload["threshold"]), _.locale))
        if payload.get("notified"):
            out.append(_("notice sent"))
        elif payload.get("covered_by"):  # a catch-up: each address heard once, of the most severe
            out.append(_("told in the notice of {threshold}",
                         threshold=threshold_words(str(payload["covered_by"]), _.locale)))
        else:
            out.append(_("nobody was told"))
        if payload.get("days_overdue"):
            n_ = _.plural
            out.append(n_("{n} day overdue", "{n} days overdue", int(payload["days_overdue"])))
    if "old_deadline" in payload and "new_deadline" in payload:
        out.append(_change(_, "deadline", {"old": payload["old_deadline"], "new": payload["new_deadline"]}))
    for key, value in payload.items():
        if key in _UNSHOWN or key in ("file", "sheet", "row", "imported_as", "threshold", "notified", "covered_by", "days_overdue",
                                      "old_deadline", "new_deadline"):
            continue
        if key == "requested_deadline" and "new_deadline" in payload:  # approved: the new deadline says it
            continue
        if isinstance(value, dict) and set(value) == {"old", "new"}:  # a field an edit or the import changed
            out.append(_change(_, key, value))
        elif key == "text" and kind in _TEXT_NAMES:
            out.append(_("{name}: {value}", name=_(_TEXT_NAMES[kind]), value=value))
        elif key == "late" and value:
            out.append(_("acknowledged after the reminder was due"))
        elif key == "percent":
            out.append(field_words(_, key, f"{value}%"))
        elif key == "deadline" and kind == "extension_requested":
            out.append(field_words(_, "requested", str(value)))
        elif value not in (None, "", []):
            out.append(field_words(_, key, _value(value, _, tz)))
    return out


# Each field an edit (models/edits.py) or an import changes, by the name the item page gives it.
FIELD_NAMES = {"title": N_("Title"), "deadline": N_("Deadline"), "lead_unit": N_("Lead unit"),
               "co_units": N_("Co-units"), "supervisor": N_("Supervisor"), "category": N_("Category"),
               "frequency": N_("Frequency"), "status": N_("Status")}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def change_phrases(payload: Mapping[str, Any], locale: str) -> list[str]:
    """Each changed field of an edit or an import (`{field: {"old", "new"}}` in the payload) as
    "name: old → new" in `locale`'s words: 完成时限：2024年6月30日 → 2024年7月31日. The timeline and the
    `edited` mail both say it so."""
    _ = _Words(locale)
    return [_change(_, key, value) for key, value in payload.items()
            if isinstance(value, dict) and set(value) == {"old", "new"}]


def _change(_: _Words, key: str, change: Mapping[str, Any]) -> str:
    old, new = (_changed_value(change[k], _) for k in ("old", "new"))
    if key == "status":
        old, new = _(old), _(new)
    return _("{name}: {value}", name=_(FIELD_NAMES.get(key, key)), value=f"{old} → {new}")


def _changed_value(value: Any, _: _Words) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, str) and _DAY.fullmatch(value):
        return day_name(date.fromisoformat(value), _.locale)
    return str(value)


def field_words(_: _Words, key: str, value: Any) -> str:
    return _("{name}: {value}", name=_(key), value=value)


def _value(value: Any, _: _Words, tz: ZoneInfo) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    if isinstance(value, str) and "T" in value and len(value) > 16:
        try:
            return parse_instant(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return str(value)
