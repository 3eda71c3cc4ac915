"""/admin/documents: admins only; a document's title and default supervisor, each change logged."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.admin import AdminChange
from models.tables import Document
from tests.web.conftest import CSRF


@pytest.mark.parametrize("who", ["lead", "sup", "leader"])
def test_only_admins_may_open_or_post(world, client_for, who, session):
    client = client_for(world.people[who])
    document_id = session.exec(select(Document.id)).first()
    assert client.get("/admin/documents").status_code == 403
    assert client.post(f"/admin/documents/{document_id}", data={"csrf_token": CSRF, "title": "x"}).status_code == 403


def test_an_admin_changes_title_and_default_supervisor(session, world, client_for):
    client = client_for(world.people["admin"])
    document = session.exec(select(Document)).one()
    assert "新时代意见" in client.get("/admin/documents").text
    response = client.post(f"/admin/documents/{document.id}", data={
        "csrf_token": CSRF, "title": "关于新时代的意见", "supervisor": "sup@dc.gov.cn"})
    assert response.status_code == 303
    session.expire_all()
    document = session.get(Document, document.id)
    assert document.title == "关于新时代的意见" and document.default_supervisor_id == world.people["sup"].id
    (change,) = session.exec(select(AdminChange)).all()
    assert change.target == "新时代意见" and change.changes["default_supervisor"] == [None, "sup@dc.gov.cn"]
    # an officer cannot be a document's default supervisor: refused, nothing written
    response = client.post(f"/admin/documents/{document.id}", data={
        "csrf_token": CSRF, "title": "别的标题", "supervisor": "lead@fgw.gov.cn"})
    assert response.status_code in (400, 422) and "lead@fgw.gov.cn" in response.text
    session.expire_all()
    assert session.get(Document, document.id).title == "关于新时代的意见"
    assert len(session.exec(select(AdminChange)).all()) == 1
