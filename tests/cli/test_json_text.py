"""`--json` output: cli.common.json_text writes the same characters as json.dumps with indent=2,
for the flat rows it encodes itself and for everything else."""

from __future__ import annotations

import enum
import json
from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cli.common import json_text


class Shade(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    ONE = 1


texts = st.text(alphabet=st.sampled_from(list('市发改委ab"\\\n\t\x00 {},:[]') + ["é", "\u2028", "😀"]), max_size=12)
scalars = (st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True, allow_infinity=True)
           | texts | st.just(Shade.RED) | st.just(Level.ONE) | st.dates())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                      max_leaves=6)
flat_rows = st.lists(st.dictionaries(texts | st.integers(0, 9), scalars, max_size=6), max_size=6)


def expected(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


@given(flat_rows)
def test_flat_rows_read_as_json_dumps_writes_them(rows):
    assert json_text(rows) == expected(rows)


@given(st.lists(st.dictionaries(texts, values, max_size=4), max_size=4) | values)
def test_anything_else_reads_as_json_dumps_writes_it(data):
    assert json_text(data) == expected(data)


def test_an_item_row():
    row = {"id": 7, "ref": "新时代意见/7", "status": Shade.RED, "deadline": date(2024, 6, 30).isoformat(),
           "unacknowledged": False, "urged": 0, "light": None}
    assert json_text([row, row]) == expected([row, row])
