"""notifications/render.py keeps the mail templates compiled in a directory when asked to
(`cache_compiled_templates`, which `duban run` does): a notice renders byte for byte as a freshly
compiled template renders it, whether its templates were compiled and stored by this environment or
loaded from an earlier one; a template whose text changed is compiled again; a directory that
cannot be written changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from jinja2 import FileSystemLoader

from notifications import render
from tests.mail.test_notice_skeletons import CORPUS, context, names


@pytest.fixture
def compiled_in(tmp_path: Path):
    render.cache_compiled_templates(tmp_path / "cache")
    yield tmp_path / "cache"
    render._compiled_in.clear()


def _renders(env, locale: str) -> list[str]:
    return [env.get_template(name).render(ctx) for action, fyi in CORPUS
            for ctx in [context(locale, action, fyi)] for name in names(ctx)]


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_stored_template_renders_as_a_compiled_one(tmp_path: Path, locale: str) -> None:
    uncached = render.environment.__wrapped__(locale)  # type: ignore[attr-defined]
    assert uncached.bytecode_cache is None
    expected = _renders(uncached, locale)
    render.cache_compiled_templates(tmp_path / "cache")
    try:
        storing = render.environment.__wrapped__(locale)  # type: ignore[attr-defined]
        assert _renders(storing, locale) == expected
        stored = sorted(path.name for path in (tmp_path / "cache").rglob("*.cache"))
        assert {oct(path.stat().st_mode & 0o777) for path in (tmp_path / "cache").rglob("*") if path.is_dir()} \
            == {oct(0o700)}
        assert len(stored) >= 10  # notice, subject, section and macro templates
        loading = render.environment.__wrapped__(locale)  # type: ignore[attr-defined]

        def compile_again(*args, **kwargs):
            raise AssertionError("compiled again")

        loading.compile = compile_again  # type: ignore[method-assign]
        assert _renders(loading, locale) == expected
        assert sorted(path.name for path in (tmp_path / "cache").rglob("*.cache")) == stored
    finally:
        render._compiled_in.clear()


def test_a_changed_template_is_compiled_again(compiled_in: Path, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    env = render.environment.__wrapped__("en")  # type: ignore[attr-defined]
    env.loader = FileSystemLoader(str(templates))
    assert env.get_template("reminder.subject.txt").render(count=1, locale="en").strip()
    (templates / "reminder.subject.txt").write_text("changed {{ count }}\n", encoding="utf-8")
    again = render.environment.__wrapped__("en")  # type: ignore[attr-defined]
    again.loader = FileSystemLoader(str(templates))
    assert again.get_template("reminder.subject.txt").render(count=2, locale="en") == "changed 2\n"


def test_a_directory_that_cannot_be_made_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the directory would be", encoding="utf-8")
    render.cache_compiled_templates(tmp_path / "cache")
    try:
        env = render.environment.__wrapped__("en")  # type: ignore[attr-defined]
        assert env.bytecode_cache is None
        assert env.get_template("notice.txt").render(context("en", *CORPUS[0]))
    finally:
        render._compiled_in.clear()


def test_a_full_disk_changes_nothing(compiled_in: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = render.environment.__wrapped__("en")  # type: ignore[attr-defined]

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tempfile.NamedTemporaryFile", full)
    ctx = context("en", *CORPUS[0])
    assert env.get_template("notice.txt").render(ctx)
    assert not list(compiled_in.rglob("*.cache"))
