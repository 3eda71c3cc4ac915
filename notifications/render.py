"""Templates: one Jinja2 environment over `templates/<locale>/`, and header cleaning."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"

# Every character class that could end or fold a header line or hide in one: CR, LF, other line
# and paragraph separators, control and format characters, unassigned, private and surrogate code
# points; unusual spaces become plain spaces.
_BAD = {"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp", "Zs"}
_SPACES = re.compile(r"\s+")


def clean_header(text: str, limit: int = 200) -> str:
    """One line of printable text, safe to put in a header: no CR/LF, no control characters."""
    cleaned = "".join(" " if unicodedata.category(ch) in _BAD else ch for ch in str(text))
    cleaned = _SPACES.sub(" ", cleaned).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def locale_or_default(locale: str | None) -> str:
    return locale if locale in LOCALES else DEFAULT_LOCALE


def _date(value: object, fmt: str = "%Y-%m-%d") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, date | datetime):
        return value.strftime(fmt)
    return str(value)


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["d"] = _date
    env.filters["pct"] = lambda value: f"{float(value):.1f}%"
    return env


def render(locale: str, name: str, /, **context: Any) -> str:
    """Render `templates/<locale>/<name>` (html is autoescaped, txt is not)."""
    return environment().get_template(f"{locale_or_default(locale)}/{name}").render(**context)


def render_subject(locale: str, name: str, /, **context: Any) -> str:
    return clean_header(render(locale, f"{name}.subject.txt", **context))


def has_template(locale: str, name: str) -> bool:
    return (TEMPLATES / locale_or_default(locale) / name).is_file()
