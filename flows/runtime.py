"""Running flows: in-process as plain functions, or through the Prefect engine.

Importing Prefect costs seconds, and one-shot commands (`duban sweep`, `duban import`) must stay
fast. So a flow is declared with `duban_flow`, which keeps the plain function and builds the
Prefect flow only when it is first needed:

    # flows/sweep.py
    from flows.runtime import duban_flow

    @duban_flow(name="sweep")
    def sweep(now: str) -> dict: ...        # thin: calls models/ and notifications/

    # a command
    outcome = run_flow(sweep, engine=engine, now=at.isoformat())
    console.print(f"engine: {outcome.engine}")

`run_flow` runs the plain function in-process ("local") unless a Prefect API is configured
(PREFECT_API_URL) or engine="prefect" is asked for. `sweep.prefect()` is the real Prefect flow,
for deployments (prefect.yaml entrypoints point at flows/deployments.py, which materialises them).
A flow's batch step is a `duban_task`: a plain call in-process, a Prefect task (retries, timeout)
inside a Prefect run.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Engine = Literal["auto", "local", "prefect"]


def configure_prefect_environment(data_dir: str | os.PathLike[str] | None = None) -> None:
    """Prefect's home inside duban's data directory, telemetry off; call before importing Prefect."""
    if data_dir is None:
        from config.settings import get_settings

        data_dir = get_settings().data_dir
    os.environ.setdefault("PREFECT_HOME", os.path.abspath(os.path.join(data_dir, "prefect")))
    os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)  # Prefect does not create missing parents
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # An explicit cache policy would turn a second run with the same inputs into a silent no-op.
    os.environ.setdefault("PREFECT_TASKS_DEFAULT_NO_CACHE", "true")
    # Without PREFECT_API_URL the first run starts a temporary server; Prefect's default 20 s wait
    # for it is too short on a busy machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


class _Deferred:
    """A plain function plus the options of the Prefect object (`kind`: flow or task) built on demand."""

    kind = "flow"

    def __init__(self, fn: Callable[..., Any], options: dict[str, Any]) -> None:
        self.fn = fn
        self.options = options
        self.name: str = options["name"]
        self._built: Any = None
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def prefect(self) -> Any:
        """The real `prefect.Flow` or `prefect.Task` (imports Prefect)."""
        if self._built is None:
            configure_prefect_environment()
            import prefect

            self._built = getattr(prefect, self.kind)(**self.options)(self.fn)
        return self._built


class DubanFlow(_Deferred):
    """A flow: calling it runs the Prefect flow; `run_flow` chooses between that and the plain function."""

    def __call__(self, **params: Any) -> Any:
        return self.prefect()(**params)


def duban_flow(**options: Any) -> Callable[[Callable[..., Any]], DubanFlow]:
    """Declare a flow (options as for `prefect.flow`) without importing Prefect yet.

    Runs are named by `run_name` unless `flow_run_name` is given.
    """
    options.setdefault("log_prints", True)

    def wrap(fn: Callable[..., Any]) -> DubanFlow:
        options.setdefault("name", fn.__name__.replace("_", "-"))
        options.setdefault("flow_run_name", functools.partial(run_name, options["name"]))
        return DubanFlow(fn, options)

    return wrap


class DubanTask(_Deferred):
    """A step of a flow: the plain function, or inside a Prefect flow run a Prefect task."""

    kind = "task"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if in_prefect_run():
            return self.prefect()(*args, **kwargs)
        return self.fn(*args, **kwargs)


def duban_task(**options: Any) -> Callable[[Callable[..., Any]], DubanTask]:
    """Declare a step (options as for `prefect.task`: retries, timeout_seconds ...).

    In-process (`run_flow(engine="local")`, embedded `duban serve`) it is a plain call: the next
    scheduled run is the retry there. Under Prefect it is a task run, with the retries, the timeout
    and its own line in the run's history. A retried step must be safe to run again: each opens its
    own session, and duban's claims and unique rows make a second attempt harmless.
    """

    def wrap(fn: Callable[..., Any]) -> DubanTask:
        options.setdefault("name", fn.__name__.replace("_", "-"))
        options.setdefault("retry_condition_fn", _transient)
        return DubanTask(fn, options)

    return wrap


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a step that lost its database or mail connection, not one refused by a rule (LedgerError ...)."""
    try:
        state.result()
    except (OSError, TimeoutError):
        return True
    except Exception as exc:
        from sqlalchemy.exc import DBAPIError

        return isinstance(exc, DBAPIError) or isinstance(getattr(exc, "__cause__", None), DBAPIError)
    return False


def in_prefect_run() -> bool:
    """Inside a Prefect flow run (never imports Prefect to find out)."""
    if "prefect.context" not in sys.modules:
        return False
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


def run_logger(flow_name: str) -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """Prefect's run logger inside a Prefect run (its lines join the run's log), else duban's own."""
    if in_prefect_run():
        from prefect import get_run_logger

        return get_run_logger()  # type: ignore[return-value]
    return logging.getLogger(f"duban.flows.{flow_name}")


def run_name(flow_name: str) -> str:
    """A run's name: the flow and the instant it acts at, in local time ("sweep 2024-10-09 09:00").

    That instant is the run's `now` parameter, or for a scheduled run (which passes none) the time
    it was scheduled for, so no run is named "sweep-None".
    """
    from prefect.runtime import flow_run

    from config import clock
    from config.settings import get_settings

    now = flow_run.parameters.get("now")
    at = clock.parse_instant(now) if now else flow_run.scheduled_start_time
    return f"{flow_name} {at.astimezone(get_settings().tz):%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class FlowOutcome:
    result: Any
    engine: Literal["local", "prefect"]


def choose_engine(requested: Engine = "auto") -> Literal["local", "prefect"]:
    if requested == "auto":
        return "prefect" if os.environ.get("PREFECT_API_URL") else "local"
    return requested


def run_flow(flow: DubanFlow | Any, *, engine: Engine = "auto", **params: Any) -> FlowOutcome:
    """Run a flow once, in-process or through Prefect, and say which engine ran it."""
    chosen = choose_engine(engine)
    if chosen == "local":
        return FlowOutcome(flow.fn(**params), "local")
    prefect_flow = flow.prefect() if isinstance(flow, DubanFlow) else flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    # A sync flow run otherwise waits about a second for its heartbeat thread to stop.
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return FlowOutcome(prefect_flow(**params), "prefect")
