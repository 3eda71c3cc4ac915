"""/items under htmx: the filters and the pager fetch only the results; without htmx, the whole page."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

from tests.factories import make_document, make_item
from tests.web.test_items import _refs

HX = {"HX-Request": "true"}


def test_an_htmx_request_gets_only_the_results_with_the_same_rows(world, client_for):
    client = client_for(world.people["sup"])
    params = {"unit": "市商务局", "sort": "-deadline"}
    page = client.get("/items", params=params)
    part = client.get("/items", params=params, headers=HX)
    assert page.status_code == part.status_code == 200
    assert "<html" in page.text and 'id="results"' in page.text
    assert "<html" not in part.text and "<form" not in part.text and 'id="results"' not in part.text
    assert _refs(part.text) == _refs(page.text)
    assert [ref.split('">')[1] for ref in _refs(part.text)] == ["新时代意见/3", "新时代意见/2"]
    assert "2 条结果" in part.text and "2 条结果" in page.text
    for response in (page, part):
        assert "HX-Request" in response.headers["vary"]


def test_the_results_tell_htmx_the_tidy_address_and_keep_the_export_link_on_the_filters(world, client_for):
    part = client_for(world.people["sup"]).get(
        "/items", headers=HX, params={"document": "", "unit": "市商务局", "status": "", "q": "", "sort": "deadline"})
    unit = quote("市商务局")
    assert part.headers["hx-push-url"] == f"/items?unit={unit}"  # empty fields and the default sort left out
    assert f'href="/items.xlsx?unit={unit}"' in part.text
    assert client_for(world.people["sup"]).get("/items", headers=HX).headers["hx-push-url"] == "/items"


def test_the_pager_fetches_the_next_page_with_htmx_and_a_plain_link(world, client_for, session):
    document = make_document(session, "大文件")
    for n in range(1, 56):
        make_item(session, document=document, lead_unit=world.units["fgw"], number=str(n),
                  deadline=date(2024, 7, 1) + timedelta(days=n))
    session.commit()
    client = client_for(world.people["sup"])
    first = client.get("/items", params={"document": "大文件"}, headers=HX).text
    target = f"/items?document={quote('大文件')}&amp;page=2"
    assert f'<a href="{target}" hx-get="{target}"' in first
    second = client.get("/items", params={"document": "大文件", "page": "2"}, headers=HX)
    assert "<html" not in second.text and len(_refs(second.text)) == 5 and "2 / 2" in second.text
    assert second.headers["hx-push-url"] == f"/items?document={quote('大文件')}&page=2"


def test_htmx_restoring_history_and_plain_requests_get_the_whole_page(world, client_for):
    client = client_for(world.people["sup"])
    restore = client.get("/items", params={"q": "外贸"}, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text and 'value="外贸"' in restore.text
    assert "hx-push-url" not in restore.headers


def test_the_page_works_without_javascript_and_loads_htmx_from_this_site(world, client_for):
    client = client_for(world.people["sup"])
    page = client.get("/items").text
    form = page.split('<form method="get" action="/items" class="filters"')[1].split("</form>")[0]
    assert 'hx-get="/items"' in form and 'hx-target="#results"' in form and 'hx-push-url="true"' in form
    for name in ("document", "unit", "status", "level", "q", "sort", "overdue", "due_soon"):
        assert f'name="{name}"' in form
    assert "<button" in form  # a plain submit for when htmx is absent
    src = page.split('<script src="')[1].split('"')[0]
    assert src.endswith("/static/htmx.min.js") and src.startswith("http://testserver.local/")
    script = client.get(src)
    assert script.status_code == 200 and 'version:"2.' in script.text
