"""The escalation policy: defaults, overrides, and refusals that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.policy import DEFAULT_POLICY_FILE, PolicyError, Recipient, load_policy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_policy_has_the_documented_defaults():
    rules = load_policy(DEFAULT_POLICY_FILE).default
    assert rules.reminders_before == (7, 1) and rules.repeat_every == 5
    assert [(e.level, e.after) for e in rules.escalations] == [(1, 3), (2, 10)]
    assert rules.escalations[0].audience.to == (Recipient.UNIT_LEADERS,)
    assert rules.escalations[1].audience.to == (Recipient.LEADERSHIP,)
    assert rules.escalations[1].audience.cc == (Recipient.SUPERVISOR,)


def test_builtin_policy_without_leadership_is_flagged_for_doctor():
    assert "leadership_emails is empty" in load_policy(DEFAULT_POLICY_FILE).problems()[0]


def test_user_file_overrides_sections_and_documents_win_over_categories(tmp_path):
    policy = load_policy(write(tmp_path, """\
leadership_emails: [Mayor@Example.gov.cn]
default:
  repeat: {every: 3}
documents:
  新时代意见:
    reminders: {before: [10, 3, 1]}
categories:
  重点任务:
    escalations:
      - {level: 1, after: 2, to: [unit_leaders]}
"""))
    assert policy.leadership_emails == ["mayor@example.gov.cn"] and policy.problems() == []
    assert policy.default.repeat_every == 3 and policy.default.reminders_before == (7, 1)
    document = policy.rules_for("新时代意见", "重点任务")
    assert document.reminders_before == (10, 3, 1) and document.repeat_every == 3
    assert document.reminder.to == (Recipient.LEAD_UNIT,)
    category = policy.rules_for("建设方案", "重点任务")
    assert [(e.level, e.after) for e in category.escalations] == [(1, 2)]
    assert policy.rules_for("建设方案", "") == policy.default


@pytest.mark.parametrize(("text", "message"), [
    ("default:\n  reminders:\n    before: [1, 7]\n", r"policy.yaml:3: reminders.before has unordered thresholds 1, 7"),
    ("default:\n  reminders:\n    before:\n      - 7\n      - 7\n", r"policy.yaml:5: reminders.before has duplicate"),
    ("default:\n  reminders:\n    before: [7, -1]\n", r"policy.yaml:3: -1 is negative"),
    ("default:\n  repeat:\n    every: -5\n", r"policy.yaml:3: -5 is negative"),
    ("default:\n  escalations:\n    - {level: 1, after: 5, to: [unit_leaders]}\n    - {level: 2, after: 4, to: [leadership]}\n",
     r"policy.yaml:4: escalation level 2 has a unordered threshold"),
    ("default:\n  escalations:\n    - {level: 1, after: 3, to: [unit_leaders]}\n    - {level: 2, after: 3, to: [leadership]}\n",
     r"policy.yaml:4: escalation level 2 has a duplicate threshold"),
    ("default:\n  overdue:\n    to: [lead_unit]\n    cc: [mayor]\n", r"policy.yaml:4: unknown recipient kind 'mayor'"),
    ("default:\n  escalations:\n    - level: 1\n      after: 3\n      to: []\n", r"policy.yaml:3: escalation level 1 has no recipients"),
    ("default:\n  escalations:\n    - {level: 2, after: 3, to: [leadership]}\n", r"policy.yaml:3: escalation levels must be 1, 2"),
    ("leadership_emails: [not-an-email]\n", r"policy.yaml:1: 'not-an-email' is not a plain email address"),
    ("defaults: {}\n", r"policy.yaml:1: unknown key 'defaults'"),
    ("documents:\n  新时代意见:\n    reminder: {before: [3]}\n", r"policy.yaml:3: unknown key 'reminder'"),
])
def test_invalid_policy_is_refused_with_a_message_naming_the_line(tmp_path, text, message):
    with pytest.raises(PolicyError, match=message):
        load_policy(write(tmp_path, text))
