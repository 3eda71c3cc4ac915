"""The values the CLI keeps as click gives them (cli.main._AsGiven) are those typer's own coercion
returns unchanged, for every parameter of every command; and the read commands import no pydantic."""

from __future__ import annotations

import enum
import subprocess
import sys
from pathlib import Path

import pytest
import typer.core

from cli.main import _typer_runtime_param, as_given, command


def _parameters():
    group = command(None)
    for name, cmd in group.commands.items():
        for sub in getattr(cmd, "commands", {"": cmd}).values():
            for param in sub.params:
                if isinstance(param, typer.core._TyperParameter):
                    yield f"{name} {param.name}", sub, param


@pytest.mark.parametrize(("name", "cmd", "param"), list(_parameters()), ids=lambda v: v if isinstance(v, str) else "")
def test_a_value_kept_as_given_is_what_typer_makes_of_it(name, cmd, param):
    descriptor = param.type_descriptor
    annotation = typer.core.get_args(descriptor.annotation) or (descriptor.annotation,)
    samples = [param.default, "text", "12", 12, 0, True, 1.5, b"x"]
    samples += [member for kind in annotation if isinstance(kind, type) and issubclass(kind, enum.Enum) for member in kind]
    ctx = typer.core._click.Context(cmd)
    for value in samples:
        if value is None or not as_given(descriptor, value):
            continue
        made = _typer_runtime_param(descriptor).coerce(value, param=param, ctx=ctx)
        assert made == value and type(made) is type(value), (name, value, made)


def _run_on_a_new_ledger(tmp_path: Path, argv: list[str], module: str, entry: str) -> subprocess.CompletedProcess[str]:
    """`duban init` then `duban ARGV --now ...` through `entry`, each in a fresh process; the command's
    stderr ends with whether `module` was imported by the end."""
    env = {"PATH": "/usr/bin:/bin", "DUBAN_CONFIG": str(tmp_path / "none.toml"),
           "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'duban.db'}", "DUBAN_DATA_DIR": str(tmp_path)}
    root = Path(__file__).parents[2]
    init = "import sys; sys.argv = ['duban', 'init']; from cli.main import main; main()"
    subprocess.run([sys.executable, "-c", init], cwd=root, env=env, check=True, capture_output=True)
    code = (f"import atexit, sys; atexit.register(lambda: print({module!r} in sys.modules, file=sys.stderr)); "
            f"sys.argv = ['duban', *{argv!r}, '--now', '2024-06-03T02:00Z']; from {entry} import main; main()")
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, env=env)


@pytest.mark.parametrize("argv", [["report"], ["report", "--json"]])
def test_the_read_commands_import_no_pydantic(tmp_path, argv):
    done = _run_on_a_new_ledger(tmp_path, argv, "pydantic", "cli.main")
    assert done.returncode == 0 and done.stderr.strip() == "False", done.stderr


def test_the_job_builds_no_settings_model(tmp_path):
    """`duban run` reads its settings without pydantic-settings' model (config.settings_plain): the
    model's import and build are about 15-20 ms of the job's start (docs/benchmarks.md)."""
    done = _run_on_a_new_ledger(tmp_path, ["run", "--json"], "pydantic_settings", "cli.launch")
    assert done.returncode == 0 and done.stderr.strip().endswith("False"), done.stderr
    assert '"sweep"' in done.stdout
