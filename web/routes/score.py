"""The 考核 scores page (/score) and its spreadsheet (/score.xlsx), for supervisors, leaders and admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from config.i18n import N_
from config.scoring import DEFAULT_SCORING_FILE, RULE_WORDS, ScoringError, load_scoring
from config.settings import Settings
from models.errors import InvalidInput
from models.read.due import reminder_window
from models.read.filters import overseen_units
from models.scoring import PERIODS, Scoreboard, parts_of, period_of, scoreboard_parts
from models.sheets import DATE, XLSX, Column, Table, xlsx
from web.access import require_office_papers
from web.deps import CurrentUser, NowDep, PageRouter, SessionDep, SettingsDep
from web.i18n import translator
from web.render import locale_for, render

router = PageRouter(include_in_schema=False)
SHOWN_LINES = 50  # a unit's lines on the page; the spreadsheet has them all
PERIOD_WORDS = {"month": N_("Month"), "quarter": N_("Quarter"), "year": N_("Year"), "custom": N_("Custom")}


@dataclass(frozen=True)
class Period:
    kind: str
    on: date
    start: date
    end: date

    def query(self) -> str:
        return urlencode({"period": self.kind, "on": self.on.isoformat(), "from": self.start.isoformat(),
                          "to": self.end.isoformat()})


def _day(value: str, name: str, default: date) -> date:
    if not value.strip():
        return default
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date; write YYYY-MM-DD", code="request.field_not_date",
                           params={"field": name}) from None


def _period(now: datetime, settings: Settings, period: str, on: str, start: str, end: str) -> Period:
    today = now.astimezone(settings.tz).date()
    kind = period if period in PERIODS else "month"
    day = _day(on, "on", today)
    if kind == "custom":
        first, last = _day(start, "from", today.replace(day=1)), _day(end, "to", today)
    else:
        first, last = period_of(kind, day)
    return Period(kind, day, first, last)


def _scores(session: Session, settings: Settings, period: Period, now: datetime,
            parts: bool = False) -> tuple[Scoreboard, list[Scoreboard]]:
    """The period's scores, and (`parts`) those of its months and quarters when it spans several.

    A scoring file that cannot be read is the office's to fix: it is shown, not a server error.
    """
    try:
        model = load_scoring(settings.scoring_file or DEFAULT_SCORING_FILE)  # the app's settings, not the process's
    except ScoringError as exc:
        raise InvalidInput(str(exc), code="score.bad_model", params={"problem": str(exc)}) from None
    within = parts_of(period.start, period.end) if parts else []
    # The same read as `duban score` and the digest (models/scoring_sql.py): one truth.
    return scoreboard_parts(session, model, reminder_window().calendar, settings.tz, period.start, period.end, now,
                            [(a, b) for _, a, b in within] if len(within) > 1 else [])


Text = Annotated[str, Query(max_length=20)]


@router.get("/score")
def score_page(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
               period: Text = "month", on: Text = "", start: Annotated[str, Query(alias="from", max_length=20)] = "",
               end: Annotated[str, Query(alias="to", max_length=20)] = "") -> Response:
    """Every unit's score and rank for a month, quarter, year or chosen days, each point explained."""
    require_office_papers(user)
    chosen = _period(now, settings, period, on, start, end)
    board, _parts = _scores(session, settings, chosen, now)
    return render(request, "score.html", user, nav="score", board=board, period=chosen, periods=PERIOD_WORDS,
                  rule_words=RULE_WORDS, shown_lines=SHOWN_LINES, mine=overseen_units(user))


@router.get("/score.xlsx")
def score_xlsx(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
               period: Text = "month", on: Text = "", start: Annotated[str, Query(alias="from", max_length=20)] = "",
               end: Annotated[str, Query(alias="to", max_length=20)] = "") -> Response:
    """The scores as a spreadsheet: the ranked table, each point, and the months (and quarters) within."""
    require_office_papers(user)
    chosen = _period(now, settings, period, on, start, end)
    board, parts = _scores(session, settings, chosen, now, parts=True)
    data = score_workbook(board, parts, locale_for(request, user))
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="duban-scores-{chosen.start}-{chosen.end}.xlsx"'})


def score_workbook(board: Scoreboard, parts: list[Scoreboard], locale: str) -> bytes:
    _ = translator(locale)
    above = [[_("Scores from {start} to {end}").format(start=board.start, end=board.end)],
             [_("Base"), float(board.base)]]
    tables = [Table(_("Scores"), [Column(_("Rank"), 6), Column(_("Unit"), 24), Column(_("Score"), 9),
                                  Column(_("Deductions"), 9), Column(_("Additions"), 9)],
                    ([u.rank, u.unit, float(u.score), float(u.deducted), float(u.added)] for u in board.units),
                    above=above)]
    if parts:
        by_unit = [{u.unit_id: u for u in part.units} for part in parts]
        tables.append(Table(_("Scores by period"), [Column(_("Unit"), 24), *(
            Column(f"{p.start:%Y-%m}" if p.start.month == p.end.month else f"{p.start:%Y-%m}~{p.end:%m}", 10)
            for p in parts)], ([u.unit, *(float(scores[u.unit_id].score) for scores in by_unit)] for u in board.units),
            above=above[:1]))
    tables.append(Table(_("Explanation"), [
        Column(_("Unit"), 24), Column(_("Rule"), 16), Column(_("Points"), 8), Column(_("Item"), 18),
        Column(_("Event"), 8), Column(_("Start day"), 11, DATE), Column(_("End day"), 11, DATE), Column(_("capped"), 8)],
        ([u.unit, _(RULE_WORDS[x.rule]), float(x.points), x.item, x.event_id, x.on, x.until or x.on,
          _("yes") if x.capped else ""] for u in board.units for x in u.deductions + u.additions), above=above[:1]))
    return xlsx(*tables)
