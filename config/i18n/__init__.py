"""The words people read: one gettext catalog per language (locale/<lang>/LC_MESSAGES/duban.po).

Every layer (pages, CLI, mail, exports) looks its words up here; docs/glossary.md says which word
stands for which concept. msgids are the English sentence, or a code where English needs words
too (refusal codes such as `action.wrong_state`, states such as `in_progress`), so the `en`
catalog holds only those. `{name}` fields are filled in by the caller after translating.

The compiled .mo files are committed and read once per process (no compiling at import, no Babel
at run time). After adding a msgid or changing a .po, `python -m config.i18n` lists the msgids in
use that zh_CN lacks (Babel's extractors, config/i18n/extract.py) and recompiles the .mo files;
tests/i18n fails on a stale .mo or a missing zh_CN entry.
"""

from __future__ import annotations

import functools
import gettext as _gettext
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
DOMAIN = "duban"
LOCALE_DIR = Path(__file__).parent / "locale"
# duban's locale names (as in settings, people and pages) -> gettext's directory names
CATALOG_NAMES = {"zh-CN": "zh_CN", "en": "en"}
# Punctuation is typography, not words: full-width in Chinese.
LIST_SEPARATOR = {"zh-CN": "、", "en": ", "}
CLAUSE_SEPARATOR = {"zh-CN": "；", "en": "; "}
COLON = {"zh-CN": "：", "en": ": "}
# Zones that are China Standard Time: people read it as 北京时间, not as a tz database name.
BEIJING_TIME_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"})


def N_(message: str) -> str:
    """Mark `message` as a msgid for extraction where it is looked up later (in another call)."""
    return message


def locale_or_default(locale: str | None) -> str:
    return locale if locale in LOCALES else DEFAULT_LOCALE


@functools.cache
def translations(locale: str) -> _gettext.NullTranslations:
    """`locale`'s compiled catalog, read once; an unknown locale gets the default one."""
    path = LOCALE_DIR / CATALOG_NAMES[locale_or_default(locale)] / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as file:
        return _gettext.GNUTranslations(file)


def gettext(locale: str, message: str) -> str:
    """`message` in `locale`'s words; the msgid itself when the catalog has none."""
    return translations(locale).gettext(message)


def pgettext(locale: str, context: str, message: str) -> str:
    return translations(locale).pgettext(context, message)


def ngettext(locale: str, singular: str, plural: str, n: int) -> str:
    return translations(locale).ngettext(singular, plural, n)


def lookup(locale: str, message: str, context: str | None = None) -> str | None:
    """`message` in `locale`'s words, or None when the catalog lacks it (for codes, whose msgid is no text)."""
    missing = "\x00"  # never a msgid, so a fallback is told apart from a translation equal to the msgid
    catalog = translations(locale)
    found = catalog.pgettext(context, message) if context else catalog.gettext(message)
    if found != message:
        return found
    key = f"{context}\x04{message}" if context else message
    return found if getattr(catalog, "_catalog", {}).get(key, missing) != missing else None


class Codes(Mapping[str, str]):
    """A locale's words by code (`ledger.row.empty`), as a read-only mapping: KeyError when it has none."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def __getitem__(self, code: str) -> str:
        found = lookup(self.locale, code)
        if found is None:
            raise KeyError(code)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def zone_name(timezone: str, locale: str) -> str:
    """The configured timezone as people say it: 北京时间 / Beijing time, else the zone's name."""
    if timezone in BEIJING_TIME_ZONES:
        return gettext(locale, N_("Beijing time"))
    return timezone


def day_name(day: date, locale: str) -> str:
    """A calendar day as people write it: 2023年6月30日 / 2023-06-30."""
    return gettext(locale, N_("{year}-{month:02d}-{day:02d}")).format(year=day.year, month=day.month, day=day.day)


def week_name(week: str | date, locale: str) -> str:
    """An ISO week ("2023-W26", or a day in it) in the office's form: 2023年第26周 / week 26 of 2023."""
    if isinstance(week, date):
        year, number, _ = week.isocalendar()
    else:
        head, _, tail = str(week).partition("-W")
        if not (head.isdigit() and tail.isdigit()):
            return str(week)
        year, number = int(head), int(tail)
    return gettext(locale, N_("week {week} of {year}")).format(week=number, year=year)
