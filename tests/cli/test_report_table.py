"""`duban report`'s tables: laid out by cli.views.plain_table where Rich would write no colours,
the same characters as Rich's tables, on many names, figures and console widths."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from cli import common, views
from config.settings import get_settings

names = st.text(alphabet=st.sampled_from(list("市发改委财政局单位ABCxyz 0123-_（）·") + ["[", "]", ":", "\\", "é"]),
                min_size=1, max_size=24).filter(lambda name: name.strip() == name and name)
figures = st.fixed_dictionaries({
    "total": st.integers(0, 100_000), "signed_off": st.integers(0, 100_000), "rate": st.floats(0, 100),
    "open": st.integers(0, 100_000), "overdue": st.integers(0, 5000), "acknowledged": st.integers(0, 9),
    "unacknowledged": st.integers(0, 9), "acknowledge_rate": st.floats(0, 100), "urged": st.integers(0, 999),
    "periods_due": st.integers(0, 3), "on_time_rate": st.floats(0, 100),
})


def printed(data: dict[str, Any], width: int, *, rich_only: bool) -> str:
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(common, "console", Console(file=out, width=width, **common.AS_WRITTEN))
        if rich_only:
            monkeypatch.setattr(views, "plain_table", lambda *args: None)
        views.render_report(data)
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(documents=st.lists(names, max_size=3, unique=True), units=st.lists(names, max_size=12, unique=True),
       numbers=st.lists(figures, min_size=15, max_size=15), width=st.sampled_from([40, 79, 80, 119, 120, 160, 200]),
       locale=st.sampled_from(["zh-CN", "en"]))
def test_the_same_text_as_rich(documents, units, numbers, width, locale) -> None:  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DUBAN_LOCALE", locale)
        get_settings.cache_clear()
        data = {"as_of": "2024-06-03T10:00:00+08:00",
                "documents": [{"document": n, **f} for n, f in zip(documents, numbers, strict=False)],
                "units": [{"unit": n, **f} for n, f in zip(units, numbers[3:], strict=False)]}
        try:
            assert printed(data, width, rich_only=False) == printed(data, width, rich_only=True)
        finally:
            get_settings.cache_clear()


def test_the_fast_layout_is_taken_when_nothing_needs_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "console", Console(file=io.StringIO(), width=200, **common.AS_WRITTEN))
    rows = [["市发改委", "12", "0"], ["单位0001", "3", "1"]]
    assert views.plain_table("按牵头单位统计", ["牵头单位", "总数", "超期"], rows) is not None
    assert views.plain_table("按牵头单位统计", ["牵头单位", "总数", "超期"], [["[b]单位[/b] :x:", "1", "0"]]) is not None
    assert views.plain_table("按牵头单位统计", ["牵头单位", "总数", "超期"], [["单位\n二", "1", "0"]]) is None
    monkeypatch.setattr(common, "console", Console(file=io.StringIO(), width=200, force_terminal=True, **common.AS_WRITTEN))
    assert views.plain_table("按牵头单位统计", ["牵头单位", "总数", "超期"], rows) is None  # colours: Rich's
