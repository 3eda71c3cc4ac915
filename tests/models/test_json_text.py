"""Every JSON column is written by models.db.json_text (one C encoder made once) instead of
json.dumps (a new encoder each call) and read by json_value instead of json.loads: the same text
for every value a column can hold, the same value (or the same refusal) for any text."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from models.db import json_text, json_value, make_engine
from models.sweep_tables import SweepRun

RUN = SweepRun.__table__  # type: ignore[attr-defined]

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_json_text_is_json_dumps(value: object) -> None:
    assert json_text(value) == json.dumps(value)


def test_json_text_refuses_what_json_dumps_refuses() -> None:
    for value in (date(2024, 6, 3), {1j: 1}, object()):
        with pytest.raises(TypeError):
            json.dumps(value)
        with pytest.raises(TypeError):
            json_text(value)


def test_engine_stores_json_columns_as_json_dumps_writes_them(tmp_path: Path) -> None:
    from migrations.runner import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'json.db'}")
    upgrade(engine)
    extra = {"title": "推动 <政策> & \"落地\"", "days": [1, 2.5, None], "caught_up": []}
    with engine.begin() as connection:
        connection.execute(RUN.insert(), [{"now": datetime(2024, 6, 3, tzinfo=UTC), "events": {}, "warnings": ["年"],
                                           "extra": extra}])
        assert connection.exec_driver_sql("SELECT extra, warnings FROM sweep_run").one() == (json.dumps(extra),
                                                                                            json.dumps(["年"]))
        assert connection.execute(select(RUN.c.extra)).scalar_one() == extra
    engine.dispose()


@given(JSON_VALUES)
def test_json_value_is_json_loads(value: object) -> None:
    text = json.dumps(value)
    assert json.dumps(json_value(text)) == json.dumps(json.loads(text))  # NaN != NaN: compared as text


@pytest.mark.parametrize("text", ['{"a": [1, 2.5, null, "\\u00e9"]}', ' {"a": 1}', '{"a": 1} ', "[]", '"s"', "12", "null",
                                  "\ufeff{}", '{"a": }', "", "NaN", "[1,]", "1 2", b'{"b": 2}', bytearray(b"[3]")])
def test_json_value_reads_or_refuses_any_text_as_json_loads_does(text: str | bytes) -> None:
    def outcome(read: Callable[[Any], Any]) -> tuple[str, str]:
        try:
            return "read", json.dumps(read(text))
        except Exception as exc:  # noqa: BLE001 - the same exception and message is the point
            return type(exc).__name__, str(exc)

    assert outcome(json_value) == outcome(json.loads)
