"""A person as pages and mail name them (models.tables.shown_name): their name, or their address when they have none."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("name", "email", "shown"), [
    ("李督查", "duban-sup1@example.gov.cn", "李督查"),
    ("duban-sup2", "duban-sup2@example.gov.cn", "duban-sup2@example.gov.cn"),  # the import's stand-in
    ("Sup2@DC.gov.cn", "sup2@dc.gov.cn", "sup2@dc.gov.cn"),  # `duban user add` without --name
    ("  ", "x@dc.gov.cn", "x@dc.gov.cn"),
    ("市发改委联络员", "fgw@example.gov.cn", "市发改委联络员"),
])
def test_someone_without_a_name_is_shown_by_their_address(name, email, shown):
    from models.tables import shown_name
    from web.i18n import actor_name

    assert shown_name(name, email) == shown
    assert actor_name(f"{name} <{email}> (supervisor)", "zh-CN") == f"{shown}（督办人）"
