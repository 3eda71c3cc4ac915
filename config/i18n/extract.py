"""Finding the msgids duban's code and templates use (Babel's extractors), and checking the catalogs.

Python code calls `_("...")` (pages' and CLI's lookup), `n_("one", "many", n)` for plural forms,
`N_("...")` to mark a word looked up later, `flash(request, "...")` and config.i18n's
`pgettext(locale, "context", "...")`; templates use `_()`,
`ngettext()` and `{% trans %}`. `python -m config.i18n` prints what the zh_CN catalog lacks and compiles
the .mo files.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from config.i18n import CATALOG_NAMES, DOMAIN, LOCALE_DIR

ROOT = LOCALE_DIR.parents[2]
PACKAGES = ("config", "models", "notifications", "flows", "web", "cli")
PYTHON_KEYWORDS = {"_": None, "N_": None, "n_": (1, 2), "flash": (2,), "pgettext": ((2, "c"), 3)}
TEMPLATE_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
IGNORED = [("**/samples/**", "ignore"), ("**/static/**", "ignore")]
PYTHON = [*IGNORED, ("**.py", "python"), ("**.html", "ignore"), ("**.txt", "ignore")]
TEMPLATES = [*IGNORED, ("**.py", "ignore"), ("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2")]
JINJA = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"},
         "**/templates/**.txt": {"extensions": "jinja2.ext.i18n"}}

Msgid = tuple[str, str | None, str | None]  # (msgid, plural, context)


def used() -> dict[Msgid, str]:
    """Every msgid the code and templates use, with one place it is used."""
    found: dict[Msgid, str] = {}
    for package in PACKAGES:
        directory = ROOT / package
        for method_map, keywords, options in ((PYTHON, PYTHON_KEYWORDS, {}), (TEMPLATES, TEMPLATE_KEYWORDS, JINJA)):
            for filename, lineno, message, _comments, context in extract_from_dir(
                    str(directory), method_map, options, keywords, strip_comment_tags=True):
                singular, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
                found.setdefault((singular, plural, context), f"{package}/{filename}:{lineno}")
    return found


def po_path(locale: str) -> Path:
    return LOCALE_DIR / CATALOG_NAMES[locale] / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as file:
        return read_po(file, locale=CATALOG_NAMES[locale], domain=DOMAIN)


def missing(locale: str = "zh-CN") -> Iterator[tuple[Msgid, str]]:
    """The msgids in use that `locale`'s catalog does not translate."""
    words = catalog(locale)
    for key, where in sorted(used().items(), key=lambda kv: kv[1]):
        entry = words.get(key[0], context=key[2])
        if entry is None or not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
            yield key, where


def compiled(locale: str) -> bytes:
    """`locale`'s .mo as compiling its .po now gives it."""
    out = io.BytesIO()
    write_mo(out, catalog(locale))
    return out.getvalue()


def stale(locale: str) -> dict[str, tuple[object, object]]:
    """Entries where the committed .mo differs from the .po (msgid -> (in .mo, in .po))."""
    mo_path = po_path(locale).with_suffix(".mo")
    with mo_path.open("rb") as file:
        committed = gettext.GNUTranslations(file)._catalog  # type: ignore[attr-defined]
    fresh = gettext.GNUTranslations(io.BytesIO(compiled(locale)))._catalog  # type: ignore[attr-defined]
    return {str(key): (committed.get(key), fresh.get(key)) for key in committed.keys() | fresh.keys()
            if committed.get(key) != fresh.get(key)}


def compile_all() -> list[Path]:
    written = []
    for locale in CATALOG_NAMES:
        path = po_path(locale).with_suffix(".mo")
        path.write_bytes(compiled(locale))
        written.append(path)
    return written
