"""The pages' words: English message ids, translated to zh-CN (the default); the CLI shares them."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from models.errors import DubanError
from models.ledger.problems import Problem
from models.ledger.problems import render as render_problem
from models.sweep import ACTOR_LABEL as SWEEP_ACTOR
from web import messages

LOCALES = ("zh-CN", "en")

ZH: dict[str, str] = {
    # frame
    "duban": "督办", "Supervision desk": "督办工作台", "Dashboard": "总览", "Items": "事项",
    "My work": "我的工作", "Approvals": "待审批", "Import": "台账导入", "Outbox": "发件箱",
    "Digest": "周报预览", "Log in": "登录", "Log out": "退出", "Email": "邮箱", "Password": "密码",
    "Change password": "修改密码", "Current password": "当前密码", "New password": "新密码",
    "New password again": "再次输入新密码", "Times shown in": "时间按时区显示：", "Back": "返回",
    "Password changed.": "密码已修改。",
    # spreadsheets (web/workbooks.py)
    "Id": "编号", "Number": "序号", "As of": "截至", "By document": "按文件", "Units ranked by rate": "单位销号率排名",
    "Figures (.xlsx)": "导出统计表",
    # ranking units (dashboard)
    "Ranked by rate; at equal rates, fewer overdue items first.": "按销号率排名；销号率相同时，逾期事项少者在前。",
    "Units needing attention first": "按需关注程度排序", "Rank units by rate": "按销号率排名", "Rank": "名次",
    # who did it (the timeline)
    "the sweep": "系统自动督办", "ledger import": "台账导入",
    # API tokens
    "API tokens": "API令牌", "Create a token": "创建令牌", "New token": "新令牌", "Token": "令牌",
    "A token lets a script use /api/v1 with your rights: send it as “Authorization: Bearer <token>”.":
        "令牌供脚本以您的权限调用 /api/v1 接口，请求时带上“Authorization: Bearer <令牌>”。",
    "Copy the new token now: it will not be shown again.": "请立即复制新令牌：它不会再次显示。",
    "You have no API tokens.": "您还没有API令牌。", "Last used": "最近使用", "never": "从未使用",
    "revoked": "已吊销", "active": "有效", "Revoke": "吊销",
    "Revoke this token? Scripts using it will stop working.": "确定吊销此令牌？使用它的脚本将无法再访问。",
    "Token revoked.": "令牌已吊销。", "The token was already revoked.": "该令牌此前已吊销。",
    # roles and states
    "admin": "管理员", "supervisor": "督查人员", "officer": "单位联络员", "leader": "领导",
    "assigned": "已交办", "in_progress": "办理中", "submitted": "已报结", "signed_off": "已销号",
    "cancelled": "已撤销", "on_track": "正常推进", "overdue": "已逾期", "awaiting_sign_off": "待销号",
    "due_soon": "即将到期", "red": "逾期", "yellow": "临期", "green": "正常",
    # errors
    "Not found": "未找到", "Not allowed": "无权操作", "Refused": "操作未执行",
    "Changed by someone else": "已被他人修改", "Too many attempts": "尝试次数过多", "Invalid input": "输入有误",
    # dashboard
    "Documents": "文件", "Document": "文件", "Total": "总数", "Signed off": "已销号", "Rate": "销号率",
    "Trend": "趋势", "Units": "单位", "Unit": "单位", "Open": "在办", "Due soon": "临期",
    "Overdue": "逾期", "Escalation": "督办升级", "Level": "级别", "No escalated items.": "暂无升级督办事项。",
    "All units": "全部单位", "Rate over the past weeks": "近几周销号率", "items": "项",
    "Overall": "总体", "of": "共", "signed off": "已销号", "Light": "状态灯", "No items yet.": "暂无事项。",
    "Showing the units with most overdue and due-soon items.": "按逾期、临期数量排序显示。",
    # items
    "Status": "状态", "Any": "全部", "Text": "关键词", "Sort": "排序", "Filter": "筛选",
    "Export .xlsx": "导出 Excel", "Deadline": "办理时限", "Lead unit": "牵头单位", "Title": "事项内容",
    "Item": "事项", "Escalation level": "督办级别", "Deadline, earliest first": "时限由近到远",
    "Deadline, latest first": "时限由远到近", "Ledger order": "台账顺序", "Escalation, highest first": "升级级别由高到低",
    "Recently changed": "最近变更", "Previous": "上一页", "Next": "下一页", "Page": "第", "found": "条结果",
    "Only overdue": "仅逾期", "Only due soon": "仅临期", "No items match.": "没有符合条件的事项。",
    # item page
    "Co-units": "配合单位", "Supervisor": "督查人员", "Original deadline": "原定时限",
    "Current deadline": "当前时限", "Category": "类别", "Notes": "备注", "Timeline": "办理记录",
    "Progress reports": "进展报告", "Actions": "可执行操作", "You may not act on this item now.": "您当前无可执行的操作。",
    "Report progress": "报送进展", "Submit as done": "报结（申请销号）", "Request extension": "申请延期",
    "Sign off": "销号", "Return": "退回", "Approve extension": "同意延期", "Reject extension": "不同意延期",
    "Cancel item": "撤销事项", "What was done": "进展情况", "Percent done": "完成百分比",
    "Evidence": "佐证材料", "Reason": "理由", "New deadline": "申请延至", "Comment": "意见",
    "Pending extension request": "待审批的延期申请", "requested": "申请延至",
    "progress_reported": "报送进展", "extension_requested": "申请延期",
    "extension_approved": "同意延期", "extension_rejected": "不同意延期", "returned": "退回",
    "escalated": "升级督办", "reminded": "提醒", "reminder": "提醒", "repeat_reminder": "再次提醒", "created": "创建", "imported": "导入", "updated": "更新",
    "Done.": "操作成功。",
    "text": "进展", "percent": "完成度", "evidence": "佐证材料", "reason": "理由", "comment": "意见",
    "deadline": "时限", "old_deadline": "原时限", "new_deadline": "新时限", "requested_deadline": "申请时限",
    # the sweep's event payloads (models/sweep.py), shown on the timeline
    "threshold": "督办节点", "threshold_at": "节点时间", "level": "督办级别", "workdays": "距时限工作日数",
    "deadline_version": "时限版本", "days_left": "剩余天数", "days_overdue": "逾期天数", "notified": "已发通知",
    # my work, approvals
    "Returned to you": "被退回", "Due within the reminder window": "临近时限", "Nothing here.": "暂无。",
    "Submitted items waiting": "待销号事项", "Extension requests waiting": "待审批延期申请",
    "Sign off selected": "批量销号", "Submitted": "报结时间", "Requested": "申请时间",
    "Requested deadline": "申请时限", "Reason for returning": "退回理由",
    # import, outbox, digest
    "Upload a ledger": "上传台账", "Ledger file (.xlsx or .csv)": "台账文件（.xlsx 或 .csv）",
    "Check (dry run)": "预检（不写入）", "Apply": "确认导入",
    "Ledger import is not available yet.": "台账导入功能尚未就绪。",
    "Sent": "已发送", "Pending": "待发送", "Dead": "发送失败", "Retry": "重新发送",
    "To": "收件人", "Subject": "主题", "Created": "创建时间", "Error": "错误",
    "The outbox is not available yet; these notifications are queued.": "发件箱尚未就绪；以下为已排队的通知。",
    "This week": "本周", "Queued notifications": "已排队通知", "Digests this week": "本周周报",
    "leadership": "领导", "unit": "单位", "pending": "待发送", "failed": "重试中", "sent": "已发送",
    "dead": "发送失败", "queued": "已排队", "Attempts": "尝试次数", "Kind": "类型",
    "To return an item, open it and give the reason.": "如需退回，请打开事项并填写理由。",
    "Import applied.": "台账已导入。", "Mail caught by the demo's mail catcher": "演示邮件收件箱", "Dry run: what would change": "预检结果：将发生的变更",
    "The import was refused; nothing was written.": "导入被拒绝，未写入任何数据。",
    "File": "文件", "Sheet": "工作表", "Row": "行", "Column": "列", "Problem": "问题", "Changes": "变更",
    "In the database but not in the files": "库中有但文件中没有", "documents_created": "新增文件",
    "units_created": "新增单位", "units_updated": "更新单位", "people_created": "新增人员",
    "items_created": "新增事项", "items_updated": "更新事项", "items_unchanged": "未变事项",
}

# English needs only the words that are identifiers.
EN: dict[str, str] = {
    "duban": "duban", "in_progress": "in progress", "signed_off": "signed off", "on_track": "on track",
    "awaiting_sign_off": "awaiting sign-off", "due_soon": "due soon", "red": "overdue", "yellow": "due soon",
    "green": "on track", "progress_reported": "progress reported", "extension_requested": "extension requested",
    "extension_approved": "extension approved", "extension_rejected": "extension rejected", "repeat_reminder": "repeat reminder",
    "old_deadline": "old deadline", "new_deadline": "new deadline", "requested_deadline": "requested deadline",
    "documents_created": "documents created", "units_created": "units created", "units_updated": "units updated",
    "people_created": "people created", "items_created": "items created", "items_updated": "items updated",
    "items_unchanged": "items unchanged",
    "threshold_at": "threshold reached", "level": "escalation level", "workdays": "working days from the deadline",
    "deadline_version": "deadline version", "days_left": "days left", "days_overdue": "days overdue",
}

_CATALOGUES = {"zh-CN": ZH, "en": EN}


def translator(locale: str) -> Callable[[str], str]:
    catalogue = _CATALOGUES.get(locale, ZH)

    def translate(message: str) -> str:
        return catalogue.get(str(message), str(message))

    return translate


_ROLE_SUFFIX = re.compile(r" \((admin|supervisor|officer|leader)\)$")


def actor_text(label: str, locale: str) -> str:
    """Who did it, as stored in the audit trail ("name <email> (role)", the sweep, an import file),
    with its role and kind in the page's language; the stored label itself never changes."""
    translate = translator(locale)
    if label == SWEEP_ACTOR:
        return translate("the sweep")
    if label.startswith("import:"):
        return translate("ledger import") + ("：" if locale == "zh-CN" else ": ") + label.removeprefix("import:")
    if found := _ROLE_SUFFIX.search(label):
        role = translate(found.group(1))
        return label[:found.start()] + (f"（{role}）" if locale == "zh-CN" else f" ({role})")
    return label


_MESSAGES = {"zh-CN": messages.ZH, "en": messages.EN}
_LIST_SEPARATOR = {"zh-CN": "、", "en": ", "}


def error_message(exc: DubanError, locale: str) -> str:
    """The refusal in `locale`'s words, from its code and params; str(exc) when the code has none.

    Plain text: the page escapes it like any other value.
    """
    locale = locale if locale in _MESSAGES else "zh-CN"
    template = _MESSAGES[locale].get(exc.code or "")
    if template is None:
        return str(exc)
    try:
        # vformat takes only plain field names from our own templates; values are never parsed.
        return string.Formatter().vformat(template, (), _labelled(exc.params, locale))
    except (KeyError, IndexError, ValueError):
        return str(exc)


def problem_message(problem: Problem, locale: str) -> str:
    """A refused ledger's problem in `locale`'s words; its English reason when the words are missing."""
    locale = locale if locale in _MESSAGES else "zh-CN"
    try:
        return render_problem(problem.code, _labelled(problem.params, locale), _MESSAGES[locale],
                              _LIST_SEPARATOR[locale])
    except (KeyError, IndexError, ValueError):
        return problem.reason


def _labelled(params: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """Params named in LABELLED (ids) as their labels in `locale`, lists of them joined; others as is."""
    translate, labels = translator(locale), messages.LABELS[locale]

    def label(value: Any) -> str:
        return labels.get(str(value)) or translate(str(value))

    shown = dict(params)
    for name, value in params.items():
        if name in messages.LABELLED:
            values = value if isinstance(value, list) else [value]
            shown[name] = _LIST_SEPARATOR[locale].join(label(v) for v in values)
    return shown
