"""Notice tables and lists look their words up once a table (item_table and item_list in
notifications/templates/_macros.*), not once a row, and their rows are written in one Python call a
table (item_rows, list_rows), not a `cell` macro call a cell: every notice still renders byte for byte as
it did when each row looked them up itself and each cell was a macro. The macros as they were are
kept here and rendered through the same environment, on a corpus of every kind with every column,
in zh-CN and en, with values that look like format placeholders or need escaping."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from jinja2 import ChoiceLoader, DictLoader, Environment

from notifications.builders import KIND_ORDER, ItemLine, ordered_sections
from notifications.render import TEMPLATES, environment

OLD_CELL = '''{% macro cell(line, key) -%}
{%- if key == "details.level" -%}{{ _("level %(n)s", n=line.details.get("level", "")) }}
{%- elif key == "changes" -%}{{ line.details | changes }}
{%- elif key.startswith("details.") -%}{{ line.details.get(key[8:], "") | d }}
{%- elif key == "role" -%}{{ pgettext("role", "lead unit") if line.role == "lead" else pgettext("role", "co-unit") }}
{%- else -%}{{ line[key] }}{%- endif -%}
{%- endmacro %}
'''

OLD_TABLE = '''{% macro item_table(lines, extra) -%}
<table class="rows">
<tr class="head"><th>{{ _("Item") }}</th><th>{{ _("Task") }}</th><th>{{ _("Lead unit") }}</th><th>{{ _("Deadline") }}</th>{% for key, label_ in extra %}<th>{{ label_ }}</th>{% endfor %}</tr>
{% for line in lines %}
<tr><td class="lead"><a href="{{ line.url }}">{{ line.ref }}</a></td><td>{{ line.title }}</td><td>{{ label(_("Lead unit")) }}{{ line.lead_unit }}</td><td class="num">{{ label(_("Deadline")) }}{{ line.deadline | d }}</td>{% for key, label_ in extra %}<td>{{ label(label_) }}{{ cell(line, key) }}</td>{% endfor %}</tr>
{% endfor %}
</table>
{%- endmacro %}'''

OLD_LIST = '''{% macro item_list(lines, extra) -%}
{% for line in lines %}
{{ loop.index }}. {{ line.ref }} {{ line.title }}
   {{ _("Lead unit: %(lead)s; deadline: %(deadline)s", lead=line.lead_unit, deadline=line.deadline | d) }}{% for key, label in extra %}{{ _("; %(label)s: %(value)s", label=label, value=cell(line, key)) }}{% endfor %}

   {{ line.url }}
{% endfor %}
{%- endmacro %}'''


# A notice's sections as they were written: each its kind's template included (notifications/sections.py).
OLD_SECTION = '{% with lines = section.lines %}{% include section.kind ~ "EXT" %}{% endwith %}\n'


def old_environment(locale: str) -> Environment:
    """The same templates, words and filters, with item_table and item_list (and their cell) as they
    were, and each notice's sections included."""
    macros = {}
    for name, macro, old in (("_macros.html", "item_table", OLD_TABLE), ("_macros.txt", "item_list", OLD_LIST)):
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        text, found = re.subn(r"\{% macro " + macro + r"\(.*?\{%- endmacro %\}", (OLD_CELL + old).replace("\\", r"\\"), text, count=1,
                              flags=re.S)
        assert found == 1, f"{macro} not found in {name}"
        macros[name] = text
    for name, extension in (("notice.html", ".html"), ("notice.txt", ".txt")):
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        text, found = re.subn(r'\{\{ notice_section\(section, "' + re.escape(extension) + r'"\) -?\}\}\n',
                              OLD_SECTION.replace("EXT", extension) + ("\n" if extension == ".txt" else ""), text)
        assert found == 2, f"the sections are not written by notice_section in {name}"
        macros[name] = text
    new = environment(locale)
    return new.overlay(loader=ChoiceLoader([DictLoader(macros), new.loader]))  # type: ignore[list-item]


def line(item_id: int, title: str = "推动政策落地见效", unit: str = "市发改委", days_left: int = 3,
         role: str = "lead", **details: Any) -> ItemLine:
    return ItemLine(item_id=item_id, ref=f"新时代意见/{item_id}", title=title, lead_unit=unit,
                    deadline=date(2024, 6, 6), original_deadline=date(2024, 6, 1), days_left=days_left,
                    url=f"https://duban.example/items/{item_id}", role=role, details=details)


EVERY_DETAIL = {
    "level": 2, "text": "请于本周内报送 <b>进展</b> & 材料", "reason": "材料不全 %(value)s 100%", "evidence": "附件.pdf",
    "requested_deadline": date(2024, 7, 1), "deadline": date(2024, 7, 2), "new_deadline": date(2024, 7, 3),
    "period": "2024-07-01 – 2024-09-30", "period_due": "2024-09-30", "days_overdue": 4,
    "task": {"old": "旧 <任务> & %(x)s", "new": "新任务"}, "status": {"old": "assigned", "new": "in_progress"},
}
ODD = [line(1), line(2, title="完成率 100%（%(lead)s）", unit="市%(deadline)s委 & <局>", days_left=-3, role="co",
                   **EVERY_DETAIL),
       line(3, title="%s %d %%", unit="%", days_left=0, **EVERY_DETAIL),
       line(4, title='引号 "双" \'单\' &amp; <i>', unit="<b>'单位'</b>", days_left=-1, role="co",
            **{**EVERY_DETAIL, "text": 'a "quoted" \'text\'', "level": "<3>"})]

CORPUS = [
    *[(locale, {kind: ODD}, {}) for locale in ("zh-CN", "en") for kind in (*KIND_ORDER, "a_kind_no_template_has")],
    *[(locale, {"overdue": ODD[:2], "reminder": ODD[2:]}, {"escalated": ODD, "signed_off": ODD[:1]})
      for locale in ("zh-CN", "en")],
    ("zh-CN", {"overdue": [line(i, days_left=-i) for i in range(1, 60)]}, {}),
]


@pytest.mark.parametrize(("locale", "action", "fyi"), CORPUS)
def test_notices_render_byte_for_byte_as_when_each_row_looked_its_words_up(locale, action, fyi) -> None:
    sections, others = ordered_sections(action), ordered_sections(fyi)
    context = {"locale": locale, "sections": sections, "fyi": others,
               "count": len({n.item_id for s in (*sections, *others) for n in s.lines}),
               "counts": {s.kind: len(s.lines) for s in sections}, "base_url": "https://duban.example",
               "only_fyi": not sections}
    old, new = old_environment(locale), environment(locale)
    for name in ("notice.html", "notice.txt"):
        macros = "_macros." + name.rsplit(".", 1)[1]
        assert old.loader.get_source(old, macros)[0] != new.loader.get_source(new, macros)[0]  # type: ignore[union-attr]
        rendered = new.get_template(name).render(context)
        assert "新时代意见/1" in rendered
        assert rendered == old.get_template(name).render(context)


def test_the_date_filter_remembers_plain_days_only() -> None:
    """`| d` caches a date's text; datetimes are formatted each time, so equal instants in two zones
    (equal and hashing alike) still read as their own wall time."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    d = environment("zh-CN").filters["d"]
    days = [date(2024, 6, 30) + timedelta(days=n) for n in range(-400, 400, 7)]
    assert [d(day) for day in days] * 2 == [day.strftime("%Y-%m-%d") for day in days] * 2
    assert d(date(2024, 6, 30), "%d/%m") == "30/06"
    at = datetime(2024, 6, 30, 17, 30, tzinfo=UTC)
    local = at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert at == local and d(at, "%Y-%m-%d %H:%M") == "2024-06-30 17:30"
    assert d(local, "%Y-%m-%d %H:%M") == "2024-07-01 01:30"
    assert (d(None), d(""), d("text")) == ("", "", "text")


def included_and_written(templates: dict[str, str]) -> tuple[Environment, Environment]:
    """Two fresh zh-CN environments with `templates` besides the others: sections included (as they
    were) and sections written by notice_section."""
    old_notices = old_environment("zh-CN").loader.loaders[0].mapping  # type: ignore[union-attr]
    included, written = environment.__wrapped__("zh-CN"), environment.__wrapped__("zh-CN")  # type: ignore[attr-defined]
    included.loader = ChoiceLoader([DictLoader({**templates, "notice.html": old_notices["notice.html"],
                                                "notice.txt": old_notices["notice.txt"]}), included.loader])
    written.loader = ChoiceLoader([DictLoader(templates), written.loader])
    return included, written


def test_a_section_that_reads_its_lines_otherwise_is_rendered_each_time_as_included() -> None:
    """A section template that uses its lines (or the notice's context) other than through its one
    table or list cannot be written once: notice_section renders it for each notice as the include
    did, with the notice's context, and the other kinds are still written once."""
    included, written = included_and_written({
        "generic.html": '{% from "_macros.html" import item_table %}\n<h2>{{ lines | length }} / {{ count }}</h2>\n'
                        "{{ item_table(lines, []) }}\n",
        "generic.txt": "{% for line in lines %}{{ line.ref }}; {% endfor %}{{ section.kind }}\n",
        "signed_off.txt": '{% from "_macros.txt" import item_list %}{{ item_list(lines, []) }}{{ item_list(lines, []) }}\n',
    })
    for lines in (ODD, ODD[:2], ODD[3:]):
        sections = ordered_sections({"a_kind_no_template_has": lines, "overdue": lines[:1], "signed_off": lines})
        context = {"locale": "zh-CN", "sections": sections, "fyi": [], "count": len(lines), "counts": {},
                   "base_url": "https://duban.example", "only_fyi": False}
        for name in ("notice.html", "notice.txt"):
            rendered = written.get_template(name).render(context)
            assert rendered == included.get_template(name).render(context)
            assert (f"<h2>{len(lines)} / {len(lines)}</h2>" if name == "notice.html" else f"{lines[-1].ref}; generic") in rendered
