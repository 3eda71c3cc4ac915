"""`duban user add|password` and `duban token create`."""

from __future__ import annotations

import io
import sys

from sqlmodel import select

from models.accounts import ApiToken, hash_token, person_for_token, verify_password
from models.tables import Person, Role
from tests.cli.conftest import duban  # noqa: F401  (the fixture)
from tests.factories import make_unit


def test_user_add_password_and_token(duban, session, monkeypatch):  # noqa: F811
    make_unit(session, "市发改委", code="FGW")
    session.commit()
    result = duban("user", "add", "Officer@FGW.gov.cn", "--role", "officer", "--unit", "FGW", "--name", "张三")
    assert result.code == 0, result.err
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough secret\n"))
    assert duban("user", "password", "officer@fgw.gov.cn").code == 0
    session.expire_all()
    person = session.exec(select(Person).where(Person.email == "officer@fgw.gov.cn")).one()
    assert person.name == "张三" and person.role == Role.OFFICER and person.unit_id is not None
    assert verify_password("a long enough secret", person.password_hash)

    result = duban("token", "create", "officer@fgw.gov.cn")
    token = result.out.strip()
    assert result.code == 0 and token.startswith("dbn_")
    assert session.exec(select(ApiToken)).one().token_hash == hash_token(token)
    assert person_for_token(session, token).id == person.id  # type: ignore[union-attr]


def test_user_add_refuses_an_officer_without_unit_and_unknown_units(duban):  # noqa: F811
    result = duban("user", "add", "x@fgw.gov.cn", "--role", "officer")
    assert result.code == 1 and "needs --unit" in result.err
    result = duban("user", "add", "x@fgw.gov.cn", "--role", "officer", "--unit", "不存在")
    assert result.code == 1 and "no unit" in result.err


def test_user_add_checks_the_address_as_the_admin_page_does(duban, session):  # noqa: F811
    result = duban("user", "add", "张三@督办.中国", "--role", "supervisor")
    assert result.code == 1 and "张三@督办.中国: the part before the @ is not ASCII" in result.err
    result = duban("user", "add", "nope", "--role", "supervisor")
    assert result.code == 1 and "'nope' is not an email address" in result.err
    assert session.exec(select(Person)).all() == []
    assert duban("user", "add", "ZhangSan@督办.中国", "--role", "supervisor").code == 0
    assert session.exec(select(Person.email)).all() == ["zhangsan@督办.中国"]


def test_short_password_is_refused(duban, session, monkeypatch):  # noqa: F811
    assert duban("user", "add", "sup@dc.gov.cn", "--role", "supervisor").code == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    result = duban("user", "password", "sup@dc.gov.cn")
    assert result.code == 1 and "at least 8" in result.err


def test_token_list_and_revoke(duban, session):  # noqa: F811
    make_unit(session, "市发改委", code="FGW")
    session.commit()
    assert duban("user", "add", "officer@fgw.gov.cn", "--role", "officer", "--unit", "FGW").code == 0
    assert "has no API tokens" in duban("token", "list", "officer@fgw.gov.cn").out
    token = duban("token", "create", "officer@fgw.gov.cn").out.strip()
    token_id = session.exec(select(ApiToken)).one().id
    listed = duban("token", "list", "officer@fgw.gov.cn").out
    assert str(token_id) in listed and token[:10] in listed and "active" in listed and token not in listed

    result = duban("token", "revoke", str(token_id))
    assert result.code == 0 and "revoked" in result.out
    session.expire_all()
    assert person_for_token(session, token) is None
    assert "revoked 20" in duban("token", "list", "officer@fgw.gov.cn").out
    assert "already revoked" in duban("token", "revoke", str(token_id)).out


def test_token_commands_name_unknown_people_and_ids(duban):  # noqa: F811
    result = duban("token", "revoke", "4242")
    assert result.code == 1 and "no API token with id 4242" in result.err and "Traceback" not in result.err
    result = duban("token", "list", "nobody@example.gov.cn")
    assert result.code == 1 and "no person" in result.err
