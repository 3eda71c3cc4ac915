"""A notice's text, html and subject are written around its sections once for each set of the
notice's other values (notifications/sections.py, `write_notice`): every notice of a corpus (every
kind alone and together, copied only, many sections, zh-CN and en, odd values, counts that take each
plural) comes out byte for byte as its template renders it whole, whether its skeleton is made by
that notice or by an earlier one; a template that asks its sections anything but to be written is
rendered whole, and one that writes a section twice, or not at all, gets it written as often."""

from __future__ import annotations

import itertools

import pytest
from jinja2 import ChoiceLoader, DictLoader, UndefinedError

from notifications.builders import KIND_ORDER, ordered_sections
from notifications.render import environment
from notifications.sections import _STATE, write_notice
from tests.mail.test_render_tables import ODD, line


def context(locale: str, action: dict, fyi: dict) -> dict:
    sections, others = ordered_sections(action), ordered_sections(fyi)
    return {"locale": locale, "sections": sections, "fyi": others,
            "count": len({n.item_id for s in (*sections, *others) for n in s.lines}),
            "counts": {s.kind: len(s.lines) for s in sections}, "base_url": "https://duban.example",
            "only_fyi": not sections}


MANY = [line(i, title=f"第{i}项 & <{i}>", days_left=i - 5) for i in range(1, 23)]
CORPUS = [
    *[({kind: lines}, {}) for kind in (*KIND_ORDER, "a_kind_no_template_has") for lines in (ODD, ODD[:1], MANY[:2])],
    *[({}, {kind: lines}) for kind in ("escalated", "signed_off", "reminder") for lines in (ODD, ODD[1:2])],
    ({"overdue": ODD[:2], "reminder": ODD[2:]}, {"escalated": ODD, "signed_off": ODD[:1]}),
    ({"overdue": MANY[:7], "reminder": MANY[7:12], "escalated": MANY[12:]}, {"commented": MANY[:3]}),
    ({"overdue": MANY[7:14], "reminder": MANY[:7], "escalated": MANY[14:21]}, {"commented": MANY[3:6]}),
    ({"reminder": MANY}, {}), ({"reminder": MANY[::-1]}, {}), ({"repeat_reminder": MANY[:1]}, {"reminder": MANY[1:2]}),
]


def names(ctx: dict) -> list[str]:
    kinds = {s.kind for s in (*ctx["sections"], *ctx["fyi"])}
    subject = next(iter(kinds)) if len(kinds) == 1 and ctx["sections"] else "notice"
    return [f"{subject}.subject.txt", "notice.subject.txt", "notice.txt", "notice.html"]


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_notice_is_written_as_its_template_renders_it(locale: str) -> None:
    fresh = environment.__wrapped__(locale)  # type: ignore[attr-defined]
    for _ in range(2):  # the second time every skeleton is made by an earlier notice
        for action, fyi in CORPUS:
            ctx = context(locale, action, fyi)
            for name in names(ctx):
                assert write_notice(fresh, name, ctx) == fresh.get_template(name).render(ctx), (name, action, fyi)
    skeletons = _STATE[fresh].skeletons  # the fast path was taken: every notice's skeleton was made
    assert len(skeletons) > 20 and None not in skeletons.values()
    # and the notices that share a skeleton with another do not share their words
    texts = {write_notice(fresh, "notice.txt", context(locale, {"reminder": lines}, {}))
             for lines in itertools.combinations(MANY[:5], 2)}
    assert len(texts) == 10


def test_a_notice_that_asks_its_sections_more_is_rendered_whole() -> None:
    fresh = environment.__wrapped__("zh-CN")  # type: ignore[attr-defined]
    odd = {
        "notice.txt": "{% for section in sections %}{{ section.kind }}: {{ notice_section(section, '.txt') }}{% endfor %}",
        "notice.html": "{% for s in sections %}{{ notice_section(s, '.html') }}{{ notice_section(s, '.html') }}{% endfor %}",
        "reminder.subject.txt": "{{ sections | map(attribute='kind') | join(',') }} {{ count }}",
        "overdue.subject.txt": "{{ sections[0].lines | length }} {{ count }}",
        "escalated.subject.txt": "{% if sections[0] in fyi %}in{% else %}out{% endif %}",
        "assigned.subject.txt": "{{ sections[0] }}",
    }
    fresh.loader = ChoiceLoader([DictLoader(odd), fresh.loader])
    for action, fyi in CORPUS:
        ctx = context("zh-CN", action, fyi)
        for name in (*odd, "notice.subject.txt"):
            try:
                expected = fresh.get_template(name).render(ctx)
            except UndefinedError:  # a notice without sections: sections[0] fails either way
                with pytest.raises(UndefinedError):
                    write_notice(fresh, name, ctx)
                continue
            assert write_notice(fresh, name, ctx) == expected, (name, action)
