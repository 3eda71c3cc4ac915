"""The weekly 通报 and an item's 督办通知单 downloaded from the desk."""

from __future__ import annotations

import io

from docx import Document


def _text(response) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)


def test_supervisors_download_the_weekly_notice_officers_may_not(world, client_for):
    sup = client_for(world.people["sup"])
    assert 'href="/notice/weekly.docx"' in sup.get("/").text
    response = sup.get("/notice/weekly.docx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E9%80%9A%E6%8A%A5-2024-W23.docx" in response.headers["content-disposition"]
    text = _text(response)
    assert "关于2024年第23周\n督查督办事项落实情况的通报" in text and "《新时代意见》3项事项已落实0项" in text
    officer = client_for(world.people["lead"])
    assert 'href="/notice/weekly.docx"' not in officer.get("/").text
    assert officer.get("/notice/weekly.docx").status_code == 403


def test_an_items_supervision_notice_names_its_lead_unit_and_what_is_late(world, client_for):
    sup = client_for(world.people["sup"])
    item = world.items["theirs"]  # due 2024-05-31, overdue on 2024-06-03
    assert f'href="/items/{item.id}/notice.docx"' in sup.get(f"/items/{item.id}").text
    text = _text(sup.get(f"/items/{item.id}/notice.docx"))
    assert "市商务局：" in text and "已逾期3天" in text
    assert client_for(world.people["other"]).get(f"/items/{item.id}/notice.docx").status_code == 403
    assert sup.get("/notice/weekly.docx?week=2024-W99").status_code == 400


def test_the_pdf_is_offered_next_to_the_docx_only_where_libreoffice_is_installed(world, client_for, tmp_path,
                                                                                 monkeypatch):
    from notifications.documents import pdf

    sup = client_for(world.people["sup"])
    item = world.items["theirs"]
    monkeypatch.setattr(pdf, "COMMANDS", (str(tmp_path / "no-such-soffice"),))
    assert 'href="/notice/weekly.pdf"' not in sup.get("/").text
    assert f'href="/items/{item.id}/notice.pdf"' not in sup.get(f"/items/{item.id}").text
    refused = sup.get("/notice/weekly.pdf")
    assert refused.status_code == 404 and "LibreOffice" in refused.text and "libreoffice-writer-nogui" in refused.text

    fake = tmp_path / "soffice"  # a converter that writes a PDF where LibreOffice would
    fake.write_text('#!/bin/sh\nfor last; do :; done\nprintf "%%PDF-1.7 fake" > "${last%.docx}.pdf"\n')
    fake.chmod(0o755)
    monkeypatch.setattr(pdf, "COMMANDS", (str(fake),))
    assert 'href="/notice/weekly.pdf"' in sup.get("/").text
    assert f'href="/items/{item.id}/notice.pdf"' in sup.get(f"/items/{item.id}").text
    weekly = sup.get("/notice/weekly.pdf")
    assert weekly.status_code == 200 and weekly.headers["content-type"] == "application/pdf"
    assert weekly.content.startswith(b"%PDF-") and "%E9%80%9A%E6%8A%A5-2024-W23.pdf" in weekly.headers["content-disposition"]
    assert sup.get(f"/items/{item.id}/notice.pdf").content.startswith(b"%PDF-")
    officer = client_for(world.people["lead"])
    assert officer.get("/notice/weekly.pdf").status_code == 403
    assert client_for(world.people["other"]).get(f"/items/{item.id}/notice.pdf").status_code == 403
