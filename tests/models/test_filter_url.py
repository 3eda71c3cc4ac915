"""ItemFilter.params / url: the fields tested one by one give what the former dict-of-every-field
filter gave, and the address is urlencode's, for every combination of fields and odd characters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from models.read.filters import ItemFilter, UnitRole
from models.states import Status

TEXT = st.sampled_from(["", "文件1", "市发改委", "a+b&c=d%/#?", "x y", "Sup@DC.gov.cn", "<i>\"'", "0"])


def reference_params(f: ItemFilter, **changes: Any) -> dict[str, Any]:
    """ItemFilter.params as written before (every field in a dict, the empty ones dropped)."""
    f = replace(f, **changes) if changes else f
    out = {
        "document": f.document, "unit": f.unit,
        "unit_role": "" if not f.unit or f.unit_role == UnitRole.ANY else str(f.unit_role),
        "status": f.status or "", "open": "1" if f.open else "", "overdue": "1" if f.overdue else "",
        "due_soon": "1" if f.due_soon else "", "unacknowledged": "1" if f.unacknowledged else "",
        "returned": "1" if f.returned else "", "level": "" if f.level is None else str(f.level), "q": f.q,
        "supervisor": f.supervisor,
    }
    out["archived"] = "1" if f.archived else ""
    return {k: v for k, v in out.items() if v}


filters = st.builds(
    ItemFilter, document=TEXT, unit=TEXT, unit_role=st.sampled_from(list(UnitRole)),
    status=st.sampled_from([None, *Status]), open=st.booleans(), overdue=st.booleans(), due_soon=st.booleans(),
    unacknowledged=st.booleans(), returned=st.booleans(), level=st.sampled_from([None, 0, 1, 2, 3]), q=TEXT,
    supervisor=TEXT, archived=st.booleans(),
)


@settings(max_examples=500, deadline=None)
@given(filters, st.sampled_from([{}, {"overdue": True}, {"unit": "单位&1"}, {"level": 0}, {"status": Status.SUBMITTED}]))
def test_params_and_url_are_the_reference_ones(f: ItemFilter, changes: dict[str, Any]) -> None:
    expected = reference_params(f, **changes)
    assert list(f.params(**changes).items()) == list(expected.items())
    query = urlencode(expected)
    assert f.url(**changes) == (f"/items?{query}" if query else "/items")
    assert f.url("/export", **changes) == (f"/export?{query}" if query else "/export")
