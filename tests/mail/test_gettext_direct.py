"""The templates' `_`, `gettext`, `ngettext` and `pgettext` call the catalog directly
(notifications/render.py, `_direct_gettext`) rather than through Jinja's newstyle wrappers: every
notice and every digest is still the same mail, byte for byte, as with Jinja's own functions, in
zh-CN and en (words with `%`, `&` and `<`, plural forms, the for-information notices)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jinja2.ext
import pytest
from jinja2 import Environment

from config.i18n import translations
from config.settings import load_settings
from notifications import builders, digest, render
from notifications.builders import Envelope, Mail, build_notice, ordered_sections
from tests.mail.test_mime import NOTICES, envelope
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
    calls: list[tuple[Envelope, dict[str, Any]]] = []
    real = builders.build_digest

    def recording(envelope: Envelope, **kwargs: Any) -> Mail:
        calls.append((envelope, kwargs))
        return real(envelope, **kwargs)

    for person in mail_world["people"].values():
        person.locale = locale
    session.commit()
    monkeypatch.setattr(digest, "build_digest", recording)
    digest.queue_digests(session, now, load_settings(delivery_window=False, base_url="https://duban.example",
                                                      locale=locale))
    assert {kwargs["audience"] for _, kwargs in calls} == {"supervisor", "leadership", "unit"}
    for envelope_, kwargs in calls:
        new, old = both(partial(real, envelope_, **kwargs), monkeypatch)
        assert new.raw == old.raw
