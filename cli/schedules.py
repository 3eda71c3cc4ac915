"""`duban schedules show|release`: the schedule table, who owns it for this database, and handing it over."""

from __future__ import annotations

import getpass
import os
import socket
from typing import Annotated

import typer
from rich.table import Table

from cli.common import CliError, console, engine, local, open_session, settings
from cli.words import _
from config import clock
from models import schedule_owner
from models.schedule_owner import Owner


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="When the flows run, and which mode owns the schedules.", no_args_is_help=True)
    group.command("show")(show)
    group.command("release")(release)
    app.add_typer(group, name="schedules")


def whoami() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def describe(owner: Owner) -> str:
    """The owner in one phrase: which mode, where, claimed by whom and when."""
    if owner.mode == "server":
        return _("the Prefect server at {url} (claimed by {by} at {at}, `duban deploy`)",
                 url=owner.api_url, by=owner.claimed_by, at=local(owner.claimed_at))
    return _("embedded mode, `duban serve` (claimed by {by} at {at})", by=owner.claimed_by, at=local(owner.claimed_at))


def refusal(owner: Owner, wanted: str) -> str:
    """Why `wanted` may not take the schedules, and how to hand them over."""
    return _("the schedules of this database belong to {owner}; {wanted} would run them a second time, so it does "
             "not start. To hand them over: stop the current owner, run `duban schedules release`, then start "
             "again (docs/deploy.md)", owner=describe(owner), wanted=wanted)


def show() -> None:
    """The schedule table (flows/schedules.py) with this installation's settings, and its owner."""
    from flows.schedules import SCHEDULES

    with open_session():
        pass
    s = settings()
    table = Table(title=_("schedules (timezone {timezone})", timezone=s.timezone), title_justify="left")
    for column in (_("deployment"), _("flow"), _("schedule")):
        table.add_column(column)
    for row in SCHEDULES:
        table.add_row(row.name, row.flow, ", ".join(row.crontabs(s)) or _("on demand"))
    console.print(table)
    owner = schedule_owner.current(engine())
    console.print(_("owner: {owner}", owner=describe(owner) if owner else _(
        "none yet (`duban serve` claims them for embedded mode, `duban deploy` for a Prefect server)")),
        highlight=False)


def release(
    force: Annotated[bool, typer.Option("--force", help="Release a Prefect server's claim without reaching it "
                                                        "(the server is gone).")] = False,
) -> None:
    """Hand the schedules over: forget their owner, so the next `duban serve` or `duban deploy` claims them."""
    from flows.scheduler import Lease

    with open_session():
        pass
    owner = schedule_owner.current(engine())
    if owner is None:
        console.print(_("nobody owns the schedules of this database; nothing to release"), highlight=False)
        return
    if owner.mode == "embedded":
        holder = Lease(engine()).holder()
        if holder and holder[1] > clock.now():
            raise CliError(_("a duban serve still runs the schedules ({holder}); stop it first, then release",
                             holder=holder[0]))
    elif not force:
        api = (os.environ.get("PREFECT_API_URL") or "").rstrip("/")
        if api != owner.api_url:
            raise CliError(_("the schedules belong to the Prefect server at {url}: set PREFECT_API_URL={url} so that "
                             "release pauses its deployments first (or --force if that server is gone)",
                             url=owner.api_url))
        for name in _pause_deployments():
            console.print(_("paused the schedules of {deployment}", deployment=name), highlight=False)
    schedule_owner.release(engine())
    console.print(_("released: {owner}; the next `duban serve` or `duban deploy` takes the schedules",
                    owner=describe(owner)), highlight=False)


def _pause_deployments() -> list[str]:
    """Pause the schedule table's deployments on the Prefect server at PREFECT_API_URL; their names."""
    from flows.runtime import configure_prefect_environment

    configure_prefect_environment()
    from prefect.client.orchestration import get_client

    from flows.schedules import SCHEDULES

    names = {row.name for row in SCHEDULES}
    paused = []
    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            if deployment.name in names and deployment.schedules:
                client.pause_deployment(deployment.id)
                paused.append(deployment.name)
    return sorted(paused)


def doctor_checks(record) -> None:  # type: ignore[no-untyped-def]
    """`duban doctor`: who owns the schedules; in server mode the Prefect server, its work pool and workers."""
    from flows.scheduler import Lease

    name = _("schedules")
    owner = schedule_owner.current(engine())
    api = (os.environ.get("PREFECT_API_URL") or "").rstrip("/")
    if owner is None:
        record(name, "warning", _("nobody owns them yet, so nothing is swept or delivered on time; fix: `duban serve` "
                                  "(embedded) or `duban deploy` (Prefect server)"))
        return
    if owner.mode == "embedded":
        holder = Lease(engine()).holder()
        if api:
            record(name, "problem", _("{owner}, but PREFECT_API_URL is set here; fix: unset it, or hand the schedules "
                                      "over (`duban schedules release`, then `duban deploy`)", owner=describe(owner)))
        elif holder and holder[1] > clock.now():
            record(name, "ok", _("{owner}; running in {holder}", owner=describe(owner), holder=holder[0]))
        else:
            record(name, "warning", _("{owner}; no duban serve runs them now; fix: start `duban serve`",
                                      owner=describe(owner)))
        return
    if api != owner.api_url:
        record(name, "problem", _("{owner}; fix: set PREFECT_API_URL={url} here to check it", owner=describe(owner),
                                  url=owner.api_url))
        return
    record(name, "ok", describe(owner))
    _check_prefect(record)


def _check_prefect(record) -> None:  # type: ignore[no-untyped-def]
    from flows.runtime import configure_prefect_environment
    from flows.schedules import SCHEDULES, UNRESPONSIVE_AUTOMATION, WORK_POOL

    configure_prefect_environment()
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    url = os.environ["PREFECT_API_URL"]
    with get_client(sync_client=True) as client:
        if (error := client.api_healthcheck()) is not None:
            record(_("Prefect server"), "problem", _("{url} does not answer ({error}); fix: start `prefect server "
                                                     "start` on its host", url=url, error=error))
            return
        record(_("Prefect server"), "ok", _("{url} answers", url=url))
        deployments = {d.name: d for d in client.read_deployments()}
        missing = [row.name for row in SCHEDULES if row.name not in deployments]
        paused = [row.name for row in SCHEDULES if row.name in deployments and deployments[row.name].paused]
        pools = {d.work_pool_name for d in deployments.values() if d.name in {row.name for row in SCHEDULES}}
        if missing:
            record(_("deployments"), "problem", _("missing: {names}; fix: `duban deploy`", names=", ".join(missing)))
        elif paused:
            record(_("deployments"), "warning", _("paused: {names}; fix: resume them in the Prefect UI or `duban "
                                                  "deploy`", names=", ".join(paused)))
        else:
            record(_("deployments"), "ok", ", ".join(row.name for row in SCHEDULES))
        automations = client.read_automations_by_name(name=UNRESPONSIVE_AUTOMATION)
        within = getattr(automations[0].trigger, "within", None) if automations else None
        if automations and automations[0].enabled and within:
            record(_("crashed runs"), "ok", _("a flow run silent for {seconds} s is marked crashed",
                                              seconds=int(within.total_seconds())))
        else:
            record(_("crashed runs"), "warning", _("a flow run whose worker died stays running for ever; fix: `duban "
                                                   "deploy` (it applies the automation \"{name}\")",
                                                   name=UNRESPONSIVE_AUTOMATION))
        for pool in sorted(p for p in pools if p) or [WORK_POOL]:
            try:
                workers = client.read_workers_for_work_pool(pool)
            except ObjectNotFound:
                record(_("work pool"), "problem", _("{pool} does not exist; fix: `duban deploy`", pool=pool))
                continue
            online = [w.name for w in workers if str(getattr(w.status, "value", w.status)) == "ONLINE"]
            if online:
                record(_("work pool"), "ok", _("{pool}: {n} worker(s) online: {names}", pool=pool, n=len(online),
                                               names=", ".join(online)))
            else:
                record(_("work pool"), "problem", _("{pool}: no worker online, so no flow runs; fix: start `prefect "
                                                    "worker start --pool {pool} --type process` (docs/deploy.md)",
                                                    pool=pool))
