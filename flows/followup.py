"""Follow-up flows after an interactive change, so its mail goes out now, not at the next tick.

Server mode (PREFECT_API_URL set): ask the Prefect server for a run of the `deliver` deployment
and do not wait for it (`run_deployment(..., timeout=0)`); a worker picks it up. Embedded mode:
run the deliver flow in a background thread of this process. Either way a lost trigger costs
nothing but a minute: the scheduled delivery sends the same rows, and claims keep it to once.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime

log = logging.getLogger("duban.followup")
DELIVER_DEPLOYMENT = "deliver/deliver"


def server_mode() -> bool:
    return bool(os.environ.get("PREFECT_API_URL"))


def deliver_soon(now: datetime) -> str:
    """Trigger a delivery run; returns how ("deployment" or "thread")."""
    if server_mode():
        threading.Thread(target=_run_deployment, args=(now,), name="duban-followup", daemon=True).start()
        return "deployment"
    threading.Thread(target=_run_locally, args=(now,), name="duban-followup", daemon=True).start()
    return "thread"


def _run_deployment(now: datetime) -> None:
    try:
        from flows.runtime import configure_prefect_environment

        configure_prefect_environment()
        from prefect.deployments import run_deployment

        run_deployment(DELIVER_DEPLOYMENT, parameters={"now": now.isoformat()}, timeout=0)
    except Exception:  # the scheduled delivery sends it anyway
        log.exception("could not trigger the %s deployment", DELIVER_DEPLOYMENT)


def _run_locally(now: datetime) -> None:
    try:
        from flows.deliver import deliver
        from flows.runtime import run_flow

        run_flow(deliver, engine="local", now=now.isoformat())
    except Exception:
        log.exception("follow-up delivery failed; the scheduled delivery will retry")
