"""Why a ledger file is refused: each problem's code and params, worded from the catalogs.

A problem is a code ("ledger.row.empty") and plain params, like models.errors.DubanError: the
CLI and LedgerError show the English `reason`; the catalogs (config/i18n) word the same codes.
A param that is a dict with a "code" (where the first of two duplicates is) is a message itself.
A list param shows joined by the language's separator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from config.i18n import Codes

# The English words of each code are the `en` catalog's (config/i18n), as every refusal's are.
REASONS: Mapping[str, str] = Codes("en")


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused. `column` is the header as the file wrote it (or the expected one)."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    _: KW_ONLY
    code: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def reason(self) -> str:
        return render(self.code, self.params)


def render(code: str, params: Mapping[str, Any], templates: Mapping[str, str] = REASONS,
           separator: str = ", ") -> str:
    """The words for `code` from `templates`; KeyError when a template or a param is missing.

    Params are formatted once, never parsed (str.format of our own templates).
    """
    values = {}
    for name, value in params.items():
        if isinstance(value, Mapping) and "code" in value:
            value = render(value["code"], {k: v for k, v in value.items() if k != "code"}, templates, separator)
        elif isinstance(value, list | tuple):
            value = separator.join(map(str, value))
        values[name] = value
    return templates[code].format(**values)
