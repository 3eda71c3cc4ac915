"""A refused ledger upload lists its problems in the page's language, columns as the file names them."""

from __future__ import annotations

import html
import re

from models.tables import Role
from tests.factories import make_person
from tests.ledger.conftest import LEDGER, LEDGER_HEADER, UNITS, UNITS_HEADER, write_csv
from tests.web.conftest import CSRF

# The file's own names for two columns (aliases of 牵头单位 and 督办人): the page shows these.
HEADER = [{"牵头单位": "责任单位", "督办人": "督办人邮箱"}.get(name, name) for name in LEDGER_HEADER]
BAD = [
    ["营商环境方案", "1", "支持建设示范区", "", "市发改", "", "2024年6月底", "张三", ""],
    ["营商环境方案", "2", "落实财政支持政策", "", "市财政局", "", "2024-09-30", "", ""],
    ["营商环境方案", "2", "建设国际陆港", "", "市商务局", "", "2024年底", "", ""],
    ["营商环境方案", "3", "扩大对外开放", "", "市商务局", "", "尽快", "", ""],
]
_CELL = r"<td[^>]*>([^<]*)</td>"  # a cell whatever its attributes (data-label, class)
_ROW = re.compile(rf"<tr>{_CELL * 5}</tr>")


def _upload(client, tmp_path, ledger, header=HEADER):  # type: ignore[no-untyped-def]
    units = write_csv(tmp_path / "units.csv", [UNITS_HEADER, *UNITS])
    items = write_csv(tmp_path / "ledger.csv", [header, *ledger])
    files = [("files", (p.name, p.read_bytes(), "text/csv")) for p in (units, items)]
    return client.post("/import", data={"csrf_token": CSRF}, files=files)


def _problems(page: str) -> list[tuple[str, ...]]:
    """(file, row, column, reason) of each problem row of the page."""
    return [(file, row, column, html.unescape(reason))
            for file, _sheet, row, column, reason in _ROW.findall(page)]


def test_a_refused_upload_lists_its_problems_in_chinese_by_default(world, client_for, tmp_path):
    response = _upload(client_for(world.people["sup"]), tmp_path, BAD)
    assert response.status_code == 400 and "导入被拒绝，未写入任何数据。" in response.text
    assert _problems(response.text) == [
        ("ledger.csv", "2", "责任单位", "未知单位“市发改”；最接近的已知单位：市发改委"),
        ("ledger.csv", "2", "督办人邮箱", "“张三”不是有效的邮箱地址"),
        ("ledger.csv", "4", "编号", "事项营商环境方案/2与第3行重复"),
        ("ledger.csv", "5", "完成时限", "“尽快”不是有效日期，请按以下格式填写："
                                       "2024-06-30、2024/6/30、2024年6月30日、2024年6月底、2024年底、2024年第二季度"),
    ]


def test_the_english_page_lists_the_same_problems_in_english(world, client_for, tmp_path):
    client = client_for(world.people["sup"])
    assert client.post("/lang", data={"csrf_token": CSRF, "lang": "en"}).status_code == 303
    response = _upload(client, tmp_path, BAD)
    assert response.status_code == 400 and "The import was refused; nothing was written." in response.text
    assert _problems(response.text) == [
        ("ledger.csv", "2", "责任单位", "unknown unit '市发改'; closest known: 市发改委"),
        ("ledger.csv", "2", "督办人邮箱", "'张三' is not an email address"),
        ("ledger.csv", "4", "编号", "item 营商环境方案/2 is also on row 3"),
        ("ledger.csv", "5", "完成时限", "'尽快': not a date; write e.g. "
                                       "2024-06-30, 2024/6/30, 2024年6月30日, 2024年6月底, 2024年底, 2024年第二季度"),
    ]


def test_a_missing_column_is_named_as_expected_and_worded_in_chinese(world, client_for, tmp_path):
    header = [name for name in HEADER if name != "事项"]
    response = _upload(client_for(world.people["sup"]), tmp_path, [r[:2] + r[3:] for r in LEDGER], header)
    assert _problems(response.text) == [("ledger.csv", "1", "事项|title", "缺少必填列")]


def test_an_apply_refused_since_the_dry_run_lists_its_problems_in_the_page_language(
    world, client_for, session, tmp_path,
):
    ledger = [["营商环境方案", *row[1:]] for row in LEDGER]  # item 1's supervisor is sup1@example.gov.cn
    client = client_for(world.people["admin"])
    page = _upload(client, tmp_path, ledger, LEDGER_HEADER)
    token = page.text.split('name="token" value="')[1].split('"')[0]
    make_person(session, Role.OFFICER, world.units["swj"], email="sup1@example.gov.cn")
    session.commit()
    response = client.post("/import/apply", data={"csrf_token": CSRF, "token": token})
    assert response.status_code == 400
    assert _problems(response.text) == [
        ("ledger.csv", "2", "督办人", "sup1@example.gov.cn的角色是单位联络员，不是督办人"),
    ]
