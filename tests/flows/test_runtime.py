"""flows.runtime: the same flow runs in-process or through the Prefect engine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flows.runtime import choose_engine, duban_flow, run_flow

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
