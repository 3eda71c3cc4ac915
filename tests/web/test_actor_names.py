"""Who did it, on the pages: the person's name with their unit (officers) or role (the office), no email."""

from __future__ import annotations

import re

from models.sweep import ACTOR_LABEL
from tests.web.conftest import CSRF
from web.i18n import actor_name


def test_an_officer_is_named_with_their_unit_the_office_with_its_role() -> None:
    assert actor_name("王科员 <o@fgw.gov.cn> (officer)", "zh-CN", "市发改委") == "王科员（市发改委）"
    assert actor_name("王科员 <o@fgw.gov.cn> (officer)", "en", "市发改委") == "王科员 (市发改委)"
    assert actor_name("王科员 <o@fgw.gov.cn> (officer)", "zh-CN") == "王科员（单位联络员）"  # unit since removed
    assert actor_name("李督查 <sup@dc.gov.cn> (supervisor)", "zh-CN", "督查室") == "李督查（督办人）"
    assert actor_name("李督查 <sup@dc.gov.cn> (supervisor)", "en") == "李督查 (supervisor)"
    assert actor_name(ACTOR_LABEL, "zh-CN") == "系统自动督办"
    assert actor_name("import:台账.xlsx", "zh-CN") == "台账导入：台账.xlsx"
    assert actor_name("someone (chief)", "zh-CN") == "someone (chief)"


def test_the_item_page_names_who_did_it_without_their_email(world, client_for) -> None:
    lead, sup = client_for(world.people["lead"]), client_for(world.people["sup"])
    item = world.items["ours"]
    data = {"csrf_token": CSRF, "action": "report_progress", "text": "已召开协调会", "percent": "40"}
    assert lead.post(f"/items/{item.id}/act", data=data).status_code == 303
    assert sup.post(f"/items/{item.id}/act", data={"csrf_token": CSRF, "action": "comment",
                                                   "text": "请补充材料"}).status_code == 303
    page = sup.get(f"/items/{item.id}").text
    timeline = page[page.index('<ol class="timeline">'):]
    assert f"{world.people['lead'].name}（市发改委）" in timeline
    assert f"{world.people['sup'].name}（督办人）" in timeline
    assert not re.search(r"[\w.]+@[\w.]+", timeline), "no email address in the timeline"
