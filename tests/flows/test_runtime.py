"""flows.runtime: the same flow runs in-process or through the Prefect engine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flows.runtime import choose_engine, duban_flow, duban_task, run_flow

calls: list[int] = []


@duban_flow(name="double", flow_run_name="double-{x}")
def double(x: int) -> int:
    calls.append(x)
    return 2 * x


def test_local_engine_calls_the_plain_function_without_prefect():
    outcome = run_flow(double, engine="local", x=21)
    assert (outcome.result, outcome.engine) == (42, "local")


def test_auto_picks_prefect_only_when_an_api_is_configured(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert choose_engine("auto") == "local"
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert choose_engine("auto") == "prefect"


def test_declaring_and_running_locally_never_imports_prefect():
    code = (
        "import sys; from flows.runtime import duban_flow, run_flow\n"
        "f = duban_flow(name='t')(lambda: 1)\n"
        "assert run_flow(f, engine='local').result == 1\n"
        "print('prefect' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.usefixtures("prefect_harness")
def test_prefect_engine_runs_a_real_flow_run():
    calls.clear()
    outcome = run_flow(double, engine="prefect", x=5)
    assert (outcome.result, outcome.engine, calls) == (10, "prefect", [5])
    assert double.prefect().name == "double"


@duban_flow(name="named")
def named(now: str | None = None) -> str:
    from flows.runtime import in_prefect_run, run_logger

    run_logger("named").info("ran at %s", now)
    return f"{now} {in_prefect_run()}"


@pytest.mark.usefixtures("prefect_harness")
def test_prefect_runs_are_named_for_their_instant_never_none():
    from prefect.client.orchestration import get_client

    assert run_flow(named, engine="prefect", now="2024-10-09T01:00Z").result == "2024-10-09T01:00Z True"
    run_flow(named, engine="prefect")  # as a schedule runs it: no `now`, named for its scheduled time
    with get_client(sync_client=True) as client:
        names = [r.name for r in client.read_flow_runs() if r.name.startswith("named")]
    assert "named 2024-10-09 09:00" in names  # local time (Asia/Shanghai)
    assert len(names) == 2 and all("None" not in name for name in names)


attempts: list[int] = []


@duban_task(name="flaky-step", retries=2, retry_delay_seconds=0)
def flaky_step(fail_times: int) -> int:
    attempts.append(1)
    if len(attempts) <= fail_times:
        raise OSError("connection reset")  # transient: retried under Prefect
    return len(attempts)


@duban_flow(name="with-step")
def with_step(fail_times: int = 0) -> int:
    return int(flaky_step(fail_times))


def test_a_step_runs_once_in_process_as_a_plain_call():
    attempts.clear()
    with pytest.raises(OSError):
        run_flow(with_step, engine="local", fail_times=1)
    assert attempts == [1]  # no retry in-process: the next scheduled run is the retry


@pytest.mark.usefixtures("prefect_harness")
def test_a_step_is_a_prefect_task_with_retries_under_prefect():
    attempts.clear()
    assert run_flow(with_step, engine="prefect", fail_times=2).result == 3


@pytest.mark.usefixtures("prefect_harness")
def test_a_step_refused_by_a_rule_is_not_retried():
    from models.errors import DubanError

    @duban_task(name="refused-step", retries=3, retry_delay_seconds=0)
    def refused() -> None:
        attempts.append(1)
        raise DubanError("a rule says no")

    @duban_flow(name="with-refused-step")
    def flow() -> None:
        refused()

    attempts.clear()
    with pytest.raises(DubanError):
        run_flow(flow, engine="prefect")
    assert attempts == [1]
