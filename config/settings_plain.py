"""The settings read without pydantic, for commands that only read values (`duban report`, `show`,
`items`): pydantic and pydantic-settings cost 0.15 s of such a command's start (docs/benchmarks.md).

The fields come from the model (config/settings_fields.py, generated from config/settings_model.py);
the checks beyond a value's type are config.settings'. This reading vouches only for values it reads
exactly as the model does: anything else (a value the model would refuse, or one it would coerce in a
way not copied here) makes `read_plain` answer None, and the model reads the settings and words any
error. tests/config/test_settings_plain.py compares both readings.
"""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Any

from config.settings import (
    BEFORE_CHECKS,
    CHECKS,
    SECRET_FILES,
    SettingsProperties,
    password_from_file,
    toml_path,
)
from config.settings_fields import FIELDS

PREFIX = "duban_"  # the model's env_prefix; names are matched whatever their case, as the model does
_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(?::[0-9]{2})?")
_BOOLS = {"0": False, "off": False, "f": False, "false": False, "n": False, "no": False,
          "1": True, "on": True, "t": True, "true": True, "y": True, "yes": True}


class Doubt(Exception):
    """A value this reading does not vouch for: the model reads the settings instead."""


class Secret:
    """A secret value, as pydantic's SecretStr shows it (never its text) and gives it (get_secret_value)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret | _secret_types()) and self.get_secret_value() == other.get_secret_value()

    def __hash__(self) -> int:
        return hash(self._value)

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __repr__(self) -> str:
        return f"SecretStr('{self}')"


def _secret_types() -> tuple[type, ...]:
    import sys

    pydantic = sys.modules.get("pydantic")
    return (pydantic.SecretStr,) if pydantic is not None else ()


class PlainSettings(SettingsProperties):
    """The settings' values as attributes, with the model's properties; anything else asked of it
    (model_copy, model_dump ...) is answered by the model's reading of the same settings."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_model":
            raise AttributeError(name)
        model = self.__dict__.get("_model")
        if model is None:  # read once: each reading is a whole pydantic validation of the settings
            from config.settings import load_settings

            model = self.__dict__["_model"] = load_settings()
        return getattr(model, name)

    def __repr__(self) -> str:
        return "PlainSettings(" + ", ".join(f"{name}={self.__dict__[name]!r}" for name in FIELDS) + ")"


def read_plain() -> PlainSettings | None:
    """The settings from the environment, duban.toml and the defaults, or None when this reading
    does not vouch for them (see the module's docstring)."""
    try:
        return PlainSettings(_values())
    except Doubt:
        return None


def _values() -> dict[str, Any]:
    found: dict[str, tuple[str, Any]] = {}  # field -> (source, value as read)
    path = toml_path().expanduser()
    try:
        if path.is_file():
            import tomllib  # only with a file to read

            with path.open("rb") as file:
                table = tomllib.load(file)
            for key, value in table.items():
                if key not in FIELDS:  # the model ignores unknown keys but may match others' case
                    raise Doubt(key)
                found[key] = ("toml", value)
    except (OSError, ValueError) as exc:  # unreadable or not TOML: the model says so
        raise Doubt(str(exc)) from None
    named = [(key.lower().removeprefix(PREFIX), value) for key, value in os.environ.items()
             if key.lower().startswith(PREFIX)]
    env = {name: value for name, value in named if name in FIELDS}
    if len(env) != sum(1 for name, _ in named if name in FIELDS):  # the same name in two cases
        raise Doubt("case")
    found.update((name, ("env", value)) for name, value in env.items())
    values = {name: _value(name, *found[name]) if name in found else default
              for name, (_, _, default, _) in FIELDS.items()}
    for name in SECRET_FILES:
        secret_file = values[f"{name}_password_file"]
        if secret_file is not None:
            values[f"{name}_password"] = Secret(_checked(password_from_file, name, secret_file))
    return values


def _value(name: str, source: str, value: Any) -> Any:
    kind, optional, _, limits = FIELDS[name]
    if name in BEFORE_CHECKS:
        value = _checked(BEFORE_CHECKS[name], value)
    try:
        read = _typed(kind, value, from_env=source == "env")
    except ValueError as exc:  # a time such as 25:00
        raise Doubt(str(exc)) from None
    if ("ge" in limits and read < limits["ge"]) or ("gt" in limits and read <= limits["gt"]) \
            or ("le" in limits and read > limits["le"]) or read not in limits.get("choices", (read,)):
        raise Doubt(name)
    return _checked(CHECKS[name], read) if name in CHECKS else read


def _typed(kind: str, value: Any, *, from_env: bool) -> Any:
    """`value` as the model reads a field of `kind` from the environment (a string) or duban.toml."""
    if kind in ("list", "words"):
        if kind == "list" and from_env:
            import json

            try:
                value = json.loads(value)
            except ValueError:
                raise Doubt(kind) from None
        if isinstance(value, list) and all(type(entry) is str for entry in value):
            return value
        raise Doubt(kind)
    if kind == "time" and type(value) is time and value.tzinfo is None:
        return value
    if type(value) is not str:
        if kind in ("int", "float", "bool") and type(value) is {"int": int, "float": float, "bool": bool}[kind]:
            return value
        if kind == "float" and type(value) is int:
            return float(value)
        raise Doubt(kind)
    if kind in ("str", "choice"):
        return value
    if kind == "secret":
        return Secret(value)
    if kind == "path" and value.strip() == value and value:
        return Path(value)
    if kind == "int" and _INT.fullmatch(value):
        return int(value)
    if kind == "float" and _FLOAT.fullmatch(value):
        return float(value)
    if kind == "bool" and value.lower() in _BOOLS:
        return _BOOLS[value.lower()]
    if kind == "time" and _TIME.fullmatch(value):
        return time.fromisoformat(value)
    raise Doubt(kind)


def _checked(check: Any, *args: Any) -> Any:
    try:
        return check(*args)
    except ValueError as exc:
        raise Doubt(str(exc)) from None
