"""cli.main registers only the module of the command a line names: its table of commands says
where each command lives, and a read command imports none of the other command modules."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from cli import main


def test_the_table_names_every_command_where_its_module_registers_it():
    registered = {}
    for module in main.MODULES:
        app = typer.Typer()
        importlib.import_module(f"cli.{module}").register(app)
        for name in [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]:
            registered[name] = module
    assert registered == main.COMMANDS
    assert list(registered) == list(main.COMMANDS)  # --help lists them in this order


def test_a_read_command_imports_no_other_command_module():
    script = ("import sys; sys.argv = ['duban', 'items', '--help']\n"
              "from cli.main import main\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in sys.modules if m.startswith('cli.')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == str(["cli.common", "cli.main", "cli.options", "cli.view_cmds", "cli.views",
                                                 "cli.words"])
