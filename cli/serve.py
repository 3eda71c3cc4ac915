"""Embedded mode: `duban serve` runs the scheduler (when it gets the lease) and the web app."""

from __future__ import annotations

import threading
from typing import Annotated

import typer

from cli.common import console, engine, open_session, settings


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address the web app listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the web app listens on.")] = 8000,
    no_web: Annotated[bool, typer.Option("--no-web", help="Run the scheduler only.")] = False,
    flow_engine: Annotated[str, typer.Option(
        "--engine", help="How scheduled flows run: prefect (default), local, or auto."
    )] = "prefect",
) -> None:
    """Run duban: the sweep (and mail jobs) on their schedules, and the web app. Ctrl-C stops."""
    from flows.scheduler import Scheduler

    if flow_engine not in ("auto", "local", "prefect"):
        raise typer.BadParameter(f"{flow_engine!r}: use auto, local or prefect", param_hint="--engine")
    with open_session():
        pass  # refuses an uninitialised or outdated database with the fix
    scheduler = Scheduler(settings(), engine(), flow_engine=flow_engine,
                          on_change=lambda text: console.print(f"scheduler: {text}", highlight=False))
    if not scheduler.start():
        holder = scheduler.lease.holder()
        who = f"{holder[0]} (lease until {holder[1]:%Y-%m-%d %H:%M:%S} UTC)" if holder else "another process"
        console.print(f"scheduler: another duban serve owns the schedules of this database: {who}; "
                      "this one runs no jobs and takes over if that one stops", highlight=False)
    try:
        app = None if no_web else _web_app()
        if app is None:
            console.print("running the scheduler alone; Ctrl-C stops", highlight=False)
            threading.Event().wait()
        else:
            import uvicorn

            uvicorn.run(app, host=host, port=port, log_level="info")
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.stop()
        console.print("stopped", highlight=False)


def _web_app():  # type: ignore[no-untyped-def]
    try:
        from web.app import create_app
    except ImportError as exc:
        console.print(f"[yellow]web app not available ({exc})[/]", highlight=False)
        return None
    return create_app()
