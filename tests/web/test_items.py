"""The item list (filters, sort, pages, export) and the item page with its actions and refusals."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

from openpyxl import load_workbook
from sqlmodel import select

from models.tables import ExtensionRequest, Item, ItemEvent, Status
from tests.factories import make_document, make_item
from tests.web.conftest import CSRF


def _refs(html: str) -> list[str]:
    return [part.split("</a>")[0] for part in html.split('<td class="nowrap"><a href="/items/')[1:]]


def test_filters_combine_and_unknown_units_find_nothing(world, client_for):
    client = client_for(world.people["sup"])
    assert len(_refs(client.get("/items").text)) == 3
    unit = client.get("/items", params={"unit": "市财政局"}).text  # co-unit counts
    assert world.items["ours"].title in unit and world.items["theirs"].title not in unit
    overdue = client.get("/items", params={"overdue": "1"}).text  # now is 2024-06-03
    assert world.items["theirs"].title in overdue and world.items["ours"].title not in overdue
    soon = client.get("/items", params={"due_soon": "1"}).text  # 2024-06-05 is within 7 working days
    assert world.items["unsupervised"].title in soon and world.items["ours"].title not in soon
    text = client.get("/items", params={"q": "外贸"}).text
    assert world.items["unsupervised"].title in text and world.items["theirs"].title not in text
    assert "没有符合条件的事项" in client.get("/items", params={"unit": "不存在的单位"}).text
    assert client.get("/items", params={"status": "bogus"}).status_code == 400


def test_list_sorts_and_pages(world, client_for, session):
    document = make_document(session, "大文件")
    for n in range(1, 56):
        make_item(session, document=document, lead_unit=world.units["fgw"], number=str(n),
                  deadline=date(2024, 7, 1) + timedelta(days=(n * 7) % 55))
    session.commit()
    client = client_for(world.people["sup"])
    first = client.get("/items", params={"document": "大文件"}).text
    assert len(_refs(first)) == 50 and "1 / 2" in first
    second = client.get("/items", params={"document": "大文件", "page": "2"}).text
    assert len(_refs(second)) == 5
    assert not set(_refs(first)) & set(_refs(second))
    latest = _refs(client.get("/items", params={"document": "大文件", "sort": "-deadline"}).text)[0]
    assert latest.endswith("/47")  # 47 * 7 % 55 == 54, the latest deadline


def test_export_holds_every_row_of_the_filtered_view(world, client_for, session):
    document = make_document(session, "大文件")
    for n in range(60):
        make_item(session, document=document, lead_unit=world.units["fgw"], number=str(n))
    session.commit()
    response = client_for(world.people["sup"]).get("/items.xlsx", params={"document": "大文件"})
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("文件", "编号", "事项") and len(rows) == 61
    assert {row[0] for row in rows[1:]} == {"大文件"}


def _act(client, item, action, **fields):  # type: ignore[no-untyped-def]
    return client.post(f"/items/{item.id}/act", data={"csrf_token": CSRF, "action": action, **fields})


def test_item_page_offers_only_the_allowed_actions(world, client_for):
    page = client_for(world.people["lead"]).get(f"/items/{world.items['ours'].id}").text
    assert 'id="form-report_progress"' in page and 'id="form-submit"' in page
    assert 'id="form-request_extension"' in page and 'id="form-sign_off"' not in page
    page = client_for(world.people["co"]).get(f"/items/{world.items['ours'].id}").text
    assert 'id="form-report_progress"' in page and 'id="form-submit"' not in page


def test_the_story_through_the_pages(world, client_for, session):
    lead, sup = client_for(world.people["lead"]), client_for(world.people["sup"])
    item = world.items["ours"]
    assert _act(lead, item, "report_progress", text="已召开协调会", percent="40").status_code == 303
    assert _act(lead, item, "submit", evidence="文件已印发").status_code == 303
    assert _act(sup, item, "return", reason="缺少印发文号").status_code == 303
    assert "缺少印发文号" in lead.get(f"/items/{item.id}").text
    assert world.items["ours"].title in lead.get("/my").text  # returned shows up in my work
    assert _act(lead, item, "submit", evidence="附文号").status_code == 303
    assert _act(sup, item, "sign_off", comment="同意销号").status_code == 303
    session.expire_all()
    assert session.get(Item, item.id).status == Status.SIGNED_OFF
    kinds = [e.kind for e in session.exec(select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(ItemEvent.id))]
    assert kinds == ["progress_reported", "submitted", "returned", "submitted", "signed_off"]


def test_extension_requested_and_approved_from_the_approvals_page(world, client_for, session):
    lead, sup = client_for(world.people["lead"]), client_for(world.people["sup"])
    item = world.items["ours"]
    assert _act(lead, item, "request_extension", deadline="2024-09-30", reason="需等待省里批复").status_code == 303
    assert "需等待省里批复" in sup.get("/approvals").text
    assert _act(sup, item, "approve_extension").status_code == 303
    session.expire_all()
    assert session.get(Item, item.id).deadline == date(2024, 9, 30)
    assert session.exec(select(ExtensionRequest)).one().status == "approved"


def test_refusals_are_4xx_pages_with_the_message(world, client_for):
    lead, sup = client_for(world.people["lead"]), client_for(world.people["sup"])
    item = world.items["ours"]
    response = _act(sup, item, "sign_off")  # not submitted yet
    assert response.status_code == 409 and "新时代意见/1：该事项当前为已交办状态，不能销号（仅限待销号状态）" in response.text
    response = _act(lead, item, "submit", evidence="  ")
    assert response.status_code == 400 and "申请销号须填写佐证材料" in response.text
    response = _act(lead, item, "request_extension", deadline="九月底", reason="x")
    assert response.status_code == 400 and "2024-09-30" in response.text and "九月底" in response.text
    response = _act(lead, item, "fly")
    assert response.status_code == 422


def test_a_form_from_an_older_copy_of_the_item_is_refused_with_409(world, client_for, session):
    lead = client_for(world.people["lead"])
    item = world.items["ours"]
    version = item.version
    assert _act(lead, item, "report_progress", text="第一次", version=str(version)).status_code == 303
    response = _act(lead, item, "report_progress", text="第二次", version=str(version))
    assert response.status_code == 409 and "已被他人修改，本次操作未执行" in response.text
    session.expire_all()
    assert len(session.exec(select(ItemEvent)).all()) == 1


def test_language_switch_to_english(world, client_for):
    client = client_for(world.people["lead"])
    assert "事项" in client.get("/items").text
    assert client.post("/lang", data={"csrf_token": CSRF, "lang": "en", "next": "/items"}).status_code == 303
    page = client.get("/items").text
    assert "Lead unit" in page and "牵头单位" not in page


def test_approvals_show_the_latest_evidence_of_each_submission(world, client_for, session):
    lead, sup, item = client_for(world.people["lead"]), client_for(world.people["sup"]), world.items["ours"]
    assert _act(lead, item, "submit", evidence="《实施方案》已印发", version=str(item.version)).status_code == 303
    session.expire_all()
    version = session.get(Item, item.id).version
    assert _act(sup, item, "return", reason="缺少文号", version=str(version)).status_code == 303
    session.expire_all()
    version = session.get(Item, item.id).version
    assert _act(lead, item, "submit", evidence="发改〔2024〕12号<script>x</script>", version=str(version)).status_code == 303
    page = sup.get("/approvals").text
    assert "发改〔2024〕12号&lt;script&gt;" in page and "《实施方案》已印发" not in page
