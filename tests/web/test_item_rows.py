"""The item list's rows, written whole in Python (web.render.item_rows), give the very bytes the
per-cell Jinja they replaced gave: every status, due state, light and mark, in both languages,
with titles and names that need escaping or truncating."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from markupsafe import escape

from models.lifecycle import TRANSITIONS, Action
from models.read.views import ItemRow, ListedItem
from models.tables import Status
from notifications.render import escape_text
from web.i18n import LOCALES, translator
from web.render import _day, _env

# items_results.html's rows before item_rows, cell by cell (as of 96fc898).
PER_CELL = """\
{% set lights = {'red': _('red'), 'yellow': _('yellow'), 'green': _('green')} %}
{% set states = {'overdue': _('overdue'), 'awaiting_sign_off': _('awaiting_sign_off'), 'assigned': _('assigned'), \
'in_progress': _('in_progress'), 'submitted': _('submitted'), 'signed_off': _('signed_off'), 'cancelled': _('cancelled')} %}
  <tbody>
  {% set urge_word, lead_word, deadline_word, status_word, level_word, urged_word, unacknowledged_word =
     _("Urge")|e, _('Lead unit')|e, _('Deadline')|e, _('Status')|e, _('Level')|e, _('Urged')|e, _("Unacknowledged")|e %}
  {% set level_n = _("level {n}") %}
  {% for row in rows %}
    <tr>{% if urging %}<td class="pick">{% if row.item.status in urgeable %}<input type="checkbox" name="item" \
value="{{ row.item.id }}" aria-label="{{ urge_word }} {{ row.ref }}">{% endif %}</td>{% endif %}<td class="light">\
{% if row.light %}<span class="dot {{ row.light }}" role="img" aria-label="{{ lights[row.light] }}" \
title="{{ lights[row.light] }}"></span>{% endif %}</td>
      <td class="nowrap"><a href="/items/{{ row.item.id }}">{{ row.ref }}</a></td>
      <td class="title"><a href="/items/{{ row.item.id }}">{{ row.item.title|truncate(60, true, '…') }}</a></td>
      <td data-label="{{ lead_word }}">{{ row.lead_unit }}</td>
      <td class="nowrap" data-label="{{ deadline_word }}">{{ day(row.item.deadline) }}</td>
      <td data-label="{{ status_word }}"><span class="state {{ row.due_state }}">{{ states[row.due_state if \
row.due_state in ('overdue', 'awaiting_sign_off') else row.item.status] }}</span>
        {%- if row.unacknowledged %} <span class="state unacknowledged">{{ unacknowledged_word }}</span>{% endif %}</td>
      <td class="num" data-label="{{ level_word }}">{{ level_n.format(n=row.item.escalation_level) \
if row.item.escalation_level else '' }}</td>
      <td class="num" data-label="{{ urged_word }}">{{ row.urged or '' }}</td></tr>
  {% endfor %}
  </tbody>"""

TITLES = ["推进重点任务落实见效", "<b>加快</b> & \"推进\" 'x'", "长" * 59, "长" * 65, "长" * 66, "a" * 200 + "<&>"]
UNITS = ["市发改委", "A&B <局>", '"引号"单位']


def _rows() -> list[ItemRow]:
    rows = []
    combos = itertools.product(Status, ["on_track", "overdue", "awaiting_sign_off", "signed_off", "cancelled"],
                               ["", "red", "yellow", "green"])
    for n, (status, due, light) in enumerate(combos):
        item = ListedItem(id=n + 1, number=f"{n}<&>", title=TITLES[n % len(TITLES)], status=status,
                          deadline=date(2024, 6, 1 + n % 28), original_deadline=date(2024, 6, 1),
                          escalation_level=n % 3, version=1)
        rows.append(ItemRow(item, f"文件{n % 4}号&", UNITS[n % len(UNITS)], due, light,
                            unacknowledged=n % 2 == 0, urged=n % 4))
    return rows


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("urging", [True, False])
def test_the_rows_are_the_bytes_the_per_cell_template_gave(locale: str, urging: bool) -> None:
    rows, translate, urgeable = _rows(), translator(locale), TRANSITIONS[Action.URGE].sources
    old = _env.from_string(PER_CELL).render(rows=rows, _=translate, urging=urging, urgeable=urgeable, day=_day)
    new = _env.from_string("  <tbody>\n{{ item_rows(rows, _, urging, urgeable) }}\n  </tbody>").render(
        rows=rows, _=translate, urging=urging, urgeable=urgeable)
    assert len(rows) >= 100 and "&lt;b&gt;" in new and "…" in new and "&amp;" in new
    assert new == old


@pytest.mark.parametrize("text", ["", "plain", "推进<营商>环境", "a & b", "'quoted' \"twice\"", "&amp; already", "<>&'\"" * 3,
                                  "\x00\n\t", "🙂 <script>alert('x')</script>"])
def test_the_rows_escape_text_as_markupsafe_does(text: str) -> None:
    assert escape_text(text) == str(escape(text))
