"""Rendering pages: the Jinja2 environment (autoescaped), filters, flash messages, the locale."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from config.i18n import COLON, locale_or_default, zone_name
from models.frequency import parse_frequency
from models.read.timeline import event_word
from models.tables import Person
from notifications.documents.pdf import available as pdf_available
from notifications.render import escape_text
from web.charts import spark
from web.deps import csrf_token
from web.i18n import LOCALES, actor_name, translator

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    auto_reload=False,  # templates ship with the package; checking their files on every render cost time
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["spark"] = spark


@jinja2.pass_context
def url_for(context: Mapping[str, Any], name: str, /, **path_params: Any) -> str:
    """Starlette's `url_for` for templates, remembered: each page asks for the same three static files,
    and building each URL (the route's path, then the absolute URL from the request's base) cost
    more than the rest of the page's head."""
    request: Request = context["request"]
    router = request.scope.get("router") or request.scope["app"]
    key = (id(router), str(request.base_url), name, tuple(sorted(path_params.items())))
    hit = _urls.get(key)
    if hit is not None and hit[0] is router:  # the same router, not a new one at a freed address
        return hit[1]
    url = str(request.url_for(name, **path_params))
    if len(_urls) > 256:  # routers of apps made and dropped (tests), or many host names
        _urls.clear()
    _urls[key] = (router, url)
    return url


_urls: dict[tuple[Any, ...], tuple[Any, str]] = {}


@jinja2.pass_context
def menu(context: Mapping[str, Any]) -> Markup:
    """The menu of every page (menu.html's macro, as base.html drew it), remembered for each language,
    page, person, form token and path: drawing it (nine links and their words) was a tenth of the
    dashboard's time. The key holds everything the macro shows."""
    user: Person | None = context["user"]
    request: Request = context["request"]
    locale, nav, csrf, path = context["locale"], context["nav"], context["csrf"], request.url.path
    key = (locale, nav, csrf, path, None if user is None else (user.role, user.email, user.shown_name()))
    html = _menus.get(key)
    if html is None:
        module = _env.get_template("menu.html").make_module(
            {"user": user, "request": request, "locale": locale, "nav": nav, "csrf": csrf, "_": context["_"]})
        html = Markup(module.menu())  # type: ignore[attr-defined]
        if len(_menus) > 1024:  # many people, pages or sessions since: start again
            _menus.clear()
        _menus[key] = html
    return html


_menus: dict[tuple[Any, ...], Markup] = {}
_env.globals["menu"] = menu
_env.globals["url_for"] = url_for  # before Jinja2Templates, which sets its own only where none is


def options(values: Iterable[str]) -> Markup:
    """`<option value="...">` for each value, as a datalist wants them: drawn once per list of values
    (the item list's 1,000 unit names took 1.2 ms of Jinja on every request)."""
    return _options(tuple(values))


@functools.lru_cache(maxsize=32)
def _options(values: tuple[str, ...]) -> Markup:
    return Markup("".join(f'<option value="{escape(value)}">' for value in values))


_env.globals["options"] = options

_STATES = ("overdue", "awaiting_sign_off", "assigned", "in_progress", "submitted", "signed_off", "cancelled")


def item_rows(rows: Iterable[Any], translate: Callable[[str], str], urging: bool, urgeable: Collection[str]) -> Markup:
    """The item list's rows (items_results.html), each `<tr>` written whole here: cell by cell in
    Jinja (an escape and a lookup for each value) they took 1.1 ms of every list page. The words
    are looked up and escaped once a page; every value from the ledger is escaped (ids, days, lights and
    due states are the code's own words)."""
    lights = {light: escape(translate(light)) for light in ("red", "yellow", "green")}
    states = {state: escape(translate(state)) for state in _STATES}
    urge, lead, deadline, status, level, urged, unacknowledged = (escape(translate(word)) for word in (
        "Urge", "Lead unit", "Deadline", "Status", "Level", "Urged", "Unacknowledged"))
    level_n = translate("level {n}")
    out = []
    for row in rows:
        item = row.item
        ref = escape_text(row.ref)
        pick = ""
        if urging:
            box = (f'<input type="checkbox" name="item" value="{item.id}" aria-label="{urge} {ref}">'
                   if item.status in urgeable else "")
            pick = f'<td class="pick">{box}</td>'
        word = lights[row.light] if row.light else ""
        light = (f'<span class="dot {row.light}" role="img" aria-label="{word}" title="{word}"></span>'
                 if row.light else "")
        state = states[row.due_state if row.due_state in ("overdue", "awaiting_sign_off") else item.status]
        mark = f' <span class="state unacknowledged">{unacknowledged}</span>' if row.unacknowledged else ""
        levels = escape(level_n.format(n=item.escalation_level)) if item.escalation_level else ""
        title = escape_text(do_truncate(_env, item.title, 60, True, "…"))
        out.append(
            f'    <tr>{pick}<td class="light">{light}</td>\n'
            f'      <td class="nowrap"><a href="/items/{item.id}">{ref}</a></td>\n'
            f'      <td class="title"><a href="/items/{item.id}">{title}</a></td>\n'
            f'      <td data-label="{lead}">{escape_text(row.lead_unit)}</td>\n'
            f'      <td class="nowrap" data-label="{deadline}">{_day(item.deadline)}</td>\n'
            f'      <td data-label="{status}"><span class="state {row.due_state}">{state}</span>{mark}</td>\n'
            f'      <td class="num" data-label="{level}">{levels}</td>\n'
            f'      <td class="num" data-label="{urged}">{row.urged or ""}</td></tr>'
        )
    return Markup("\n".join(out))


_env.globals["item_rows"] = item_rows
_env.globals["pdf_available"] = pdf_available  # the PDF links show only where LibreOffice is installed
templates = Jinja2Templates(env=_env)


def locale_for(request: Request, person: Person | None) -> str:
    chosen = request.session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    if person is not None and person.locale in LOCALES:
        return str(person.locale)
    return str(request.app.state.settings.locale)


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session.setdefault("flash", []).append([kind, text])


def _helpers(locale: str, tz: ZoneInfo) -> dict[str, Any]:
    def local(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return at.astimezone(tz).strftime(fmt) if at else ""

    translate = translator(locale)
    return {"locale": locale, "_": translate, "local": local, "day": _day, "colon": COLON[locale_or_default(locale)],
            "actor": lambda label, unit=None: actor_name(label, locale, unit),
            "event_word": lambda kind: event_word(kind, locale), "frequency": lambda code: _frequency(code, locale)}


def _frequency(code: str | None, locale: str) -> str:
    """A stored frequency (quarterly by day 20) as the reader writes it (每季度20日前); "" for none."""
    frequency = parse_frequency(code) if code else None
    return frequency.text(locale) if frequency else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def fragment(name: str, locale: str, tz: ZoneInfo, **context: Any) -> Markup:
    """A part of a page rendered from `context` alone (no user, no form tokens, no request), as HTML."""
    return Markup(_env.get_template(name).render(**_helpers(locale, tz), **context))


def wants_fragment(request: Request) -> bool:
    """An htmx request that swaps part of the page; htmx restoring history (Back) needs it all."""
    return request.headers.get("hx-request") == "true" and "hx-history-restore-request" not in request.headers


def render(request: Request, name: str, user: Person | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    locale = locale_for(request, user)
    context.update(
        _helpers(locale, settings.tz),
        request=request, user=user, csrf=csrf_token(request), tz_name=zone_name(settings.timezone, locale),
        flashes=request.session.pop("flash", []),
    )
    context.setdefault("nav", "")
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    """After a POST: 303 See Other, so a reload does not post again."""
    return RedirectResponse(url, status_code=303)
