"""The literals of desired-state text mean the same values whatever the session's settings:
every connection of a run reads them under connect.LITERAL_SETTINGS (TimeZone UTC, DateStyle
ISO, MDY), so plan, apply and a remembered verdict agree under PGTZ, PGDATESTYLE and
ALTER DATABASE … SET."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli

EVENTS = """\
table: events
columns:
  - {name: id, type: integer}
  - {name: at, type: timestamptz, default: "'2024-01-01 00:00:00'"}
  - {name: day, type: date, default: "'01/02/2024'"}
primary_key: [id]
"""


def _defaults(conn: psycopg.Connection) -> dict[str, str]:
    with conn.transaction():
        conn.execute("SET LOCAL timezone = 'UTC'")
        rows = conn.execute(
            "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
            " JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
            " WHERE d.adrelid = 'public.events'::regclass"
        ).fetchall()
    return dict(rows)


def test_plan_and_apply_read_literals_alike_under_any_session_settings(
    pg_url: str, pg_conn: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "schemas" / "tables").mkdir(parents=True)
    (tmp_path / "schemas" / "tables" / "events.yaml").write_text(EVENTS)
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    monkeypatch.setenv("PGTZ", "Asia/Tokyo")  # libpq sends it when the session starts
    monkeypatch.setenv("PGDATESTYLE", "ISO, DMY")
    applied = run_cli("apply", *argv, "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    assert _defaults(pg_conn) == {
        "at": "'2024-01-01 00:00:00+00'::timestamp with time zone",
        "day": "'2024-01-02'::date",  # month first, as DateStyle ISO, MDY reads it
    }
    database = pg_conn.execute("SELECT current_database()").fetchone()[0]
    pg_conn.execute(f"ALTER DATABASE \"{database}\" SET timezone = 'America/New_York'")
    pg_conn.execute(f"ALTER DATABASE \"{database}\" SET datestyle = 'SQL, DMY'")
    for env in ({}, {"RECONCILER_NO_CACHE": "1"}, {"PGTZ": "UTC"}):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        for _ in range(2):  # the second plan may come from the verdict the first one left
            r = run_cli("plan", *argv, "--detailed-exitcode", cwd=tmp_path)
            assert r.code == 0 and "No changes." in r.out, (env, r.text)


VIEWS = """\
table: things
schema: {schema}
columns:
  - {{name: id, type: integer}}
  - {{name: tags, type: "text[]", default: "'{{a,NULL}}'"}}
  - {{name: n, type: integer}}
checks:
  - {{name: n_known, expression: "n = NULL OR n > 0"}}
primary_key: [id]
"""


def test_a_bare_name_and_a_literal_mean_what_the_apply_makes_them_under_any_role_settings(
    pg_url: str, pg_conn: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ALTER DATABASE … SET search_path, array_nulls, transform_null_equals after an apply: a
    view's bare name still means the apply's (public), array and NULL literals still read as
    the server's defaults read them, and the plan says so with the cache and without it."""
    root = tmp_path / "schemas"
    (root / "tables").mkdir(parents=True)
    (root / "views").mkdir()
    for schema in ("app", "public"):
        (root / "tables" / f"{schema}.yaml").write_text(VIEWS.format(schema=schema))
    (root / "schemas.yaml").write_text("schemas:\n  - name: app\n")
    (root / "views" / "v.yaml").write_text("views:\n  - {name: v, query: SELECT id FROM things}\n")
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    applied = run_cli("apply", *argv, "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    view = pg_conn.execute("SELECT pg_get_viewdef('public.v'::regclass)").fetchone()[0]
    assert "public.things" in view or "FROM things" in view
    database = pg_conn.execute("SELECT current_database()").fetchone()[0]
    for setting in ("search_path = app, public", "array_nulls = off", "transform_null_equals = on"):
        pg_conn.execute(f'ALTER DATABASE "{database}" SET {setting}')
    for env in ({}, {"RECONCILER_NO_CACHE": "1"}):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        for _ in range(2):
            r = run_cli("plan", *argv, "--detailed-exitcode", cwd=tmp_path)
            assert r.code == 0 and "No changes." in r.out, (env, r.text)


def test_any_client_encoding_asked_for_reads_and_writes_utf8(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PGCLIENTENCODING or PGOPTIONS asking for LATIN1 (which cannot hold '…' or 'ł'): every
    connection still speaks UTF-8, so plan and export read and write such text as it is."""
    (tmp_path / "schemas" / "tables").mkdir(parents=True)
    (tmp_path / "schemas" / "tables" / "events.yaml").write_text(
        EVENTS.replace("table: events", "table: events\ncomment: 'łódź… ✓'"), encoding="utf-8"
    )
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    applied = run_cli("apply", *argv, "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    for name, value in (("PGCLIENTENCODING", "LATIN1"), ("PGOPTIONS", "-c client_encoding=LATIN1")):
        monkeypatch.setenv(name, value)
        r = run_cli("plan", *argv, "--detailed-exitcode", cwd=tmp_path)
        assert r.code == 0 and "No changes." in r.out, (name, r.text)
        r = run_cli("export", "--pg", pg_url, "--out", "exported", cwd=tmp_path)
        assert r.code == 0, (name, r.text)
        assert "łódź… ✓" in (tmp_path / "exported" / "tables" / "events.yaml").read_text("utf-8")
        monkeypatch.delenv(name)


def _events_applied(
    pg_url: str, pg_conn: psycopg.Connection, tmp_path: Path
) -> tuple[list[str], str]:
    """EVENTS applied from tmp_path/schemas: the arguments that name them, and the database."""
    (tmp_path / "schemas" / "tables").mkdir(parents=True)
    (tmp_path / "schemas" / "tables" / "events.yaml").write_text(EVENTS)
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    applied = run_cli("apply", *argv, "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    return argv, pg_conn.execute("SELECT current_database()").fetchone()[0]


def test_a_short_statement_timeout_of_the_database_does_not_cut_the_catalog_read(
    pg_url: str, pg_conn: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ALTER DATABASE / ROLE … SET statement_timeout guards an application's queries: the
    catalog read sets its own (reading.READ_STATEMENT_TIMEOUT), so a plan does not fail at
    random on how long one catalog query took."""
    argv, database = _events_applied(pg_url, pg_conn, tmp_path)
    pg_conn.execute(f"ALTER DATABASE \"{database}\" SET statement_timeout = '3ms'")
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    for _ in range(3):
        r = run_cli("plan", *argv, "--detailed-exitcode", cwd=tmp_path)
        assert r.code == 0 and "No changes." in r.out, r.text


def test_a_session_starts_without_the_databases_statement_timeout_unless_the_url_sets_one(
    pg_url: str, pg_conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement_timeout of a few ms set for the database cut the first statement of every
    session (the settings it pins) whenever the machine was busy: "Cannot connect". Sessions
    drop it first (every step sets its own bound); one the URL or PGOPTIONS asks for is the
    user's, and kept."""
    from reconciler.connect import connect_pg

    database = pg_conn.execute("SELECT current_database()").fetchone()[0]
    pg_conn.execute(f"ALTER DATABASE \"{database}\" SET statement_timeout = '1ms'")
    monkeypatch.delenv("PGOPTIONS", raising=False)
    asked = "SELECT setting, source FROM pg_settings WHERE name = 'statement_timeout'"
    sep = "&" if "?" in pg_url else "?"
    cases = [
        (pg_url, None, ("0", "session")),
        (pg_url, "-c search_path=public", ("0", "session")),
        (f"{pg_url}{sep}options=-c%20statement_timeout%3D5s", None, ("5000", "client")),
        (pg_url, "-c statement_timeout=7s", ("7000", "client")),
    ]
    for url, env, expected in cases:
        if env is None:
            monkeypatch.delenv("PGOPTIONS", raising=False)
        else:
            monkeypatch.setenv("PGOPTIONS", env)
        conn = connect_pg(url, command="test")
        try:
            assert conn.execute(asked).fetchone() == expected, (url, env)
            if env == "-c search_path=public":  # PGOPTIONS is still read, not replaced
                assert conn.execute("SHOW search_path").fetchone() == ("public",)
        finally:
            conn.close()


def test_a_database_whose_every_statement_outlasts_its_statement_timeout_is_still_read(
    pg_url: str, pg_conn: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JIT set to compile every statement makes each one take longer than a 1 ms
    statement_timeout of the database, the settings a session pins first as well: the run
    still connects, and its plan reads the catalog and finds nothing to change."""
    if not pg_conn.execute("SELECT pg_jit_available()").fetchone()[0]:
        pytest.skip("this server has no JIT")
    argv, database = _events_applied(pg_url, pg_conn, tmp_path)
    for setting in ("jit = on", "jit_above_cost = 0", "statement_timeout = '1ms'"):
        pg_conn.execute(f'ALTER DATABASE "{database}" SET {setting}')
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    r = run_cli("plan", *argv, "--detailed-exitcode", cwd=tmp_path)
    assert r.code == 0 and "No changes." in r.out, r.text


def test_a_table_locked_by_another_session_is_named_after_a_bounded_wait(
    pg_url: str, pg_conn: psycopg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a table's defaults and checks takes a share lock on it: behind a session that
    holds it exclusively, the read waits at most reading.READ_LOCK_TIMEOUT (lowered here),
    then says which table and which session, instead of waiting without a word."""
    from reconciler.introspect.pg import catalog, reading

    (tmp_path / "schemas" / "tables").mkdir(parents=True)
    (tmp_path / "schemas" / "tables" / "events.yaml").write_text(EVENTS)
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    applied = run_cli("apply", *argv, "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    params = list(reading.SET_PARAMS)
    params[params.index("lock_timeout") + 1] = "300ms"
    monkeypatch.setattr(reading, "SET_PARAMS", params)
    monkeypatch.setattr(catalog, "READ_LOCK_TIMEOUT", "300ms")
    with psycopg.connect(pg_url, application_name="long migration") as other:
        # (were the wait unbounded, the server would end this session after 20 s: the test
        # then fails instead of waiting for ever)
        other.execute("SET idle_in_transaction_session_timeout = '20s'")
        other.execute("LOCK TABLE public.events IN ACCESS EXCLUSIVE MODE")
        pid = other.info.backend_pid
        r = run_cli("plan", *argv, "--detailed-exitcode", cwd=tmp_path)
    assert r.code == 1, r.text
    assert "waited 300ms" in r.err and "public.events is held by pid" in r.err, r.err
    assert f"pid {pid} (long migration)" in r.err, r.err
    assert "Traceback" not in r.err
