"""reconciler drift: live vs desired and vs the last recorded apply, for cron."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from tests.helpers import run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas"


def _apply(pg_url, tmp_path):
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(EXAMPLE), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text


def _one_drift(argv: tuple[str, ...], cwd: Path) -> tuple[dict, str]:
    """`drift --json` with metrics, for a database differing in one object (exit 2, a valid
    document): that object's entry and the metrics file's text."""
    from tests.cli.test_json_schemas import errors

    metrics = cwd / "reconciler.prom"
    r = run_cli("drift", *argv, "--json", "--metrics-file", str(metrics), cwd=cwd)
    assert r.code == 2, r.text
    data = json.loads(r.out)
    assert data["drift"] is True and errors("drift.v1.schema.json", data) == []
    (entry,) = data["desired"]
    return entry, metrics.read_text()


def _refusing(pg_url: str, cwd: Path, *sql: str, yaml: str) -> tuple[str, ...]:
    """A database made by `sql` whose table the one YAML file (`yaml`) asks to change in a way
    a plan refuses; the arguments that aim a command at both."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for statement in sql:
            conn.execute(statement)
    schemas = cwd / "schemas"
    schemas.mkdir()
    (schemas / "table.yaml").write_text(yaml)
    return ("--pg", pg_url, "--schemas", str(schemas))


def test_no_drift_after_apply_and_metrics_say_so(pg_url, tmp_path):
    _apply(pg_url, tmp_path)
    metrics = tmp_path / "prom" / "reconciler.prom"
    r = run_cli(
        "drift",
        "--pg",
        pg_url,
        "--schemas",
        str(EXAMPLE),
        "--metrics-file",
        str(metrics),
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    assert "No drift" in r.out
    text = metrics.read_text()
    assert "reconciler_drift_check_success 1" in text
    assert "reconciler_last_apply_timestamp_seconds " in text
    assert "reconciler_drift_objects{" not in text


def test_out_of_band_change_is_drift_against_both(pg_url, tmp_path):
    _apply(pg_url, tmp_path)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE users ADD COLUMN nickname text")
        conn.execute("COMMENT ON TABLE runs IS 'edited by hand'")
    metrics = tmp_path / "reconciler.prom"
    r = run_cli(
        "drift",
        "--pg",
        pg_url,
        "--schemas",
        str(EXAMPLE),
        "--json",
        "--metrics-file",
        str(metrics),
        cwd=tmp_path,
    )
    assert r.code == 2, r.text
    data = json.loads(r.out)
    assert data["format_version"] == 1 and data["drift"] is True
    desired = {(d["address"], d["action"]) for d in data["desired"]}
    assert ("pg.column.public.users.nickname", "drop") in desired
    assert ("pg.table.public.runs", "change") in desired
    recorded = {(d["address"], d["change"]) for d in data["recorded"]}
    assert ("pg.column.public.users.nickname", "added") in recorded
    assert ("pg.table.public.runs", "changed") in recorded
    text = metrics.read_text()
    assert 'reconciler_drift_objects{target="pg",kind="column",against="desired"} 1' in text
    assert 'reconciler_drift_objects{target="pg",kind="column",against="recorded"} 1' in text


def test_a_failed_check_exits_1_and_reports_failure_in_the_metrics(pg_server, tmp_path):
    metrics = tmp_path / "reconciler.prom"
    url = f"postgresql://postgres@127.0.0.1:{pg_server.port}/no_such_database"
    r = run_cli(
        "drift",
        "--pg",
        url,
        "--schemas",
        str(EXAMPLE),
        "--metrics-file",
        str(metrics),
        cwd=tmp_path,
    )
    assert r.code == 1
    assert "Traceback" not in r.text
    assert "reconciler_drift_check_success 0" in metrics.read_text()


def test_a_drop_withheld_is_drift_and_no_plan_says_the_database_matches(pg_url, tmp_path):
    """A table the YAML leaves out that a publication (not modelled) uses is not dropped: the
    database still differs from the YAML, so drift says so (exit 2, counted for cron) and a
    plan or apply never claims that it matches."""

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE accounts (id int PRIMARY KEY, owner text)")
        conn.execute("CREATE PUBLICATION pub_accounts FOR TABLE accounts")
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "nothing.yaml").write_text("")
    argv = ("--pg", pg_url, "--schemas", str(schemas))
    for command in (("plan",), ("apply", "--auto-approve")):
        r = run_cli(*command, *argv, cwd=tmp_path)
        assert r.code == 0, r.text
        assert "matches the desired state" not in r.out, r.text
        assert "1 drop withheld" in r.out and "publication pub_accounts" in r.out, r.text
    entry, metrics = _one_drift(argv, tmp_path)
    assert entry["address"] == "pg.table.public.accounts" and entry["withheld"] is True
    assert 'kind="table",against="desired"} 1' in metrics
    text = run_cli("drift", *argv, cwd=tmp_path)
    assert text.code == 2 and "withheld" in text.out and "No drift" not in text.out, text.text
    with psycopg.connect(pg_url) as conn:  # nothing was dropped
        assert conn.execute("SELECT to_regclass('public.accounts') IS NOT NULL").fetchone()[0]


def test_a_change_a_plan_refuses_is_drift_not_a_failed_check(pg_url, tmp_path):
    """A column the YAML leaves out that extended statistics (not modelled) cover: a plan
    refuses to drop it (exit 1, one sentence); drift reports the difference with that
    sentence and exits 2 (drift), not 1 (the check failed), and changes nothing."""

    argv = _refusing(
        pg_url,
        tmp_path,
        "CREATE TABLE accounts (id int PRIMARY KEY, owner text, score int)",
        "CREATE STATISTICS accounts_st ON owner, score FROM accounts",
        yaml="table: accounts\nschema: public\ncolumns:\n"
        "- name: id\n  type: integer\n  nullable: false\n- name: owner\n  type: text\n"
        "primary_key:\n  name: accounts_pkey\n  columns: [id]\n",
    )
    r = run_cli("plan", *argv, cwd=tmp_path)
    assert r.code == 1 and "Refusing to drop column public.accounts.score" in r.err, r.text
    entry, metrics = _one_drift(argv, tmp_path)
    assert entry["address"] == "pg.column.public.accounts.score" and entry["action"] == "drop"
    assert "extended statistics public.accounts_st" in entry["refused"], entry
    assert "reconciler_drift_check_success 1" in metrics
    text = run_cli("drift", *argv, cwd=tmp_path)
    assert text.code == 2 and "Refusing to drop column" in text.out, text.text
    assert "A change refused stays drift" in text.out, text.text
    with psycopg.connect(pg_url) as conn:  # nothing was changed
        assert (
            conn.execute(
                "SELECT count(*) FROM pg_attribute WHERE attrelid = 'accounts'::regclass "
                "AND attname = 'score' AND NOT attisdropped"
            ).fetchone()[0]
            == 1
        )


def test_a_refused_change_of_one_attribute_is_said_refused_and_plan_is_not_offered(
    pg_url, tmp_path
):
    """A type change the plan refuses (a publication's column list names the column): the
    text says the refusal under the entry, however few its differences, and does not send the
    reader to `reconciler plan`, which would only refuse."""
    argv = _refusing(
        pg_url,
        tmp_path,
        "CREATE TABLE items (id int PRIMARY KEY, name text)",
        "CREATE PUBLICATION pub_items FOR TABLE items (id, name)",
        yaml="table: items\nschema: public\nlarge: false\ncolumns:\n"
        "- name: id\n  type: integer\n  nullable: false\n- name: name\n  type: varchar(50)\n"
        "primary_key:\n  name: items_pkey\n  columns: [id]\n",
    )
    r = run_cli("plan", *argv, cwd=tmp_path)
    assert r.code == 1 and "Refusing to change the type of column public.items.name" in r.err
    text = run_cli("drift", *argv, cwd=tmp_path)
    assert text.code == 2, text.text
    assert "Refusing to change the type of column public.items.name" in text.out, text.text
    assert "shows the changes that make the database match" not in text.out, text.text
    assert "refuses" in text.out.split("public.items.name")[-1], text.text
