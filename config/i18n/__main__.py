"""`python -m config.i18n`: list msgids the zh_CN catalog lacks, then compile every .po into its .mo."""

from __future__ import annotations

import sys

from config.i18n.extract import compile_all, missing


def main() -> int:
    lacking = list(missing("zh-CN"))
    for (msgid, plural, context), where in lacking:
        shown = f"{context}|{msgid}" if context else msgid
        print(f"{where}: no zh_CN words for {shown!r}" + (f" / {plural!r}" if plural else ""))
    for path in compile_all():
        print(f"compiled {path}")
    return 1 if lacking else 0


if __name__ == "__main__":
    sys.exit(main())
