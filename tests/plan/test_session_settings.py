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
