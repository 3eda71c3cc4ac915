"""One rule for an address (config.settings.address_problem): the ledger import, the admin pages and
`duban user`, the policy file and settings refuse and accept the same addresses, each naming its row or field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.policy import PolicyError, load_policy
from config.settings import Settings, address_problem
from models.admin import add_person, checked_email, save_unit
from models.errors import InvalidInput
from models.ledger.parse import ParsedFiles
from models.ledger.plan import LedgerError
from models.ledger.validate import build_plan
from models.tables import Role
from tests.ledger.test_validate import ledger_row, snapshot

EXAMPLES = [  # from the ledger import's tests and the admin pages' and CLI's
    ("sup1@example.gov.cn", None),
    ("Leader@Example.gov.cn", None),
    ("zhang.san+dc@督办.中国", None),
    ("nope", "not_email"),
    ("czj#example.gov.cn", "not_email"),
    ("<wang@fgw.gov.cn>", "not_email"),
    ("Bcc:boss@fgw.gov.cn", "not_plain_email"),
    ('"boss"@fgw.gov.cn', "not_plain_email"),
    ("a..b@fgw.gov.cn", "not_plain_email"),  # the admin page took these before; delivery refuses them
    ("boss@-fgw.gov.cn", "not_plain_email"),
    ("张三@督办.中国", "email_not_ascii"),
]


@pytest.mark.parametrize(("address", "problem"), EXAMPLES)
def test_the_import_and_the_admin_pages_judge_each_address_alike(address, problem):
    assert address_problem(address) == problem
    row = ledger_row(supervisor=address)
    row.columns["supervisor"] = "督办人"
    plan = ParsedFiles(ledger=[row], files=["ledger.csv"])
    if problem is None:
        assert checked_email(address) == address.lower()
        build_plan(plan, snapshot())
        return
    with pytest.raises(InvalidInput) as refused:
        checked_email(address, "leader_emails")
    assert refused.value.code == ("person.bad_email" if problem == "not_email" else f"person.{problem}")
    assert refused.value.params["field"] == "leader_emails" and str(refused.value).startswith("leader_emails: ")
    with pytest.raises(LedgerError) as ledger:
        build_plan(plan, snapshot())
    (found,) = ledger.value.problems
    assert (found.file, found.row, found.column, found.code) == ("ledger.csv", 2, "督办人", f"ledger.row.{problem}")


@pytest.mark.parametrize(("address", "problem"), EXAMPLES)
def test_the_policy_file_and_settings_take_the_same_addresses(tmp_path: Path, address, problem):
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"leadership_emails: ['{address}']\n", encoding="utf-8")
    if problem is None:
        assert load_policy(policy).leadership_emails == [address.lower()]
        Settings(mail_from=address)  # type: ignore[call-arg]
    else:
        with pytest.raises(PolicyError, match=r"policy.yaml:1: .* is not a plain email address"):
            load_policy(policy)
        with pytest.raises(ValidationError, match="mail_from"):
            Settings(mail_from=address)  # type: ignore[call-arg]


def test_the_admin_pages_name_the_field_of_a_units_bad_contact(session):
    now = datetime(2024, 7, 3, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused:
        save_unit(session, now, "cli", None, name="市发改委", contacts="fgw@example.gov.cn", leaders="a..b@fgw.gov.cn")
    assert (refused.value.code, refused.value.params) == (
        "person.not_plain_email", {"email": "a..b@fgw.gov.cn", "field": "leader_emails"})
    from web.i18n import error_message

    assert error_message(refused.value, "zh-CN").startswith("分管领导邮箱：“a..b@fgw.gov.cn”不是单纯的邮箱地址")
    with pytest.raises(InvalidInput) as person:
        add_person(session, now, "cli", "Bcc:x@fgw.gov.cn", "", Role.SUPERVISOR)
    assert error_message(person.value, "zh-CN").startswith("邮箱：“Bcc:x@fgw.gov.cn”不是单纯的邮箱地址")

