"""What every command pays before it does anything: the CLI's own import loads no database
driver, SQL parser, validation library or graph library (docs/architecture.md, start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("psycopg", "pglast", "pydantic", "networkx", "redis", "yaml")


def test_the_cli_and_its_help_load_no_heavy_library():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Usage" in done.stdout, done.stderr
    imported = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "reconciler.cli" in imported  # the probe sees the imports at all
    assert not [m for m in HEAVY if m in imported], sorted(m for m in HEAVY if m in imported)


def test_a_command_under_no_color_into_a_pipe_loads_no_help_renderer(tmp_path):
    """NO_COLOR (the bench, CI logs) into a pipe: nothing is styled there, so typer's rich
    help module (with rich.markdown, ~50 ms) is not loaded by a command that shows no help."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "validate", "--schemas", "none"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "NO_COLOR": "1", "PYTHONPATH": str(REPO)},
    )
    assert "is not a directory" in done.stderr, done.stderr[-2000:]
    imported = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "reconciler.cli" in imported
    assert "typer.rich_utils" not in imported and "rich.markdown" not in imported


def test_a_plan_with_changes_to_order_loads_no_graph_library(pg_url, tmp_path):
    """The order of a plan's changes is made with the standard library's graphlib: networkx
    (~0.09 s) loads only for --target and to name a cycle."""
    schemas = tmp_path / "schemas" / "tables"
    schemas.mkdir(parents=True)
    (schemas / "teams.yaml").write_text(
        "table: teams\ncolumns:\n  - {name: id, type: bigint}\nprimary_key: [id]\n"
    )
    (schemas / "users.yaml").write_text(
        "table: users\ncolumns:\n  - {name: id, type: bigint}\n  - {name: team_id, type: bigint}\n"
        "primary_key: [id]\nforeign_keys:\n"
        "  - {columns: [team_id], references: {table: teams, columns: [id]}}\n"
    )
    argv = [sys.executable, "-X", "importtime", "-m", "reconciler", "plan", "--pg", pg_url]
    done = subprocess.run(
        [*argv, "--schemas", "schemas", "--out", "plans"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), "RECONCILER_NO_CACHE": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list((tmp_path / "plans").glob("*.plan.json"))) == 1
    imported = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "reconciler.pipeline.graph" in imported
    assert "networkx" not in imported


def test_a_plan_the_cache_answers_loads_no_model_value(pg_url, tmp_path):
    """A no-op plan settled by the remembered verdict (pipeline/tree_plan.py) builds nothing
    of either side: it imports neither the model's value classes nor the YAML parser, nor
    what only an apply, a rollback or a fleet runs."""
    from tests.helpers import run_cli

    schemas = tmp_path / "schemas" / "tables"
    schemas.mkdir(parents=True)
    (schemas / "teams.yaml").write_text(
        "table: teams\ncolumns:\n  - {name: id, type: bigint}\nprimary_key: [id]\n"
    )
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    applied = run_cli("apply", *argv, "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("RECONCILER_NO_CACHE", None)
    env.pop("RECONCILER_NO_PREFETCH", None)
    runs = [
        subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "reconciler", "plan", *argv],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        for _ in range(2)  # the first one leaves the verdict, if the apply did not
    ]
    imported = [
        {
            line.rpartition("|")[2].strip()
            for line in done.stderr.splitlines()
            if line.startswith("import time:")
        }
        for done in runs
    ]
    assert all("No changes." in done.stdout for done in runs), runs[-1].stderr[-3000:]
    heavy = (
        *("reconciler.model.pg", "reconciler.model.snapshot", "reconciler.desired.lint", "yaml"),
        *("reconciler.api.fleet", "reconciler.api.rollbacks", "reconciler.apply.recorded"),
    )
    assert "reconciler.pipeline.tree_plan" in imported[1]  # the probe sees the imports
    assert [m for m in heavy if m in imported[1]] == []
    # The catalog was read ahead by a process of its own (pipeline/prefetch.py), which the
    # command did not wait for to build itself: the command never loaded the driver.
    assert "reconciler.pipeline.prefetch" in imported[1]
    assert "psycopg" not in imported[1]


def test_a_first_plan_whose_catalog_was_read_ahead_loads_no_driver(pg_url, tmp_path):
    """With no cache (a fresh checkout), a plan that finds nothing to change and asks the
    server nothing more (its files spelled as the server spells them) never connects by
    itself: the catalog and the target's name came from the read ahead."""
    from tests.helpers import run_cli

    schemas = tmp_path / "schemas" / "tables"
    schemas.mkdir(parents=True)
    (schemas / "teams.yaml").write_text(
        "table: teams\ncolumns:\n  - {name: id, type: bigint}\n  - {name: name, type: text}\n"
        "primary_key: [id]\n"
    )
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    assert run_cli("apply", *argv, "--auto-approve", cwd=tmp_path).code == 0
    env = {**os.environ, "PYTHONPATH": str(REPO), "RECONCILER_NO_CACHE": "1"}
    env.pop("RECONCILER_NO_PREFETCH", None)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "plan", *argv, "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    imported = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert done.returncode == 0, done.stderr[-3000:]
    plan = json.loads(done.stdout)
    assert plan["changes"] == [] and plan["target"]["database"], plan
    assert "reconciler.desired.build" in imported  # the files were read: the cache was off
    assert "psycopg" not in imported


def _names() -> list[str]:
    from reconciler.cli import load_commands
    from reconciler.cli.root import _name_of

    app = load_commands()
    commands = [name for c in app.registered_commands if (name := _name_of(c))]
    groups = [g.name for g in app.registered_groups if g.name]
    return commands + groups


def test_a_run_builds_only_the_command_it_names_and_says_the_same():
    """A run naming its command first gets an app of that command (or group) alone: its help,
    its usage errors and its sub-commands read exactly as from the whole app (which a root
    option first, such as --debug, gets)."""
    from reconciler.cli.root import app, app_for
    from tests.helpers import run_cli

    names = _names()
    assert {"plan", "apply", "drift", "export", "dev", "state"} <= set(names)
    for name in names:
        slim = app_for([name, "--help"])
        assert slim is not app
        assert len(slim.registered_commands) + len(slim.registered_groups) == 1
        for tail in (["--help"], ["--no-such-option"]):
            alone, whole = run_cli(name, *tail), run_cli("--debug", name, *tail)
            assert (alone.code, alone.out, alone.err) == (whole.code, whole.out, whole.err)
    assert app_for(["--env", "plan"]) is app and app_for(["plna"]) is app and app_for([]) is app
    typo = run_cli("plna")
    assert typo.code != 0 and "No such command" in typo.text
