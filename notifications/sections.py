"""A notice's sections, each rendered from its template once a process and language: a section
template (templates/<kind>.html, .txt) is a heading and words around one table or list of its lines,
so it is rendered once with a stand-in for the lines, and each notice's section is then that text
with the section's rows (render.py's item_rows, list_rows) put in where the stand-in's were. An
included section cost about 0.2 ms of Jinja's machinery (the include, the macro import and call, a
dozen `_()` calls) before its first row: some 0.2 s of the 10k reminder job (docs/benchmarks.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

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
    state = _STATE.setdefault(env, _State())

    @pass_context
    def notice_section(context: Context, section: Any, extension: str) -> str:
        if type(section) is SectionSlot:  # a notice's one rendering (write_notice): a mark for the section
            text = section.mark(extension)
        elif (written := state.written(env, section, extension)) is not None:
            text = written
        else:  # as `{% with lines = section.lines %}{% include ... %}` renders it
            template = env.get_template(section.kind + extension)
            text = env.concat(template.root_render_func(  # type: ignore[attr-defined]
                template.new_context(context.get_all(), True, {"section": section, "lines": section.lines})))
        return Markup(text) if context.eval_ctx.autoescape else text

    return notice_section


class SectionSlot:
    """Stands for one of a notice's sections in the notice's one rendering (`write_notice`): passed to
    `notice_section` it leaves a mark saying which section, written how. Anything else asked of it
    fails, and that notice is then rendered whole, as before."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def mark(self, extension: str) -> str:
        return f"\x00{self.index}\x01{extension}\x00"

    def _refuse(self, *args: Any) -> Any:
        raise TypeError("a notice's section is only written by notice_section")

    __getattr__ = __bool__ = __iter__ = __len__ = __str__ = __html__ = __eq__ = __hash__ = __format__ = _refuse


_SLOT_MARK = re.compile("\x00([0-9]+)\x01([^\x00]*)\x00")
_Skeleton = tuple[str, ...]  # text, section index, extension, text, ..., text (a split of _SLOT_MARK)


class _State:
    """An environment's sections written once (`_split`) and its notices' skeletons (`write_notice`)."""

    def __init__(self) -> None:
        self.splits: dict[str, _Split | None] = {}
        self.skeletons: dict[tuple[Any, ...], _Skeleton | None] = {}

    def written(self, env: Environment, section: Any, extension: str) -> str | None:
        """The section's text from its template's one rendering, or None where it must be rendered each time."""
        name = section.kind + extension
        if name not in self.splits:
            self.splits[name] = _split(env, name)
        split = self.splits[name]
        if split is None:
            return None
        before, after, write, args = split
        return before + str(write(section.lines, *args)) + after


_STATE: WeakKeyDictionary[Environment, _State] = WeakKeyDictionary()
_MAX_SKELETONS = 4096


def write_notice(env: Environment, name: str, context: dict[str, Any]) -> str:
    """Template `name` (a notice, its text or its subject) rendered with `context`, as
    `env.get_template(name).render(context)` renders it.

    What the notice says around its sections depends on the context's other values (count, language,
    base URL ...) and on how many sections there are, not on what is in them; so it is rendered once
    for those, with a `SectionSlot` for each section (`sections`, then `fyi`), and each notice with the
    same values is that text with its own sections written in where the marks are. A notice that asks
    its sections anything but to be written, or one with a section rendered each time, or with a value
    that cannot be told apart as a key, is rendered whole. 650 mails of the 10k reminder job took
    about 60 distinct skeletons of each template instead of 650 renders."""
    state = _STATE.get(env)
    sections, fyi = context["sections"], context["fyi"]
    try:
        key: tuple[Any, ...] | None = (name, len(sections), len(fyi), *(
            (k, type(v), tuple(sorted(v.items())) if type(v) is dict else v) for k, v in sorted(context.items())
            if k not in ("sections", "fyi")))
        hash(key)
    except TypeError:
        key = None
    if state is None or key is None:
        return env.get_template(name).render(context)
    if key not in state.skeletons:
        if len(state.skeletons) >= _MAX_SKELETONS:
            state.skeletons.clear()
        state.skeletons[key] = _skeleton(env, name, context, len(sections) + len(fyi))
    skeleton = state.skeletons[key]
    if skeleton is None:
        return env.get_template(name).render(context)
    every = [*sections, *fyi]
    out = [skeleton[0]]
    for at in range(1, len(skeleton), 3):
        written = state.written(env, every[int(skeleton[at])], skeleton[at + 1])
        if written is None:
            return env.get_template(name).render(context)
        out.append(written)
        out.append(skeleton[at + 2])
    return "".join(out)


def _skeleton(env: Environment, name: str, context: dict[str, Any], count: int) -> _Skeleton | None:
    """Template `name` rendered with a `SectionSlot` for each section, split at their marks (a section
    may be written any number of times: its text depends on the section alone); None when a slot
    was asked anything else."""
    slots = [SectionSlot(i) for i in range(count)]
    n = len(context["sections"])
    try:
        text = env.get_template(name).render({**context, "sections": slots[:n], "fyi": slots[n:]})
    except Exception:  # noqa: BLE001 - rendered whole instead, where a real fault shows
        return None
    skeleton = tuple(_SLOT_MARK.split(text))
    if "\x00" in "".join(skeleton[::3]) or any(int(index) >= count for index in skeleton[1::3]):
        return None
    return skeleton


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
