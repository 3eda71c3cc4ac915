"""The `duban` console script: a read command goes to the preloaded process when asked to
(DUBAN_PRELOAD=1, cli/preload.py); everything else, and that when no server answers, runs here."""

from __future__ import annotations

import gc
import os
import sys


def main() -> None:
    if os.environ.get("DUBAN_PRELOAD", "") == "1":  # cli.preload imports socket and hashlib: only when asked
        from cli import preload

        if preload.enabled(sys.argv):
            code = preload.run(sys.argv)
            if code is not None:
                sys.exit(code)
    # The modules imported here live as long as the process: the collector need not walk them,
    # neither while they are imported nor each time the command's objects trigger a collection
    # (a quarter of `duban items --json`'s CPU time on 10k items; docs/benchmarks.md).
    gc.disable()
    try:
        from cli.main import main as run_here
    finally:
        gc.freeze()
        gc.enable()
    run_here()
