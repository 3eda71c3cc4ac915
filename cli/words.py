"""The CLI's words: English text as the key, shown in zh-CN (the default) or English as configured.

Words the pages already translate (states, roles, events, column names) come from web/i18n.py;
ZH here holds only the CLI's own. `{name}` fields are filled in after translating, so a value is
never read as a template. Refusals are worded by their code, as on the pages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from models.errors import DubanError
from models.ledger.problems import Problem
from web import i18n

ZH: dict[str, str] = {
    # shared
    "error:": "错误：", "warning:": "警告：", "none": "无", "engine: {engine}": "运行方式：{engine}",
    "{name}: {value}": "{name}：{value}",
    # items, show, report (views.py), acting (lifecycle_cmds.py)
    "{count} items": "共{count}项事项", "{status} ({due_state})": "{status}（{due_state}）",
    " (originally {deadline})": "（原定{deadline}）", "When": "时间", "Event": "事件", "Who": "办理人",
    "Details": "详情", "By document (as of {as_of})": "按文件统计（截至{as_of}）",
    "By lead unit (as of {as_of})": "按牵头单位统计（截至{as_of}）",
    # event payloads' and import changes' fields the pages do not show
    "imported_as": "导入时状态", "file": "文件", "sheet": "工作表", "row": "行", "title": "事项内容",
    "category": "类别", "lead_unit": "牵头单位", "co_units": "配合单位",
    "request_id": "延期申请编号", "yes": "是", "no": "否",
    # the sweep's thresholds (payload "threshold": before-7, overdue, level-1, repeat-10)
    "{n} working day(s) before the deadline": "到期前{n}个工作日", "escalation level {n}": "第{n}级升级督办",
    "repeat reminder, {n} working day(s) overdue": "逾期{n}个工作日再次提醒",
    "{ref}: {event} by {actor}; now {status}": "{ref}：{event}（{actor}），当前状态：{status}",
    # import and demo (ledger.py)
    "reading rows": "读取台账", "writing items": "写入事项",
    "The import was refused: {count} problem(s); nothing was written": "导入被拒绝：共{count}个问题，未写入任何数据",
    "... and {count} more problems not shown": "……另有{count}个问题未显示",
    "Import of {files}": "导入 {files}", "Import of {files} (dry run: nothing was written)": "导入 {files}（预检，未写入）",
    "New": "新增", "Updated": "更新", "Would be new": "将新增", "Would be updated": "将更新", "Unchanged": "未变",
    "Missing from the files": "文件中没有", "People": "人员",
    "updated {item}: {fields}": "更新 {item}：{fields}",
    "missing from the files (left alone): {items}": "文件中没有（保持不变）：{items}",
    "assignment notices queued: {count}": "已排队交办通知：{count}",
    "sweep: {examined} items examined; events: {events}; {notifications} notifications queued":
        "自动督办：检查{examined}项事项；事件：{events}；排队通知{notifications}条",
    "weekly digest {week}: {queued} queued ({audiences})": "周报 {week}：排队{queued}份（{audiences}）",
    "mail: {grouped} message(s) grouped from the notifications and delivered to a mail catcher: "
    "{stored} in {directory}/mail/ (a Maildir)":
        "邮件：由通知合并为{grouped}封，已投递到演示邮件收件箱：{stored}封，保存在{directory}/mail/（Maildir格式）",
    "The demo lives in {directory}/ (its own duban.toml and database). Try:":
        "演示环境位于{directory}/（有自己的duban.toml和数据库）。可以试试：",
    # sweep, forecast, calendar, doctor (sweep.py)
    "sweep at {at}: examined {examined} items; events: {events}; notifications queued {notifications}; "
    "{seconds:.2f} s; engine {engine}":
        "自动督办（{at}）：检查{examined}项事项；事件：{events}；排队通知{notifications}条；用时{seconds:.2f}秒；"
        "运行方式{engine}",
    "{count} notifications in the next {days} days (from {at})": "未来{days}天内的{count}条通知（自{at}起）",
    "Cc": "抄送", "nobody": "无人接收",
    "chinese-calendar covers {first}-{last}; overrides: {source}":
        "chinese-calendar覆盖{first}—{last}年；补充日历：{source}",
    "overrides complete the years {years}": "补充日历完整覆盖的年份：{years}",
    "covered by chinese-calendar": "由chinese-calendar覆盖", "covered by the overrides file": "由补充日历覆盖",
    "NOT covered: Monday-Friday plus overrides": "未覆盖：按周一至周五加补充日历计算",
    "{year}: {coverage} ({extra} override days)": "{year}年：{coverage}（补充日期{extra}天）",
    "{years} not covered; add the official holidays and make-up working days to {source} and list the year "
    "under complete_years (or upgrade chinesecalendar)":
        "{years}年未覆盖：请在{source}中补充法定节假日和调休上班日，并将该年列入complete_years（或升级chinesecalendar）",
    "ok": "正常", "problem": "问题", "warning": "警告",
    "{count} problem(s) found; fix them and run `duban doctor` again": "发现{count}个问题，请修复后再次运行`duban doctor`",
    "settings": "配置", "database": "数据库", "policy": "督办规则", "calendar": "工作日历", "smtp": "邮件服务器",
    "sweep": "自动督办", "empty": "空",
    "{error}; fix: correct the DUBAN_* variable or duban.toml": "{error}；修复：更正DUBAN_*环境变量或duban.toml",
    "database {database}, timezone {timezone}, locale {locale}": "数据库{database}，时区{timezone}，语言{locale}",
    "{server} accepts connections": "{server}可以连接",
    "cannot connect to {server} ({error}); fix: start the mail server or set DUBAN_SMTP_HOST/DUBAN_SMTP_PORT "
    "(`duban mailcatcher` for tests)":
        "无法连接{server}（{error}）；修复：启动邮件服务器或设置DUBAN_SMTP_HOST/DUBAN_SMTP_PORT（测试可用`duban mailcatcher`）",
    "cannot reach {database} ({error}); fix: check DUBAN_DATABASE_URL and that the server is running":
        "无法连接{database}（{error}）；修复：检查DUBAN_DATABASE_URL及数据库服务是否运行",
    "schema at {current}, code expects {head}; fix: run `duban init`":
        "数据库结构版本为{current}，程序需要{head}；修复：运行`duban init`",
    "reachable, migrated ({head})": "可以连接，结构为最新（{head}）",
    "no sweep has run yet; fix: `duban sweep`, or `duban serve` to run it on schedule":
        "尚未运行过自动督办；修复：运行`duban sweep`，或用`duban serve`按计划运行",
    "last sweep at {at}: {examined} items examined, {notifications} notifications queued":
        "最近一次自动督办于{at}：检查{examined}项事项，排队通知{notifications}条",
    "{error}; fix: correct the file (DUBAN_POLICY_FILE)": "{error}；修复：更正该文件（DUBAN_POLICY_FILE）",
    "{source}: {documents} document and {categories} category overrides":
        "{source}：{documents}个文件和{categories}个类别的单独规则",
    "{error}; fix: correct the file (DUBAN_CALENDAR_FILE)": "{error}；修复：更正该文件（DUBAN_CALENDAR_FILE）",
    "{year} is not covered (Monday-Friday fallback); fix: add its holidays and make-up working days to {source} "
    "and list {year} under complete_years":
        "{year}年未覆盖（按周一至周五计算）；修复：在{source}中补充该年的节假日和调休上班日，并将{year}列入complete_years",
    "{year} covered ({how})": "{year}年已覆盖（{how}）", "by chinese-calendar": "chinese-calendar",
    "by the overrides file": "补充日历",
    # mail (mail.py)
    "grouped {grouped} new message(s); sent {sent}, retried {retried}, dead {dead}, "
    "refused recipients {refused_recipients}; {seconds:.2f}s":
        "新合并邮件{grouped}封；已发送{sent}封，待重试{retried}封，发送失败{dead}封，被拒收件人{refused_recipients}个；"
        "用时{seconds:.2f}秒",
    "outside the delivery window: mail waits until {at}": "不在发送时段内：邮件将于{at}发送",
    "Next / sent": "下次发送/发送时间", "Last error": "最近错误",
    "notice": "通知", "digest_supervisor": "督查人员周报", "digest_leadership": "领导周报", "digest_unit": "单位周报",
    "digest_admin": "管理员周报",
    "--retry needs --by EMAIL (an admin)": "--retry须同时给出--by 邮箱（管理员）",
    "message {id} to {recipients} is queued again": "发给{recipients}的邮件{id}已重新排队",
    "wrote {count} digest preview(s) to {directory}": "已将{count}份周报预览写入{directory}",
    "week {week}: queued {queued} digest(s) (supervisors {supervisor}, leadership {leadership}, units {unit}, "
    "admins {admin}); already sent this week {already_sent}, empty {empty}":
        "{week}：排队周报{queued}份（督查人员{supervisor}、领导{leadership}、单位{unit}、管理员{admin}）；"
        "本周已发送{already_sent}份，无内容{empty}份",
    "cannot listen on {host}:{port}: {error}": "无法在{host}:{port}上监听：{error}",
    "mail catcher on {host}:{port}, storing into {maildir} (Ctrl-C to stop)":
        "邮件捕获服务器运行于{host}:{port}，收到的邮件保存到{maildir}（按Ctrl-C停止）",
    "stored {count} message(s)": "共保存{count}封邮件",
    # option values we check ourselves (mail.py, serve.py, sweep.py, lifecycle_cmds.py, common.py)
    "{value!r}: use auto, local or prefect": "“{value}”无效：可选auto、local或prefect",
    "{value!r} is not a date; write e.g. 2024-09-30": "“{value}”不是有效日期，请按2024-09-30的格式填写",
    "{value!r} is not an ISO 8601 time; write e.g. 2024-06-30T09:00+08:00":
        "“{value}”不是ISO 8601格式的时间，请按2024-06-30T09:00+08:00的格式填写",
    "{value!r} has no UTC offset; write e.g. 2024-06-30T09:00+08:00":
        "“{value}”缺少UTC时差，请按2024-06-30T09:00+08:00的格式填写",
    # people and API tokens (users.py)
    "{email!r} is not an email address": "“{email}”不是有效的邮箱地址",
    "{email}: an officer needs --unit (the unit whose items they work on)":
        "{email}：单位联络员须用--unit指定所在单位（其办理事项的单位）",
    "added {person}; set a password with `duban user password {email}`":
        "已添加{person}；请用`duban user password {email}`设置密码",
    "updated {person}; set a password with `duban user password {email}`":
        "已更新{person}；请用`duban user password {email}`设置密码",
    "new password": "新密码", "again": "再次输入新密码",
    "the two passwords differ; nothing was changed": "两次输入的密码不一致，未做任何修改",
    "password set for {email}; their other sessions have ended": "已为{email}设置密码，其已登录的其他会话均已退出",
    "{email} is not active": "{email}已停用",
    "(for {email}; keep it secret: it cannot be shown again)": "（属于{email}；请妥善保管：令牌不会再次显示）",
    "{email} has no API tokens": "{email}没有API令牌",
    "created {at}": "创建于{at}", "last used {at}": "最近使用于{at}", "never used": "从未使用",
    "revoked {at}": "已于{at}吊销",
    "no API token with id {id} (see `duban token list EMAIL`)": "没有编号为{id}的API令牌（参见`duban token list 邮箱`）",
    "token {id} ({hint}…) of {owner} revoked": "{owner}的令牌{id}（{hint}…）已吊销",
    "token {id} ({hint}…) of {owner} was already revoked": "{owner}的令牌{id}（{hint}…）此前已吊销",
    # serve (serve.py)
    "--no-web runs no web server processes": "--no-web不运行网页服务进程",
    "server mode (PREFECT_API_URL is set): the schedules run on the Prefect server's workers, so --no-web "
    "leaves this process nothing to do":
        "服务器模式（已设置PREFECT_API_URL）：定时任务由Prefect服务器的worker运行，使用--no-web时本进程无事可做",
    "server mode: the schedules live on the Prefect server at {url} (duban deploy); this process runs the web "
    "app only":
        "服务器模式：定时任务在Prefect服务器{url}上运行（duban deploy）；本进程只运行网页应用",
    "scheduler: this process owns the schedules: {jobs}": "定时任务：由本进程运行：{jobs}",
    "scheduler: lost the scheduler lease to another process; schedules stopped here":
        "定时任务：已由另一进程接管，本进程不再运行定时任务",
    "{job} at '{cron}'": "{job}（{cron}）", "deliver": "发送邮件", "digest": "周报", "digest-catch-up": "补发周报",
    "{holder} (lease until {until} UTC)": "{holder}（租约至UTC {until}）", "another process": "另一进程",
    "scheduler: another duban serve owns the schedules of this database: {who}; this one runs no jobs and takes "
    "over if that one stops":
        "定时任务：本数据库的定时任务由另一个duban serve运行：{who}；本进程不运行任务，待其停止后接管",
    "running the scheduler alone; Ctrl-C stops": "仅运行定时任务；按Ctrl-C停止", "stopped": "已停止",
    "the web app cannot be loaded (see above)": "无法加载网页应用（见上文）",
    "web app not available ({error})": "网页应用不可用（{error}）",
    # deploy (deploy.py)
    "cannot read {path}: {error}": "无法读取{path}：{error}", "{path} defines no deployments": "{path}中没有定义任何部署",
    "PREFECT_API_URL is not set: point it at the Prefect server (see docs/deploy.md)":
        "未设置PREFECT_API_URL：请将其指向Prefect服务器（见docs/deploy.md）",
    "deployments applied to {url}": "已应用到{url}的部署", "deployment": "部署", "entrypoint": "入口",
    "schedule": "运行计划", "work pool": "工作池", "on demand": "按需运行",
    "Set on the Prefect server's host: {settings}": "请在Prefect服务器所在主机上设置：{settings}",
    "Start workers from a checkout of duban at the same path ({root}): {command}":
        "在相同路径（{root}）的duban代码副本中启动worker：{command}",
    "created work pool {name} (process)": "已创建工作池{name}（process类型）",
    # the database (common.py, ops.py)
    "database {database} is up to date (revision {revision})": "数据库{database}已是最新结构（版本{revision}）",
    "database {database}: {before} -> {after}": "数据库{database}：{before} -> {after}",
    "cannot connect to the database at {database}: {reason}; check DUBAN_DATABASE_URL "
    "(and DUBAN_DATABASE_PASSWORD_FILE) and that the server is running":
        "无法连接数据库{database}：{reason}；请检查DUBAN_DATABASE_URL（及DUBAN_DATABASE_PASSWORD_FILE）和数据库服务是否运行",
    "the database at {database} is not initialised or not up to date; run `duban init`":
        "数据库{database}尚未初始化或不是最新结构，请运行`duban init`",
}


def locale() -> str:
    """The configured locale; settings that cannot be read (their error is being shown) fall back."""
    from config.settings import SettingsError, get_settings

    try:
        return get_settings().locale
    except SettingsError:
        chosen = os.environ.get("DUBAN_LOCALE", "")
        return chosen if chosen in i18n.LOCALES else "zh-CN"


def _(text: str, **params: Any) -> str:
    """`text` in the configured language (English when it has no translation), fields filled in."""
    if locale() == "en":
        words = i18n.EN.get(text, text)
    else:
        words = ZH.get(text) or i18n.ZH.get(text, text)
    return words.format(**params) if params else words


def error_text(exc: BaseException) -> str:
    """A refusal in the configured language.

    zh-CN words a DubanError by its code (web.i18n.error_message, as the pages do); English keeps
    the error's own sentence, which names more (the person, a "did you mean" hint).
    """
    language = locale()
    if isinstance(exc, DubanError) and language != "en":
        return i18n.error_message(exc, language)
    return str(exc)


def problem_text(problem: Problem) -> str:
    """Why a ledger cell or file is refused, in the configured language."""
    return i18n.problem_message(problem, locale())


def actor(label: str) -> str:
    """Who did it (the stored audit label), with the role in the configured language."""
    return i18n.actor_text(label, locale())


def details(payload: Mapping[str, Any]) -> str:
    """An event's payload as `field: value` pairs, the field names translated, ids as their labels."""
    separator, colon = ("；", "：") if locale() == "zh-CN" else ("; ", ": ")
    return separator.join(f"{_(key)}{colon}{_value(key, value)}" for key, value in payload.items())


_LABELLED_FIELDS = ("imported_as", "status", "from_status", "to_status")  # their values are states
_THRESHOLD = re.compile(r"(before|level|repeat)-(\d+)")


def _value(key: str, value: Any) -> Any:
    if key in _LABELLED_FIELDS:
        return _(value)
    if key == "threshold":
        return threshold(str(value))
    if key == "threshold_at":
        return _instant(value)
    if key == "notified":  # the notification's key, or None when nobody was told
        return _("yes") if value else _("no")
    return value


def threshold(key: str) -> str:
    """A sweep threshold's key (before-7, overdue, level-1, repeat-10, see models.schedule) in words."""
    found = _THRESHOLD.fullmatch(key)
    if found is None:
        return _(key)
    kind, n = found.group(1), int(found.group(2))
    if kind == "before":
        return _("{n} working day(s) before the deadline", n=n)
    if kind == "level":
        return _("escalation level {n}", n=n)
    return _("repeat reminder, {n} working day(s) overdue", n=n)


def _instant(value: Any) -> Any:
    """An ISO instant in the configured timezone, as the tables show times; anything else as is."""
    from config.clock import parse_instant
    from config.settings import SettingsError, get_settings

    try:
        return parse_instant(str(value)).astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M")
    except (ValueError, SettingsError):
        return value


def counts(pairs: Iterable[tuple[str, int]]) -> str:
    """`kind count` pairs (events, audiences) with each kind translated; "none" when there are none."""
    separator = "、" if locale() == "zh-CN" else ", "
    return separator.join(f"{_(kind)} {count}" for kind, count in pairs) or _("none")
