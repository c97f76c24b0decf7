"""Exclusion constraints from YAML: created, enforced, compared in the server's spelling,
replaced, rolled back exactly; definitions checked."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

TABLE = """
extensions: [btree_gist]
table: bookings
columns:
  - {name: id, type: integer, nullable: false}
  - {name: room, type: integer, nullable: false}
  - {name: during, type: tstzrange, nullable: false}
primary_key: [id]
exclusions:
  - name: no_double_booking
    definition: EXCLUDE USING gist (room WITH =, during WITH &&)
    comment: A room is booked once at a time.
"""


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def test_exclusion_constraint_round_trip(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    write_yaml(root, "tables/bookings.yaml", TABLE)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    pg_conn.execute("INSERT INTO bookings VALUES (1, 7, '[2026-01-01, 2026-01-03)')")
    with pytest.raises(psycopg.errors.ExclusionViolation):
        pg_conn.execute("INSERT INTO bookings VALUES (2, 7, '[2026-01-02, 2026-01-04)')")
    before = pg_dump_schema(pg_url)

    write_yaml(root, "tables/bookings.yaml", TABLE.replace("&&)", "&&) WHERE (room > 0)"))
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    steps = [(c["action"], c["address"]) for c in json.loads(r.out)["changes"]]
    address = "pg.constraint.public.bookings.no_double_booking"
    assert steps == [("drop", address), ("create", address)]
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_exclusion_definitions_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "tables/t.yaml",
        "table: t\n"
        "columns: [{name: id, type: integer}]\n"
        "exclusions:\n"
        "  - {name: a, definition: CHECK (id > 0)}\n"
        "  - {name: b, definition: 'EXCLUDE (id WITH =); DROP TABLE t'}\n"
        "  - {name: c, definition: 'EXCLUDE (nope WITH =)'}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "t.yaml:4" in r.err and "starts with EXCLUDE" in r.err
    assert "t.yaml:5" in r.err and "';' is not allowed" in r.err
    assert "'nope' is not a column of the table" in r.err
