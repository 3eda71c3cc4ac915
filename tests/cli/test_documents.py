"""`duban document supervisor`: the default supervisor a document's unsupervised items fall back to."""

from __future__ import annotations

from sqlmodel import Session

from models.tables import Document, Role
from tests.factories import make_document, make_person


def test_a_documents_default_supervisor_is_set_and_cleared(duban, session: Session) -> None:
    document = make_document(session, "新时代意见")
    supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    make_person(session, Role.OFFICER, email="officer@fgw.gov.cn")
    session.commit()

    done = duban("document", "supervisor", "新时代意见", "SUP@dc.gov.cn")
    assert done.code == 0 and "新时代意见: default supervisor sup@dc.gov.cn" in done.out
    session.expire_all()
    assert session.get(Document, document.id).default_supervisor_id == supervisor.id  # type: ignore[union-attr]

    refused = duban("document", "supervisor", "新时代意见", "officer@fgw.gov.cn")
    assert refused.code == 1 and "must be an active supervisor or admin" in refused.err
    assert duban("document", "supervisor", "没有的文件", "sup@dc.gov.cn").code == 1
    assert duban("document", "supervisor", "新时代意见").code == 1  # neither an email nor --clear

    cleared = duban("document", "supervisor", "新时代意见", "--clear")
    assert cleared.code == 0 and "no default supervisor" in cleared.out
    session.expire_all()
    assert session.get(Document, document.id).default_supervisor_id is None  # type: ignore[union-attr]


def test_a_document_is_archived_unarchived_and_given_a_category(duban, session: Session) -> None:
    from sqlmodel import select

    from models.admin import AdminChange
    from tests.factories import make_item, make_unit

    document = make_document(session, "旧方案")
    make_item(session, document=document, lead_unit=make_unit(session, "市发改委"), number="1")
    session.commit()
    assert [r["ref"] for r in duban("items", "--json").json()] == ["旧方案/1"]

    archived = duban("document", "archive", "旧方案", "--now", "2024-07-03T09:00+08:00")
    assert archived.code == 0 and "旧方案 archived" in archived.out
    assert duban("items", "--json").json() == []
    assert [r["ref"] for r in duban("items", "--archived", "--json").json()] == ["旧方案/1"]
    again = duban("document", "archive", "旧方案")
    assert again.code == 0 and "already archived" in again.out
    assert duban("document", "archive", "旧方按").code == 1  # a typo: refused, closest names given
    assert duban("document", "unarchive", "旧方案").code == 0
    assert [r["ref"] for r in duban("items", "--json").json()] == ["旧方案/1"]

    done = duban("document", "category", "旧方案", "改革类")
    assert done.code == 0 and "旧方案: category 改革类" in done.out
    session.expire_all()
    assert session.get(Document, document.id).category == "改革类"  # type: ignore[union-attr]
    logged = [(c.by, c.changes) for c in session.exec(select(AdminChange).order_by(AdminChange.id)).all()]
    assert logged == [("cli", {"archived": [False, True]}), ("cli", {"archived": [True, False]}),
                      ("cli", {"category": ["", "改革类"]})]
