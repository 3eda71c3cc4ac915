"""One statement run for many rows through the DBAPI's executemany, with each value converted by its
column's own bind processor: the same SQL and the same stored values as `connection.execute(statement,
list_of_dicts)`, without SQLAlchemy's per-row parameter handling (building each row's parameters,
looking up and calling the processors through several layers), which was about a third of the
sweep's CPU on the 10k reminder ledger (docs/benchmarks.md, fifth session).

    statement = Many(insert(EVENT), ("item_id", "kind", "at", ...))
    statement.run(session.connection(), [(1, "reminder", now, ...), ...])  # -> rows changed (summed)

Rows are plain tuples in the order of `keys` (the statement's bind parameter names). An object in
several rows (the run's `now`, an address list People shares) is converted once, and so is an empty
list, and an instant for a UTCDateTime column (stored as naive UTC: equal instants store the same
value, whichever objects and zones they come as). An INSERT must name every column that has a
Python-side default, or it refuses to compile (the defaults would not be filled in).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from models.db import UTCDateTime

_Processor = Callable[[Any], Any] | None
# per dialect: the SQL, the order of its positional parameters (None: named), each key's processor,
# the values of the parameters written into the statement, and every parameter's name
# and which keys are instants converted by value
_Compiled = tuple[str, tuple[int, ...] | None, list[_Processor], list[Any], tuple[str, ...], list[bool]]


class Many:
    """`statement` (a Core INSERT or UPDATE with bind parameters named `keys`) for many rows."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str]) -> None:
        self.statement = statement
        self.keys = tuple(keys)
        self._values = itemgetter(*self.keys) if len(self.keys) > 1 else lambda row: (row[self.keys[0]],)
        self._compiled: dict[tuple[str, str, Any], _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.paramstyle, dialect.server_version_info)
        if key not in self._compiled:
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect, column_keys=list(self.keys)))
            if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
                raise ValueError(f"{self.keys}: the statement has Python-side defaults for columns not given")
            binds = compiled.binds
            # a value written into the statement (`outbox_id == -1`) is a parameter of every row
            constants = [name for name, bind in binds.items() if name not in self.keys and not bind.required]
            if set(self.keys) - binds.keys() or set(binds) - set(self.keys) - set(constants):
                raise ValueError(f"{self.keys}: the statement's parameters are {sorted(binds)}")
            names = (*self.keys, *constants)
            processors = [cast(_Processor, binds[name].type._cached_bind_processor(dialect)) for name in self.keys]
            instants = [isinstance(binds[name].type, UTCDateTime) for name in self.keys]
            values = []
            for name in constants:
                process = binds[name].type._cached_bind_processor(dialect)
                values.append(process(binds[name].effective_value) if process else binds[name].effective_value)
            order = (tuple(names.index(name) for name in compiled.positiontup)
                     if compiled.positiontup is not None else None)
            self._compiled[key] = (compiled.string, order, processors, values, names, instants)
        return self._compiled[key]

    def run(self, connection: Connection, rows: Iterable[Sequence[Any]]) -> int:
        """Run the statement once per row in `connection`'s transaction; the rows it changed, summed."""
        sql, order, processors, constants, names, instants = self._compile(connection.dialect)
        columns = list(zip(*rows, strict=True))
        if not columns:
            return 0
        converted = [_convert_instants(values, processor) if instant else _convert(values, processor)
                     for values, processor, instant in zip(columns, processors, instants, strict=True)]
        converted += [[value] * len(columns[0]) for value in constants]
        params: list[Any]
        if order is not None:
            params = list(zip(*(converted[i] for i in order), strict=True))
        else:
            params = [dict(zip(names, row, strict=True)) for row in zip(*converted, strict=True)]
        return connection.exec_driver_sql(sql, params).rowcount  # type: ignore[arg-type]

    def run_dicts(self, connection: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
        """`run` with each row as a mapping holding (at least) `keys`."""
        return self.run(connection, map(self._values, rows))


def _convert(values: Sequence[Any], processor: _Processor) -> Sequence[Any]:
    if processor is None:
        return values
    # One object converted once (the run's now, an address list People shares between notifications);
    # the ids are those of objects `values` holds for the whole call. None too, as SQLAlchemy does
    # (JSON's is "null"). Every empty list once (a notification's cc, mostly): one is like another.
    done: dict[int, Any] = {}
    return [done[key] if (key := 0 if type(value) is list and not value else id(value)) in done
            else done.setdefault(key, processor(value)) for value in values]


def _convert_instants(values: Sequence[Any], processor: _Processor) -> Sequence[Any]:
    """A UTCDateTime column's values, each instant converted once: the sweep's claim has the 10k
    items' next times as some 10,000 objects for a few dozen instants. Two aware datetimes with the
    same `fold` are equal only as the same instant, which UTCDateTime stores as the same naive UTC
    value (with the same tzinfo Python compares the wall time and ignores fold: the fold is part of
    the key). A naive one is equal to no aware one, and is refused as ever; anything else is
    converted once per object, as `_convert` does."""
    if processor is None:
        return values
    done: dict[Any, Any] = {}
    return [done[key] if (key := (value, value.fold) if type(value) is datetime else id(value)) in done
            else done.setdefault(key, processor(value)) for value in values]
