"""The escalation policy: reminder, overdue, repeat and escalation thresholds and their recipients."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from config.yamlfile import ConfigFileError, LineDict, LineList, load_yaml, where

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")


class PolicyError(ConfigFileError):
    pass


class Recipient(StrEnum):
    """Who a notice can go to; models/notices.py says what each resolves to."""

    LEAD_UNIT = "lead_unit"
    CO_UNITS = "co_units"
    UNIT_LEADERS = "unit_leaders"
    PARENT_UNIT_LEADERS = "parent_unit_leaders"
    LEADERSHIP = "leadership"
    SUPERVISOR = "supervisor"
    DOCUMENT_SUPERVISOR = "document_supervisor"
    DEFAULT_SUPERVISORS = "default_supervisors"
    ADMINS = "admins"


@dataclass(frozen=True)
class UnitLeadersUp:
    """The leaders of the unit `steps` levels up the unit tree (上级单位) from the lead unit:
    1 its parent (as `parent_unit_leaders`), 2 the parent's parent, ... Written `{unit_leaders_up: N}`."""

    steps: int

    def __str__(self) -> str:
        return f"unit_leaders_up: {self.steps}"


Kind = Recipient | UnitLeadersUp


@dataclass(frozen=True)
class Audience:
    to: tuple[Kind, ...]
    cc: tuple[Kind, ...] = ()


@dataclass(frozen=True)
class Escalation:
    level: int
    after: int  # working days after the deadline date
    audience: Audience


@dataclass(frozen=True)
class Rules:
    """The thresholds for one item (the default, or with its document's / category's overrides)."""

    reminders_before: tuple[int, ...]  # working days before the deadline date, farthest first
    reminder: Audience
    overdue: Audience
    repeat_every: int  # working days; 0: no repeat reminders
    repeat: Audience
    escalations: tuple[Escalation, ...]  # by level, 1, 2, ...


@dataclass(frozen=True)
class Policy:
    default: Rules
    leadership_emails: list[str]
    documents: dict[str, Rules] = field(default_factory=dict)
    categories: dict[str, Rules] = field(default_factory=dict)
    source: str = str(DEFAULT_POLICY_FILE)
    # The office's supervisors of last resort: told when a notice's audience names nobody.
    default_supervisors: list[str] = field(default_factory=list)
    # 签收: a new item's lead unit is reminded when it has not acknowledged it within this many
    # working days (0: no reminder), telling `acknowledge`.
    acknowledge_within: int = 2
    acknowledge: Audience = Audience((Recipient.LEAD_UNIT,))

    def rules_for(self, document: str, category: str = "") -> Rules:
        """A document's override wins over its category's, which wins over the default."""
        return self.documents.get(document) or self.categories.get(category) or self.default

    def problems(self) -> list[str]:
        """What is valid but cannot work as intended (shown by `duban doctor`)."""
        found = []
        every = [self.default, *self.documents.values(), *self.categories.values()]
        if not self.leadership_emails and any(
            Recipient.LEADERSHIP in e.audience.to for rules in every for e in rules.escalations
        ):
            found.append(
                f"{self.source}: an escalation level goes to the leadership but leadership_emails is empty"
                " (those notices go to the fallback: the item's supervisor, the document's, default_supervisors,"
                " the admins); fix: list the office leadership's emails there"
            )
        return found


_SECTIONS = {"reminders", "overdue", "repeat", "escalations"}


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path` (default: settings.policy_file, else the built-in one), validated.

    A user's file overrides the built-in default section by section; anything invalid raises
    PolicyError naming the file and line.
    """
    if path is None:
        from config.settings import get_settings

        path = get_settings(plain=True).policy_file
    return _load(path or DEFAULT_POLICY_FILE)


@functools.lru_cache(maxsize=8)
def _builtin() -> LineDict:
    return load_yaml(DEFAULT_POLICY_FILE)


def _load(path: Path) -> Policy:
    try:
        data = load_yaml(path)
    except ConfigFileError as exc:
        raise PolicyError(str(exc)) from None
    _known_keys(data, {"leadership_emails", "default_supervisors", "acknowledge", "default", "documents",
                       "categories"})
    base = _builtin()["default"] if path != DEFAULT_POLICY_FILE else LineDict()
    default_raw = _merge(base, _mapping(data, "default", required=path == DEFAULT_POLICY_FILE))
    default = _rules(default_raw)
    overrides: dict[str, dict[str, Rules]] = {}
    for group in ("documents", "categories"):
        raw = _mapping(data, group)
        overrides[group] = {str(name): _rules(_merge(default_raw, _mapping(raw, name))) for name in raw}
    return Policy(
        default=default,
        leadership_emails=_emails(data, "leadership_emails"),
        documents=overrides["documents"],
        categories=overrides["categories"],
        source=str(path),
        default_supervisors=_emails(data, "default_supervisors"),
        **_acknowledge(data if "acknowledge" in data else _builtin()),
    )


def _acknowledge(data: LineDict) -> dict[str, Any]:
    """`acknowledge: {within: N, to: [...], cc: [...]}`: the 签收 reminder."""
    section = _section(data, "acknowledge")
    within = _int(section, "within", section.get("within", 2), 0)
    _known_keys(section, {"within", "to", "cc"})
    audience = LineDict({k: v for k, v in section.items() if k != "within"})
    audience.source, audience.line, audience.lines = section.source, section.line, section.lines
    return {"acknowledge_within": within, "acknowledge": _audience(audience, "acknowledge", need_to=within > 0)}


def _known_keys(data: LineDict, known: set[str]) -> None:
    for key in data:
        if key not in known:
            raise PolicyError(f"{where(data, key)}: unknown key {key!r}; expected one of {', '.join(sorted(known))}")


def _mapping(data: LineDict, key: str, required: bool = False) -> LineDict:
    value = data.get(key)
    if value is None:
        if required:
            raise PolicyError(f"{where(data)}: {key!r} is missing")
        return LineDict()
    if not isinstance(value, LineDict):
        raise PolicyError(f"{where(data, key)}: {key} must be a mapping")
    return value


def _merge(base: LineDict, override: LineDict) -> LineDict:
    """Section by section: a mapping section merges key by key, the escalations list is replaced."""
    _known_keys(override, _SECTIONS)
    merged = LineDict(base)
    merged.source, merged.line, merged.lines = override.source, override.line, dict(base.lines)
    for key, value in override.items():
        if isinstance(value, LineDict) and isinstance(base.get(key), LineDict):
            section = LineDict({**base[key], **value})
            section.source, section.line = value.source, value.line
            section.lines = {**base[key].lines, **value.lines}
            value = section
        merged[key] = value
        merged.lines[key] = override.lines[key]
    return merged


def _int(container: Any, key: str | int, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{where(container, key)}: {value!r} is not a whole number of working days")
    if value < minimum:
        raise PolicyError(f"{where(container, key)}: {value} is negative or too small (at least {minimum})")
    return value


def _audience(section: LineDict, name: str, need_to: bool = True) -> Audience:
    _known_keys(section, {"to", "cc", "before", "every", "after", "level"})
    kinds: dict[str, tuple[Kind, ...]] = {}
    for key in ("to", "cc"):
        values = section.get(key) or LineList()
        if not isinstance(values, list):
            raise PolicyError(f"{where(section, key)}: {name}.{key} must be a list of recipient kinds")
        found = tuple(_kind(values, index, value) for index, value in enumerate(values))
        if len(set(found)) != len(found):
            raise PolicyError(f"{where(section, key)}: {name}.{key} lists a recipient kind twice")
        kinds[key] = found
    if need_to and not kinds["to"]:
        raise PolicyError(f"{where(section)}: {name} has no recipients; give it a `to` list")
    return Audience(kinds["to"], kinds["cc"])


def _kind(values: LineList, index: int, value: Any) -> Kind:
    """A recipient kind: a name (`unit_leaders`), or `{unit_leaders_up: N}` for the unit tree."""
    if isinstance(value, LineDict):
        if set(value) != {"unit_leaders_up"}:
            raise PolicyError(f"{where(values, index)}: a recipient written as a mapping must be"
                              f" {{unit_leaders_up: N}} (N levels up the unit tree); found {dict(value)!r}")
        steps = value["unit_leaders_up"]
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise PolicyError(f"{where(value, 'unit_leaders_up')}: unit_leaders_up must be a whole number of levels"
                              f" up the unit tree, at least 1 (1: the parent unit); found {steps!r}")
        return UnitLeadersUp(steps) if steps > 1 else Recipient.PARENT_UNIT_LEADERS
    if value not in Recipient.__members__.values():
        known = ", ".join(r.value for r in Recipient)
        raise PolicyError(f"{where(values, index)}: unknown recipient kind {value!r}; use {known}"
                          " or {unit_leaders_up: N}")
    return Recipient(value)


def _rules(raw: LineDict) -> Rules:
    for key in _SECTIONS:
        if key not in raw:
            raise PolicyError(f"{where(raw)}: section {key!r} is missing")
    reminders, repeat = _section(raw, "reminders"), _section(raw, "repeat")
    before = reminders.get("before") or LineList()
    if not isinstance(before, list):
        raise PolicyError(f"{where(reminders, 'before')}: reminders.before must be a list of working days")
    days = [_int(before, i, v, 0) for i, v in enumerate(before)]
    for i in range(1, len(days)):
        if days[i] >= days[i - 1]:
            problem = "duplicate" if days[i] == days[i - 1] else "unordered"
            raise PolicyError(
                f"{where(before, i)}: reminders.before has {problem} thresholds {days[i - 1]}, {days[i]};"
                " list them farthest first, each once (e.g. [7, 1])"
            )
    every = _int(repeat, "every", repeat.get("every", 0), 0)
    escalations_raw = raw["escalations"] or LineList()
    if not isinstance(escalations_raw, list):
        raise PolicyError(f"{where(raw, 'escalations')}: escalations must be a list of levels")
    escalations: list[Escalation] = []
    for index, entry in enumerate(escalations_raw):
        if not isinstance(entry, LineDict):
            raise PolicyError(f"{where(escalations_raw, index)}: an escalation needs level, after, to (and cc)")
        level = _int(entry, "level", entry.get("level"), 1)
        after = _int(entry, "after", entry.get("after"), 1)
        if level != index + 1:
            raise PolicyError(f"{where(entry, 'level')}: escalation levels must be 1, 2, ... in order; found {level}")
        if escalations and after <= escalations[-1].after:
            problem = "duplicate" if after == escalations[-1].after else "unordered"
            raise PolicyError(
                f"{where(entry, 'after')}: escalation level {level} has a {problem} threshold ({after} working"
                f" days, level {level - 1} has {escalations[-1].after}); each level must come later"
            )
        escalations.append(Escalation(level, after, _audience(entry, f"escalation level {level}")))
    return Rules(
        reminders_before=tuple(days),
        reminder=_audience(reminders, "reminders", need_to=bool(days)),
        overdue=_audience(_section(raw, "overdue"), "overdue"),
        repeat_every=every,
        repeat=_audience(repeat, "repeat", need_to=every > 0),
        escalations=tuple(escalations),
    )


def _section(raw: LineDict, key: str) -> LineDict:
    value = raw[key]
    if not isinstance(value, LineDict):
        raise PolicyError(f"{where(raw, key)}: {key} must be a mapping")
    return value


def _emails(data: LineDict, key: str) -> list[str]:
    from config.settings import address_problem

    values = data.get(key) or LineList()
    if not isinstance(values, list):
        raise PolicyError(f"{where(data, key)}: {key} must be a list of emails")
    for index, value in enumerate(values):
        if not isinstance(value, str) or address_problem(value.strip()) is not None:
            raise PolicyError(f"{where(values, index)}: {value!r} is not a plain email address (name@domain, "
                              "ASCII before the @)")
    return [v.strip().lower() for v in values]
