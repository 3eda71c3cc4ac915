"""Server mode: `duban deploy` applies prefect.yaml to the Prefect server at PREFECT_API_URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from cli.common import CliError, console
from cli.words import _

ROOT = Path(__file__).resolve().parent.parent

# Server settings that matter under load; `duban deploy` prints them for the server's host.
SERVER_SETTINGS = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "500",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "500",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}
WORKER_SETTINGS = {"PREFECT_WORKER_QUERY_SECONDS": "5", "PREFECT_TASKS_DEFAULT_NO_CACHE": "true"}


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)


def load_deployments(path: Path) -> list[dict[str, Any]]:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CliError(_("cannot read {path}: {error}", path=path, error=exc)) from None
    deployments = spec.get("deployments") if isinstance(spec, dict) else None
    if not deployments:
        raise CliError(_("{path} defines no deployments", path=path))
    return list(deployments)


def deploy(
    pool: Annotated[str | None, typer.Option(help="Work pool (default: the one in prefect.yaml).")] = None,
    spec: Annotated[Path, typer.Option(help="The deployments file.")] = ROOT / "prefect.yaml",
    paused: Annotated[bool, typer.Option("--paused", help="Create the schedules paused (staging, tests).")] = False,
) -> None:
    """Create the process work pool if missing and apply every deployment in prefect.yaml."""
    if not os.environ.get("PREFECT_API_URL"):
        raise CliError(_("PREFECT_API_URL is not set: point it at the Prefect server (see docs/deploy.md)"))
    deployments = load_deployments(spec)
    from flows.runtime import configure_prefect_environment

    configure_prefect_environment()
    from prefect.flows import Flow
    from prefect.schedules import Cron

    pools = {pool or d["work_pool"]["name"] for d in deployments}
    for name in sorted(pools):
        _ensure_pool(name)
    table = Table(title=_("deployments applied to {url}", url=os.environ["PREFECT_API_URL"]), title_justify="left")
    for column in (_("deployment"), _("entrypoint"), _("schedule"), _("work pool")):
        table.add_column(column)
    for d in deployments:
        flow: Any = Flow.from_source(source=str(ROOT), entrypoint=d["entrypoint"])
        schedules = [Cron(s["cron"], timezone=s.get("timezone", "Asia/Shanghai")) for s in d.get("schedules") or []]
        work_pool = pool or d["work_pool"]["name"]
        flow.deploy(
            name=d["name"], work_pool_name=work_pool, schedules=schedules, description=d.get("description"),
            parameters=d.get("parameters") or {}, build=False, push=False, print_next_steps=False,
            paused=paused or None,
        )
        crons = ", ".join(f"{s['cron']} ({s.get('timezone', 'Asia/Shanghai')})" for s in d.get("schedules") or [])
        table.add_row(f"{flow.name}/{d['name']}", d["entrypoint"], crons or _("on demand"), work_pool)
    console.print(table)
    console.print(_("Set on the Prefect server's host: {settings}",
                    settings=" ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items())))
    command = (" ".join(f"{k}={v}" for k, v in WORKER_SETTINGS.items())
               + f" prefect worker start --pool {sorted(pools)[0]} --type process")
    console.print(_("Start workers from a checkout of duban at the same path ({root}): {command}",
                    root=ROOT, command=command))


def _ensure_pool(name: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
            console.print(_("created work pool {name} (process)", name=name))
        except ObjectAlreadyExists:
            pass
