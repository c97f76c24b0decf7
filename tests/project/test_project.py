"""A project as users start it: `reconciler init`, `--version`, and reconciler.yaml's named
environments with their precedence (flags > environment variables > file > dev servers)."""

from __future__ import annotations

import json
import os

import psycopg

from reconciler import __version__
from reconciler.api.project import SCHEMA_KINDS as KINDS
from reconciler.cli.project_cmds import render
from tests.helpers import run_cli, write_yaml


def test_version():
    r = run_cli("--version")
    assert r.code == 0 and r.out.strip() == f"reconciler {__version__}"


def test_init_then_validate_works_in_an_empty_folder(tmp_path):
    r = run_cli("init", cwd=tmp_path)
    assert r.code == 0, r.text
    layout = ["reconciler.yaml", "schemas/tables/example.yaml", "schemas/keys/example.yaml"]
    layout += ["plans/.gitkeep", "state/.gitkeep", ".gitignore", ".vscode/settings.json"]
    for rel in layout:
        assert (tmp_path / rel).is_file(), rel
    for kind, name in KINDS.items():
        assert (tmp_path / "json-schema" / name).read_text() == render(kind)
    settings = json.loads((tmp_path / ".vscode" / "settings.json").read_text())
    for schema in settings["yaml.schemas"]:
        assert (tmp_path / schema).is_file()
    header = (tmp_path / "schemas/tables/example.yaml").read_text().splitlines()[0]
    target = header.split("$schema=", 1)[1]
    assert (tmp_path / "schemas/tables" / target).resolve().is_file()
    r = run_cli("validate", cwd=tmp_path)
    assert r.code == 0, r.text


def test_init_keeps_what_exists(tmp_path):
    (tmp_path / "reconciler.yaml").write_text("version: 1\nenvironments: {dev: {}}\n")
    r = run_cli("init", cwd=tmp_path)
    assert r.code == 0 and "kept" in r.out and "reconciler.yaml" in r.out
    assert (tmp_path / "reconciler.yaml").read_text() == "version: 1\nenvironments: {dev: {}}\n"


CONFIG = """\
version: 1
default_environment: dev
environments:
  dev: {}
  staging:
    pg: ${STAGING_URL}
  broken:
    pg: postgresql://postgres@127.0.0.1:1/nowhere
"""


def _project(tmp_path, config: str = CONFIG):
    (tmp_path / "reconciler.yaml").write_text(config)
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        "table: things\ncolumns: [{name: id, type: int}]\n",
    )
    return tmp_path


def test_an_environment_names_its_servers(pg_url, tmp_path, monkeypatch):
    project = _project(tmp_path)
    monkeypatch.setenv("STAGING_URL", pg_url)
    monkeypatch.delenv("RECONCILER_PG_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    r = run_cli("--env", "staging", "apply", "--auto-approve", cwd=project)
    assert r.code == 0, r.text
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('public.things')").fetchone()[0] is not None
    monkeypatch.setenv("RECONCILER_ENV", "staging")  # the variable chooses as --env does
    r = run_cli("plan", "--out", str(tmp_path / "p"), cwd=project)
    assert r.code == 0 and "No changes" in r.out, r.text


def test_flags_and_variables_win_over_the_file(pg_url, tmp_path, monkeypatch):
    project = _project(tmp_path)
    monkeypatch.setenv("RECONCILER_ENV", "broken")  # would fail to connect if it were used
    monkeypatch.delenv("DATABASE_URL", raising=False)
    r = run_cli("plan", "--pg", pg_url, "--out", str(tmp_path / "p1"), cwd=project)
    assert r.code == 0, r.text
    monkeypatch.setenv("RECONCILER_PG_URL", pg_url)
    r = run_cli("plan", "--out", str(tmp_path / "p2"), cwd=project)
    assert r.code == 0, r.text
    monkeypatch.delenv("RECONCILER_PG_URL")
    r = run_cli("plan", "--out", str(tmp_path / "p3"), cwd=project)
    assert r.code == 1 and "127.0.0.1:1" in r.err  # now the file's environment is used


def test_config_mistakes_are_one_sentence_with_file_and_line(tmp_path, monkeypatch):
    monkeypatch.delenv("RECONCILER_PG_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("STAGING_URL", raising=False)
    project = _project(tmp_path)
    r = run_cli("--env", "staging", "plan", cwd=project)
    assert r.code == 1 and "reconciler.yaml:6:" in r.err and "${STAGING_URL}" in r.err, r.err
    r = run_cli("--env", "nope", "plan", cwd=project)
    assert r.code == 1 and "no environment 'nope'" in r.err and "staging" in r.err, r.err
    _project(tmp_path, CONFIG.replace("  dev: {}", "  dev: {pg_url: x}"))
    r = run_cli("plan", cwd=project)
    assert r.code == 1 and "reconciler.yaml:4:" in r.err and "pg_url" in r.err, r.err
    _project(tmp_path, "version: 1\nenvironments: [dev]\n")
    r = run_cli("plan", cwd=project)
    assert r.code == 1 and "reconciler.yaml:2:" in r.err, r.err


def test_show_renders_a_saved_plan_as_plan_printed_it(pg_url, tmp_path):
    project = _project(tmp_path)
    r = run_cli("plan", "--pg", pg_url, "--out", str(tmp_path / "plans"), cwd=project)
    assert r.code == 0, r.text
    (saved,) = (tmp_path / "plans").glob("*.plan.json")
    version = saved.name[:14]
    shown = run_cli("show", version, "--out", str(tmp_path / "plans"), cwd=project)
    assert shown.code == 0, shown.text
    body = r.out.split("\nSaved plan")[0]
    assert shown.out.endswith(body + "\n") or body in shown.out
    assert run_cli("show", str(saved), "--json", cwd=project).out.startswith("{")
    up = next((tmp_path / "plans").glob("*_up.sql"))
    up.write_text(up.read_text() + "\nDROP TABLE things;\n")
    r = run_cli("show", str(saved), cwd=project)
    assert r.code == 1 and "edited after planning" in r.err
    r = run_cli("show", "19990101000000", "--out", str(tmp_path / "plans"), cwd=project)
    assert r.code == 1 and "No saved plan" in r.err


SETTINGS = """\
version: 1
default_environment: staging
environments:
  staging:
    pg: ${STAGING_URL}
    ddl_lock_timeout: 100ms
    lock_retries: 0
"""


def test_environment_settings_are_option_defaults_that_flags_override(
    pg_url, tmp_path, monkeypatch
):
    project = _project(tmp_path, SETTINGS)
    monkeypatch.setenv("STAGING_URL", pg_url)
    for name in ("RECONCILER_PG_URL", "DATABASE_URL", "RECONCILER_ENV"):
        monkeypatch.delenv(name, raising=False)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE things (id int)")
    write_yaml(
        project / "schemas",
        "tables/things.yaml",
        "table: things\ncolumns: [{name: id, type: int}, {name: note, type: text}]\n",
    )
    with psycopg.connect(pg_url) as holder:
        holder.execute("LOCK TABLE things IN ACCESS EXCLUSIVE MODE")  # held until rollback
        r = run_cli("apply", "--auto-approve", cwd=project)
        assert r.code == 1 and "lock_timeout" in r.err and "0 retries included" in r.err, r.err
        r = run_cli("apply", "--auto-approve", "--lock-retries", "1", cwd=project)
        assert r.code == 1 and "1 retries included" in r.err, r.err
        holder.rollback()


def test_a_bad_setting_is_refused_with_its_line(tmp_path, monkeypatch):
    monkeypatch.delenv("RECONCILER_PG_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    project = _project(tmp_path, SETTINGS.replace("lock_retries: 0", "lock_retries: many"))
    r = run_cli("plan", cwd=project)
    assert r.code == 1 and "reconciler.yaml:7: lock_retries must be a whole number" in r.err, r.err


def test_a_reconciler_yaml_that_is_not_a_file_is_said_not_ignored(pg_url, tmp_path, monkeypatch):
    """A folder (or a pipe) named reconciler.yaml would otherwise leave every environment and
    the scope out of the run without a word."""
    monkeypatch.delenv("RECONCILER_PG_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (tmp_path / "reconciler.yaml").mkdir()
    write_yaml(tmp_path, "schemas/tables/t.yaml", "table: t\ncolumns: [{name: id, type: int}]\n")
    r = run_cli("plan", cwd=tmp_path)
    assert r.code == 1, r.text
    assert r.err.startswith("Error: reconciler.yaml is a directory, not a file"), r.err
    r = run_cli("validate", cwd=tmp_path)
    assert r.code == 1 and "reconciler.yaml is a directory" in r.err, r.text
    # found upwards from --schemas, run from elsewhere: the same sentence, not a plan without
    # the project's scope
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    schemas = str(tmp_path / "schemas")
    r = run_cli("plan", "--pg", pg_url, "--schemas", schemas, cwd=elsewhere)
    assert r.code == 1 and "reconciler.yaml is a directory" in r.err, r.text
    (tmp_path / "reconciler.yaml").rmdir()
    (tmp_path / "reconciler.yaml").symlink_to("reconciler.yaml")  # a loop
    r = run_cli("plan", "--pg", pg_url, "--schemas", schemas, cwd=elsewhere)
    assert r.code == 1 and "reconciler.yaml cannot be read" in r.err, r.text
    (tmp_path / "reconciler.yaml").unlink()
    (tmp_path / "reconciler.yaml").symlink_to(tmp_path / "gone.yaml")
    r = run_cli("plan", cwd=tmp_path)
    assert r.code == 1 and "reconciler.yaml is a link to nothing" in r.err, r.text
    (tmp_path / "reconciler.yaml").unlink()
    os.mkfifo(tmp_path / "reconciler.yaml")  # never opened: a pipe would wait for a writer
    r = run_cli("plan", cwd=tmp_path)
    assert r.code == 1 and "reconciler.yaml is a special file" in r.err, r.text
