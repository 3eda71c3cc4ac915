"""cli.launch runs a plain command line of `items`, `show`, `report` or `run` without Typer: the same
output, errors and exit codes as through Typer (cli.main) for every command line, plain or not."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import typer.main

from cli import job, launch, main
from tests.cli.test_report_plain import demo as demo

NOW = "2023-06-26T09:00+08:00"
LATER = "2023-07-20T09:00+08:00"
LINES = [
    ["items", "--json", "--now", NOW], ["items", "--now", NOW, "--limit", "3"], ["items", "--archived", f"--now={NOW}"],
    ["items", "--json", "--limit", "007", "--now", NOW], ["items", "--limit", "-1", "--json", "--now", NOW],
    ["items", "--limit", "x"], ["items", "--limit", "٣", "--now", NOW, "--json"], ["items", "--json", "--json"],
    ["items", "--now", "2023-06-26T09:00"], ["items", "--now", "yesterday"], ["items", "--now="], ["items", "--now"],
    ["items", "--overdue", "--json", "--now", NOW], ["items", "extra"], ["items", "--help"], ["items", "--jso"],
    ["show", "新时代意见/1", "--now", NOW], ["show", "--json", "新时代意见/2", "--now", NOW], ["show", "1", "--json"],
    ["show", "新时代意见/99999", "--now", NOW], ["show", "没有/1"], ["show", "0"], ["show"], ["show", "a", "b"],
    ["show", "--", "新时代意见/1"], ["show", "-x"], ["report", "--now", NOW], ["report", "--json", "--now", NOW],
    ["report", "--now", NOW, "--now", NOW], ["report", "x"], ["report", "--help"], ["items", "--now", "-1"],
    ["run", "--engine", "bogus", "--now", NOW], ["run", "--engine=Local"], ["run", "--now", "yesterday", "--json"],
    ["run", "--help"], ["run", "x"], ["run", "--json", "--engine"],
]


def _run(cwd: Path, argv: list[str], entry: str) -> tuple[str, str, int, bool]:
    script = (f"import sys; sys.argv = ['duban', *{argv!r}]\nfrom {entry} import main\n"
              "try:\n    main()\nfinally:\n    print('typer' in sys.modules, file=sys.stderr)\n")
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", "DUBAN_LOCALE": "en", "HOME": str(cwd)}
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    *err, typer_imported = done.stderr.splitlines()
    return done.stdout, "\n".join(err), done.returncode, typer_imported == "True"


def test_every_command_line_ends_as_it_did_through_typer_and_plain_ones_import_no_typer(demo):
    for argv in LINES:
        plain = launch.plain_command(["duban", *argv], {})
        through_launch, through_typer = _run(demo, argv, "cli.launch"), _run(demo, argv, "cli.main")
        assert through_launch[:3] == through_typer[:3], argv
        assert through_launch[3] == (plain is None), argv
    assert launch.plain_command(["duban", "items"], {"_DUBAN_COMPLETE": "bash_complete"}) is None


def test_a_closed_pipe_ends_as_typer_ends_it(demo):
    ended = []
    for entry in ("cli.launch", "cli.main"):
        script = (f"import sys; sys.argv = ['duban', 'items', '--json', '--now', {NOW!r}]\n"
                  f"from {entry} import main\nmain()\n")
        done = subprocess.run(["bash", "-c", f'{sys.executable} -c "{script}" | head -c 10; echo " ${{PIPESTATUS[0]}}"'],
                              cwd=demo, capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(demo)})
        ended.append((done.stdout, done.stderr))
    assert ended[0] == ended[1] == ('[\n  {\n     1\n', ''), ended


def test_a_plain_run_does_what_typers_does(demo, tmp_path):
    # the job on two copies of one ledger (the demo's, relative to its directory), through cli.launch
    # and through Typer: the same output but for the seconds it took, and the same rows written
    done = []
    for entry in ("cli.launch", "cli.main"):
        copy = tmp_path / entry
        shutil.copytree(demo, copy)
        out, err, code, typer_imported = _run(copy, ["run", "--now", LATER, "--engine", "local", "--json"], entry)
        assert typer_imported == (entry == "cli.main")
        rows = []
        with sqlite3.connect(copy / "duban.db") as db:
            for table in ("notification", "item_event", "outbox_message", "item"):
                # the mail server is not there: when to try again is the clock's time plus a jitter
                columns = [c for _, c, *_ in db.execute(f"PRAGMA table_info({table})") if c != "next_attempt_at"]
                rows.append(db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id").fetchall())
        done.append((re.sub(r'"seconds": [0-9.e-]+', '"seconds": 0', out), err, code, rows))
    summary = json.loads(done[0][0])
    assert summary["sweep"]["notifications"] and summary["deliver"]["grouped"]  # it swept and grouped
    assert done[0] == done[1]


def test_the_plain_command_lines_are_those_typer_declares():
    assert launch.ENGINES == job.ENGINES
    for name, (flags, valued, arguments) in launch.PLAIN.items():
        assert main.COMMANDS[name] == {"cli.views": "view_cmds", "cli.job": "sweep"}[launch.RUNS[name]]
        group = typer.main.get_group(main.app((main.COMMANDS[name],)))
        command = group.commands[name]  # type: ignore[attr-defined]
        options = {opt: param.name for param in command.params if param.param_type_name == "option"
                   for opt in param.opts}
        assert {opt: options[opt] for opt in [*flags, *valued]} == {**flags, **valued}
        assert all(command.params[[p.name for p in command.params].index(key)].is_flag for key in flags.values())
        assert not any(command.params[[p.name for p in command.params].index(key)].is_flag for key in valued.values())
        assert sum(param.param_type_name == "argument" for param in command.params) == arguments
