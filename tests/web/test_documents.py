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
    assert "关于2024年第23周督查督办事项落实情况的通报" in text and "《新时代意见》3项事项已落实0项" in text
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
