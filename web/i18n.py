"""The pages' words: lookups in the shared gettext catalogs (config/i18n/), for pages, CLI and exports."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from config.i18n import COLON, LIST_SEPARATOR, Codes, locale_or_default, lookup, translations
from config.i18n import LOCALES as LOCALES  # web.render and the routes import it from here
from models.errors import DubanError
from models.ledger.problems import Problem
from models.ledger.problems import render as render_problem
from models.states import SWEEP_ACTOR, shown_name


def translator(locale: str) -> Callable[[str], str]:
    """A page's `_`: a msgid (English text, or a state/role/event id) in `locale`'s words."""
    catalog = translations(locale)

    def translate(message: str) -> str:
        return catalog.gettext(str(message))

    return translate


_ROLE_SUFFIX = re.compile(r" \((admin|supervisor|officer|leader)\)$")


def actor_text(label: str, locale: str) -> str:
    """Who did it, as stored in the audit trail ("name <email> (role)", the sweep, an import file),
    with its role and kind in the page's language; the stored label itself never changes."""
    translate = translator(locale)
    if label == SWEEP_ACTOR:
        return translate("the sweep")
    if label.startswith("import:"):
        return translate("ledger import") + COLON[locale_or_default(locale)] + label.removeprefix("import:")
    if found := _ROLE_SUFFIX.search(label):
        role = translate(found.group(1))
        return label[:found.start()] + (f"（{role}）" if locale == "zh-CN" else f" ({role})")
    return label


_PERSON = re.compile(r"^(?P<name>.*?) <(?P<email>[^<>@\s]+@[^<>\s]+)> \((?P<role>admin|supervisor|officer|leader)\)$")


def actor_name(label: str, locale: str, unit: str | None = None) -> str:
    """Who did it as a clerk says it on a page: the name and, in brackets, the unit for an officer
    (王科员（市发改委）) or the role for the office's people (李督查（督办人）); no email address,
    which only the pages about accounts show, except for someone without a name (models.tables.shown_name).
    Labels of the sweep and imports as actor_text words them."""
    found = _PERSON.match(label)
    if found is None:
        return actor_text(label, locale)
    role, name = found.group("role"), shown_name(found.group("name"), found.group("email"))
    bracketed = unit if unit and role == "officer" else translator(locale)(role)
    return f"{name}（{bracketed}）" if locale == "zh-CN" else f"{name} ({bracketed})"


# Params whose values are ids (a status, an action, a field); each shows as its label.
LABELLED = ("status", "allowed", "options", "action", "field", "role")
ACTOR = "by"  # a param holding an audit trail's actor label, shown as `actor_name` words it
LABEL = "label"  # the msgctxt of an id's label ("text" as a field to fill in, not the progress text)


def error_message(exc: DubanError, locale: str) -> str:
    """The refusal in `locale`'s words, from its code and params; str(exc) when the code has none.

    Plain text: the page escapes it like any other value.
    """
    locale = locale_or_default(locale)
    template = lookup(locale, exc.code) if exc.code else None
    if template is None:
        return str(exc)
    try:
        # vformat takes only plain field names from our own templates; values are never parsed.
        return string.Formatter().vformat(template, (), _labelled(exc.params, locale))
    except (KeyError, IndexError, ValueError):
        return str(exc)


def reason_message(exc: DubanError, ref: str, locale: str) -> str:
    """The refusal as the reason on a list's line that already names its item `ref` (a bulk 催办 or
    decision report): error_message without its leading reference, so the line says it once."""
    return without_ref(error_message(exc, locale), ref)


def without_ref(message: str, ref: str) -> str:
    """`message` without a leading `ref` and the colon or space after it; as it is when it starts
    otherwise (新时代意见/3 is not the start of 新时代意见/38)."""
    rest = message.removeprefix(ref) if ref else message
    if rest == message or rest[:1] not in (":", "：", " "):
        return message
    return rest.lstrip(":：").lstrip() or message


def problem_message(problem: Problem, locale: str) -> str:
    """A refused ledger's problem in `locale`'s words; its English reason when the words are missing."""
    locale = locale_or_default(locale)
    try:
        return render_problem(problem.code, _labelled(problem.params, locale), Codes(locale),
                              LIST_SEPARATOR[locale])
    except (KeyError, IndexError, ValueError):
        return problem.reason


def label(value: object, locale: str) -> str:
    """An id (an action, a field, a status) as people read it: its label, else its word."""
    text = str(value)
    return lookup(locale, text, LABEL) or translations(locale).gettext(text)


def _labelled(params: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """Params named in LABELLED (ids) as their labels in `locale`, lists of them joined; `by` (who did
    it) as `actor_name` words it; others as is."""
    shown = dict(params)
    for name, value in params.items():
        if name in LABELLED:
            values = value if isinstance(value, list) else [value]
            shown[name] = LIST_SEPARATOR[locale].join(label(v, locale) for v in values)
        elif name == ACTOR:
            shown[name] = actor_name(str(value), locale)
    return shown
