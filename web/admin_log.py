"""The admin pages' log of changes (models/admin.py AdminChange rows) in the clerk's words.

A row stores field ids and raw values (`{"locale": [None, "en"]}`, `by` an admin's email or "cli");
here each field is named as the page's form names it and each value shown as the form shows it
(语言 默认 → English, 角色 督办人 → 管理员, lists joined with 、), and who did it is the admin's name
and the channel (网页, 命令行 or 导入: people a ledger import added, the file in the title).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config.i18n import CLAUSE_SEPARATOR, LIST_SEPARATOR, N_, locale_or_default
from models.admin import IMPORT, AdminChange
from web.i18n import translator

CLI = "cli"  # AdminChange.by for changes made with `duban user|unit|document ...`
BY_CLI, BY_WEB, BY_IMPORT, ADDED = N_("command line"), N_("web"), N_("import"), N_("Added")  # the channel; a person added
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}  # each language in its own words, as the page's switch
FIELD_NAMES = {  # field id -> the msgid the admin pages' forms label it with
    "locale": "Language", "role": "Account role", "unit": "Unit", "active": "Status",
    "name": "Unit", "code": "Code", "parent": "Parent unit", "contact_emails": "Contacts",
    "leader_emails": "Unit leaders", "title": "Document title", "default_supervisor": "Default supervisor",
    "category": "Category", "person_name": "Name",
}


@dataclass(frozen=True)
class ChangeRow:
    at: datetime
    by: str  # 王管理（网页）, 命令行 or 导入
    by_email: str  # the title attribute: the admin's address, the import's file ("" for the command line)
    target: str
    what: str  # 语言 默认 → English；角色 经办人 → 督办人


def change_rows(changes: Iterable[AdminChange], locale: str, names: Mapping[str, str]) -> list[ChangeRow]:
    """`changes` as the page shows them; `names` maps an admin's email to their name."""
    locale = locale_or_default(locale)
    translate = translator(locale)
    rows = []
    for change in changes:
        channel, _, file = change.by.partition(":")
        if change.by == CLI:
            by, by_email = translate(BY_CLI), ""
        elif channel == IMPORT:
            by, by_email = translate(BY_IMPORT), file
        else:
            by, by_email = f"{names.get(change.by, change.by)}{_bracketed(translate(BY_WEB), locale)}", change.by
        what = CLAUSE_SEPARATOR[locale].join(
            _field(field, values, translate, locale) for field, values in change.changes.items())
        rows.append(ChangeRow(change.at, by, by_email, change.target, what))
    return rows


def _field(field: str, values: Sequence[Any], translate: Callable[[str], str], locale: str) -> str:
    old, new = values
    if field == "archived":
        return translate("Archived") if new else translate("Unarchived")
    if field == "added":
        details = [f"{translate(FIELD_NAMES[key])} {_value(key, value, translate, locale)}"
                   for key, value in (new or {}).items() if value]
        return translate(ADDED) + (_bracketed(LIST_SEPARATOR[locale].join(details), locale) if details else "")
    label = translate(FIELD_NAMES.get(field, field))
    return f"{label} {_value(field, old, translate, locale)} → {_value(field, new, translate, locale)}"


def _value(field: str, value: Any, translate: Callable[[str], str], locale: str) -> str:
    if field == "locale":
        return LANGUAGE_NAMES.get(value, value) if value else translate("default")
    if field == "role":
        return translate(str(value))
    if field == "active":
        return translate("active") if value else translate("deactivated")
    if isinstance(value, list):
        value = LIST_SEPARATOR[locale].join(str(v) for v in value)
    return str(value) if value not in (None, "") else "—"


def _bracketed(words: str, locale: str) -> str:
    return f"（{words}）" if locale == "zh-CN" else f" ({words})"
