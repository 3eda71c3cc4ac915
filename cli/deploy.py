"""Server mode: `duban deploy` applies the schedule table (flows/schedules.py) to the Prefect server at PREFECT_API_URL."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import CliError, console, engine, open_session, settings
from cli.schedules import refusal, whoami
from cli.words import _
from config import clock
from flows.schedules import UNRESPONSIVE_AUTOMATION, WORK_POOL, deployments
from models import schedule_owner

# Server settings that matter under load; `duban deploy` prints them for the server's host.
SERVER_SETTINGS = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "500",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "500",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}
WORKER_SETTINGS = {"PREFECT_WORKER_QUERY_SECONDS": "5", "PREFECT_TASKS_DEFAULT_NO_CACHE": "true",
                   "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "60"}
# A flow run whose process died (a worker killed, a machine lost) stays RUNNING in Prefect for
# ever: Prefect's own server marks nothing crashed. This automation, applied by `duban deploy`,
# marks a run CRASHED when no heartbeat or state change came from it for the given seconds
# (three heartbeats at WORKER_SETTINGS' frequency by default).
UNRESPONSIVE_AFTER_S = 180
WORKER_LIMIT = 4  # flow runs a worker runs at once (docs/deploy.md, Sizing): bounds its database connections


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)


def deploy(
    pool: Annotated[str, typer.Option(help="Work pool the deployments run on.")] = WORK_POOL,
    paused: Annotated[bool, typer.Option("--paused", help="Create the schedules paused (staging, tests).")] = False,
    unresponsive_after: Annotated[int, typer.Option(
        min=30, help="Mark a flow run crashed when its process has sent no heartbeat for this many seconds "
                     "(workers send one every PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds).")] = UNRESPONSIVE_AFTER_S,
) -> None:
    """Create the process work pool if missing and apply the schedule table (flows/schedules.py) as deployments."""
    if not os.environ.get("PREFECT_API_URL"):
        raise CliError(_("PREFECT_API_URL is not set: point it at the Prefect server (see docs/deploy.md)"))
    s, api = settings(), os.environ["PREFECT_API_URL"]
    with open_session():
        pass  # refuses an uninitialised or outdated database with the fix
    wanted = _("`duban deploy` to {url}", url=api)
    owner = schedule_owner.current(engine())
    if owner and not owner.same("server", api):
        raise CliError(refusal(owner, wanted))
    from flows.runtime import configure_prefect_environment

    configure_prefect_environment()
    from prefect import deploy as apply_deployments
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    import flows.deployments as entrypoints

    _ensure_pool(pool)  # the server answers: claim the schedules for it, then schedule
    try:
        schedule_owner.claim(engine(), "server", api_url=api, by=whoami(), now=clock.now())
    except schedule_owner.OwnedElsewhere as exc:  # claimed by another meanwhile
        raise CliError(refusal(exc.owner, wanted)) from None
    table = Table(title=_("deployments applied to {url}", url=api), title_justify="left")
    for column in (_("deployment"), _("entrypoint"), _("schedule"), _("work pool")):
        table.add_column(column)
    runner_deployments = []
    for d in deployments(s, pool):
        attribute = d["entrypoint"].rpartition(":")[2]
        flow: Any = getattr(entrypoints, attribute)
        deployment = flow.to_deployment(
            name=d["name"], description=d["description"], paused=paused or None,
            schedules=[Cron(c["cron"], timezone=c["timezone"]) for c in d["schedules"]],
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        # A module path, no source: a worker imports duban from its own installation, from any
        # directory, and nothing records this machine's checkout.
        deployment.entrypoint = f"{entrypoints.__name__}.{attribute}"
        runner_deployments.append(deployment)
        crons = ", ".join(f"{c['cron']} ({c['timezone']})" for c in d["schedules"])
        table.add_row(f"{flow.name}/{d['name']}", deployment.entrypoint, crons or _("on demand"), pool)
    apply_deployments(*runner_deployments, work_pool_name=pool, build=False, push=False,
                      print_next_steps_message=False, ignore_warnings=True)
    _ensure_unresponsive_automation(unresponsive_after)
    console.print(table)
    console.print(_("flow runs with no heartbeat for {seconds} s are marked crashed (automation \"{name}\")",
                    seconds=unresponsive_after, name=UNRESPONSIVE_AUTOMATION))
    console.print(_("Set on the Prefect server's host: {settings}",
                    settings=" ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items())))
    command = (" ".join(f"{k}={v}" for k, v in WORKER_SETTINGS.items())
               + f" prefect worker start --pool {pool} --type process --limit {WORKER_LIMIT}")
    console.print(_("Start workers where duban is installed, with its DUBAN_* settings: {command}",
                    command=command))


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


def _ensure_unresponsive_automation(seconds: int) -> None:
    """Create or update the automation that marks a silent flow run CRASHED (Prefect's documented
    zombie-run automation): after each heartbeat of a flow run, expect another event of that run
    (heartbeat or state change) within `seconds`, else change its state to CRASHED."""
    from datetime import timedelta

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    automation = AutomationCore(
        name=UNRESPONSIVE_AUTOMATION, enabled=True,
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"}, expect={"prefect.flow-run.*"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"}, posture=Posture.Proactive, threshold=1,
            within=timedelta(seconds=seconds),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                    message=f"no heartbeat for {seconds} s: the flow run's process is gone")],
    )
    with get_client(sync_client=True) as client:
        existing = client.read_automations_by_name(name=UNRESPONSIVE_AUTOMATION)
        if existing:
            client.update_automation(automation_id=existing[0].id, automation=automation)
        else:
            client.create_automation(automation=automation)
