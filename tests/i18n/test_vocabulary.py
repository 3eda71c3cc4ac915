"""The words issue 13 found in several forms now have one each, in pages, CLI and mail alike."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email import policy

from cli import words
from notifications.builders import (
    Envelope,
    ItemLine,
    build_notice,
    message_id_for,
    ordered_sections,
)
from notifications.render import render
from web.i18n import error_message, label, translator


def test_the_submitted_state_is_one_word_wherever_it_shows():
    zh = translator("zh-CN")
    assert zh("submitted") == zh("awaiting_sign_off") == "待销号"  # state and due state
    assert zh("Submit as done") == label("submit", "zh-CN") == "申请销号"  # the button and refusals
    en = translator("en")
    assert en("submitted") == en("awaiting_sign_off") == "awaiting sign-off"
    assert en("Submit as done") == "Submit for sign-off" and label("submit", "en") == "submit for sign-off"


def test_the_rate_is_luoshilv_on_pages_in_mail_and_in_the_cli():
    assert translator("zh-CN")("Rate") == "落实率"
    assert translator("zh-CN")("Rate over the past weeks") == "近几周落实率"
    context = {"week": "2023-W26", "as_of": datetime(2023, 6, 26, 1, 0, tzinfo=UTC).astimezone(_shanghai()),
               "overdue": 0, "documents": [], "level2": [], "ranking": [
                   {"rank": 1, "unit": "市发改委", "overdue": 1, "open": 2, "signed_this_week": 0, "rate": 50.0,
                    "url": "/items?unit=%E5%B8%82%E5%8F%91%E6%94%B9%E5%A7%94&unit_role=lead"}],
               "base_url": "", "scores": None}
    for name in ("digest_leadership.txt", "digest_leadership.html"):
        text = render("zh-CN", name, **context)
        assert "落实率" in text and "销号率" not in text


def test_a_level_reads_the_same_in_mail_cli_and_pages(monkeypatch):
    monkeypatch.setattr(words, "locale", lambda: "zh-CN")
    assert words.level(2) == "第2级" and words.threshold("level-2") == "第2级升级督办"
    assert translator("zh-CN")("escalation level {n}").format(n=2) == "第2级升级督办"
    line = ItemLine(1, "新时代意见/1", "推动", "市发改委", date(2024, 6, 6), date(2024, 6, 6), -9,
                    "https://duban.example/items/1", details={"level": 2})
    envelope = Envelope("duban@dc.gov.cn", "督办系统", ["u@example.gov.cn"], message_id_for("k", "duban@dc.gov.cn"),
                        datetime(2024, 6, 3, tzinfo=UTC))
    mail = build_notice(envelope, locale="zh-CN", sections=ordered_sections({"escalated": [line]}))
    message = email.message_from_string(mail.raw, policy=policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert "升级督办：第2级" in text and "级别" not in text


def test_weeks_and_times_in_the_offices_form():
    context = {"week": "2023-W26", "as_of": datetime(2023, 6, 26, 1, 0, tzinfo=UTC).astimezone(_shanghai()),
               "overdue": 0, "documents": [], "level2": [], "ranking": [], "base_url": "", "scores": None}
    subject = render("zh-CN", "digest_leadership.subject.txt", **context)
    body = render("zh-CN", "digest_leadership.txt", **context)
    assert "2023年第26周" in subject and "W26" not in subject + body
    assert "截至2023年06月26日 09:00（北京时间）" in body and "Asia/Shanghai" not in body
    assert "week 26 of 2023" in render("en", "digest_leadership.subject.txt", **context)


def test_a_refusal_names_the_state_in_the_glossarys_word():
    from models.errors import InvalidTransition

    refusal = InvalidTransition("x", code="action.wrong_state",
                       params={"ref": "新时代意见/1", "status": "submitted", "action": "submit", "allowed": ["assigned"]})
    assert error_message(refusal, "zh-CN") == "新时代意见/1：该事项当前为待销号状态，不能申请销号（仅限已交办状态）。"


def _shanghai():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def test_mail_is_from_the_duban_system_in_each_language():
    from notifications.outbox import sender_name

    assert sender_name("zh-CN") == "督办系统" and sender_name("en") == "duban"
