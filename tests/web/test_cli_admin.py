"""`duban user list|set|deactivate`: changes logged, refusals clear, a deactivated person shut out."""

from __future__ import annotations

import html
import re

from sqlmodel import select

from models.accounts import create_token, person_for_token
from models.admin import AdminChange
from models.tables import Person, Role
from tests.cli.conftest import duban  # noqa: F401  (the fixture)
from tests.factories import make_person, make_unit


def _person(session, email):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.exec(select(Person).where(Person.email == email)).one()


def test_user_set_changes_language_role_and_unit_and_logs_each(duban, session, now):  # noqa: F811
    fgw, swj = make_unit(session, "市发改委", code="FGW"), make_unit(session, "市商务局", code="SWJ")
    make_person(session, Role.OFFICER, fgw, email="a@fgw.gov.cn")
    session.commit()
    result = duban("user", "set", "A@fgw.gov.cn", "--locale", "en", "--unit", "商务局")
    assert result.code == 0, result.err
    person = _person(session, "a@fgw.gov.cn")
    assert person.locale == "en" and person.unit_id == swj.id
    (change,) = session.exec(select(AdminChange)).all()
    assert change.by == "cli" and change.target == "a@fgw.gov.cn"
    assert change.changes == {"locale": [None, "en"], "unit": ["市发改委", "市商务局"]}
    assert "nothing to change" in duban("user", "set", "a@fgw.gov.cn", "--locale", "en").out
    assert len(session.exec(select(AdminChange)).all()) == 1
    listing = duban("user", "list").out
    assert "a@fgw.gov.cn" in listing and "市商务局" in listing and "en" in listing


def test_user_set_refusals_change_nothing(duban, session):  # noqa: F811
    make_unit(session, "市发改委", code="FGW")
    make_person(session, Role.SUPERVISOR, email="s@dc.gov.cn")
    make_person(session, Role.ADMIN, email="root@dc.gov.cn")
    session.commit()
    result = duban("user", "set", "s@dc.gov.cn", "--unit", "发展改革委员会")
    assert result.code == 1 and "closest: 市发改委" in result.err
    result = duban("user", "set", "s@dc.gov.cn", "--locale", "fr")
    assert result.code == 1 and "zh-CN or en" in result.err
    result = duban("user", "set", "s@dc.gov.cn", "--role", "officer")
    assert result.code == 1 and "needs a unit" in result.err
    result = duban("user", "set", "root@dc.gov.cn", "--role", "supervisor")
    assert result.code == 1 and "last active admin" in result.err
    result = duban("user", "deactivate", "root@dc.gov.cn")
    assert result.code == 1 and "last active admin" in result.err
    assert duban("user", "set", "nobody@dc.gov.cn", "--locale", "en").code == 1
    assert _person(session, "s@dc.gov.cn").role == Role.SUPERVISOR and _person(session, "root@dc.gov.cn").active
    assert session.exec(select(AdminChange)).all() == []


def test_a_refusal_reads_in_chinese_when_the_cli_speaks_it(duban, session, monkeypatch):  # noqa: F811
    make_person(session, Role.ADMIN, email="root@dc.gov.cn")
    session.commit()
    monkeypatch.setenv("DUBAN_LOCALE", "zh-CN")
    result = duban("user", "deactivate", "root@dc.gov.cn")
    assert result.code == 1 and "最后一位有效的管理员" in result.err


def test_a_deactivated_person_keeps_their_name_and_loses_their_tokens(duban, session, now):  # noqa: F811
    make_person(session, Role.ADMIN, email="root@dc.gov.cn")
    sup = make_person(session, Role.SUPERVISOR, email="s@dc.gov.cn", name="李四")
    token = create_token(session, sup, now)
    session.commit()
    assert person_for_token(session, token, now) is not None
    result = duban("user", "deactivate", "s@dc.gov.cn")
    assert result.code == 0 and "deactivated" in result.out
    person = _person(session, "s@dc.gov.cn")
    assert not person.active and person.name == "李四"
    assert person_for_token(session, token, now) is None
    assert "already" in duban("user", "deactivate", "s@dc.gov.cn").out
    assert [c.changes for c in session.exec(select(AdminChange)).all()] == [{"active": [True, False]}]


def test_user_add_is_logged_as_the_admin_page_logs_it(duban, session, client_for):  # noqa: F811
    make_unit(session, "市发改委", code="FGW"), make_unit(session, "市商务局", code="SWJ")
    admin = make_person(session, Role.ADMIN, email="root@dc.gov.cn", locale="zh-CN")
    session.commit()
    assert duban("user", "add", "a@fgw.gov.cn", "--role", "officer", "--unit", "FGW", "--name", "张三").code == 0
    assert duban("user", "add", "a@fgw.gov.cn", "--role", "officer", "--unit", "SWJ", "--name", "张三丰").code == 0
    assert duban("user", "add", "a@fgw.gov.cn", "--role", "officer", "--unit", "SWJ").code == 0  # nothing new
    result = duban("user", "add", "root@dc.gov.cn", "--role", "supervisor")
    assert result.code == 1 and "last active admin" in result.err, "the page's refusals hold on the command line"
    session.expire_all()
    changes = session.exec(select(AdminChange).order_by(AdminChange.id)).all()
    assert [(c.by, c.target, c.changes) for c in changes] == [
        ("cli", "a@fgw.gov.cn", {"added": [None, {"role": "officer", "unit": "市发改委"}]}),
        ("cli", "a@fgw.gov.cn", {"unit": ["市发改委", "市商务局"], "person_name": ["张三", "张三丰"]}),
    ]
    assert _person(session, "a@fgw.gov.cn").name == "张三丰"
    page = html.unescape(re.sub(r"<[^>]+>", "", client_for(admin).get("/admin/people").text))
    assert "命令行 · a@fgw.gov.cn：已添加（角色 单位联络员、单位 市发改委）" in page
    assert "命令行 · a@fgw.gov.cn：单位 市发改委 → 市商务局；姓名 张三 → 张三丰" in page
