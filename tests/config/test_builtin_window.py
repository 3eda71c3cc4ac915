"""A process configured with neither a policy nor a calendar file of its own takes the due-soon window
of the built-in files from models.read.day without reading them (no YAML on a read command's start):
it must be what the files say."""

from __future__ import annotations

from config.calendar import DEFAULT_CALENDAR_FILE, load_calendar
from config.policy import DEFAULT_POLICY_FILE, load_policy
from models.read.day import built_in_reminder_window, load_reminder_window, reminder_window


def test_the_built_in_window_is_what_the_built_in_files_say():
    read = load_reminder_window(load_policy(DEFAULT_POLICY_FILE), load_calendar(DEFAULT_CALENDAR_FILE))
    built_in = built_in_reminder_window()
    assert built_in.workdays == read.workdays, "config/policy.yaml changed: update models.read.day.BUILT_IN_WORKDAYS"
    for name in ("extra_holidays", "extra_workdays", "complete_years", "source"):
        assert getattr(built_in.calendar, name) == getattr(read.calendar, name), \
            f"config/calendar.yaml changed: built_in_reminder_window's calendar no longer matches ({name})"


def test_a_policy_or_calendar_file_of_ones_own_is_read(tmp_path, monkeypatch):
    from config.settings import get_settings

    policy = tmp_path / "policy.yaml"
    policy.write_text(DEFAULT_POLICY_FILE.read_text(encoding="utf-8").replace("before: [7, 1]", "before: [3, 1]"), encoding="utf-8")
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text("holidays: [2024-06-04]\n", encoding="utf-8")
    for env, workdays, holidays in ((("POLICY", policy),), 3, set()), ((("CALENDAR", calendar),), 7, {"2024-06-04"}):
        monkeypatch.delenv("DUBAN_POLICY_FILE", raising=False)
        monkeypatch.delenv("DUBAN_CALENDAR_FILE", raising=False)
        for name, path in env:
            monkeypatch.setenv(f"DUBAN_{name}_FILE", str(path))
        get_settings.cache_clear()
        reminder_window.cache_clear()
        try:
            window = reminder_window()
            assert window.workdays == workdays
            assert {day.isoformat() for day in window.calendar.extra_holidays} == holidays
        finally:
            reminder_window.cache_clear()
            get_settings.cache_clear()
