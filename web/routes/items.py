"""The item list (/items, its .xlsx export) and the item page (/items/{id}) with its actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from models.errors import ConflictError, InvalidInput
from models.lifecycle import TRANSITIONS, URGER_ROLES, Action, apply
from models.read.filters import UnitRole, first_column, plain_rows, visible_units
from models.read.views import SORTS, ItemPage, ItemQuery, item_detail, list_rows, page_of_items
from models.tables import Document, Status
from web.access import check_version, visible_item
from web.deps import (
    DB_INT_MAX,
    CurrentUser,
    DbInt,
    NowDep,
    PageRouter,
    SessionDep,
    SettingsDep,
    after_change,
    inline_on_sqlite,
)
from web.i18n import error_message
from web.itemview import action_payload
from web.render import flash, fragment, locale_for, redirect, render, wants_fragment
from web.workbooks import XLSX, items_workbook

router = PageRouter(include_in_schema=False)
_TEXT_FIELDS = ("document", "unit", "unit_role", "status", "open", "overdue", "due_soon", "unacknowledged", "returned",
                "level", "q", "supervisor", "archived")


async def item_query(request: Request, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> ItemQuery:
    """The list's filters from the URL; empty fields (as plain forms send them) mean 'any'.

    The text fields are read from the query string here, as FastAPI reads a `str` parameter (the
    last of repeated ones, missing as its default): declared one by one, their validation cost
    0.4 ms of every list page. `page`, the one field that can be malformed, stays declared, so
    its refusals are FastAPI's as before.
    """
    given = request.query_params
    document, unit, unit_role, status, open, overdue, due_soon, unacknowledged, returned, level, q, supervisor, \
        archived = (given.get(name, "") for name in _TEXT_FIELDS)
    sort = given.get("sort", "deadline")
    if status and status not in Status.__members__.values():
        raise InvalidInput(f"unknown status {status!r}; use one of {', '.join(Status)}", code="filter.unknown_status",
                           params={"status": status, "options": list(Status)})
    if level and not (level.isascii() and level.isdigit() and int(level) <= DB_INT_MAX):
        raise InvalidInput(f"the escalation level must be a number, not {level!r}", code="filter.bad_level",
                           params={"level": level})
    if unit_role and unit_role not in UnitRole.__members__.values():
        raise InvalidInput(f"unknown unit role {unit_role!r}; use one of {', '.join(UnitRole)}",
                           code="filter.unknown_unit_role", params={"value": unit_role})
    return ItemQuery(
        document=document.strip(), unit=unit.strip(), unit_role=UnitRole(unit_role or UnitRole.ANY),
        status=Status(status) if status else None, open=bool(open), overdue=bool(overdue), due_soon=bool(due_soon),
        unacknowledged=bool(unacknowledged), returned=bool(returned), level=int(level) if level else None,
        q=q.strip()[:200], sort=sort if sort in SORTS else "deadline", page=page, supervisor=supervisor.strip()[:320], archived=bool(archived),
    )


ItemQueryDep = Annotated[ItemQuery, Depends(item_query)]
_DOCUMENT_NAMES = select(Document.short_name).order_by(col(Document.short_name))


@router.get("/items")
@inline_on_sqlite
def items(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
          query: ItemQueryDep) -> Response:
    """The whole page, or for htmx (the filters, the pager) only the results it swaps in."""
    locale = locale_for(request, user)
    problem = ""
    try:
        found = page_of_items(session, user, query, now, settings.tz)
    except InvalidInput as exc:  # a unit that is unknown or ambiguous: say so above an empty list
        found, problem = ItemPage([], 0), error_message(exc, locale)
    results = {"rows": found.rows, "total": found.total, "query": query, "unit_shown": found.unit,
               "problem": problem, "pages": max(1, -(-found.total // query.per_page)),
               "urging": user.role in URGER_ROLES, "urgeable": TRANSITIONS[Action.URGE].sources}
    response: Response
    if wants_fragment(request):
        html = fragment("items_results.html", locale, settings.tz, **results)
        # The address bar shows the tidy URL the pager and the export use, not every empty field.
        response = HTMLResponse(html, headers={"HX-Push-Url": query.url()})
    else:
        documents = first_column(plain_rows(session), _DOCUMENT_NAMES)
        response = render(request, "items.html", user, nav="items", documents=documents,
                          units=visible_units(session, user), statuses=list(Status), sorts=list(SORTS), **results)
    response.headers["Vary"] = "HX-Request"  # one URL, two answers: caches must keep them apart
    return response


@router.get("/items.xlsx")
def export(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
           query: ItemQueryDep) -> Response:
    """The current view, every page of it, as a spreadsheet."""
    tz = settings.tz
    rows = list_rows(session, user, query, now, tz, everything=True)
    stamp = now.astimezone(tz).strftime("%Y%m%d-%H%M")
    return Response(
        items_workbook(session, rows, now=now, tz=tz, locale=locale_for(request, user)), media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="duban-items-{stamp}.xlsx"'},
    )


@router.get("/items/{item_id}")
@inline_on_sqlite
def item_page(request: Request, item_id: DbInt, session: SessionDep, user: CurrentUser, now: NowDep,
              settings: SettingsDep) -> Response:
    item = visible_item(session, user, item_id)
    detail = item_detail(session, user, item, now, settings.tz, locale_for(request, user))
    return render(request, "item.html", user, nav="items", item=detail,
                  today=now.astimezone(settings.tz).date())


@router.post("/items/{item_id}/act")
def act(
    request: Request, item_id: DbInt, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
    action: Annotated[Action, Form()], version: Annotated[DbInt | None, Form()] = None,
    text: Annotated[str, Form()] = "", percent: Annotated[str, Form()] = "",
    evidence: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
    deadline: Annotated[str, Form()] = "", comment: Annotated[str, Form()] = "",
    seen: Annotated[int | None, Form(ge=0, le=1_000_000)] = None,
    title: Annotated[str, Form()] = "", lead_unit: Annotated[str, Form()] = "",
    co_units: Annotated[str, Form()] = "", supervisor: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "", frequency: Annotated[str | None, Form()] = None,
) -> Response:
    item = visible_item(session, user, item_id)
    fields = {"text": text, "percent": percent, "evidence": evidence, "reason": reason,
              "deadline": deadline, "comment": comment}
    if action is Action.EDIT:  # the edit form's fields (kept after a conflict like the others)
        fields |= {"title": title, "lead_unit": lead_unit, "co_units": co_units, "supervisor": supervisor,
                   "category": category}
        if frequency is not None:  # a form from before the field existed leaves the frequency alone
            fields["frequency"] = frequency
    try:
        check_version(item, version)
        apply(session, item, action, user, now, **action_payload(action, fields))
    except ConflictError:
        session.rollback()
        return _changed_meanwhile(request, session, user, now, settings, item_id, {"action": action, **fields}, seen)
    session.commit()
    after_change(request, now)
    flash(request, "Done.")
    return redirect(f"/items/{item_id}")


def _changed_meanwhile(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
                       item_id: int, typed: dict[str, str], seen: int | None) -> Response:
    """The item page again (409): what they typed still in its form, and the events since they loaded it.

    `seen` is how many events the page they loaded showed; the timeline lists the newest first.
    """
    item = visible_item(session, user, item_id)
    detail = item_detail(session, user, item, now, settings.tz, locale_for(request, user))
    timeline = detail["timeline"]
    changed = timeline[:max(0, len(timeline) - seen)] if seen is not None else []
    return render(request, "item.html", user, 409, nav="items", item=detail,
                  today=now.astimezone(settings.tz).date(), typed=typed, changed=changed)
