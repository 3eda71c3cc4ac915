"""`duban serve`: the web app, plus the scheduler in embedded mode (the Prefect server owns it in server mode)."""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from cli.common import CliError, console, engine, open_session, settings
from cli.schedules import refusal
from cli.words import _, local_time, locale
from flows import followup
from models.schedule_owner import OwnedElsewhere

if TYPE_CHECKING:
    from flows.scheduler import Scheduler


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address the web app listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the web app listens on.")] = 8000,
    no_web: Annotated[bool, typer.Option("--no-web", help="Run the scheduler only.")] = False,
    flow_engine: Annotated[str, typer.Option(
        "--engine", help="How the scheduled flows run in embedded mode: local (default: their plain functions in "
        "this one process, no Prefect server) or prefect (through Prefect's engine, keeping run history under "
        "DUBAN_DATA_DIR/prefect; Prefect starts a temporary server of its own, a second process).",
    )] = "local",
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="Web server processes (about one a core); the schedules still run once, in this process.",
    )] = 1,
) -> None:
    """Run duban: the sweep (and mail jobs) on their schedules, and the web app. Ctrl-C stops."""
    from flows.scheduler import Scheduler

    if flow_engine not in ("local", "prefect"):
        raise typer.BadParameter(_("{value!r}: use local or prefect", value=flow_engine), param_hint="--engine")
    if workers > 1 and no_web:
        raise typer.BadParameter(_("--no-web runs no web server processes"), param_hint="--workers")
    with open_session():
        pass  # refuses an uninitialised or outdated database with the fix
    if followup.server_mode():
        # Server mode: the Prefect server owns the schedules; never both.
        if no_web:
            raise CliError(_("server mode (PREFECT_API_URL is set): the schedules run on the Prefect server's "
                             "workers, so --no-web leaves this process nothing to do"))
        console.print(_("server mode: the schedules live on the Prefect server at {url} (duban deploy); this "
                        "process runs the web app only", url=os.environ["PREFECT_API_URL"]), highlight=False)
        _run_web(host, port, workers=workers)
        return
    scheduler = Scheduler(settings(), engine(), flow_engine=flow_engine,
                          on_change=lambda owns: console.print(_scheduler_says(scheduler, owns), highlight=False))
    try:
        started = scheduler.start()
    except OwnedElsewhere as exc:
        raise CliError(refusal(exc.owner, _("this duban serve (embedded mode)"))) from None
    if not started:
        holder = scheduler.lease.holder()
        who = (_("{holder} (lease until {until})", holder=holder[0], until=local_time(holder[1], seconds=True))
               if holder else _("another process"))
        console.print(_("scheduler: another duban serve owns the schedules of this database: {who}; this one runs "
                        "no jobs and takes over if that one stops", who=who), highlight=False)
    # A service manager stops duban with SIGTERM: end like Ctrl-C, so the scheduler finishes its
    # current job's transaction and hands the lease back at once (uvicorn, which catches SIGTERM
    # itself, raises it again here once the web server has shut down).
    signal.signal(signal.SIGTERM, _stop)
    try:
        if workers > 1:
            _run_web(host, port, workers=workers)
            return
        app = None if no_web else _web_app()
        if app is None:
            console.print(_("running the scheduler alone; Ctrl-C stops"), highlight=False)
            threading.Event().wait()
        else:
            _run_web(host, port, app)
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.stop()
        console.print(_("stopped"), highlight=False)


def _scheduler_says(scheduler: Scheduler, owns: bool) -> str:
    """The scheduler took the schedules (owns) or lost them, in the CLI's language."""
    if not owns:
        return _("scheduler: lost the scheduler lease to another process; schedules stopped here")
    separator = "；" if locale() == "zh-CN" else "; "
    jobs = separator.join(_("{job} at '{cron}'", job=_(job.name), cron=job.crontab(scheduler.settings))
                          for job in scheduler.jobs)
    return _("scheduler: this process owns the schedules: {jobs}", jobs=jobs)


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _run_web(host: str, port: int, app=None, workers: int = 1) -> None:  # type: ignore[no-untyped-def]
    from web import server

    if workers > 1:
        # Each worker process builds its own app (worker_app); this process supervises them
        # and, in embedded mode, runs the scheduler, so the schedules still run once.
        if _web_app() is None:
            raise CliError(_("the web app cannot be loaded (see above)"))
        server.run("cli.serve:worker_app", factory=True, workers=workers, host=host, port=port)
        return
    app = app or _web_app()
    if app is None:
        raise CliError(_("the web app cannot be loaded (see above)"))
    # Mail goes out right after an action: a deployment run in server mode, a thread otherwise.
    app.state.followup = followup.deliver_soon
    server.run(app, host=host, port=port)


def worker_app():  # type: ignore[no-untyped-def]
    """The app of one web worker process (`duban serve --workers N`): settings from the environment."""
    from web.app import create_app

    app = create_app()
    app.state.followup = followup.deliver_soon
    return app


def _web_app():  # type: ignore[no-untyped-def]
    try:
        from web.app import create_app
    except ImportError as exc:
        console.print(Text(_("web app not available ({error})", error=exc), style="yellow"), highlight=False)
        return None
    return create_app()
