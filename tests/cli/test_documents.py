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
