"""Reading YAML config files so that every value remembers its line, for messages that name it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by the first load_yaml: a read command on the built-in files reads none (0.02 s)
    import yaml


class ConfigFileError(Exception):
    """A config file is unreadable or invalid; the message names the file and the line."""


class LineDict(dict[str, Any]):
    """A mapping that knows its file, its own line and the line of each key (1-based)."""

    source: str = "?"
    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[str, int] = {}


class LineList(list[Any]):
    source: str = "?"
    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: list[int] = []


def _mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.source, result.line = node.start_mark.name, node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.source, result.line = node.start_mark.name, node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _timestamp(loader: Any, node: yaml.ScalarNode) -> Any:
    import yaml

    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise ConfigFileError(
            f"{node.start_mark.name}:{node.start_mark.line + 1}: {node.value!r} is not a date; write YYYY-MM-DD"
        ) from None


@functools.cache
def _loader() -> type[yaml.SafeLoader]:
    """yaml's SafeLoader that keeps each mapping's and list's lines."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
    return _Loader


def load_yaml(path: Path) -> LineDict:
    """The file's top-level mapping (empty for an empty file), with line numbers kept."""
    import yaml

    try:
        with path.open(encoding="utf-8") as stream:
            data = yaml.load(stream, Loader=_loader())  # noqa: S506 (a SafeLoader subclass)
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigFileError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return LineDict()
    if not isinstance(data, LineDict):
        raise ConfigFileError(f"{path}:1: expected a mapping of settings at the top level")
    return data


def line_of(container: Any, key: str | int | None = None) -> int:
    """The line of `key` in a LineDict / index in a LineList, else the container's own line."""
    if isinstance(container, LineDict) and isinstance(key, str):
        return container.lines.get(key, container.line)
    if isinstance(container, LineList) and isinstance(key, int) and 0 <= key < len(container.lines):
        return container.lines[key]
    return getattr(container, "line", 0)


def where(container: Any, key: str | int | None = None) -> str:
    """`file:line` of `key` in `container` (or of the container itself), for error messages."""
    return f"{getattr(container, 'source', '?')}:{line_of(container, key)}"
