"""The `duban` console script: a read command goes to the preloaded process when asked to
(DUBAN_PRELOAD=1, cli/preload.py); everything else, and that when no server answers, runs here."""

from __future__ import annotations

import sys


def main() -> None:
    from cli import preload

    if preload.enabled(sys.argv):
        code = preload.run(sys.argv)
        if code is not None:
            sys.exit(code)
    from cli.main import main as run_here

    run_here()
