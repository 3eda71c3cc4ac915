"""The CLI speaks the configured language: zh-CN by default, English with DUBAN_LOCALE=en."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from config.i18n import lookup
from config.settings import get_settings
from models.lifecycle import TRANSITIONS
from models.schedule import _RANK as SWEEP_KINDS
from models.tables import Status
from notifications.outbox import OutboxStatus
from tests.cli.test_items_and_lifecycle import NOW, ledger  # noqa: F401  (the fixture)

CLI = Path(__file__).resolve().parents[2] / "cli"


def _words_used() -> dict[str, str]:
    """Every literal the CLI passes to `_()`, with the file it is in."""
    used = {}
    for path in CLI.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "n_")
                    and node.args and isinstance(node.args[0], ast.Constant)):
                used[node.args[0].value] = path.name
    return used


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_word_the_cli_shows_has_a_zh_entry():
    used = _words_used()
    assert len(used) > 100  # the scan sees the commands' words
    assert sorted(w for w in used if lookup("zh-CN", w) is None) == []


def test_states_events_and_outbox_words_shown_as_data_are_translated():
    shown = [*Status, "overdue", "on_track", "awaiting_sign_off", *(t.event for t in TRANSITIONS.values()),
             *SWEEP_KINDS, "imported", "updated", *OutboxStatus, "notice", "assigned",
             *(f"digest_{audience}" for audience in ("supervisor", "leadership", "unit", "admin"))]
    assert [w for w in shown if lookup("zh-CN", w) is None] == []


@pytest.fixture(params=["zh-CN", "en"])
def locale(request, duban, monkeypatch):  # type: ignore[no-untyped-def]
    """zh-CN by leaving DUBAN_LOCALE unset (the default), English by setting it."""
    monkeypatch.setenv("DUBAN_CONFIG", "/nonexistent/duban.toml")
    if request.param == "en":
        monkeypatch.setenv("DUBAN_LOCALE", "en")
    else:
        monkeypatch.delenv("DUBAN_LOCALE")
    get_settings.cache_clear()
    return request.param


def _check(text: str, expected: dict[str, list[str]], locale: str) -> None:
    """Every phrase of `locale` is in `text`, and none of the other language's."""
    other = "en" if locale == "zh-CN" else "zh-CN"
    assert [phrase for phrase in expected[locale] if phrase not in text] == [], text
    assert [phrase for phrase in expected[other] if phrase in text] == [], text


def test_report_in_the_configured_language(duban, ledger, locale):  # noqa: F811
    result = duban("report", "--now", NOW)
    assert result.code == 0, result.err
    _check(result.out, {
        "zh-CN": ["按文件统计（截至2024-07-03 09:00 北京时间）", "按牵头单位统计", "┃ 文件 ", "┃ 总数 ┃ 已销号 ┃ 落实率 ┃ 在办 ┃ 逾期 ┃",
                  "┃ 牵头单位 "],
        "en": ["By document (as of 2024-07-03 09:00 Beijing time)", "By lead unit", "┃ Document ",
               "┃ Total ┃ Signed off ┃  Rate ┃ Open ┃ Overdue ┃", "┃ Lead unit "],
    }, locale)
    assert "33.3%" in result.out and "50.0%" in result.out  # numbers as they were
    assert duban("report", "--json", "--now", NOW).json()["documents"][0]["signed_off"] == 1


def test_items_in_the_configured_language_and_json_stays_english(duban, ledger, locale):  # noqa: F811
    result = duban("items", "--now", NOW)
    assert result.code == 0, result.err
    rows = {line.split("│")[2].strip(): line for line in result.out.splitlines() if line.count("│") > 6}
    _check(result.out, {"zh-CN": ["共4项事项", "┃ 事项 ", "牵头单位", "完成时限", "状态"],
                        "en": ["4 items", "┃ Item ", "Lead unit", "Deadline", "Status"]}, locale)
    words = {"zh-CN": ("已逾期", "已交办", "已销号", "已撤销"), "en": ("overdue", "assigned", "signed off", "cancelled")}
    overdue, assigned, signed_off, cancelled = words[locale]
    assert overdue in rows["新时代意见/12"] and assigned in rows["新时代意见/13"]
    assert signed_off in rows["新时代意见/14"] and cancelled in rows["建设方案/1"]
    listed = duban("items", "--now", NOW, "--json").json()
    assert {row["status"] for row in listed} == {"assigned", "signed_off", "cancelled"}
    assert {row["due_state"] for row in listed} >= {"overdue", "signed_off"}


def test_show_details_and_timeline_in_the_configured_language(duban, ledger, locale):  # noqa: F811
    assert duban("progress", "新时代意见/12", "--by", ledger["czj"], "--text", "已召开协调会", "--now", NOW).code == 0
    result = duban("show", "新时代意见/12", "--now", NOW)
    assert result.code == 0, result.err
    _check(result.out, {
        "zh-CN": ["牵头单位：市发改委", "配合单位：市财政局", "状态：办理中（已逾期）", "完成时限：2024-06-30", "办理记录",
                  "报送进展", "officer@czj.gov.cn>（单位联络员）", "进展：已召开协调会"],
        "en": ["Lead unit: 市发改委", "Co-units: 市财政局", "Status: in progress (overdue)", "Deadline: 2024-06-30",
               "Timeline", "progress reported", "officer@czj.gov.cn> (officer)", "text: 已召开协调会"],
    }, locale)
    assert "│ 2024-07-03 09:00 │" in result.out  # in Asia/Shanghai, as before
    assert duban("show", "新时代意见/12", "--json").json()["timeline"][0]["kind"] == "progress_reported"


def test_refusals_in_the_configured_language(duban, ledger, locale):  # noqa: F811
    wrong_state = duban("sign-off", "新时代意见/12", "--by", ledger["sup"], "--now", NOW)
    unknown = duban("show", "不存在/1")
    assert (wrong_state.code, unknown.code) == (1, 1)
    expected = {
        "zh-CN": ("错误：新时代意见/12：该事项当前为已交办状态，不能销号（仅限待销号状态）。", "错误：未找到简称为“不存在”的文件。"),
        "en": ("error: 新时代意见/12: sup@dc.gov.cn (supervisor) cannot sign_off: it is assigned; "
               "sign_off is allowed only when it is submitted", "error: no document named '不存在'"),
    }[locale]
    assert re.sub(r"\s*\n\s*", " ", wrong_state.err).strip() == expected[0]
    assert unknown.err.startswith(expected[1])
    assert "Traceback" not in wrong_state.err + unknown.err


def test_a_refused_import_lists_its_problems_in_the_configured_language(duban, ledger, locale, tmp_path,  # noqa: F811
                                                                        monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("文件,编号,事项,牵头单位,完成时限\n新时代意见,9,新事项,市发改,明年\n", encoding="utf-8")
    result = duban("import", str(bad), "--now", NOW)
    assert result.code == 1 and "Traceback" not in result.err
    _check(result.err, {
        "zh-CN": ["导入被拒绝：共2个问题，未写入任何数据", "┃ 文件 ", "┃ 问题 ", "未知单位“市发改”；最接近的已知单位：市发改委",
                  "“明年”不是有效日期"],
        "en": ["The import was refused: 2 problems; nothing was written", "┃ File ", "┃ Problem ",
               "unknown unit '市发改'; closest known: 市发改委", "'明年': not a date"],
    }, locale)


def test_event_details_word_states_as_labels(monkeypatch):  # type: ignore[no-untyped-def]
    from cli import words

    monkeypatch.setattr(words, "locale", lambda: "zh-CN")
    assert words.details({"imported_as": "signed_off", "row": 3}) == "导入时状态：已销号；行：3"
    monkeypatch.setattr(words, "locale", lambda: "en")
    assert words.details({"imported_as": "in_progress", "row": 3}) == "imported as: in progress; row: 3"



def test_user_and_token_commands_in_the_configured_language(duban, ledger, locale):  # noqa: F811
    added = duban("user", "add", "new@fgw.gov.cn", "--role", "officer", "--unit", "FGW", "--name", "张三")
    updated = duban("user", "add", "new@fgw.gov.cn", "--role", "officer", "--unit", "FGW")
    no_unit = duban("user", "add", "x@fgw.gov.cn", "--role", "officer")
    bad_email = duban("user", "add", "nope", "--role", "admin")
    assert (added.code, updated.code, no_unit.code, bad_email.code) == (0, 0, 1, 1)
    _check(added.out + updated.out + no_unit.err + bad_email.err, {
        "zh-CN": ["已添加张三 <new@fgw.gov.cn>（单位联络员）；请用`duban user password new@fgw.gov.cn`设置密码",
                  "已更新张三 <new@fgw.gov.cn>（单位联络员）", "错误：x@fgw.gov.cn：单位联络员须用--unit指定所在单位",
                  "错误：邮箱：“nope”不是有效的邮箱地址"],
        "en": ["added 张三 <new@fgw.gov.cn> (officer); set a password with `duban user password new@fgw.gov.cn`",
               "updated 张三 <new@fgw.gov.cn> (officer)", "error: x@fgw.gov.cn: an officer needs --unit",
               "error: email: 'nope' is not an email address"],
    }, locale)

    none_yet = duban("token", "list", "new@fgw.gov.cn")
    created = duban("token", "create", "new@fgw.gov.cn", "--now", NOW)
    token = created.out.strip()
    assert created.code == 0 and token.startswith("dbn_") and "\n" not in token  # stdout: the token alone
    listed = duban("token", "list", "new@fgw.gov.cn")
    revoked = duban("token", "revoke", "1", "--now", NOW)
    again = duban("token", "revoke", "1")
    relisted = duban("token", "list", "new@fgw.gov.cn")
    unknown = duban("token", "revoke", "4242")
    assert [r.code for r in (none_yet, listed, revoked, again, relisted, unknown)] == [0, 0, 0, 0, 0, 1]
    hint = token[:10]
    _check(none_yet.out + created.err, {
        "zh-CN": ["new@fgw.gov.cn没有API令牌", "（属于new@fgw.gov.cn；请妥善保管：令牌不会再次显示）"],
        "en": ["new@fgw.gov.cn has no API tokens", "(for new@fgw.gov.cn; keep it secret: it cannot be shown again)"],
    }, locale)
    _check(listed.out, {"zh-CN": [f"1  {hint}…  创建于2024-07-03 09:00  从未使用  有效"],
                        "en": [f"1  {hint}…  created 2024-07-03 09:00  never used  active"]}, locale)
    _check(revoked.out + again.out + relisted.out + unknown.err, {
        "zh-CN": [f"new@fgw.gov.cn的令牌1（{hint}…）已吊销", f"new@fgw.gov.cn的令牌1（{hint}…）此前已吊销",
                  "已于2024-07-03 09:00吊销", "错误：没有编号为4242的API令牌（参见`duban token list 邮箱`）"],
        "en": [f"token 1 ({hint}…) of new@fgw.gov.cn revoked", f"token 1 ({hint}…) of new@fgw.gov.cn was already revoked",
               "revoked 2024-07-03 09:00", "error: no API token with id 4242 (see `duban token list EMAIL`)"],
    }, locale)
    assert token not in listed.out + relisted.out


def test_show_after_a_sweep_words_the_thresholds(duban, ledger, locale, engine, monkeypatch):  # noqa: F811
    from datetime import UTC, datetime

    from sqlmodel import Session, select

    from models.tables import Item

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    from cli.common import console

    monkeypatch.setattr(console, "width", 260)  # levels in words (升级督办：未升级) make the details wider
    with Session(engine) as s:  # scheduled from before its first reminder: the sweep catches up
        item = s.exec(select(Item).where(Item.number == "12")).one()
        item.next_action_at = datetime(2024, 6, 1, tzinfo=UTC)
        s.add(item)
        s.commit()
    later = "2024-07-20T09:00+08:00"
    swept = duban("sweep", "--now", later, "--engine", "local")
    assert swept.code == 0, swept.err
    result = duban("show", "新时代意见/12", "--now", later)
    assert result.code == 0, result.err
    _check(swept.out + result.out, {
        "zh-CN": ["事件：升级督办 2、已逾期 1、提醒 2、再次提醒 1", "升级督办：第2级", "系统自动督办", "到期前7个工作日",
                  "第1级升级督办", "逾期15个工作日再次提醒", "已并入第2级升级督办通知", "逾期20天"],
        "en": ["events: escalated 2, overdue 1, reminder 2, repeat reminder 1", "Escalation level: level 2", "the sweep",
               "7 working days before the deadline", "escalation level 1",
               "repeat reminder, 15 working days overdue", "told in the notice of escalation level 2", "20 days overdue",
               "deadline: 2024-06-30"],
    }, locale)
    for identifier in ("threshold", "days_overdue", "deadline_version", "level-1", "before-7", "None", "notified",
                       "covered_by", "无人接收通知", "nobody was told"):  # the catch-up's one notice told of all
        assert identifier not in result.out
    payload = duban("show", "新时代意见/12", "--json").json()["timeline"][0]["payload"]
    assert payload["threshold"] == "before-7" and payload["notified"] is None  # --json keeps the ids
    assert payload["covered_by"] == "level-2"


def test_option_values_we_check_ourselves_in_the_configured_language(duban, ledger, locale):  # noqa: F811
    engine = duban("sweep", "--engine", "bogus")
    no_offset = duban("report", "--now", "2024-07-01")
    not_a_time = duban("report", "--now", "tomorrow")
    not_a_date = duban("extension", "request", "新时代意见/12", "--by", ledger["fgw"], "--to", "soon", "--reason", "r")
    assert [r.code for r in (engine, no_offset, not_a_time, not_a_date)] == [2, 2, 2, 2]  # usage errors, as before
    text = engine.err + no_offset.err + not_a_time.err + not_a_date.err
    assert "Invalid value" in text  # Click's own words stay English
    _check(text, {
        "zh-CN": ["“bogus”无效：可选auto、local或prefect", "“2024-07-01”缺少UTC时差", "“tomorrow”不是ISO 8601格式的时间",
                  "“soon”不是有效日期"],
        "en": ["'bogus': use auto, local or prefect", "'2024-07-01' has no UTC offset", "'tomorrow' is not an ISO 8601 time",
               "'soon' is not a date"],
    }, locale)


def test_serve_says_what_the_scheduler_does_in_the_configured_language(duban, locale):
    from types import SimpleNamespace

    from cli.serve import _scheduler_says
    from flows.scheduler import JOBS

    scheduler = SimpleNamespace(settings=get_settings(), jobs=JOBS[:2])
    owns = _scheduler_says(scheduler, True)  # type: ignore[arg-type]
    lost = _scheduler_says(scheduler, False)  # type: ignore[arg-type]
    cron = get_settings().sweep_cron
    _check(owns + lost, {
        "zh-CN": [f"定时任务：由本进程运行：自动督办（{cron}）；发送邮件（* * * * *）", "定时任务：已由另一进程接管"],
        "en": [f"scheduler: this process owns the schedules: sweep at '{cron}'; deliver at '* * * * *'",
               "scheduler: lost the scheduler lease to another process; schedules stopped here"],
    }, locale)


def test_sweep_thresholds_and_notified_as_words(monkeypatch):  # type: ignore[no-untyped-def]
    from cli import words

    payload = {"threshold": "level-2", "notified": "escalated:1:v1:level-2", "days_overdue": 12}
    monkeypatch.setattr(words, "locale", lambda: "zh-CN")
    assert words.details(payload) == "督办节点：第2级升级督办；已发通知：是；逾期天数：12"
    assert words.threshold("before-3") == "到期前3个工作日" and words.threshold("overdue") == "已逾期"
    monkeypatch.setattr(words, "locale", lambda: "en")
    assert words.details(payload) == "threshold: escalation level 2; notified: yes; days overdue: 12"
    assert words.threshold("repeat-5") == "repeat reminder, 5 working days overdue"
    assert words.threshold("before-1") == "1 working day before the deadline"
    assert words.threshold("something-new") == "something-new"
