"""Mail templates: one template per kind (templates/<kind>.{subject.txt,txt,html}) with its words
from the gettext catalogs (config/i18n), rendered in the recipient's language; header cleaning."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.bccache import Bucket
from jinja2.runtime import Context
from markupsafe import Markup, escape

from config.i18n import (
    DEFAULT_LOCALE,
    LOCALES,
    N_,
    gettext,
    locale_or_default,
    pgettext,
    translations,
    week_name,
    zone_name,
)
from notifications.sections import RowsSlot, section_writer

__all__ = ["DEFAULT_LOCALE", "LOCALES", "clean_header", "environment", "has_template", "locale_or_default",
           "render", "render_subject"]

TEMPLATES = Path(__file__).parent / "templates"

# Every character class that could end or fold a header line or hide in one: CR, LF, other line
# and paragraph separators, control and format characters, unassigned, private and surrogate code
# points; unusual spaces become plain spaces.
_BAD = {"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp", "Zs"}
_SPACES = re.compile(r"\s+")


def clean_header(text: str, limit: int = 200) -> str:
    """One line of printable text, safe to put in a header: no CR/LF, no control characters."""
    text = str(text)
    # str.isprintable() is False for exactly the characters in _BAD but the plain space (checked
    # over every code point in tests/mail/test_builders.py): most headers need no look-up per character.
    cleaned = text if text.isprintable() else "".join(" " if unicodedata.category(ch) in _BAD else ch for ch in text)
    cleaned = _SPACES.sub(" ", cleaned).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _date(value: object, fmt: str = "%Y-%m-%d") -> str:
    if type(value) is date:  # a deadline: the same few hundred days over and over in a digest's rows
        return _day(value, fmt)
    if value is None or value == "":
        return ""
    if isinstance(value, date | datetime):
        return value.strftime(fmt)
    return str(value)


@functools.lru_cache(maxsize=4096)
def _day(day: date, fmt: str) -> str:
    """A plain date's text, remembered (a datetime is not: equal instants in two zones read differently)."""
    return day.strftime(fmt)


def _when(locale: str) -> Any:
    def when(value: datetime) -> str:
        """An aware local time as people read it, with the zone in words: 2024年06月03日 09:00（北京时间）."""
        zone = getattr(value.tzinfo, "key", None) or value.strftime("%Z")
        shown = value.strftime(gettext(locale, N_("%Y-%m-%d %H:%M")))
        return gettext(locale, N_("{time} ({zone})")).format(time=shown, zone=zone_name(zone, locale))

    return when


def _changes(details: Any, locale: str) -> str:
    """An edit's changed fields in words, old → new (models/read/timeline.py says how)."""
    from models.read.timeline import change_phrases

    return ("；" if locale == "zh-CN" else "; ").join(change_phrases(details, locale))


@functools.cache
def _cell_values(locale: str, markup: bool) -> Any:
    """A function of (line, key) giving a notice's extra column's value (its days left, escalation
    level, role, reason, ...); in html the translated words are Markup (as `_()` in a template) and
    the values are escaped where they are shown."""
    words = Markup if markup else str
    level = words(gettext(locale, N_("level %(n)s")))
    lead, co = words(pgettext(locale, "role", "lead unit")), words(pgettext(locale, "role", "co-unit"))

    def value(line: Any, key: str) -> Any:
        if key == "details.level":
            return level % {"n": line.details.get("level", "")}
        if key == "role":
            return lead if line.role == "lead" else co
        if key == "changes":
            return _changes(line.details, locale)
        if key.startswith("details."):
            return _date(line.details.get(key[8:], ""))
        return getattr(line, key)

    return value


def _item_rows(locale: str) -> Any:
    def item_rows(lines: Iterable[Any], columns: Sequence[tuple[str, Any]], lead_unit_label: Markup,
                  deadline_label: Markup) -> Markup:
        """A notice table's rows (item_table in _macros.html), each `<tr>` written whole here as the
        template wrote it cell by cell: the labels are the template's own (Markup), the ledger's
        text and the extra columns' values escaped as `{{ }}` escapes them."""
        if isinstance(lines, RowsSlot):
            return Markup(lines.fill(item_rows, columns, lead_unit_label, deadline_label))
        value = _cell_values(locale, True)
        lead_label, deadline = escape_text(lead_unit_label), escape_text(deadline_label)
        labels = [(key, escape_text(label)) for key, label in columns]
        out = []
        for line in lines:
            extra = "".join([f"<td>{label}{_shown(value(line, key))}</td>" for key, label in labels])
            out.append(f'<tr><td class="lead"><a href="{escape_text(line.url)}">{escape_text(line.ref)}</a></td>'
                       f'<td>{escape_text(line.title)}</td><td>{lead_label}{escape_text(line.lead_unit)}</td>'
                       f'<td class="num">{deadline}{_shown_day(line.deadline)}</td>{extra}</tr>\n')
        return Markup("".join(out))

    return item_rows


def _list_rows(locale: str) -> Any:
    def list_rows(lines: Iterable[Any], columns: Sequence[tuple[str, Any]], first: str, more: str) -> str:
        """A notice list's entries (item_list in _macros.txt), written here as the template wrote them:
        `first` and `more` are the translated patterns, filled in for each line."""
        if isinstance(lines, RowsSlot):
            return lines.fill(list_rows, columns, first, more)
        value = _cell_values(locale, False)
        out = []
        for number, line in enumerate(lines, 1):
            extra = "".join(more % {"label": label, "value": value(line, key)} for key, label in columns)
            out.append(f"{number}. {line.ref!s} {line.title!s}\n"
                       f"   {first % {'lead': line.lead_unit, 'deadline': _date(line.deadline)}}{extra}\n"
                       f"   {line.url!s}\n")
        return "".join(out)

    return list_rows


def escape_text(value: Any) -> str:
    """`escape(value)`'s text, for the ledger's text in rows written in Python (a digest's, a notice's,
    the desk's lists): a str's escaping done here (markupsafe's entities), without making a Markup of
    each (escape() cost ten times as much a value)."""
    if type(value) is not str:
        return escape(value)
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "'" in value:
        value = value.replace("'", "&#39;")
    if '"' in value:
        value = value.replace('"', "&#34;")
    return value


def _shown(value: Any) -> str:
    """A value as `{{ value }}` shows it in html: a count needs no escaping, anything else is escaped."""
    return str(value) if type(value) is int else escape_text(value)


def _shown_day(value: Any) -> str:
    """`{{ value | d }}` in html: a plain date's text needs no escaping."""
    return _day(value, "%Y-%m-%d") if type(value) is date else escape_text(_date(value))


def _progress(progress: Markup, none_reported: Markup, text: Any, at: Any) -> str:
    """The last-progress cell, as `progress % {"text": text, "at": at | d}` writes it (Markup's `%`
    escapes each value), or `none_reported`: the values escaped here, the words formatted as a str."""
    if not at:
        return none_reported
    return str.__mod__(progress, {"text": escape_text(text), "at": escape_text(_date(at))})


def supervisor_rows(lines: Iterable[dict[str, Any]], days_overdue: Markup, original_deadline: Markup,
                    deadline: Markup, last_progress: Markup, progress: Markup, none_reported: Markup,
                    times_returned: Markup) -> Markup:
    """A supervisor digest's overdue rows of one unit (digest_supervisor.html), each `<tr>` written
    whole here, as the template wrote them cell by cell: the words (labels, already Markup) are the
    template's own, the ledger's text is escaped, counts and days are not (nothing in them to escape)."""
    out = []
    for line in lines:
        shown = _progress(progress, none_reported, line["last_progress"], line["last_progress_at"])
        out.append(f'<tr><td class="lead"><a href="{escape_text(line["url"])}">{escape_text(line["ref"])}</a></td>'
                   f'<td>{escape_text(line["title"])}</td><td class="num">{days_overdue}{_shown(line["days_overdue"])}</td>'
                   f'<td>{original_deadline}{_shown_day(line["original_deadline"])}</td>'
                   f'<td>{deadline}{_shown_day(line["deadline"])}</td><td>{last_progress}{shown}</td>'
                   f'<td class="num">{times_returned}{_shown(line["times_returned"])}</td></tr>\n')
    return Markup("".join(out))


def unit_rank_rows(units: Iterable[dict[str, Any]], open_: Markup, overdue: Markup, signed_off_this_week: Markup,
                   rate: Markup) -> Markup:
    """A supervisor digest's lead units ranked (digest_supervisor.html), each `<tr>` written whole here:
    only the unit's name and its list's address are escaped; ranks, counts and the rate (`pct`: digits,
    '.', '%') need none. The open and overdue counts link to the lists they count (count_link)."""
    out = []
    for row in units:
        url = escape_text(row["url"]) if "?" in row["url"] else ""
        out.append(f'<tr><td class="num rank">{_shown(row["rank"])}</td><td class="lead">{escape_text(row["unit"])}</td>'
                   f'<td class="num">{open_}{_linked(row["open"], url, "open=1")}</td>'
                   f'<td class="num">{overdue}{_linked(row["overdue"], url, "overdue=1")}</td>'
                   f'<td class="num">{signed_off_this_week}{_shown(row["signed_this_week"])}</td>'
                   f'<td class="num">{rate}{escape_text(_pct(row["rate"]))}</td></tr>\n')
    return Markup("".join(out))


def count_link(count: Any, url: str, narrowed: str) -> Markup:
    """A digest's count linked to the desk's list it counts: the row's list (`url`, absolute, from the
    configured base URL) narrowed by `narrowed` ("overdue=1", "open=1"). A 0, or a row whose list the
    reader may not open (no address), is not linked."""
    return Markup(_linked(count, escape_text(url) if "?" in url else "", narrowed))


def _linked(count: Any, url: str, narrowed: str) -> str:
    """`count_link` for a row's address already escaped ("" when it has none)."""
    if not count or not url:
        return _shown(count)
    return f'<a href="{url}&amp;{narrowed}">{_shown(count)}</a>'


def unit_lines(lines: Iterable[dict[str, Any]], lead_unit: Markup, role: Markup, role_lead: Markup, role_co: Markup,
               deadline: Markup, days: Markup) -> Markup:
    """A unit digest's overdue or due-soon rows (digest_unit.html), each `<tr>` written whole here."""
    return Markup("".join(
        f'<tr><td class="lead"><a href="{escape_text(line["url"])}">{escape_text(line["ref"])}</a></td>'
        f'<td>{escape_text(line["title"])}</td><td>{lead_unit}{escape_text(line["lead_unit"])}</td>'
        f'<td>{role}{role_lead if line["role"] == "lead" else role_co}</td>'
        f'<td>{deadline}{_shown_day(line["deadline"])}</td>'
        f'<td class="num">{days}{_shown(line["days_overdue"] if line["overdue"] else line["days_left"])}</td></tr>\n'
        for line in lines))


def _pct(value: Any) -> str:
    return f"{float(value):.1f}%"


def _direct_gettext(words: Any) -> dict[str, Any]:
    """`_`, `gettext`, `ngettext` and `pgettext` for the templates as Jinja's newstyle i18n makes them
    (jinja2.ext: the text in the locale's words, Markup where autoescaping, always `%`-formatted with
    the keywords; `num` and `context` by default), calling the catalog directly: Jinja's `_` calls
    `gettext` through the context, which calls the catalog through the context again, three calls
    where one does. A mail says about 45 words, so that was about a sixth of rendering a notice."""

    @pass_context
    def gettext(context: Context, string: str, /, **variables: Any) -> str:
        text = words.gettext(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables  # type: ignore[no-any-return]

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, /, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = words.ngettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables  # type: ignore[no-any-return]

    @pass_context
    def pgettext(context: Context, string_context: str, string: str, /, **variables: Any) -> str:
        variables.setdefault("context", string_context)
        text = words.pgettext(string_context, string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables  # type: ignore[no-any-return]

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext, "pgettext": pgettext}


_compiled_in: list[Path] = []  # where cache_compiled_templates keeps the compiled templates, if anywhere


def cache_compiled_templates(directory: Path) -> None:
    """Keep the mail templates compiled in `directory` (made if missing) for the environments made
    after this call, as Python keeps .pyc files: a process loads them instead of compiling the 15
    templates a notice needs (0.02 s of the 10k reminder job, `duban run`, which asks for it; docs/
    benchmarks.md). Each template is compiled again when its text changed (Jinja compares a
    checksum), and the files live under a name of Jinja's and Python's versions and of this module's
    text, which sets how templates compile. Nothing changes if the directory cannot be written."""
    _compiled_in[:] = [directory]


def _bytecode_cache() -> BytecodeCache | None:
    if not _compiled_in:
        return None
    import hashlib
    import sys

    import jinja2

    from config.datadir import make_private

    made_by = f"{jinja2.__version__} {sys.version}".encode() + Path(__file__).read_bytes()
    directory = _compiled_in[0] / f"mail-templates-{hashlib.sha256(made_by).hexdigest()[:16]}"
    try:  # the data directory too, if missing, closed to other users as `duban doctor` wants it
        make_private(directory)
    except OSError:
        return None
    return _CompiledTemplates(str(directory))


class _CompiledTemplates(FileSystemBytecodeCache):
    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a full or read-only disk: the template is compiled again next time
            pass


class _Environment(Environment):
    def make_globals(self, d: Any = None) -> Any:
        """A template's globals as one dict, not Jinja's ChainMap over the environment's: each render
        and include makes its context from them (`dict(globals)`, `set(globals)`), which through a
        ChainMap was about 15 us of the 60-100 us a small template takes. Every global is set before
        the first template loads (`environment`)."""
        return {**self.globals, **(d or {})}


@functools.cache
def environment(locale: str = DEFAULT_LOCALE) -> Environment:
    """The templates with `locale`'s words (newstyle gettext: `_("... %(name)s", name=...)`, `{% trans %}`)."""
    locale = locale_or_default(locale)
    env = _Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,  # part of the installed code, as the catalogs read once: no stat a template load
        bytecode_cache=_bytecode_cache(),
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(_direct_gettext(translations(locale)))
    env.filters["d"] = _date
    env.filters["pct"] = _pct
    env.filters["week"] = lambda value: week_name(value, locale)
    env.filters["when"] = _when(locale)
    env.filters["changes"] = lambda details: _changes(details, locale)
    env.filters["item_rows"] = _item_rows(locale)
    env.filters["list_rows"] = _list_rows(locale)
    env.globals["notice_section"] = section_writer(env)
    env.globals.update(supervisor_rows=supervisor_rows, unit_rank_rows=unit_rank_rows, unit_lines=unit_lines,
                       count_link=count_link)
    return env


def render(locale: str, name: str, /, **context: Any) -> str:
    """Render `templates/<name>` in `locale`'s words (html is autoescaped, txt is not)."""
    locale = locale_or_default(locale)
    return environment(locale).get_template(name).render({**context, "locale": locale})


def render_subject(locale: str, name: str, /, **context: Any) -> str:
    return clean_header(render(locale, f"{name}.subject.txt", **context))


def has_template(locale: str, name: str) -> bool:
    """Every locale has every template: there is one per kind, worded from the catalogs."""
    return (TEMPLATES / name).is_file()
