"""Templates and builders: both locales, every kind, autoescaping, no header injection, purity."""

from __future__ import annotations

import email
import unicodedata
from datetime import UTC, date, datetime
from email import policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.builders import (
    KIND_ORDER,
    Envelope,
    ItemLine,
    build_notice,
    message_id_for,
    ordered_sections,
)
from notifications.render import _BAD, TEMPLATES, clean_header

AT = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)
EXPECTED_HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                    "X-Auto-Response-Suppress", "MIME-Version", "Content-Type"]


def line(item_id: int = 1, title: str = "推动政策落地见效", unit: str = "市发改委", days_left: int = 3, **details: object) -> ItemLine:
    return ItemLine(item_id=item_id, ref=f"新时代意见/{item_id}", title=title, lead_unit=unit,
                    deadline=date(2024, 6, 6), original_deadline=date(2024, 6, 1), days_left=days_left,
                    url=f"https://duban.example/items/{item_id}", details=details)


def envelope(to: str = "unit@example.gov.cn", sender_name: str = "督办系统") -> Envelope:
    return Envelope("duban@dc.gov.cn", sender_name, [to], message_id_for("k1", "duban@dc.gov.cn"), AT)


def parse(raw: str) -> email.message.EmailMessage:
    return email.message_from_string(raw, policy=policy.default)  # type: ignore[return-value]


def bodies(raw: str) -> tuple[str, str]:
    message = parse(raw)
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_every_kind_and_digest_has_one_subject_text_and_html_for_all_languages() -> None:
    names = [*KIND_ORDER, "generic", "notice", "digest_supervisor", "digest_leadership", "digest_unit", "digest_admin"]
    missing = [f"{n}{ext}" for n in names for ext in (".subject.txt", ".txt", ".html")
               if not (TEMPLATES / f"{n}{ext}").is_file()]
    assert missing == []
    assert [path.name for path in TEMPLATES.iterdir() if path.is_dir()] == []  # no copy of a template per language


@pytest.mark.parametrize("kind", KIND_ORDER)
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_each_kind_renders_its_items_with_deadline_and_link(kind: str, locale: str) -> None:
    message = build_notice(envelope(), locale=locale, sections=ordered_sections({kind: [line(7)]}),
                           base_url="https://duban.example")
    text, html = bodies(message.raw)
    for body in (text, html):
        assert "新时代意见/7" in body and "2024-06-06" in body and "https://duban.example/items/7" in body
    assert message.subject.strip()


def test_reminder_in_chinese_names_days_left_and_overdue_names_days_overdue() -> None:
    message = build_notice(envelope(), locale="zh-CN", sections=ordered_sections({
        "reminder": [line(1, days_left=3)], "overdue": [line(2, days_left=-5)]}))
    text, _ = bodies(message.raw)
    assert "剩余天数：3" in text and "逾期天数：5" in text
    assert message.subject == "【督办】2项事项需要您关注"


def test_a_periodic_report_notice_names_the_period_and_its_due_day() -> None:
    missed = line(4, period="2024-07-01 – 2024-09-30", period_due="2024-09-30", days_overdue=8)
    message = build_notice(envelope(), locale="zh-CN", sections=ordered_sections({"period_missed": [missed]}))
    text, html = bodies(message.raw)
    for body in (text, html):
        assert "2024-07-01 – 2024-09-30" in body and "2024-09-30" in body and "逾期未报送" in body
    assert "报送时限：2024-09-30" in text and "逾期天数：8" in text
    assert message.subject == "【督办】1项定期报送逾期未报送"
    english = build_notice(envelope(), locale="en", sections=ordered_sections({"period_reminder": [missed]}))
    assert english.subject == "[duban] Reminder: 1 periodic report due soon"


def test_english_single_kind_mail_uses_that_kinds_subject() -> None:
    message = build_notice(envelope(), locale="en", sections=ordered_sections({"overdue": [line(1), line(2)]}))
    assert message.subject == "[duban] 2 items overdue"
    one = build_notice(envelope(), locale="en", sections=ordered_sections({"overdue": [line(1)]}))
    assert one.subject == "[duban] 1 item overdue"  # plural forms, not "item(s)"


def test_copied_items_appear_in_a_for_information_section() -> None:
    message = build_notice(envelope(), locale="zh-CN", sections=[],
                           fyi=ordered_sections({"escalated": [line(3, days_left=-9, level=2)]}))
    text, _ = bodies(message.raw)
    assert "抄送（供参阅）" in text and "升级督办：第2级" in text
    assert "抄送" in message.subject


def test_html_is_autoescaped_and_text_is_not_mangled() -> None:
    message = build_notice(envelope(), locale="zh-CN", sections=ordered_sections(
        {"returned": [line(1, title="<script>alert(1)</script>", reason="材料不全 & <b>重报</b>")]}))
    text, html = bodies(message.raw)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;重报" in html
    assert "<script>alert(1)</script>" in text


INJECTIONS = [
    "推动\r\nBcc: attacker@evil.example",
    "title\nX-Injected: yes",
    "title\rSubject: spoof",
    "a\u2028Bcc: x@y.z",
    "a\x00b\x0bc\x1b[31m",
    "\u0085Bcc: next-line@evil.example",
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_attempts_in_titles_units_and_names_never_add_a_header_line(evil: str) -> None:
    message = build_notice(envelope(sender_name=evil), locale="zh-CN",
                           sections=ordered_sections({"overdue": [line(1, title=evil, unit=evil)]}))
    raw = message.raw
    head = raw.split("\r\n\r\n", 1)[0]
    names = [h.split(":", 1)[0] for h in head.split("\r\n") if h and not h[0].isspace()]
    assert names == EXPECTED_HEADERS
    assert "Bcc" not in parse(raw).keys() and "X-Injected" not in parse(raw).keys()


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_clean_header_leaves_no_line_break_or_control_character(text: str) -> None:
    cleaned = clean_header(text)
    assert not any(ch in cleaned for ch in "\r\n\x00\x85\u2028\u2029\x0b\x0c")
    assert all(ch.isprintable() or ch == " " for ch in cleaned)


def test_clean_header_takes_printable_text_as_is_exactly_when_no_character_would_be_replaced() -> None:
    # clean_header's fast path: str.isprintable() is False for exactly the characters of _BAD but the plain space
    assert [code for code in range(0x110000)
            if chr(code).isprintable() != (unicodedata.category(chr(code)) not in _BAD or code == 0x20)] == []


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_any_item_title_yields_exactly_the_expected_headers(title: str) -> None:
    message = build_notice(envelope(sender_name=title), locale="en",
                           sections=ordered_sections({"reminder": [line(1, title=title, unit=title)]}))
    parsed = parse(message.raw)
    assert list(parsed.keys()) == EXPECTED_HEADERS


def test_building_is_pure_the_same_data_gives_the_same_bytes() -> None:
    def build() -> str:
        return build_notice(envelope(), locale="zh-CN", sections=ordered_sections({"overdue": [line(1)]})).raw

    assert build() == build()


def test_message_id_depends_only_on_the_outbox_key() -> None:
    assert message_id_for("notice:abc", "duban@dc.gov.cn") == message_id_for("notice:abc", "duban@dc.gov.cn")
    assert message_id_for("notice:abc", "duban@dc.gov.cn") != message_id_for("notice:abd", "duban@dc.gov.cn")
    assert message_id_for("notice:abc", "duban@dc.gov.cn").endswith("@dc.gov.cn>")


@pytest.mark.parametrize(("locale", "deadline", "unit", "banned"), [
    ("zh-CN", "完成时限：2024年6月30日 → 2024年7月31日", "牵头单位：市发改委 → 市商务局", ("deadline", "lead_unit")),
    ("en", "Deadline: 2024-06-30 → 2024-07-31", "Lead unit: 市发改委 → 市商务局", ("lead_unit", "co_units")),
])
def test_the_edited_mail_names_each_changed_field_in_words(locale: str, deadline: str, unit: str,
                                                            banned: tuple[str, ...]) -> None:
    edited = line(7, deadline={"old": "2024-06-30", "new": "2024-07-31"}, lead_unit={"old": "市发改委", "new": "市商务局"},
                  co_units={"old": ["市财政局"], "new": []}, reason="上级调整",
                  summary="deadline: 2024-06-30 → 2024-07-31; lead_unit: 市发改委 → 市商务局")
    text, html = bodies(build_notice(envelope(), locale=locale, sections=ordered_sections({"edited": [edited]})).raw)
    for body in (text, html):
        assert deadline in body and unit in body and "市财政局 → —" in body
        assert not [word for word in banned if word in body], body
