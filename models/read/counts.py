"""The figures' rows without SQLAlchemy: `Row`, rates, the grouped queries' rows made into Rows,
and `duban report`'s figures read through the DBAPI connection (SQLite) with the statements that
models.read.figures builds for the desk, compiled once into models/read/report_sql.py (generated:
`python -m models.read.figures`; tests/web/test_report_sql.py regenerates and compares it, and
compares this reading with build_report's).

The CLI's report reads here so that it imports neither SQLAlchemy, SQLModel nor the tables: 0.3 s
of its start-up (docs/benchmarks.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from models.read.day import Day, due_day_end_shift, sqlite_shift

if TYPE_CHECKING:
    from models.read.filters import ItemFilter


def rate(signed_off: int, total: int) -> float:
    """Percent with one decimal, as offices write it (53 of 103 -> 51.5)."""
    return round(100.0 * signed_off / total, 1) if total else 0.0


@dataclass
class Row:
    name: str
    total: int = 0
    signed_off: int = 0
    open: int = 0
    due_soon: int = 0
    overdue: int = 0
    acknowledged: int = 0  # acknowledged by their lead unit (签收)
    unacknowledged: int = 0  # 未签收: worked on, not acknowledged by their lead unit
    urged: int = 0  # 催办: `urged` events on these items
    periods_due: int = 0  # 频次: periods of these items whose due day is over (models/periods.py)
    periods_on_time: int = 0  # of those, reported by their due day
    trend: list[float] = field(default_factory=list)
    link: ItemFilter | None = None  # the list behind the row's counts (None: the reader may not open it)

    @property
    def rate(self) -> float:
        return rate(self.signed_off, self.total)

    @property
    def acknowledge_rate(self) -> float:
        """签收率: of the items that are or were waiting for their lead unit's 签收, those acknowledged."""
        return rate(self.acknowledged, self.acknowledged + self.unacknowledged)

    @property
    def on_time_rate(self) -> float:
        """按时报送率: of the periods due so far, those reported by their due day."""
        return rate(self.periods_on_time, self.periods_due)

    @property
    def light(self) -> str:
        return "red" if self.overdue else "yellow" if self.due_soon else "green"

    def url(self, **changes: Any) -> str:
        """The list a count of this row opens: e.g. url(overdue=True) for its overdue count."""
        return self.link.url(**changes) if self.link is not None else ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "total": self.total, "signed_off": self.signed_off, "rate": self.rate,
                "open": self.open, "due_soon": self.due_soon, "overdue": self.overdue, "light": self.light,
                "acknowledged": self.acknowledged, "unacknowledged": self.unacknowledged,
                "acknowledge_rate": self.acknowledge_rate, "urged": self.urged,
                "periods_due": self.periods_due, "periods_on_time": self.periods_on_time,
                "on_time_rate": self.on_time_rate,
                **({"trend": self.trend} if self.trend else {})}


def rows_by_key(n: int, counted: Iterable[Sequence[Any]], urged: Iterable[Sequence[Any]],
                periods: Iterable[Sequence[Any]]) -> dict[tuple[Any, ...], Row]:
    """Rows keyed by their `n` key columns' values from the three grouped queries (models.read.figures
    ._count_statements): the counts, the `urged` events, the periods due and reported on time."""
    urged_by_key = {tuple(row[:n]): row[n] for row in urged}
    out = {tuple(k): Row("", int(total), int(s or 0), int(o or 0), int(soon or 0), int(late or 0),
                         int(a or 0), int(u or 0), int(urged_by_key.get(tuple(k), 0)))
           for *k, total, s, o, soon, late, a, u in counted}
    for *k, due, on_time in periods:
        if tuple(k) in out:
            out[tuple(k)].periods_due, out[tuple(k)].periods_on_time = int(due), int(on_time or 0)
    return out


def named(rows: dict[tuple[Any, ...], Row], names: dict[Any, str] | None) -> dict[Any, Row]:
    """Rows grouped by one column, keyed by its value and named from `names` (else the value)."""
    for (k,), row in rows.items():
        row.name = str(k) if names is None else names.get(k, str(k))
    return {k: row for (k,), row in rows.items()}


def report(now: datetime, tz: ZoneInfo, documents: dict[Any, Row], units: dict[Any, Row]) -> dict[str, Any]:
    """`duban report`'s figures: per document and per lead unit, sorted by name."""
    def rows(grouped: dict[Any, Row], label: str) -> list[dict[str, Any]]:
        return [{label: r.name, "total": r.total, "signed_off": r.signed_off, "rate": r.rate, "open": r.open,
                 "overdue": r.overdue, "acknowledged": r.acknowledged, "unacknowledged": r.unacknowledged,
                 "acknowledge_rate": r.acknowledge_rate, "urged": r.urged,
                 "periods_due": r.periods_due, "periods_on_time": r.periods_on_time, "on_time_rate": r.on_time_rate}
                for r in sorted(grouped.values(), key=lambda r: r.name)]

    return {"as_of": now.astimezone(tz).isoformat(), "documents": rows(documents, "document"),
            "units": rows(units, "unit")}


def sqlite_report(connection: sqlite3.Connection, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """`models.read.figures.build_report` on a SQLite database, through its DBAPI connection."""
    day = Day.at(now, tz)
    archived = [document_id for (document_id,) in run_compiled(connection, "archived_documents", {})]
    params = {"today": day.today, "soon_until": day.soon_until, "archived": archived,
              "shift": sqlite_shift(due_day_end_shift(tz, now))}
    grouped = {}
    for key in ("document", "unit"):
        names = dict(run_compiled(connection, f"{key}_names", {}))
        found = [run_compiled(connection, f"{key}_{part}" + ("_archived" if archived else ""), params)
                 for part in ("counts", "urged", "periods")]
        grouped[key] = named(rows_by_key(1, *found), names)
    return report(now, tz, grouped["document"], grouped["unit"])


def run_compiled(connection: sqlite3.Connection, name: str, params: dict[str, Any]) -> list[Any]:
    """One statement of models/read/report_sql.py with `params` (dates as SQLAlchemy stores them on
    SQLite, a list for an expanding parameter) and its constants."""
    from models.read.report_sql import SQLITE

    sql, constants = SQLITE[name]
    return run_sqlite(connection, sql, {**constants, **params})


def run_sqlite(connection: sqlite3.Connection, sql: str, params: Mapping[str, Any]) -> list[Any]:
    """`sql` (SQLAlchemy's text for SQLite, named parameters) on a sqlite3 connection: each list
    parameter spread into its own markers as SQLAlchemy expands them, dates as SQLAlchemy stores them
    on SQLite; names the statement does not use are left to sqlite3, which ignores them."""
    values: dict[str, Any] = {}
    for key, value in params.items():
        marker = f"(__[POSTCOMPILE_{key}])"
        if marker in sql:
            sql = sql.replace(marker, "(" + ", ".join(f":{key}_{i}" for i in range(1, len(value) + 1)) + ")")
            values.update((f"{key}_{i}", v) for i, v in enumerate(value, 1))
        else:
            values[key] = value.isoformat() if isinstance(value, date) else value
    return connection.execute(sql, values).fetchall()


def bound_constant(processor: Any, value: Any) -> Any:
    """A statement's constant parameter as SQLAlchemy binds it (`processor`: the type's bind
    processor), an expanding one's values sorted (set order varies by run)."""
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(bound_constant(processor, v) for v in value)
    value = processor(value) if processor is not None else value
    return value.value if isinstance(value, Enum) else value
