"""One word per concept: no synonym the glossary bans appears in a template or a catalog's words."""

from __future__ import annotations

import re
from pathlib import Path

from config.i18n.extract import catalog

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "docs" / "glossary.md"
TEMPLATES = [*ROOT.glob("notifications/templates/*"), *ROOT.glob("web/templates/*.html")]


def banned() -> dict[str, str]:
    """Banned word -> the glossary's word for it, from the table's last column ("not")."""
    words = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[4] and cells[4] != "not" and not set(cells[4]) <= {"-"}:
            for word in re.split(r",\s*", cells[4]):
                words[word] = cells[0]
    return words


def offences(text: str, words: dict[str, str]) -> list[str]:
    return [f"{word} (use {use})" for word, use in words.items() if word in text]


def test_the_glossary_bans_the_synonyms_the_pages_and_mail_used():
    words = banned()
    assert {"已报结", "办结申请", "销号率", "级别", "二级", "督查人员", "办理时限", "临期"} <= words.keys()
    assert "已报结 (use 待销号)" in offences("该事项当前为已报结状态", words)
    assert offences("落实率51.5%，第2级升级督办，待销号", words) == []


def test_no_banned_synonym_in_templates():
    words = banned()
    found = {path.relative_to(ROOT).as_posix(): offences(path.read_text(encoding="utf-8"), words)
             for path in TEMPLATES if path.is_file()}
    assert {path: words for path, words in found.items() if words} == {}


def test_no_banned_synonym_in_the_catalogs_words():
    words = banned()
    found = {}
    for locale in ("zh-CN", "en"):
        for message in catalog(locale):
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and (bad := offences(" ".join(strings), words)):
                found[f"{locale}: {message.id!r}"] = bad
    assert found == {}


def test_repeat_reminder_and_urging_are_two_words():
    zh = catalog("zh-CN")
    assert zh.get("repeat_reminder").string == "再次提醒"
    assert "催办" not in zh.get("repeat_reminder").string
