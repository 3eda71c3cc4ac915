"""Refusals and errors as the pages word them: one sentence per error code, in zh-CN and English.

`{name}` takes the error's param of that name (models.errors.DubanError.params). Params named in
LABELLED are ids (a status, an action) and show as their label in the page's language.
"""

from __future__ import annotations

ZH: dict[str, str] = {
    # the lifecycle (models/lifecycle.py)
    "action.wrong_state": "{ref}：该事项当前为{status}状态，不能{action}（仅限{allowed}状态）。",
    "action.lead_unit_only": "{ref}：只有牵头单位可以{action}。",
    "action.unit_only": "{ref}：只有牵头单位或配合单位可以{action}。",
    "action.supervisor_only": "{ref}：只有该事项的督查人员或管理员可以{action}。",
    "action.own_unit_sign_off": "{ref}：不能对本单位牵头的事项销号。",
    "action.field_required": "{ref}：{action}须填写{field}。",
    "item.changed": "{ref}已被他人修改，本次操作未执行。请刷新页面后重试。",
    "item.changed_since_loaded": "该事项在您打开后已被他人修改，本次操作未执行。请刷新页面后重试。",
    "progress.percent_range": "{ref}：完成百分比须在0至100之间，所填为{percent}。",
    "progress.percent_invalid": "完成百分比须为0至100的整数，所填为“{percent}”。",
    "extension.not_later": "{ref}：申请延至的日期（{requested}）须晚于当前办理时限（{current}）。",
    "extension.already_waiting": "{ref}：该事项已有待审批的延期申请。",
    "extension.none_waiting": "{ref}：该事项没有待审批的延期申请。",
    "extension.bad_date": "申请延至的日期须按“2024-09-30”格式填写，所填为“{deadline}”。",
    # finding things (models/queries.py, models/accounts.py, web/access.py)
    "item.not_found": "未找到编号为{id}的事项。",
    "item.bad_ref": "“{ref}”不是有效的事项编号，请按“文件简称/序号”（如：新时代意见/12）或数字编号填写。",
    "document.not_found": "未找到简称为“{document}”的文件。",
    "document.no_item": "文件“{document}”中没有序号为{number}的事项。",
    "person.not_found": "未找到邮箱为{email}的人员。",
    "unit.not_found": "未找到名称或代码为“{unit}”的单位。",
    "token.not_found": "未找到编号为{id}的API令牌。",
    "token.others_admin_only": "只有管理员可以查看他人的API令牌。",
    "page.not_allowed": "您无权查看此页面。",
    # logging in, passwords, forms (web/auth.py, web/deps.py, models/accounts.py)
    "login.required": "请先登录。",
    "login.bad_credentials": "邮箱或密码错误。",
    "login.too_many_attempts": "登录失败次数过多，请{minutes}分钟后再试。",
    "password.current_wrong": "当前密码错误。",
    "password.mismatch": "两次输入的新密码不一致。",
    "password.too_short": "密码长度不得少于{min}个字符。",
    "csrf.expired": "页面已过期或请求并非来自本站，请刷新页面后重试。",
    "role.supervisor_only": "只有督查人员和管理员可以执行此操作。",
    "role.admin_only": "只有管理员可以执行此操作。",
    "api.token_required": "需要有效的API令牌（Authorization: Bearer <令牌>）。",
    "secret_key.too_short": "DUBAN_SECRET_KEY过短（至少16个字符）。",
    "secret_key.unreadable": "无法读取密钥文件{path}：{problem}",
    "secret_key.file_too_short": "密钥文件{path}中的密钥过短（至少16个字符）。",
    # lists, approvals, import, outbox (web/routes, models/ledger, notifications/outbox.py)
    "filter.unknown_status": "没有“{status}”这一状态，可选：{options}。",
    "filter.bad_level": "督办级别须为数字，所填为“{level}”。",
    "sign_off.none_chosen": "请至少选择一个要销号的事项。",
    "upload.expired": "上传的文件已失效，请重新选择文件。",
    "upload.bad_type": "{file}：仅支持导入.xlsx或.csv格式的台账。",
    "upload.too_large": "{file}：文件超过{mb}MB。",
    "ledger.refused": "台账导入被拒绝（共{count}个问题），未写入任何数据：\n{problems}",
    "ledger.unschedulable": "新事项无法排定提醒时间：{problem}",
    "ledger.concurrent_import": "另一导入同时写入了相同的单位、人员、文件或事项，本次导入未写入任何数据，请重新导入。",
    "outbox.unknown_status": "没有“{status}”这一发送状态，可选：{options}。",
    "outbox.admin_only": "只有管理员可以重新发送邮件。",
    "outbox.not_found": "未找到编号为{id}的邮件。",
    "outbox.not_dead": "邮件{id}当前为{status}状态，只有发送失败的邮件可以重新发送。",
    "catcher.missing": "此处没有演示邮件收件箱（演示邮件保存在./mail）。",
    "catcher.no_message": "未找到邮件{key}。",
    # the web app itself (web/app.py)
    "http.not_found": "页面不存在。",
    "http.method_not_allowed": "不支持此请求方式。",
    "request.invalid": "提交的内容有误：{problems}",
}

EN: dict[str, str] = {
    "action.wrong_state": "{ref}: the item is {status}; “{action}” is allowed only when it is {allowed}.",
    "action.lead_unit_only": "{ref}: only the lead unit may {action}.",
    "action.unit_only": "{ref}: only the lead unit or a co-unit may {action}.",
    "action.supervisor_only": "{ref}: only the item's supervisor or an admin may {action}.",
    "action.own_unit_sign_off": "{ref}: nobody signs off an item their own unit leads.",
    "action.field_required": "{ref}: to {action}, fill in the {field}.",
    "item.changed": "{ref} was changed by someone else; nothing was applied. Reload the item and try again.",
    "item.changed_since_loaded": "The item was changed by someone else since you opened it; nothing was applied. "
                                 "Reload the item and try again.",
    "progress.percent_range": "{ref}: percent done must be from 0 to 100, not {percent}.",
    "progress.percent_invalid": "Percent done must be a whole number from 0 to 100, not “{percent}”.",
    "extension.not_later": "{ref}: the requested deadline {requested} is not later than the current deadline {current}.",
    "extension.already_waiting": "{ref}: an extension request is already waiting for a decision.",
    "extension.none_waiting": "{ref}: there is no extension request waiting for a decision.",
    "extension.bad_date": "The new deadline must be a date like 2024-09-30, not “{deadline}”.",
    "item.not_found": "No item with id {id}.",
    "item.bad_ref": "“{ref}” is not an item reference; write DOCUMENT/NUMBER (e.g. 新时代意见/12) or an id.",
    "document.not_found": "No document named “{document}”.",
    "document.no_item": "Document “{document}” has no item {number}.",
    "person.not_found": "No person with email {email}.",
    "unit.not_found": "No unit named or coded “{unit}”.",
    "token.not_found": "No API token with id {id}.",
    "token.others_admin_only": "Only admins may list other people's API tokens.",
    "page.not_allowed": "You may not see this page.",
    "login.required": "Please log in.",
    "login.bad_credentials": "Wrong email or password.",
    "login.too_many_attempts": "Too many failed logins; wait {minutes} minutes and try again.",
    "password.current_wrong": "The current password is wrong.",
    "password.mismatch": "The two new passwords differ.",
    "password.too_short": "A password needs at least {min} characters.",
    "csrf.expired": "The form has expired or did not come from this site; reload the page and try again.",
    "role.supervisor_only": "Only supervisors and admins may do this.",
    "role.admin_only": "Only admins may do this.",
    "api.token_required": "A valid API token is required (Authorization: Bearer <token>).",
    "secret_key.too_short": "DUBAN_SECRET_KEY is too short (at least 16 characters).",
    "secret_key.unreadable": "Cannot read the secret key file {path}: {problem}",
    "secret_key.file_too_short": "The secret key in {path} is too short (at least 16 characters).",
    "filter.unknown_status": "There is no status “{status}”; use one of: {options}.",
    "filter.bad_level": "The escalation level must be a number, not “{level}”.",
    "sign_off.none_chosen": "Choose at least one item to sign off.",
    "upload.expired": "The upload has expired; choose the files again.",
    "upload.bad_type": "{file}: only .xlsx and .csv ledgers can be imported.",
    "upload.too_large": "{file}: larger than {mb} MB.",
    "ledger.refused": "The import was refused ({count} problems); nothing was written:\n{problems}",
    "ledger.unschedulable": "New items cannot be scheduled: {problem}",
    "ledger.concurrent_import": "Another import wrote some of the same units, people, documents or items meanwhile; "
                                "nothing of this import was written. Run it again.",
    "outbox.unknown_status": "There is no outbox status “{status}”; use one of: {options}.",
    "outbox.admin_only": "Only admins may retry outbox messages.",
    "outbox.not_found": "No outbox message with id {id}.",
    "outbox.not_dead": "Outbox message {id} is {status}; only dead messages can be retried.",
    "catcher.missing": "No mail catcher here (the demo keeps its mail in ./mail).",
    "catcher.no_message": "No caught message {key}.",
    "http.not_found": "There is no such page.",
    "http.method_not_allowed": "This page does not take that kind of request.",
    "request.invalid": "The request is invalid: {problems}",
}

# Params whose values are ids; each shows as its label (lists of ids joined).
LABELLED = ("status", "allowed", "options", "action", "field", "role")

LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "report_progress": "报送进展", "submit": "报送办结", "sign_off": "销号", "return": "退回",
        "cancel": "撤销", "request_extension": "申请延期", "approve_extension": "同意延期",
        "reject_extension": "不同意延期",
        # the fields an action requires (models.lifecycle.TRANSITIONS)
        "text": "进展情况", "evidence": "佐证材料", "reason": "理由", "deadline": "申请延至日期",
    },
    "en": {
        "report_progress": "report progress", "submit": "submit as done", "sign_off": "sign off",
        "return": "return", "cancel": "cancel", "request_extension": "request an extension",
        "approve_extension": "approve the extension", "reject_extension": "reject the extension",
        "text": "progress text", "evidence": "evidence", "reason": "reason", "deadline": "new deadline",
    },
}
