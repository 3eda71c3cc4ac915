"""The schedule table: when each flow runs, read alike by APScheduler (embedded) and `duban deploy` (server).

A row names the deployment, the flow ("module:attribute"; the attribute is also its entrypoint in
flows/deployments.py), its time as a crontab or the name of the setting holding one (in
settings.timezone), and an optional catch-up time. The catch-up runs the same flow more often; the
flow does nothing unless its time has passed undone (a weekly digest missed while nothing ran goes
out on return, within the same week), and it runs in both modes, so they keep the same rule.

prefect.yaml is written from this table (`python -m flows.schedules > prefect.yaml`); a test
checks that it still matches.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from config.settings import Settings


@dataclass(frozen=True)
class Schedule:
    name: str  # the deployment's name; the scheduler's job name
    flow: str  # "module:attribute" of a duban flow
    cron: str | None  # a crontab or a setting's name ("sweep_cron"); None: on demand only
    description: str
    catch_up: str | None = None  # also run at these times (a crontab or a setting's name)

    @property
    def entrypoint(self) -> str:
        return "flows/deployments.py:" + self.flow.partition(":")[2]

    def crontabs(self, settings: Settings) -> list[str]:
        """The crontabs this flow runs at: its time, then its catch-up."""
        return [_crontab(c, settings) for c in (self.cron, self.catch_up) if c]


def _crontab(cron: str, settings: Settings) -> str:
    return str(getattr(settings, cron, cron))


SCHEDULES: list[Schedule] = [
    Schedule("sweep", "flows.sweep:sweep", "sweep_cron",
             "Remind, flag and escalate every item whose next threshold has come."),
    Schedule("deliver", "flows.deliver:deliver", "* * * * *",
             "Group pending notifications into mail and send what is due, once."),
    Schedule("digest", "flows.digest:weekly_digest", "digest_cron",
             "The weekly escalation digest (通报), once per recipient and week; a missed one goes out on return.",
             catch_up="*/15 * * * *"),
    Schedule("assign", "flows.assign:assign", None,
             "Import ledger files (on demand; parameters files=[...], now=...)."),
]
WORK_POOL = "duban"
# The automation `duban deploy` applies so that a flow run whose process died is marked CRASHED.
UNRESPONSIVE_AUTOMATION = "duban: crash unresponsive flow runs"


def deployments(settings: Settings, pool: str = WORK_POOL) -> list[dict[str, Any]]:
    """The table as prefect.yaml's `deployments` list."""
    return [
        {"name": s.name, "description": s.description, "entrypoint": s.entrypoint, "work_pool": {"name": pool},
         "schedules": [{"cron": cron, "timezone": settings.timezone} for cron in s.crontabs(settings)]}
        for s in SCHEDULES
    ]


HEADER = """\
# Server mode: duban's flows as Prefect deployments on a process work pool.
# Written from flows/schedules.py (`python -m flows.schedules > prefect.yaml`) with the default
# settings; `duban deploy` applies the same table with this installation's settings
# (DUBAN_SWEEP_CRON, DUBAN_DIGEST_CRON, DUBAN_TIMEZONE). See docs/deploy.md.
"""


def prefect_yaml(settings: Settings) -> str:
    import yaml

    spec = {"name": "duban", "build": None, "push": None, "deployments": deployments(settings)}
    return HEADER + yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=110)


if __name__ == "__main__":
    sys.stdout.write(prefect_yaml(Settings.model_construct()))  # the defaults, not this machine's settings
