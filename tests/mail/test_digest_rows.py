"""The supervisor and unit digests' table rows are written whole in Python (notifications/render.py:
supervisor_rows, unit_rank_rows, unit_lines), not cell by cell in Jinja: every digest still renders
byte for byte as it did. The templates' row loops as they were are kept here and put back into the
same templates, rendered through the same environment, on every digest of a weekly run in zh-CN and
en, and again with the ledger's text made to need escaping or look like format placeholders."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import ChoiceLoader, DictLoader, Environment
from markupsafe import Markup, escape

from notifications import render
from notifications.render import TEMPLATES, environment
from tests.mail.test_mime import digest_calls

OLD = {
    "digest_supervisor.html": [
        ('''{{ supervisor_rows(lines, lbl_days_overdue, lbl_original_deadline, lbl_deadline, lbl_last_progress, progress, none_reported, lbl_times_returned) -}}
''', '''{% for line in lines %}
<tr><td class="lead"><a href="{{ line["url"] }}">{{ line["ref"] }}</a></td><td>{{ line["title"] }}</td><td class="num">{{ lbl_days_overdue }}{{ line["days_overdue"] }}</td><td>{{ lbl_original_deadline }}{{ line["original_deadline"] | d }}</td><td>{{ lbl_deadline }}{{ line["deadline"] | d }}</td><td>{{ lbl_last_progress }}{% if line["last_progress_at"] %}{{ progress % {"text": line["last_progress"], "at": line["last_progress_at"] | d} }}{% else %}{{ none_reported }}{% endif %}</td><td class="num">{{ lbl_times_returned }}{{ line["times_returned"] }}</td></tr>
{% endfor %}
'''),
        ('''{{ unit_rank_rows(units, lbl_open, lbl_overdue, lbl_signed_off_this_week, lbl_rate) -}}
''', '''{% for row in units %}
<tr><td class="num rank">{{ row["rank"] }}</td><td class="lead">{{ row["unit"] }}</td><td class="num">{{ lbl_open }}{% if row["open"] and "?" in row["url"] %}<a href="{{ row["url"] }}&amp;open=1">{{ row["open"] }}</a>{% else %}{{ row["open"] }}{% endif %}</td><td class="num">{{ lbl_overdue }}{% if row["overdue"] and "?" in row["url"] %}<a href="{{ row["url"] }}&amp;overdue=1">{{ row["overdue"] }}</a>{% else %}{{ row["overdue"] }}{% endif %}</td><td class="num">{{ lbl_signed_off_this_week }}{{ row["signed_this_week"] }}</td><td class="num">{{ lbl_rate }}{{ row["rate"] | pct }}</td></tr>
{% endfor %}
'''),
    ],
    "digest_unit.html": [
        ('''{{ unit_lines(lines, lbl_lead_unit, lbl_role, role_lead, role_co, lbl_deadline, lbl_days) -}}
''', '''{% for line in lines %}
<tr><td class="lead"><a href="{{ line["url"] }}">{{ line["ref"] }}</a></td><td>{{ line["title"] }}</td><td>{{ lbl_lead_unit }}{{ line["lead_unit"] }}</td><td>{{ lbl_role }}{{ role_lead if line["role"] == "lead" else role_co }}</td><td>{{ lbl_deadline }}{{ line["deadline"] | d }}</td><td class="num">{{ lbl_days }}{{ line["days_overdue"] if line["overdue"] else line["days_left"] }}</td></tr>
{% endfor %}
'''),
    ],
}


def old_environment(locale: str) -> Environment:
    """The same environment with the two digests' row loops as they were."""
    templates = {}
    for name, swaps in OLD.items():
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        for new, old in swaps:
            assert text.count(new) == 1, f"{new!r} not found once in {name}"
            text = text.replace(new, old)
        templates[name] = text
    env = environment(locale)
    return env.overlay(loader=ChoiceLoader([DictLoader(templates), env.loader]))  # type: ignore[list-item]


ODD = ["推动 <b>政策</b> & “落地” %(text)s %s 100%", "'\"<>&", "%(name)s (%(n)s)", ""]


def odd(context: dict[str, Any], n: int) -> dict[str, Any]:
    """The context with every text from the ledger something to escape, and the odd day or count."""
    context = copy.deepcopy(context)
    text = ODD[n % len(ODD)]
    lines = [line for by_unit in context.get("groups", {}).values() for lines in by_unit.values() for line in lines]
    lines += [line for section in context.get("sections", []) for key in ("overdue", "due_soon") for line in section[key]]
    for k, line in enumerate(lines):
        line.update(title=text + line["title"], ref=f"{line['ref']}<{k}>", url=line["url"] + "?a=1&b=<2>",
                    lead_unit=text + line["lead_unit"], last_progress=ODD[k % len(ODD)],
                    last_progress_at=(None, datetime(2024, 6, 1, 3, 4, tzinfo=UTC), date(2024, 5, 31))[k % 3])
        if k % 5 == 1:
            line.update(original_deadline=None, deadline="2024-06-0<1>", times_returned=3)
    for k, row in enumerate(context.get("units", [])):
        row.update(unit=f"{ODD[k % len(ODD)]}{row['unit']}", rate=(0, 100, 33.333, -0.05)[k % 4])
    return context


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_digest_rows_render_as_the_per_cell_loops_did(session, now, mail_world, monkeypatch, locale) -> None:
    calls = digest_calls(session, now, mail_world, monkeypatch, locale)
    new_env, old_env = environment(locale), old_environment(locale)
    seen = set()
    for n, (_, kwargs) in enumerate(calls):
        name = f"digest_{kwargs['audience']}.html"
        if name not in OLD:
            continue
        context = {"locale": locale, **kwargs["context"]}
        if context.get("groups") and context.get("units"):
            seen.add("supervisor")
        if any(s["overdue"] and s["due_soon"] for s in context.get("sections", [])):
            seen.add("unit")
        for ctx in (context, odd(context, n)):
            new = new_env.get_template(name).render(ctx)
            assert new == old_env.get_template(name).render(ctx)
            assert "<tr><td" in new
    assert seen == {"supervisor", "unit"}  # both digests' tables had rows to compare


def test_the_old_loops_are_not_the_new_rows() -> None:
    """The comparison above renders two different templates (the swap took place)."""
    env = old_environment("zh-CN")
    for name in OLD:
        assert env.loader.get_source(env, name)[0] != (TEMPLATES / name).read_text(encoding="utf-8")  # type: ignore[union-attr]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet="&<>'\"%()s 政策a"), st.integers(), st.none()))
def test_the_rows_escape_text_as_markupsafe_does(value: Any) -> None:
    assert render.escape_text(value) == str(escape(value))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="&<>'\"%()s 政策a"), st.sampled_from([None, "", date(2024, 5, 31), datetime(2024, 6, 1, 3, 4, tzinfo=UTC),
                                                         "2024-06-0<1>"]),
       st.sampled_from(["%(text)s (%(at)s)", "%(text)s（%(at)s）", "<i>%(at)s</i> %% %(text)s"]))
def test_the_last_progress_cell_is_what_markup_formatting_wrote(text: str, at: Any, words: str) -> None:
    progress, none_reported = Markup(words), Markup("<i>none</i>")
    old = progress % {"text": text, "at": render._date(at)} if at else none_reported
    assert render._progress(progress, none_reported, text, at) == str(old)
