"""Archived documents (归档): out of lists, figures and digests by default, readable on demand, reversible."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from models.admin import AdminChange
from models.read.figures import build_figures
from models.tables import Document, Item, ItemEvent
from tests.conftest import TZ
from tests.factories import make_document, make_item
from tests.web.conftest import CSRF


def _old_document(session, world):  # type: ignore[no-untyped-def]
    old = make_document(session, "旧方案", title="2020年工作方案")
    make_item(session, document=old, lead_unit=world.units["fgw"], number="1", title="旧方案里逾期的事项",
              deadline=date(2021, 6, 30))
    session.commit()
    return old


def test_an_archived_document_leaves_lists_figures_and_digests_and_comes_back(world, client_for, session, now,
                                                                              web_settings):
    from notifications.digest_context import compile_digests

    old = _old_document(session, world)
    admin, officer = client_for(world.people["admin"]), client_for(world.people["lead"])
    item_id = session.exec(select(Item.id).where(Item.document_id == old.id)).one()
    before = build_figures(session, world.people["sup"], now, TZ).overall.total
    assert "旧方案里逾期的事项" in officer.get("/items").text and "旧方案里逾期的事项" in officer.get("/my").text
    digests, _ = compile_digests(session, now, web_settings)
    assert any("旧方案里逾期的事项" in str(d.context) for d in digests)

    assert admin.post(f"/admin/documents/{old.id}/archive", data={"csrf_token": CSRF}).status_code == 303
    session.expire_all()
    assert session.get(Document, old.id).archived_at == now
    assert "旧方案里逾期的事项" not in officer.get("/items").text
    assert "旧方案里逾期的事项" not in officer.get("/my").text
    assert build_figures(session, world.people["sup"], now, TZ).overall.total == before - 1
    assert "旧方案" not in [row.name for row in build_figures(session, None, now, TZ).documents]
    digests, _ = compile_digests(session, now, web_settings)
    assert all("旧方案里逾期的事项" not in str(d.context) for d in digests)
    # ... yet readable: the 含已归档 filter, the document named, the item's own page, its history
    assert "旧方案里逾期的事项" in officer.get("/items", params={"archived": "1"}).text
    assert "旧方案里逾期的事项" in officer.get("/items", params={"document": "旧方案"}).text
    assert officer.get(f"/items/{item_id}").status_code == 200
    assert officer.post(f"/items/{item_id}/act", data={"csrf_token": CSRF, "action": "report_progress",
                                                       "text": "已完成收尾"}).status_code == 303
    assert [e.kind for e in session.exec(select(ItemEvent).where(ItemEvent.item_id == item_id)).all()] == [
        "progress_reported"]
    page = admin.get("/admin/documents").text
    assert "已归档" in page and f'action="/admin/documents/{old.id}/unarchive"' in page

    assert admin.post(f"/admin/documents/{old.id}/unarchive", data={"csrf_token": CSRF}).status_code == 303
    assert "旧方案里逾期的事项" in officer.get("/items").text
    assert build_figures(session, world.people["sup"], now, TZ).overall.total == before
    changes = [c.changes for c in session.exec(select(AdminChange).order_by(AdminChange.id)).all()]
    assert changes == [{"archived": [False, True]}, {"archived": [True, False]}]


def test_an_admin_sets_a_documents_category(world, client_for, session):
    document = session.exec(select(Document)).one()
    admin = client_for(world.people["admin"])
    response = admin.post(f"/admin/documents/{document.id}", data={
        "csrf_token": CSRF, "title": document.title, "category": "改革类"})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Document, document.id).category == "改革类"
    (change,) = session.exec(select(AdminChange)).all()
    assert change.changes == {"category": ["", "改革类"]}
    page = admin.get("/admin/documents").text
    assert 'value="改革类"' in page and "类别  → 改革类" not in page and "类别 — → 改革类" in page
    assert client_for(world.people["sup"]).post(f"/admin/documents/{document.id}/archive",
                                                data={"csrf_token": CSRF}).status_code == 403
