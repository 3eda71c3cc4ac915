"""The 考核 scoring model: base, deduction and addition rules, weights and caps, read from YAML."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from config.i18n import N_
from config.yamlfile import ConfigFileError, LineDict, load_yaml, where

DEFAULT_SCORING_FILE = Path(__file__).with_name("scoring.yaml")

# The rules duban knows, by section. Rules whose events do not exist yet (urged, acknowledged,
# periods) are accepted and find nothing until the lifecycle writes those events.
DEDUCTION_RULES = ("overdue", "returned", "urged", "late_acknowledge", "late_report", "missing_report")
ADDITION_RULES = ("early_sign_off",)
RULE_WORDS = {  # the rules' names, for the command's table, the page and the spreadsheet
    "overdue": N_("overdue, per working week"), "returned": N_("submission returned"), "urged": N_("urged"),
    "late_acknowledge": N_("late acknowledgement"), "late_report": N_("late periodic report"),
    "missing_report": N_("missing periodic report"), "early_sign_off": N_("signed off by the deadline"),
}


class ScoringError(ConfigFileError):
    pass


@dataclass(frozen=True)
class Rule:
    name: str
    points: Decimal  # positive: a deduction subtracts it, an addition adds it
    cap: Decimal | None  # at most this many points per unit and period from this rule
    addition: bool


@dataclass(frozen=True)
class ScoringModel:
    base: Decimal
    rules: dict[str, Rule]
    document_weights: dict[str, Decimal] = field(default_factory=dict)
    category_weights: dict[str, Decimal] = field(default_factory=dict)
    deduction_cap: Decimal | None = None  # per unit, all deductions together
    addition_cap: Decimal | None = None
    source: str = str(DEFAULT_SCORING_FILE)

    def weight(self, document: str, category: str) -> Decimal:
        """A document's weight wins over its category's; 1 when neither has one."""
        found = self.document_weights.get(document)
        if found is None:
            found = self.category_weights.get(category)
        return Decimal(1) if found is None else found


def load_scoring(path: Path | None = None) -> ScoringModel:
    """The model in `path` (default: settings.scoring_file, else the built-in one), validated.

    Anything invalid raises ScoringError naming the file and the line.
    """
    if path is None:
        from config.settings import get_settings

        path = get_settings(plain=True).scoring_file or DEFAULT_SCORING_FILE
    try:
        data = load_yaml(path)
    except ConfigFileError as exc:
        raise ScoringError(str(exc)) from None
    _known_keys(data, {"base", "deductions", "additions", "weights", "caps"}, "key")
    rules: dict[str, Rule] = {}
    for section, known in (("deductions", DEDUCTION_RULES), ("additions", ADDITION_RULES)):
        raw = _mapping(data, section)
        for name, value in raw.items():
            if name not in known:
                other = "additions" if section == "deductions" else "deductions"
                hint = f" (it belongs under {other})" if name in DEDUCTION_RULES + ADDITION_RULES else ""
                raise ScoringError(f"{where(raw, name)}: unknown {section[:-1]} rule {name!r}{hint};"
                                   f" known: {', '.join(known)}")
            rules[name] = _rule(raw, name, value, section == "additions")
    weights = _mapping(data, "weights")
    _known_keys(weights, {"documents", "categories"}, "weights key")
    caps = _mapping(data, "caps")
    _known_keys(caps, {"deductions", "additions"}, "caps key")
    return ScoringModel(
        base=_number(data, "base", data.get("base", 100), allow_negative=True),
        rules=rules,
        document_weights=_weights(weights, "documents"),
        category_weights=_weights(weights, "categories"),
        deduction_cap=_optional(caps, "deductions"),
        addition_cap=_optional(caps, "additions"),
        source=str(path),
    )


def _known_keys(data: LineDict, known: set[str], what: str) -> None:
    for key in data:
        if key not in known:
            raise ScoringError(f"{where(data, key)}: unknown {what} {key!r}; expected one of {', '.join(sorted(known))}")


def _mapping(data: LineDict, key: str) -> LineDict:
    value = data.get(key)
    if value is None:
        return LineDict()
    if not isinstance(value, LineDict):
        raise ScoringError(f"{where(data, key)}: {key} must be a mapping")
    return value


def _number(container: LineDict, key: str, value: Any, allow_negative: bool = False) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScoringError(f"{where(container, key)}: {key}: {value!r} is not a number")
    if value < 0 and not allow_negative:
        hint = " (a deduction's points are subtracted already)" if key == "points" else ""
        raise ScoringError(f"{where(container, key)}: {key}: {value} is negative; write a number of 0 or more{hint}")
    return Decimal(str(value))


def _optional(container: LineDict, key: str) -> Decimal | None:
    value = container.get(key)
    return None if value is None else _number(container, key, value)


def _rule(section: LineDict, name: str, value: Any, addition: bool) -> Rule:
    if not isinstance(value, LineDict):
        raise ScoringError(f"{where(section, name)}: rule {name} must be a mapping such as {{points: 1}}")
    _known_keys(value, {"points", "cap"}, f"key of rule {name}")
    if "points" not in value:
        raise ScoringError(f"{where(section, name)}: rule {name} has no points")
    return Rule(name, _number(value, "points", value["points"]), _optional(value, "cap"), addition)


def _weights(weights: LineDict, key: str) -> dict[str, Decimal]:
    raw = _mapping(weights, key)
    return {str(name): _number(raw, name, value) for name, value in raw.items()}
