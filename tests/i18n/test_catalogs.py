"""The gettext catalogs: compiled .mo files match their .po, and zh_CN has words for every msgid in use."""

from __future__ import annotations

import gettext
import io
import re
import string

from babel.messages.mofile import write_mo

from config.i18n import gettext as words
from config.i18n import ngettext, translations, week_name, zone_name
from config.i18n.extract import catalog, compiled, missing, stale, used


def test_every_committed_mo_is_compiled_from_its_po():
    assert stale("zh-CN") == {}
    assert stale("en") == {}


def test_a_changed_po_entry_makes_its_mo_stale():
    zh = catalog("zh-CN")
    zh.get("Dashboard").string = "别的词"
    out = io.BytesIO()
    write_mo(out, zh)
    changed = gettext.GNUTranslations(io.BytesIO(out.getvalue()))
    assert changed.gettext("Dashboard") == "别的词" != gettext.GNUTranslations(io.BytesIO(compiled("zh-CN"))).gettext("Dashboard")


def test_extraction_finds_the_words_of_python_and_templates():
    found = used()
    assert len(found) > 250
    msgids = {msgid for msgid, _plural, _context in found}
    assert {"Dashboard", "Import of {files}", "Token revoked.", "Beijing time"} <= msgids  # templates, CLI, flash, i18n
    assert ("{n} item", "{n} items", None) in found  # a plural form


def test_zh_cn_has_words_for_every_msgid_in_use():
    assert [f"{where}: {key}" for key, where in missing("zh-CN")] == []


def test_plural_forms_follow_the_count():
    assert ngettext("en", "{n} item", "{n} items", 1).format(n=1) == "1 item"
    assert ngettext("en", "{n} item", "{n} items", 3).format(n=3) == "3 items"
    assert ngettext("zh-CN", "{n} item", "{n} items", 1).format(n=1) == "共1项事项"
    assert ngettext("zh-CN", "{n} item", "{n} items", 3).format(n=3) == "共3项事项"


def test_catalogs_are_read_once_and_unknown_locales_get_the_default():
    assert translations("zh-CN") is translations("zh-CN")
    assert words("fr", "Dashboard") == words("zh-CN", "Dashboard") == "总览"
    assert words("en", "Dashboard") == "Dashboard"


def test_week_and_zone_in_the_offices_words():
    assert week_name("2023-W26", "zh-CN") == "2023年第26周"
    assert week_name("2023-W26", "en") == "week 26 of 2023"
    assert week_name("not a week", "zh-CN") == "not a week"
    assert zone_name("Asia/Shanghai", "zh-CN") == "北京时间"
    assert zone_name("Asia/Shanghai", "en") == "Beijing time"
    assert zone_name("Europe/Berlin", "zh-CN") == "Europe/Berlin"


def test_every_translation_fills_in_the_same_fields_as_its_msgid():
    for locale in ("zh-CN", "en"):
        words = [m for m in catalog(locale) if m.id and m.string]
        assert len(words) > 100
        wrong = {}
        for message in words:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = _fields(ids[-1])
            if any(_fields(text) != wanted for text in strings) and not _is_code(ids[0]):
                wrong[ids[0]] = strings
        assert wrong == {}


def _is_code(msgid: str) -> bool:  # a refusal code: its words' fields are checked in tests/web/test_error_messages
    return re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", msgid) is not None


def _fields(template: str) -> set[str]:
    """`{name}` fields (Python's str.format) and `%(name)s` ones (Jinja's newstyle gettext)."""
    if "%(" in template:
        return set(re.findall(r"%\((\w+)\)", template))
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_no_msgid_appears_twice_in_a_po():
    """Text merges of two branches can add the same msgid twice; msgfmt refuses such a file."""
    from collections import Counter

    from config.i18n.extract import po_path

    for locale in ("zh-CN", "en"):
        text = po_path(locale).read_text(encoding="utf-8")
        entries = Counter(re.findall(r'^(?:msgctxt "(.*)"\n)?msgid "(.*)"\n', text, flags=re.MULTILINE))
        assert [key for key, count in entries.items() if count > 1] == []
