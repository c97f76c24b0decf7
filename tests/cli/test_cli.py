"""The command line as users meet it: help everywhere, sentences instead of tracebacks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_yaml

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests/fixtures/bad_yaml"

COMMANDS = [
    [],
    ["validate"],
    ["plan"],
    ["apply"],
    ["rollback"],
    ["export"],
    ["gen-ddl"],
    ["state"],
    ["state", "list"],
    ["state", "show"],
    ["state", "history"],
    ["lock"],
    ["lock", "status"],
    ["lock", "force-unlock"],
    ["dev"],
    ["dev", "up"],
    ["dev", "down"],
    ["dev", "status"],
    ["dev", "url"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(cmd):
    r = run_cli(*cmd, "--help")
    assert r.code == 0, r.text
    assert "Usage:" in r.out
    # a one-line description, not an empty help page
    assert len([line for line in r.out.splitlines() if line.strip()]) > 3


@pytest.mark.parametrize("case", sorted(p.name for p in BAD.iterdir()))
def test_malformed_yaml_gives_file_line_and_exit_1_without_traceback(case, tmp_path):
    r = run_cli("validate", "--schemas", str(BAD / case), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "Traceback" not in r.text
    assert re.search(r"\.ya?ml:\d+", r.err), r.err
    assert r.err.startswith("Error: ")


def test_plan_with_malformed_yaml_touches_no_database(tmp_path):
    # The YAML is refused before any connection: this URL is never dialled.
    r = run_cli(
        "plan",
        "--pg",
        "postgresql://nobody@127.0.0.1:1/x",
        "--schemas",
        str(BAD / "type_injection"),
        cwd=tmp_path,
    )
    assert r.code == 1
    assert "Cannot connect" not in r.err and re.search(r"\.ya?ml:\d+", r.err)


def test_no_server_given_is_a_sentence(tmp_path, monkeypatch):
    for var in ("RECONCILER_PG_URL", "DATABASE_URL", "RECONCILER_REDIS_URL", "REDIS_URL"):
        monkeypatch.delenv(var, raising=False)
    r = run_cli("plan", "--schemas", str(ROOT / "schemas"), cwd=tmp_path)
    assert r.code == 1
    assert "No server given" in r.err


def test_usage_errors_exit_1_not_2(tmp_path):
    r = run_cli("plan", "--no-such-flag", cwd=tmp_path)
    assert r.code == 1  # 2 is reserved for "changes present"


def test_gen_ddl_prints_the_create_statements(tmp_path):
    r = run_cli("gen-ddl", "runs", "--schemas", str(ROOT / "schemas"), cwd=tmp_path)
    assert r.code == 0, r.text
    assert 'CREATE TABLE "public"."runs" (' in r.out
    assert 'CREATE INDEX "idx_runs_user_id"' in r.out
    assert 'ADD CONSTRAINT "fk_runs_users" FOREIGN KEY' in r.out
    r = run_cli("gen-ddl", "nope", "--schemas", str(ROOT / "schemas"), cwd=tmp_path)
    assert r.code == 1 and "No table public.nope" in r.err


def test_validate_fails_on_lint_errors_and_passes_warnings(tmp_path):
    write_yaml(
        tmp_path, "s/tables/things.yaml", "table: things\ncolumns: [{name: id, type: int}]\n"
    )
    r = run_cli("validate", "--schemas", str(tmp_path / "s"), cwd=tmp_path)
    assert r.code == 1
    assert "pk-uuid-id" in r.err and "timestamps" in r.err


def test_python_m_reconciler_runs(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "reconciler", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0 and "plan" in r.stdout


def test_the_env_flag_holds_for_its_run_only(tmp_path, monkeypatch):
    """--env chooses for one run: nothing is written into os.environ (child processes and the
    next in-process run would inherit it)."""
    import os

    from reconciler.project import config

    monkeypatch.delenv("RECONCILER_ENV", raising=False)
    (tmp_path / "reconciler.yaml").write_text(
        "version: 1\ndefault_environment: dev\nenvironments: {dev: {}, prod: {}}\n"
    )
    r = run_cli("--env", "nope", "plan", cwd=tmp_path)
    assert r.code == 1 and "no environment 'nope'" in r.err, r.text
    assert "RECONCILER_ENV" not in os.environ
    env = config.environment(tmp_path)
    assert env is not None and env.name == "dev"


def test_plan_shows_the_files_lint_before_a_server_it_cannot_reach(tmp_path):
    """The files are read alongside the catalog, but an unreachable server does not hide
    their lint: it is said first, as when they were read before connecting."""
    write_yaml(
        tmp_path / "schemas",
        "order_item.yaml",
        "table: order_item\ncolumns:\n  - {name: id, type: uuid}\nprimary_key: [id]\n",
    )
    r = run_cli("plan", "--pg", "postgresql://nobody:pw@127.0.0.1:1/x", cwd=tmp_path)
    assert r.code != 0
    assert "lint" in r.err and "Cannot connect" in r.err, r.err
    assert r.err.index("lint") < r.err.index("Cannot connect")
    assert "pw" not in r.text
