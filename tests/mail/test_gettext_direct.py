"""The templates' `_`, `gettext`, `ngettext` and `pgettext` call the catalog directly
(notifications/render.py, `_direct_gettext`) rather than through Jinja's newstyle wrappers: every
notice and every digest is still the same mail, byte for byte, as with Jinja's own functions, in
zh-CN and en (words with `%`, `&` and `<`, plural forms, the for-information notices)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jinja2.ext
import pytest
from jinja2 import Environment

from config.i18n import translations
from notifications import builders, render
from notifications.builders import Mail, build_notice, ordered_sections
from tests.mail.test_mime import NOTICES, digest_calls, envelope
from tests.mail.test_render_tables import CORPUS

_STOCK: dict[str, Environment] = {}
_ENVIRONMENT = render.environment


def stock_environment(locale: str) -> Environment:
    """The same templates and filters with Jinja's own newstyle gettext functions, as installed."""
    locale = render.locale_or_default(locale)
    if locale not in _STOCK:
        env = _ENVIRONMENT.__wrapped__(locale)  # a fresh one, not the cached
        env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
        env.globals["_"] = jinja2.ext._gettext_alias
        assert env.globals["gettext"] is not _ENVIRONMENT(locale).globals["gettext"]
        _STOCK[locale] = env
    return _STOCK[locale]


def both(build: Callable[[], Mail], monkeypatch: pytest.MonkeyPatch) -> tuple[Mail, Mail]:
    new = build()
    with monkeypatch.context() as m:
        m.setattr(render, "environment", stock_environment)
        old = build()
    return new, old


@pytest.mark.parametrize(("locale", "action", "fyi"), NOTICES + CORPUS)
def test_notices_are_the_same_mail_as_with_jinjas_gettext(locale, action, fyi, monkeypatch) -> None:
    new, old = both(lambda: build_notice(envelope(), locale=locale, sections=ordered_sections(action),
                                         fyi=ordered_sections(fyi), base_url="https://duban.example"), monkeypatch)
    assert new.raw == old.raw
    assert new.subject == old.subject


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_digest_is_the_same_mail_as_with_jinjas_gettext(session, now, mail_world, monkeypatch, locale) -> None:
    real = builders.build_digest
    calls = digest_calls(session, now, mail_world, monkeypatch, locale)
    for envelope_, kwargs in calls:
        new, old = both(partial(real, envelope_, **kwargs), monkeypatch)
        assert new.raw == old.raw
