"""Stale and tampered plans: any catalog change between plan and apply, any edit of a plan's
files, a plan made for another database — each refused before anything runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli
from tests.reliability.project import write_project

FAMILY = "Stale and tampered plans"

# Catalog changes made by someone else between `plan` and `apply`, on the objects the plan
# was computed from (tables t000 and t001 exist; the plan adds t002).
CATALOG_CHANGES = {
    "table added": "CREATE TABLE intruder (id int)",
    "column added": "ALTER TABLE t000 ADD COLUMN extra int",
    "column type changed": "ALTER TABLE t000 ALTER COLUMN label TYPE varchar(20)",
    "column renamed": "ALTER TABLE t001 RENAME COLUMN label TO name",
    "NOT NULL set": "ALTER TABLE t000 ALTER COLUMN label SET NOT NULL",
    "default set": "ALTER TABLE t000 ALTER COLUMN label SET DEFAULT 'x'",
    "index dropped": "DROP INDEX idx_t001_label",
    "index added": "CREATE INDEX extra_idx ON t000 (id, label)",
    "check added": "ALTER TABLE t000 ADD CONSTRAINT positive CHECK (id > 0)",
    "foreign key dropped": "ALTER TABLE t001 DROP CONSTRAINT fk_t001_t000",
    "comment changed": "COMMENT ON TABLE t000 IS 'edited by hand'",
    "enum created": "CREATE TYPE mood AS ENUM ('ok')",
    "view created": "CREATE VIEW v AS SELECT id FROM t000",
    "function created": "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "schema created": "CREATE SCHEMA side",
    "sequence created": "CREATE SEQUENCE counter",
}


@pytest.fixture
def planned(make_pg_database, tmp_path):
    """A database holding t000, t001 and a saved plan that adds t002."""
    pg = make_pg_database()
    first = write_project(tmp_path / "v1", tables=2, redis_keys=False)
    r = run_cli(
        "apply", "--pg", pg, "--schemas", str(first), "--out", str(tmp_path / "v1" / "plans"),
        "--auto-approve", cwd=tmp_path,
    )  # fmt: skip
    assert r.code == 0, r.text
    second = write_project(tmp_path / "v2", tables=3, redis_keys=False)
    plans = tmp_path / "plans"
    r = run_cli("plan", "--pg", pg, "--schemas", str(second), "--out", str(plans), cwd=tmp_path)
    assert r.code == 0, r.text
    return pg, next(plans.glob("*.plan.json"))


def _apply(pg: str, plan: Path, cwd: Path):
    return run_cli("apply", "--pg", pg, "--plan", str(plan), "--auto-approve", cwd=cwd)


def _t002(pg: str) -> bool:
    with psycopg.connect(pg) as conn:
        return conn.execute("SELECT to_regclass('public.t002')").fetchone()[0] is not None


@pytest.mark.parametrize("what", sorted(CATALOG_CHANGES))
def test_a_catalog_change_between_plan_and_apply_is_refused(what, planned, tmp_path, outcomes):
    pg, plan = planned
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(CATALOG_CHANGES[what].encode())
    r = _apply(pg, plan, tmp_path)
    assert r.code == 1, r.text
    assert "changed since this plan was made" in r.err
    assert not _t002(pg)
    outcomes.add("a catalog change between plan and apply", f"{what}: refused", family=FAMILY)


def _edit_up_file(plan: Path) -> None:
    up = next(plan.parent.glob("*_up.sql"))
    up.write_text(up.read_text() + "\nDROP TABLE t000 CASCADE;\n")


def _edit_down_file(plan: Path) -> None:
    down = next(plan.parent.glob("*_down.sql"))
    down.write_text(down.read_text().replace("DROP TABLE", "DROP TABLE IF EXISTS", 1))


def _edit_json_statement(plan: Path) -> None:
    doc = json.loads(plan.read_text())
    doc["changes"][0]["up"][0] += "; DROP TABLE t000 CASCADE"
    plan.write_text(json.dumps(doc))


def _edit_json_and_file_keeping_the_old_checksum(plan: Path) -> None:
    doc = json.loads(plan.read_text())
    old = doc["changes"][0]["up"][0]
    doc["changes"][0]["up"][0] = old.replace("t002", "t002_x")
    plan.write_text(json.dumps(doc))
    up = next(plan.parent.glob("*_up.sql"))
    up.write_text(up.read_text().replace(old, doc["changes"][0]["up"][0]))


def _delete_up_file(plan: Path) -> None:
    next(plan.parent.glob("*_up.sql")).unlink()


def _retarget_json(plan: Path) -> None:
    doc = json.loads(plan.read_text())
    doc["target"]["database"] = "somewhere_else"
    plan.write_text(json.dumps(doc))


EDITS = {
    "up file edited": (_edit_up_file, "edited after planning"),
    "down file edited": (_edit_down_file, "edited after planning"),
    "statement edited in the .plan.json": (_edit_json_statement, ".plan.json was edited after"),
    "file and .plan.json edited alike": (
        _edit_json_and_file_keeping_the_old_checksum,
        "edited after planning",
    ),
    "up file deleted": (_delete_up_file, "is missing"),
    "target database rewritten": (_retarget_json, "made for database"),
}


@pytest.mark.parametrize("what", sorted(EDITS))
def test_a_tampered_plan_is_refused(what, planned, tmp_path, outcomes):
    pg, plan = planned
    copy = tmp_path / "tampered"
    shutil.copytree(plan.parent, copy)
    plan = copy / plan.name
    edit, says = EDITS[what]
    edit(plan)
    r = _apply(pg, plan, tmp_path)
    assert r.code == 1, r.text
    assert says in r.err, r.err
    assert "Traceback" not in r.text
    assert not _t002(pg)
    outcomes.add("a plan edited or moved after planning", f"{what}: refused", family=FAMILY)


def test_a_plan_for_another_database_is_refused(planned, make_pg_database, tmp_path, outcomes):
    _, plan = planned
    other = make_pg_database()
    r = _apply(other, plan, tmp_path)
    assert r.code == 1 and "made for database" in r.err, r.text
    with psycopg.connect(other) as conn:
        n = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert n.fetchone()[0] == 0
    outcomes.add("a plan applied to another database", "refused", family=FAMILY)
