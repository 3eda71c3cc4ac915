"""`duban run`, the reminder job in one process (sweep, then group and send), without Typer: the
`run` command (cli/sweep.py) checks its --engine and runs it; cli/launch.py runs a plain command
line of it directly, as it runs `items`, `show` and `report` (Typer's import and parsing are about
0.025 s of the job's start; docs/benchmarks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from cli import launch
from cli.common import local, open_session, print_json, resolve_now, settings
from cli.words import _, counts

ENGINES = launch.ENGINES  # `run --engine`'s, declared where its plain path (cli.launch) reads them


def run(now: str | None = None, engine: str = "auto", as_json: bool = False) -> None:
    """Sweep, then group and send the mail that is due, as of `now` (`engine`: one of ENGINES)."""
    import gc

    from models.cycles import cycle_collection_paused

    with cycle_collection_paused():  # the job's imports (SQLAlchemy's, the models') too, not only its tasks
        _run(now, engine, as_json)
        if launch.script:
            # The job is done and the process ends with it: what it made goes to the permanent generation,
            # so that neither the collection due once the collector is back on nor the one at exit walks
            # it all again (0.08-0.1 s of the 10k job's CPU; docs/benchmarks.md). Reference counting frees
            # it as ever; a test calling the command in process keeps its collector's view.
            gc.freeze()


def _run(now: str | None, engine: str, as_json: bool) -> None:
    from flows.deliver import deliver as deliver_flow
    from flows.runtime import Engine as FlowEngine
    from flows.runtime import run_flow
    from flows.sweep import sweep as sweep_flow

    at = resolve_now(now)
    with open_session():
        pass  # refuses an uninitialised or outdated database with the fix
    if launch.script:  # cron's job: its templates compiled once, in the data directory (tests compile them)
        from notifications.render import cache_compiled_templates

        cache_compiled_templates(settings().data_dir / "cache")
    swept = run_flow(sweep_flow, engine=cast(FlowEngine, engine), now=at.isoformat())
    delivered = run_flow(deliver_flow, engine=cast(FlowEngine, engine), now=at.isoformat())
    sweep_summary = {**swept.result, "engine": swept.engine}
    if as_json:
        print_json({"sweep": sweep_summary, "deliver": {**delivered.result, "engine": delivered.engine}})
        return
    from cli.mail import print_delivery

    print_sweep(sweep_summary, at)
    print_delivery(delivered.result, delivered.engine)


def print_sweep(summary: dict[str, Any], at: datetime) -> None:
    from rich.text import Text

    from cli.common import console

    console.print(
        _("sweep at {at}: examined {examined} items; events: {events}; notifications queued {notifications}; "
          "{seconds:.2f} s; engine {engine}", at=local(at), examined=summary["examined"],
          events=counts(sorted(summary["events"].items())), notifications=summary["notifications"],
          seconds=summary["seconds"], engine=summary["engine"]),
        highlight=False, soft_wrap=True,
    )
    if summary.get("archived"):
        console.print(_("{n} open item(s) of archived documents were not reminded (unarchive a document to resume)",
                        n=summary["archived"]), highlight=False)
    for warning in summary["warnings"]:
        console.print(Text.assemble((_("warning:"), "yellow"), " ", warning), highlight=False)
