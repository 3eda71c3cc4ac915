"""Refusals in the page's language: zh-CN by default, English on request, escaped, none without words."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import models.ledger.plan
import web.app  # noqa: F401 - imports every module that defines a DubanError subclass
from config.i18n import translations
from models.errors import DubanError, InvalidInput
from models.lifecycle import Action
from tests.factories import make_document, make_item
from tests.web.conftest import CSRF, SCRIPT_TITLE
from web.i18n import error_message

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"[a-z_]+(\.[a-z_]+)+")


def _words(locale: str, context: str | None = None) -> dict[str, str]:
    """The catalog's entries for refusal codes (msgids such as `action.wrong_state`), or in `context`."""
    entries = translations(locale)._catalog  # type: ignore[attr-defined]
    if context is not None:
        return {key.partition("\x04")[2]: text for key, text in entries.items()
                if isinstance(key, str) and key.startswith(f"{context}\x04")}
    return {key: text for key, text in entries.items() if isinstance(key, str) and CODE.fullmatch(key)}


ZH, EN = _words("zh-CN"), _words("en")
# Where a web or API user's refusals are raised.
SOURCES = sorted([
    *ROOT.glob("web/**/*.py"), ROOT / "models/lifecycle.py", ROOT / "models/queries.py",
    ROOT / "models/accounts.py", ROOT / "models/errors.py", *ROOT.glob("models/ledger/*.py"),
    ROOT / "models/scoring.py", ROOT / "models/feeds.py", ROOT / "models/attachments.py", *ROOT.glob("models/read/*.py"),
    ROOT / "notifications/outbox.py",
])


def _act(client, item, action, **fields):  # type: ignore[no-untyped-def]
    return client.post(f"/items/{item.id}/act", data={"csrf_token": CSRF, "action": action, **fields})


def _english(client):  # type: ignore[no-untyped-def]
    assert client.post("/lang", data={"csrf_token": CSRF, "lang": "en"}).status_code == 303
    return client


def _alert(page: str) -> str:
    return page.split('role="alert">', 1)[1].split("</p>", 1)[0]


def test_an_officer_submitting_twice_is_told_in_chinese(world, client_for):
    lead, item = client_for(world.people["lead"]), world.items["ours"]
    assert _act(lead, item, "submit", evidence="文件已印发").status_code == 303
    response = _act(lead, item, "submit", evidence="文件已印发")
    assert response.status_code == 409
    assert _alert(response.text) == "新时代意见/1：该事项当前为待销号状态，不能申请销号（仅限已交办、办理中状态）。"
    assert "<title>操作未执行" in response.text


def test_a_second_extension_request_is_refused_in_the_chosen_language(world, client_for):
    lead, item = client_for(world.people["lead"]), world.items["ours"]
    assert _act(lead, item, "request_extension", deadline="2024-09-30", reason="需等待批复").status_code == 303
    response = _act(lead, item, "request_extension", deadline="2024-10-31", reason="再延")
    assert response.status_code == 400 and _alert(response.text) == "新时代意见/1：该事项已有待审批的延期申请。"
    response = _act(_english(lead), item, "request_extension", deadline="2024-10-31", reason="再延")
    assert response.status_code == 400
    assert _alert(response.text) == "新时代意见/1: an extension request is already waiting for a decision."
    assert "<title>Invalid input" in response.text


def test_statuses_and_actions_in_english_messages_show_their_labels(world, client_for):
    sup = _english(client_for(world.people["sup"]))
    response = _act(sup, world.items["ours"], "sign_off")
    assert response.status_code == 409
    assert _alert(response.text) == ("新时代意见/1: the item is assigned; “sign off” is allowed only when it is "
                                     "awaiting sign-off.")
    response = _act(client_for(world.people["co"]), world.items["ours"], "request_extension",
                    deadline="2024-09-30", reason="x")
    assert response.status_code == 403 and _alert(response.text) == "新时代意见/1：只有牵头单位可以申请延期。"


def test_a_ref_with_markup_is_escaped_in_the_message(world, client_for, session):
    document = make_document(session, SCRIPT_TITLE)
    item = make_item(session, document=document, lead_unit=world.units["fgw"], number="1")
    session.commit()
    lead = client_for(world.people["lead"])
    assert _act(lead, item, "submit", evidence="x").status_code == 303
    response = _act(lead, item, "submit", evidence="x")
    assert response.status_code == 409
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;/1：该事项当前为待销号状态" in response.text
    assert SCRIPT_TITLE not in response.text


def test_login_and_password_refusals_are_in_the_page_language(world, client_for, anon):
    page = anon.get("/login").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = anon.post("/login", data={"csrf_token": token, "email": "lead@fgw.gov.cn", "password": "nope"})
    assert response.status_code == 401 and _alert(response.text) == "邮箱或密码错误。"
    client = _english(client_for(world.people["lead"]))
    response = client.post("/password", data={"csrf_token": CSRF, "current": "not it", "new": "abcdefghij",
                                              "repeated": "abcdefghij"})
    assert response.status_code == 400 and _alert(response.text) == "The current password is wrong."


def test_a_missing_page_says_so_in_chinese(world, client_for):
    response = client_for(world.people["lead"]).get("/no-such-page")
    assert response.status_code == 404 and _alert(response.text) == "页面不存在。"


def test_a_code_without_words_falls_back_to_the_english_message():
    exc = InvalidInput("something <odd>", code="no.such.code", params={"ref": "x"})
    assert error_message(exc, "zh-CN") == error_message(exc, "en") == "something <odd>"
    assert error_message(InvalidInput("plain"), "zh-CN") == "plain"


def test_params_are_formatted_once_and_never_parsed():
    exc = InvalidInput("x", code="extension.already_waiting", params={"ref": "{ref} {0} {__class__}"})
    assert error_message(exc, "zh-CN") == "{ref} {0} {__class__}：该事项已有待审批的延期申请。"
    missing = InvalidInput("the English sentence", code="extension.already_waiting")  # no ref
    assert error_message(missing, "zh-CN") == "the English sentence"


def _subclass_names(kind: type) -> set[str]:
    return {kind.__name__}.union(*(_subclass_names(sub) for sub in kind.__subclasses__()))


def _codes_and_bare_raises() -> tuple[set[str], list[str]]:
    """Every code="..." in the sources, and every raise of a DubanError (or ledger Problem) without one."""
    assert models.ledger.plan  # LedgerError is defined there
    errors = _subclass_names(DubanError) | {"Refusal"}
    codes: set[str] = set()
    bare = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "code":
                codes |= {c.value for c in ast.walk(node.value)
                          if isinstance(c, ast.Constant) and isinstance(c.value, str) and "." in c.value}
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and isinstance(node.exc.func, ast.Name) and node.exc.func.id in errors
                    and node.exc.func.id != "LedgerError"  # words its own code
                    and not any(k.arg == "code" for k in node.exc.keywords)):
                bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            called = getattr(node.func, "id", None) or getattr(node.func, "attr", None) if isinstance(node, ast.Call) else None
            if called in ("Problem", "problem") and not any(k.arg == "code" for k in node.keywords):  # a ledger problem
                bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return codes, bare


def test_every_refusal_a_user_can_meet_has_a_code_and_words_in_both_languages():
    codes, bare = _codes_and_bare_raises()
    assert len(codes) > 40  # the scan found the raise sites
    # ... and the ledger's problems: Problem(...), self.problem(...), DeadlineError(...), dict(code=...)
    assert {"ledger.file.bad_encoding", "ledger.row.unknown_unit_near", "ledger.deadline.no_day",
            "ledger.where.sheet"} <= codes
    assert bare == []
    assert sorted(codes - ZH.keys()) == []
    assert sorted(codes - EN.keys()) == []
    raised_anywhere = {code for path in ROOT.glob("[cfmnw]*/**/*.py")
                       for code in re.findall(r'code="([a-z_.]+)"', path.read_text(encoding="utf-8"))}
    assert sorted((ZH.keys() | EN.keys()) - codes - raised_anywhere) == []  # no words for codes never raised


@pytest.mark.parametrize("code", sorted(ZH))
def test_both_languages_use_the_same_params(code):
    def fields(text: str) -> set[str]:
        return set(re.findall(r"{(\w+)[!:}]", text))  # {name}, {name!r}, {name:02d}

    assert fields(ZH[code]) == fields(EN[code])


def test_every_action_and_required_field_has_a_label():
    from models.lifecycle import TRANSITIONS

    words = {*Action, *(key for t in TRANSITIONS.values() for key in t.requires)}
    for locale in ("zh-CN", "en"):
        assert sorted(words - _words(locale, "label").keys()) == []


def test_flash_messages_follow_the_page_language(world, client_for):
    lead, item = client_for(world.people["lead"]), world.items["ours"]
    assert _act(lead, item, "report_progress", text="已召开协调会").status_code == 303
    assert '<p class="flash ok" role="status">操作成功。</p>' in lead.get(f"/items/{item.id}").text
    assert _act(_english(lead), item, "report_progress", text="第二次").status_code == 303
    assert '<p class="flash ok" role="status">Done.</p>' in lead.get(f"/items/{item.id}").text


def test_a_ledger_problem_is_worded_in_each_language_with_its_nested_place_and_labels():
    from models.ledger.problems import Problem
    from web.i18n import problem_message

    where = {"code": "ledger.where.sheet", "file": "units.xlsx", "sheet": "单位", "row": 3}
    taken = Problem("ledger.xlsx", "台账", 7, "督办人", code="ledger.row.person_taken",
                    params={"email": "a@b.cn", "role": "officer", "unit": "市财政局", "where": where})
    assert problem_message(taken, "zh-CN") == ("a@b.cn已在units.xlsx工作表“单位”第3行登记为市财政局的单位联络员；"
                                               "每人只能有一个角色和所属单位")
    assert problem_message(taken, "en") == taken.reason == (
        "a@b.cn is already the officer of 市财政局 on units.xlsx sheet 单位 row 3; a person has one role and unit")
    near = Problem("a.csv", None, 2, "牵头单位", code="ledger.row.unknown_unit_near",
                   params={"unit": "{0}{unit}", "closest": ["市发改委", "市发展改革委"]})
    assert problem_message(near, "zh-CN") == "未知单位“{0}{unit}”；最接近的已知单位：市发改委、市发展改革委"
    assert problem_message(near, "en") == "unknown unit '{0}{unit}'; closest known: 市发改委, 市发展改革委"


def test_an_invalid_form_is_refused_in_the_page_language(world, client_for):
    lead, item = client_for(world.people["lead"]), world.items["ours"]
    form = {"csrf_token": CSRF, "version": "abc"}  # no action, and a version that is not a number
    response = lead.post(f"/items/{item.id}/act", data=form)
    assert response.status_code == 422
    assert _alert(response.text) == "提交的内容有误：未填写“操作”；“版本号”须为数字"
    response = _english(lead).post(f"/items/{item.id}/act", data=form)
    assert _alert(response.text) == "The request is invalid: action is missing; version must be a number"
