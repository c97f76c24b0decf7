"""Table inheritance from YAML: a child declares only its own columns, is created after its
parent, and rolls back exactly."""

from __future__ import annotations

import json

from tests.helpers import run_cli, write_yaml

TABLES = """
tables:
  - table: vehicles
    columns:
      - {name: id, type: integer}
      - {name: wheels, type: integer}
  - table: cars
    inherits: [vehicles]
    columns:
      - {name: doors, type: integer}
"""


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def test_inheritance_round_trip(pg_url, pg_conn, tmp_path, pg_dump_schema):
    empty = pg_dump_schema(pg_url)
    root = tmp_path / "schemas"
    write_yaml(root, "tables/vehicles.yaml", TABLES)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    assert order.index("pg.table.public.vehicles") < order.index("pg.table.public.cars")
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute("INSERT INTO cars VALUES (1, 4, 5)")
    assert pg_conn.execute("SELECT count(*) FROM vehicles").fetchone() == (1,)
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    refused = run_cli("rollback", "--pg", pg_url, "--last", "--auto-approve", cwd=tmp_path)
    assert refused.code == 1 and "table public.cars holds 1 row" in refused.err, refused.text
    assert "vehicles holds" not in refused.err  # the child's row is the child's
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve", "--allow-destructive")
    assert pg_conn.execute("SELECT count(*) FROM pg_inherits").fetchone() == (0,)
    assert pg_dump_schema(pg_url) == empty


def test_a_childs_keys_checks_and_indexes_may_name_inherited_columns(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "tables/vehicles.yaml",
        TABLES
        + "    primary_key: [id]\n"
        + "    checks: [{name: cars_wheels_check, expression: wheels = 4}]\n"
        + "    indexes: [{columns: [wheels, doors]}]\n",
    )
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'cars'::regclass ORDER BY 1"
    ).fetchall() == [("cars_pkey",), ("cars_wheels_check",)]
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out


def test_a_child_cannot_name_a_column_nobody_has(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(root, "tables/vehicles.yaml", TABLES + "    primary_key: [engine]\n")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "primary key column 'engine' is not a column of the table" in r.err
