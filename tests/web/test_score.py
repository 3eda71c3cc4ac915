"""The scores page (/score) and its spreadsheet: who sees them, the ranked table, each point explained."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

from openpyxl import load_workbook


def _sheets(response) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(BytesIO(response.content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}


def test_supervisors_see_units_ranked_with_each_point_explained(world, client_for):
    sup = client_for(world.people["sup"])
    assert 'href="/score"' in sup.get("/").text
    page = sup.get("/score")  # this month (June 2024) as of now: 扩大对外开放 is overdue from 3 June
    assert page.status_code == 200, page.text
    html = page.text
    assert "2024-06-01至2024-06-30考核得分" in html
    rows = html[html.index("<tbody>"):html.index("</tbody>")]
    assert rows.index("市发改委") < rows.index("市商务局") and "<b>98</b>" in rows
    assert f'href="/items/{world.items["theirs"].id}"' in html and "逾期（每工作周）" in html


def test_leaders_may_see_the_scores_and_officers_may_not(world, client_for):
    assert client_for(world.people["leader"]).get("/score?period=year&on=2024-03-01").status_code == 200
    assert client_for(world.people["lead"]).get("/score").status_code == 403
    assert client_for(world.people["lead"]).get("/score.xlsx").status_code == 403


def test_a_quarter_exports_its_table_its_months_and_each_point(world, client_for):
    sup = client_for(world.people["sup"])
    sheets = _sheets(sup.get("/score.xlsx?period=quarter&on=2024-05-10"))
    assert list(sheets) == ["考核得分", "分期得分", "得分说明"]
    scores = sheets["考核得分"]
    assert scores[0][0] == "2024-04-01至2024-06-30考核得分" and scores[1][:2] == ("基础分", 100)
    assert scores[2] == ("名次", "单位", "得分", "扣分", "加分")
    assert [(r[0], r[1], r[2]) for r in scores[3:]] == [(1, "市发改委", 100), (1, "市财政局", 100), (3, "市商务局", 98)]
    assert sheets["分期得分"][1] == ("单位", "2024-04", "2024-05", "2024-06")
    assert sheets["分期得分"][-1] == ("市商务局", 100, 100, 98)
    explained = sheets["得分说明"]
    assert explained[2][:4] == ("市商务局", "逾期（每工作周）", -2, "新时代意见/2")


def test_a_custom_period_ending_before_it_starts_is_refused(world, client_for):
    sup = client_for(world.people["sup"])
    assert sup.get("/score?period=custom&from=2024-06-30&to=2024-06-01").status_code == 400
    assert sup.get("/score?period=custom&from=June").status_code == 400


def test_a_scoring_file_that_cannot_be_used_is_a_400_naming_its_line(world, client_for, app, tmp_path):
    path = tmp_path / "scoring.yaml"
    path.write_text("deductions:\n  overdue: {points: -2}\n", encoding="utf-8")
    app.state.settings = app.state.settings.model_copy(update={"scoring_file": path})
    page = client_for(world.people["sup"]).get("/score")
    assert page.status_code == 400 and f"{path}:2" in page.text and "negative" in page.text


def test_the_page_shows_a_unit_s_first_lines_and_sends_the_rest_to_the_spreadsheet(world, client_for, session,
                                                                                    monkeypatch):
    from tests.factories import make_item
    from web.routes import score as page

    monkeypatch.setattr(page, "SHOWN_LINES", 2)
    for number in ("7", "8", "9"):
        make_item(session, document=None, lead_unit=world.units["fgw"], number=number, deadline=date(2024, 5, 31))
    session.commit()
    html = client_for(world.people["sup"]).get("/score").text
    assert "另有1条，见下载的.xlsx。" in html


def test_the_page_and_the_spreadsheet_show_what_duban_score_json_prints(session, client_for, db_url, monkeypatch,
                                                                        capsys):
    """One truth: the desk reads the scores the way the command does, for a period and for its months."""
    import json
    import re

    from config.settings import get_settings
    from models.tables import Role
    from tests.clirun import cli_runner
    from tests.factories import make_person
    from tests.scoring.test_sql import random_ledger

    random_ledger(session, seed=4)
    sup = make_person(session, Role.SUPERVISOR, email="score@dc.gov.cn")
    session.commit()
    monkeypatch.setenv("DUBAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    duban = cli_runner(monkeypatch, capsys)

    def printed(start: date, end: date) -> dict:  # type: ignore[type-arg]
        result = duban("score", "--from", start.isoformat(), "--to", end.isoformat(), "--json")
        assert result.code == 0, result.err
        return json.loads(result.out)  # type: ignore[no-any-return]

    def table(data: dict) -> list[tuple]:  # type: ignore[type-arg]
        return [(u["rank"], u["unit"], u["score"], sum(x["points"] for x in u["deductions"]),
                 sum(x["points"] for x in u["additions"])) for u in data["units"]]

    client = client_for(sup)
    try:
        year = printed(date(2024, 1, 1), date(2024, 12, 31))
        assert sum(len(u["deductions"]) for u in year["units"]) > 50  # not trivially empty
        html = client.get("/score?period=year&on=2024-03-01").text
        rows = re.findall(r'<td class="num">(\d+)</td><td class="name"><a href="#unit-\d+">([^<]+)</a></td>\s*'
                          r'<td[^>]*><b>([-\d.]+)</b></td>\s*<td[^>]*>([-\d.]+)</td>\s*<td[^>]*>([-\d.]+)</td>', html)
        assert [(int(r), unit, float(s), float(d), float(a)) for r, unit, s, d, a in rows] == table(year)
        sheets = _sheets(client.get("/score.xlsx?period=year&on=2024-03-01"))
        assert [row[:3] for row in sheets["考核得分"][3:]] == [row[:3] for row in table(year)]
        assert [(row[0], row[2], row[3], row[4]) for row in sheets["得分说明"][2:]] == [
            (u["unit"], x["points"], x["item"], x["event_id"]) for u in year["units"] for x in u["deductions"] + u["additions"]]
        parts = sheets["分期得分"]  # the year's quarters, then its months
        assert parts[1][1:6] == ("2024-01~03", "2024-04~06", "2024-07~09", "2024-10~12", "2024-01")
        for column, (first, last) in enumerate(
                [(date(2024, m, 1), date(2024, m + 2, 1) + timedelta(days=40)) for m in (1, 4, 7, 10)]
                + [(date(2024, m, 1), date(2024, m, 1) + timedelta(days=40)) for m in range(1, 13)], start=1):
            last = last.replace(day=1) - timedelta(days=1)
            assert {u["unit"]: u["score"] for u in printed(first, last)["units"]} == {
                row[0]: row[column] for row in parts[2:]}, parts[1][column]
    finally:
        get_settings.cache_clear()
