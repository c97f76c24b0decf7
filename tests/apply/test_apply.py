"""plan → apply → re-plan → rollback on a real server, through the CLI as users run it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

import reconciler.plan
from reconciler.locks.pg import PgLock
from reconciler.state.postgres import PgState
from tests.helpers import run_cli, write_yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "schemas"
VERSION = reconciler.plan.new_version  # the real one, before a test hands it a clock


def _versions_at(at: datetime) -> Callable[..., str]:
    """new_version reading `at` as the time (an explicit `now` still wins)."""
    return lambda now=None: VERSION(now or at)


def _plan_files(d: Path) -> list[Path]:
    return sorted(d.glob("*")) if d.exists() else []


def _run_sql(url: str, text: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(text.encode())


def test_example_project_applies_to_what_hand_written_sql_builds(
    pg_url, make_pg_database, pg_dump_schema, tmp_path
):
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(EXAMPLE), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert "Apply complete!" in r.out
    reference = make_pg_database()
    _run_sql(reference, (ROOT / "tests/reference/example.sql").read_text())
    assert pg_dump_schema(pg_url) == pg_dump_schema(reference)


def test_replan_after_apply_has_no_changes_and_writes_nothing(pg_url, tmp_path):
    assert (
        run_cli(
            "apply", "--pg", pg_url, "--schemas", str(EXAMPLE), "--auto-approve", cwd=tmp_path
        ).code
        == 0
    )
    out = tmp_path / "again"
    r = run_cli(
        "plan",
        "--pg",
        pg_url,
        "--schemas",
        str(EXAMPLE),
        "--out",
        str(out),
        "--detailed-exitcode",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    assert "No changes." in r.out
    assert _plan_files(out) == []
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(EXAMPLE), "--auto-approve", cwd=tmp_path)
    assert r.code == 0 and "No changes." in r.out


def test_detailed_exitcode_is_2_when_changes_are_present(pg_url, tmp_path):
    r = run_cli(
        "plan",
        "--pg",
        pg_url,
        "--schemas",
        str(EXAMPLE),
        "--out",
        str(tmp_path / "p"),
        "--detailed-exitcode",
        cwd=tmp_path,
    )
    assert r.code == 2, r.text
    assert re.search(r"Plan: \d+ to add, \d+ to change, 0 to drop\.", r.out)


def test_plan_files_are_byte_identical_but_for_the_version(pg_url, tmp_path, monkeypatch):
    texts, versions = [], []
    for i in range(2):
        # Each plan made at an instant of its own, a day apart, given through the clock that
        # new_version takes (the only clock a plan file reads), instead of waiting for the
        # wall clock's next second.
        at = datetime(2030, 1, 1 + i, tzinfo=UTC)
        monkeypatch.setattr(reconciler.plan, "new_version", _versions_at(at))
        out = tmp_path / f"p{i}"
        r = run_cli(
            "plan", "--pg", pg_url, "--schemas", str(EXAMPLE), "--out", str(out), cwd=tmp_path
        )
        assert r.code == 0, r.text
        files = _plan_files(out)
        assert len(files) == 3
        version = files[0].name[:14]
        versions.append(version)
        texts.append(
            [(f.name.replace(version, "V"), f.read_text().replace(version, "V")) for f in files]
        )
    assert versions == ["20300101000000", "20300102000000"]
    assert texts[0] == texts[1]


def test_saved_plan_applies_and_rollback_last_restores_the_original(
    pg_url, pg_dump_schema, tmp_path
):
    _run_sql(pg_url, "CREATE TABLE legacy_things (id int PRIMARY KEY, note text)")
    before = pg_dump_schema(pg_url)
    plans = tmp_path / "plans"
    r = run_cli(
        "plan", "--pg", pg_url, "--schemas", str(EXAMPLE), "--out", str(plans), cwd=tmp_path
    )
    assert r.code == 0, r.text
    plan_json = next(plans.glob("*.plan.json"))
    # The legacy table is not in the desired state: dropping it needs --allow-destructive.
    r = run_cli("apply", "--pg", pg_url, "--plan", str(plan_json), "--auto-approve", cwd=tmp_path)
    assert r.code == 1 and "--allow-destructive" in r.err
    assert pg_dump_schema(pg_url) == before
    r = run_cli(
        "apply",
        "--pg",
        pg_url,
        "--plan",
        str(plan_json),
        "--auto-approve",
        "--allow-destructive",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    assert "legacy_things" not in pg_dump_schema(pg_url)
    r = run_cli(
        "rollback", "--pg", pg_url, "--last", "--auto-approve", "--out", str(plans), cwd=tmp_path
    )
    assert r.code == 0, r.text
    assert pg_dump_schema(pg_url) == before


def test_a_plan_is_applied_once_and_refused_the_second_time(pg_url, tmp_path):
    plans = tmp_path / "plans"
    run_cli("plan", "--pg", pg_url, "--schemas", str(EXAMPLE), "--out", str(plans), cwd=tmp_path)
    plan_json = str(next(plans.glob("*.plan.json")))
    assert (
        run_cli("apply", "--pg", pg_url, "--plan", plan_json, "--auto-approve", cwd=tmp_path).code
        == 0
    )
    r = run_cli("apply", "--pg", pg_url, "--plan", plan_json, "--auto-approve", cwd=tmp_path)
    assert r.code == 1
    assert "already applied" in r.err


def test_stale_plan_is_refused_and_changes_nothing(pg_url, pg_dump_schema, tmp_path):
    plans = tmp_path / "plans"
    run_cli("plan", "--pg", pg_url, "--schemas", str(EXAMPLE), "--out", str(plans), cwd=tmp_path)
    _run_sql(pg_url, "CREATE TABLE sneaky (id int)")
    before = pg_dump_schema(pg_url)
    r = run_cli(
        "apply",
        "--pg",
        pg_url,
        "--plan",
        str(next(plans.glob("*.plan.json"))),
        "--auto-approve",
        "--allow-destructive",
        cwd=tmp_path,
    )
    assert r.code == 1
    assert "changed since this plan was made" in r.err
    assert pg_dump_schema(pg_url) == before


def test_edited_plan_file_is_refused(pg_url, tmp_path):
    plans = tmp_path / "plans"
    run_cli("plan", "--pg", pg_url, "--schemas", str(EXAMPLE), "--out", str(plans), cwd=tmp_path)
    up = next(plans.glob("*_up.sql"))
    up.write_text(up.read_text() + "\nDROP TABLE important;\n")
    r = run_cli(
        "apply",
        "--pg",
        pg_url,
        "--plan",
        str(next(plans.glob("*.plan.json"))),
        "--auto-approve",
        cwd=tmp_path,
    )
    assert r.code == 1
    assert "edited after planning" in r.err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('public.users')").fetchone() == (None,)


def test_plan_for_another_database_is_refused(pg_url, make_pg_database, tmp_path):
    plans = tmp_path / "plans"
    run_cli("plan", "--pg", pg_url, "--schemas", str(EXAMPLE), "--out", str(plans), cwd=tmp_path)
    other = make_pg_database()
    r = run_cli(
        "apply",
        "--pg",
        other,
        "--plan",
        str(next(plans.glob("*.plan.json"))),
        "--auto-approve",
        cwd=tmp_path,
    )
    assert r.code == 1
    assert "made for database" in r.err


def test_apply_waits_for_then_names_the_lock_holder(pg_url, tmp_path):
    with psycopg.connect(pg_url, autocommit=True) as holder:
        lock = PgLock(holder)
        lock.acquire()
        t0 = time.monotonic()
        r = run_cli(
            "apply",
            "--pg",
            pg_url,
            "--schemas",
            str(EXAMPLE),
            "--auto-approve",
            "--lock-timeout",
            "1",
            cwd=tmp_path,
        )
        waited = time.monotonic() - t0
        assert r.code == 1
        assert "holds the lock" in r.err
        assert f"pid {os.getpid()}" in r.err  # the holder is this test process
        assert f"force-unlock {holder.info.backend_pid}" in r.err
        assert waited >= 0.9
        # Released while the second run waits: it goes ahead.
        threading.Timer(0.5, lock.release).start()
        r = run_cli(
            "apply",
            "--pg",
            pg_url,
            "--schemas",
            str(EXAMPLE),
            "--auto-approve",
            "--lock-timeout",
            "10",
            cwd=tmp_path,
        )
        assert r.code == 0, r.text


def test_two_concurrent_applies_exactly_one_applies(pg_url, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "reconciler",
        "apply",
        "--pg",
        pg_url,
        "--schemas",
        str(EXAMPLE),
        "--auto-approve",
    ]
    procs = [
        subprocess.Popen(
            cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    applied = [out for code, out, _ in results if "Apply complete!" in out]
    assert len(applied) == 1, results
    loser = next((code, out, err) for code, out, err in results if "Apply complete!" not in out)
    # The other run either found the lock held, or got it afterwards and found nothing to do.
    assert ("holds the lock" in loser[2] and loser[0] == 1) or (
        "No changes." in loser[1] and loser[0] == 0
    ), results
    assert codes[0] == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert len(PgState(conn).history()) == 1


def test_kill_9_mid_apply_leaves_no_partial_change_and_no_lock(pg_url, pg_dump_schema, tmp_path):
    """An apply blocked on a table lock mid-way is killed: nothing of it stays."""
    desired = tmp_path / "schemas"
    write_yaml(desired, "tables/alphas.yaml", "table: alphas\ncolumns: [{name: id, type: uuid}]\n")
    write_yaml(desired, "tables/betas.yaml", "table: betas\ncolumns: [{name: id, type: uuid}]\n")
    _run_sql(pg_url, "CREATE TABLE betas (id uuid)")
    write_yaml(
        desired,
        "tables/betas.yaml",
        "table: betas\ncolumns: [{name: id, type: uuid}, {name: note, type: text}]\n",
    )
    before = pg_dump_schema(pg_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with psycopg.connect(pg_url) as blocker:
        blocker.execute("LOCK TABLE betas IN ACCESS EXCLUSIVE MODE")  # held: transaction open
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler",
                "apply",
                "--pg",
                pg_url,
                "--schemas",
                str(desired),
                "--auto-approve",
                "--ddl-lock-timeout",
                "60s",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        with psycopg.connect(pg_url, autocommit=True) as watcher:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # until the apply waits on our table lock
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND application_name LIKE 'reconciler/apply%'"
                ).fetchone()
                if row[0]:
                    break
                time.sleep(0.05)
            else:
                proc.kill()
                pytest.fail("the apply never reached the blocked statement")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        blocker.rollback()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the server notices the dead client promptly
            if (
                conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name "
                    "LIKE 'reconciler/apply%'"
                ).fetchone()[0]
                == 0
            ):
                break
            time.sleep(0.05)
        assert pg_dump_schema(pg_url) == before  # alphas was created in the killed transaction
        attempts = PgState(conn).attempts()
        assert [a.status for a in attempts] == ["interrupted"]
        assert PgState(conn).history() == []
    r = run_cli("lock", "status", "--pg", pg_url, cwd=tmp_path)
    assert r.code == 0 and "free" in r.out
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(desired), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text


def test_failed_statement_rolls_back_everything(pg_url, pg_dump_schema, tmp_path):
    desired = tmp_path / "schemas"
    write_yaml(desired, "tables/alphas.yaml", "table: alphas\ncolumns: [{name: id, type: uuid}]\n")
    write_yaml(
        desired,
        "tables/betas.yaml",
        "table: betas\ncolumns: [{name: id, type: integer, nullable: false}]\n",
    )
    _run_sql(pg_url, "CREATE TABLE betas (id integer); INSERT INTO betas VALUES (NULL)")
    before = pg_dump_schema(pg_url)
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(desired), "--auto-approve", cwd=tmp_path)
    assert r.code == 1
    assert "pg.column.public.betas.id" in r.err and "nothing was changed" in r.err
    assert "Traceback" not in r.text
    assert pg_dump_schema(pg_url) == before
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert [a.status for a in PgState(conn).attempts()] == ["failed"]


def test_rollback_refuses_a_down_file_edited_since_apply(pg_url, tmp_path):
    plans = tmp_path / "plans"
    r = run_cli(
        "apply",
        "--pg",
        pg_url,
        "--schemas",
        str(EXAMPLE),
        "--auto-approve",
        "--out",
        str(plans),
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    down = next(plans.glob("*_down.sql"))
    down.write_text(down.read_text().replace("DROP TABLE", "DROP TABLE /* edited */"))
    r = run_cli(
        "rollback", "--pg", pg_url, "--last", "--auto-approve", "--out", str(plans), cwd=tmp_path
    )
    assert r.code == 1 and "was edited since" in r.err


def test_rollback_works_when_the_plans_folder_is_gone(pg_url, pg_dump_schema, tmp_path):
    before = pg_dump_schema(pg_url)
    plans = tmp_path / "plans"
    assert (
        run_cli(
            "apply",
            "--pg",
            pg_url,
            "--schemas",
            str(EXAMPLE),
            "--auto-approve",
            "--out",
            str(plans),
            cwd=tmp_path,
        ).code
        == 0
    )
    for f in plans.iterdir():
        f.unlink()
    r = run_cli(
        "rollback", "--pg", pg_url, "--last", "--auto-approve", "--out", str(plans), cwd=tmp_path
    )
    assert r.code == 0, r.text
    assert pg_dump_schema(pg_url) == before
    r = run_cli("rollback", "--pg", pg_url, "--last", "--auto-approve", cwd=tmp_path)
    assert r.code == 1 and "Nothing to roll back" in r.err


def test_an_apply_with_no_changes_records_no_version(pg_url, tmp_path):
    for _ in range(2):
        assert (
            run_cli(
                "apply", "--pg", pg_url, "--schemas", str(EXAMPLE), "--auto-approve", cwd=tmp_path
            ).code
            == 0
        )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert len(PgState(conn).history()) == 1


def test_export_round_trip(pg_url, make_pg_database, pg_dump_schema, tmp_path):
    """export A → apply to an empty B → equal dumps; re-plan empty; rollback gives B back."""
    assert (
        run_cli(
            "apply", "--pg", pg_url, "--schemas", str(EXAMPLE), "--auto-approve", cwd=tmp_path
        ).code
        == 0
    )
    _run_sql(
        pg_url,
        'CREATE SCHEMA "Billing"; CREATE TABLE "Billing"."Invoices" ('
        '"Id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "user" uuid REFERENCES users(id),'
        " amount numeric(12,2) CHECK (amount >= 0), tags text[] DEFAULT '{}',"
        " total numeric GENERATED ALWAYS AS (amount * 2) STORED,"
        ' code varchar(8) COLLATE "C" UNIQUE DEFERRABLE INITIALLY DEFERRED);'
        'CREATE INDEX "inv by tag" ON "Billing"."Invoices" USING gin (tags);'
        'CREATE INDEX inv_amount ON "Billing"."Invoices" (amount DESC NULLS LAST, "user")'
        " INCLUDE (code) WHERE amount > 10;"
        "CREATE TABLE counters (id serial PRIMARY KEY, big bigserial, label text);",
    )
    exported = tmp_path / "exported"
    r = run_cli("export", "--pg", pg_url, "--out", str(exported), cwd=tmp_path)
    assert r.code == 0, r.text
    target = make_pg_database()
    before = pg_dump_schema(target)
    r = run_cli(
        "apply",
        "--pg",
        target,
        "--schemas",
        str(exported),
        "--auto-approve",
        "--allow-destructive",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    assert pg_dump_schema(target) == pg_dump_schema(pg_url)
    r = run_cli(
        "plan",
        "--pg",
        target,
        "--schemas",
        str(exported),
        "--out",
        str(tmp_path / "x"),
        "--detailed-exitcode",
        cwd=tmp_path,
    )
    assert r.code == 0 and "No changes." in r.out, r.text
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())
    r = run_cli(
        "plan",
        "--pg",
        pg_url,
        "--schemas",
        str(exported),
        "--detailed-exitcode",
        "--out",
        str(tmp_path / "y"),
        cwd=tmp_path,
    )
    assert r.code == 0 and "No changes." in r.out, r.text
    r = run_cli("rollback", "--pg", target, "--last", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert pg_dump_schema(target) == before


def test_plan_json_is_the_same_data_the_text_shows(pg_url, tmp_path):
    r = run_cli(
        "plan",
        "--pg",
        pg_url,
        "--schemas",
        str(EXAMPLE),
        "--json",
        "--out",
        str(tmp_path / "p"),
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    data = json.loads(r.out)
    assert data["format_version"] == 1
    addresses = [c["address"] for c in data["changes"]]
    assert "pg.table.public.users" in addresses
    assert addresses.index("pg.table.public.users") < addresses.index(
        "pg.constraint.public.runs.fk_runs_users"
    )
    text = run_cli(
        "plan",
        "--pg",
        pg_url,
        "--schemas",
        str(EXAMPLE),
        "--out",
        str(tmp_path / "q"),
        cwd=tmp_path,
    ).out
    for c in data["changes"]:
        assert c["address"] in text
    s = data["summary"]
    assert f"Plan: {s['add']} to add, {s['change']} to change, {s['drop']} to drop." in text


def test_no_password_is_printed(pg_server, tmp_path):
    url = f"postgresql://postgres:s3cr3t-pw@127.0.0.1:{pg_server.port}/no_such_db"
    r = run_cli("plan", "--pg", url, "--schemas", str(EXAMPLE), cwd=tmp_path)
    assert r.code == 1
    assert "s3cr3t-pw" not in r.text
    assert "Cannot connect" in r.err


def test_plan_by_a_role_that_cannot_create_schemas_says_what_it_needs(pg_url, tmp_path):
    """The server-side spelling probe needs CREATE on the database; without it, plan says so in
    one sentence: comparing the texts as written would show every one the server spells
    otherwise as a change that is none, which an apply would then run."""
    assert (
        run_cli(
            "apply", "--pg", pg_url, "--schemas", str(EXAMPLE), "--auto-approve", cwd=tmp_path
        ).code
        == 0
    )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        db = conn.info.dbname
        conn.execute("DROP ROLE IF EXISTS reader_no_create")
        conn.execute("CREATE ROLE reader_no_create LOGIN")
        conn.execute(f'REVOKE CREATE ON DATABASE "{db}" FROM PUBLIC')
        conn.execute("GRANT USAGE ON SCHEMA reconciler TO reader_no_create")
    url = pg_url.replace("postgres@", "reader_no_create@")
    try:
        r = run_cli(
            "plan",
            "--pg",
            url,
            "--schemas",
            str(EXAMPLE),
            "--out",
            str(tmp_path / "p"),
            cwd=tmp_path,
        )
        assert r.code == 1, r.text
        assert "role reader_no_create may not create a schema in database" in r.err, r.err
        assert "GRANT CREATE ON DATABASE" in r.err and "Traceback" not in r.text
        assert not (tmp_path / "p").exists()  # no plan written
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DROP OWNED BY reader_no_create")
            conn.execute("DROP ROLE reader_no_create")


def test_a_statement_the_server_cannot_parse_is_named_when_it_runs_with_others(pg_url, tmp_path):
    """Statements run several to a message; the server parses a whole message before running
    any of it, so the round's savepoint is set on its own: the statement that does not parse
    is found and named, not a `savepoint does not exist` blamed on another change."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        if conn.info.server_version >= 160000:
            pytest.skip("the server parses 1_000 itself")
        # an event trigger refusing CREATE FUNCTION keeps the plan from asking the server to
        # parse the texts first (it gives the benefit of the doubt): the apply meets the text
        conn.execute(
            "CREATE FUNCTION public.no_functions() RETURNS event_trigger LANGUAGE plpgsql AS "
            "$$BEGIN RAISE EXCEPTION 'no functions here'; END$$"
        )
        conn.execute(
            "CREATE EVENT TRIGGER no_functions ON ddl_command_start "
            "WHEN TAG IN ('CREATE FUNCTION') EXECUTE FUNCTION public.no_functions()"
        )
    try:
        root = tmp_path / "schemas"
        write_yaml(root, "tables/a.yaml", "table: a\ncolumns:\n  - {name: id, type: integer}\n")
        write_yaml(
            root,
            "tables/t.yaml",
            "table: t\ncolumns:\n  - {name: id, type: integer}\n"
            "checks:\n  - {name: t_small, expression: id < 1_000}\n",
        )
        argv = ["--pg", pg_url, "--schemas", "schemas", "--auto-approve"]
        r = run_cli("apply", *argv, cwd=tmp_path)
        assert r.code == 1, r.text
        assert "The apply failed at pg.table.public.t" in r.text, r.text
        assert 'trailing junk after numeric literal at or near "1_000"' in r.text, r.text
        assert "savepoint" not in r.text and "nothing was changed" in r.text, r.text
        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SELECT to_regclass('public.a')").fetchone() == (None,)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DROP EVENT TRIGGER no_functions")
