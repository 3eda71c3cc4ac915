"""A notice's sections, each rendered from its template once a process and language: a section
template (templates/<kind>.html, .txt) is a heading and words around one table or list of its lines,
so it is rendered once with a stand-in for the lines, and each notice's section is then that text
with the section's rows (render.py's item_rows, list_rows) put in where the stand-in's were. An
included section cost about 0.2 ms of Jinja's machinery (the include, the macro import and call, a
dozen `_()` calls) before its first row: some 0.2 s of the 10k reminder job (docs/benchmarks.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

_MARK = "\x00rows\x00"  # where the rows go: no template, word or stand-in writes a NUL
_Split = tuple[str, str, Callable[..., str], tuple[Any, ...]]


class RowsSlot:
    """Stands for a section's lines in its one rendering: the rows filter says how it would write the
    rows (`fill`) and leaves a mark. Anything else asked of it fails, and that section is then
    rendered for each notice as an include would."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: tuple[Callable[..., str], tuple[Any, ...]] | None = None

    def fill(self, write: Callable[..., str], *args: Any) -> str:
        if self.rows is not None:
            raise TypeError("a section template writes its lines once")
        self.rows = (write, args)
        return _MARK

    def __bool__(self) -> bool:
        raise TypeError("a section's lines are only written by its rows filter")

    def __iter__(self) -> Any:
        raise TypeError("a section's lines are only written by its rows filter")

    def __len__(self) -> int:
        raise TypeError("a section's lines are only written by its rows filter")


def section_writer(env: Environment) -> Callable[..., str]:
    """`notice_section(section, extension)` for `env`'s notices: the section's template with its rows."""
    splits: dict[str, _Split | None] = {}

    @pass_context
    def notice_section(context: Context, section: Any, extension: str) -> str:
        name = section.kind + extension
        if name not in splits:
            splits[name] = _split(env, name)
        split = splits[name]
        if split is None:  # as `{% with lines = section.lines %}{% include ... %}` renders it
            template = env.get_template(name)
            text = env.concat(template.root_render_func(  # type: ignore[attr-defined]
                template.new_context(context.get_all(), True, {"section": section, "lines": section.lines})))
        else:
            before, after, write, args = split
            text = before + str(write(section.lines, *args)) + after
        return Markup(text) if context.eval_ctx.autoescape else text

    return notice_section


def _split(env: Environment, name: str) -> _Split | None:
    """The text of template `name` before and after its rows, and how to write them; None for a
    template that uses its lines otherwise (or fails without them: it is rendered each time)."""
    slot = RowsSlot()
    try:
        text = env.get_template(name).render(lines=slot)
    except Exception:  # noqa: BLE001 - rendered each time instead, where a real fault shows
        return None
    if slot.rows is None or text.count(_MARK) != 1:
        return None
    before, after = text.split(_MARK)
    return before, after, *slot.rows
