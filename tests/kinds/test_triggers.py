"""Triggers from YAML: created after their function and table, compared in the server's
spelling of WHEN, rebuilt around a retyped column they read, rolled back exactly."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

FUNCTION = """
functions:
  - name: touch
    schema: app
    returns: trigger
    language: plpgsql
    body: BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END
"""

TABLE = """
table: docs
schema: app
columns:
  - {name: id, type: integer, nullable: false}
  - {name: status, type: "varchar(20)"}
  - {name: updated_at, type: timestamptz}
primary_key: [id]
triggers:
  - name: docs_touch
    timing: before
    events: [update]
    columns: [status]
    when: NEW.status <> 'archived' AND OLD.status IS DISTINCT FROM NEW.status
    function: app.touch
    comment: Keeps updated_at.
  - name: docs_audit
    timing: after
    events: [insert, delete]
    for_each: statement
    function: app.touch
    arguments: [audit, "two words"]
"""


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def test_triggers_apply_fire_replan_and_rebuild(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    write_yaml(root, "functions/app.yaml", FUNCTION)
    write_yaml(root, "tables/docs.yaml", TABLE)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    trigger = "pg.trigger.app.docs.docs_touch"
    assert order.index('pg.function.app.touch.""') < order.index(trigger)
    assert order.index("pg.table.app.docs") < order.index(trigger)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")

    pg_conn.execute("INSERT INTO app.docs (id, status) VALUES (1, 'draft')")
    pg_conn.execute("UPDATE app.docs SET status = 'review' WHERE id = 1")
    assert pg_conn.execute("SELECT updated_at IS NOT NULL FROM app.docs").fetchone() == (True,)
    # the server prints the condition with casts ('archived'::text): the probe asked for them
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    before = pg_dump_schema(pg_url)

    write_yaml(root, "tables/docs.yaml", TABLE.replace("varchar(20)", "varchar(50)"))
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    steps = [(c["action"], c["address"]) for c in json.loads(r.out)["changes"]]
    alter = steps.index(("change", "pg.column.app.docs.status"))
    assert steps.index(("drop", trigger)) < alter < steps.index(("create", trigger)), steps
    assert ("drop", "pg.trigger.app.docs.docs_audit") not in steps  # reads no column
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_trigger_specs_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "tables/t.yaml",
        "table: t\n"
        "columns: [{name: id, type: integer}]\n"
        "triggers:\n"
        "  - {name: a, timing: before, events: [insert], columns: [id], function: f}\n"
        "  - {name: b, timing: after, events: [truncate], function: f}\n"
        "  - {name: c, timing: after, events: [update], function: f,\n"
        "     when: 'true); DROP TABLE t; --'}\n"
        "  - {name: d, timing: after, events: [update], columns: [nope], function: f}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "need the update event" in r.err
    assert "for_each: statement" in r.err
    assert "t.yaml:7" in r.err  # the injection attempt in `when`
    assert "'nope' is not a column of the table" in r.err


def test_constraint_trigger_specs_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "tables/t.yaml",
        "table: t\n"
        "columns: [{name: id, type: integer}]\n"
        "triggers:\n"
        "  - {name: a, constraint: true, timing: before, events: [insert], function: f}\n"
        "  - {name: b, constraint: true, timing: after, for_each: statement,\n"
        "     events: [insert], function: f}\n"
        "  - {name: c, deferrable: true, timing: after, events: [insert], function: f}\n"
        "  - {name: d, constraint: true, initially_deferred: true, timing: after,\n"
        "     events: [insert], function: f}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "t.yaml:4: triggers[0].constraint: a constraint trigger is `after`, for each" in r.err
    assert "t.yaml:5: triggers[1].constraint: a constraint trigger is" in r.err
    assert "t.yaml:7: triggers[2].deferrable: only a constraint trigger" in r.err
    assert "t.yaml:8: triggers[3].initially_deferred: initially_deferred needs deferrable" in r.err


def test_a_deferred_constraint_trigger_fires_at_commit(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "functions.yaml",
        "functions:\n"
        "  - name: no_negative\n"
        "    returns: trigger\n"
        "    language: plpgsql\n"
        "    body: |\n"
        "      BEGIN\n"
        "        IF NEW.v < 0 THEN RAISE EXCEPTION 'negative'; END IF;\n"
        "        RETURN NULL;\n"
        "      END\n",
    )
    write_yaml(
        root,
        "tables/t.yaml",
        "table: t\n"
        "columns: [{name: v, type: integer}]\n"
        "triggers:\n"
        "  - {name: t_v, constraint: true, deferrable: true, initially_deferred: true,\n"
        "     timing: after, events: [insert, update], function: no_negative}\n",
    )
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    pg_conn.execute("INSERT INTO t VALUES (1)")
    statement_passed = False
    with pytest.raises(psycopg.errors.RaiseException), pg_conn.transaction():
        pg_conn.execute("INSERT INTO t VALUES (-2)")
        statement_passed = True  # deferred: refused only when the transaction commits
    assert statement_passed
    assert pg_conn.execute("SELECT array_agg(v) FROM t").fetchone() == ([1],)
    plan = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert "No changes." in plan.out, plan.text


def test_view_and_transition_trigger_specs_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "t.yaml",
        "table: t\n"
        "columns: [{name: id, type: integer}]\n"
        "triggers:\n"
        "  - {name: a, timing: instead of, events: [insert], function: f}\n"
        "  - {name: b, timing: before, events: [update], old_table: o, for_each: statement,\n"
        "     function: f}\n"
        "  - {name: c, timing: after, events: [insert], new_table: n, old_table: o,\n"
        "     function: f}\n"
        "  - {name: d, timing: after, events: [insert], from: t, function: f}\n"
        "  - {name: h, constraint: true, timing: after, events: [insert], from: app.nope,\n"
        "     function: f}\n"
        "views:\n"
        "  - name: v\n"
        "    query: SELECT id FROM public.t\n"
        "    triggers:\n"
        "      - {name: e, timing: after, events: [insert], function: f}\n"
        "      - {name: g, timing: instead of, events: [update], fires: never, function: f}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "t.yaml:4: triggers[0].timing: only a view has `instead of` triggers" in r.err
    assert "t.yaml:5: triggers[1].old_table: transition tables are for the `after`" in r.err
    assert "t.yaml:7: triggers[2].old_table: an insert trigger has no old_table" in r.err
    assert "t.yaml:9: triggers[3].from: only a constraint trigger" in r.err
    assert "t.yaml:10: trigger h: from table 'app.nope' is not declared" in r.err
    assert "views[0].triggers[0].timing: a view's row trigger is `instead of`" in r.err
    assert "views[0].triggers[1].fires: a view's triggers always fire as created" in r.err


def test_a_rule_on_a_view_the_plan_replaces_comes_back(pg_url, pg_conn, tmp_path, pg_dump_schema):
    """Dropping the view takes its rule along: the rule is dropped before and created after
    the view, in both files (it was refused while rules were not modelled)."""
    root = tmp_path / "schemas"
    rule = (
        "    rules: [{name: v_delete, event: delete, instead: true, "
        "do: 'DELETE FROM public.t WHERE id = old.id'}]\n"
    )
    view = "views:\n  - name: v\n    query: 'SELECT id, note FROM public.t WHERE id > N'\n"
    table = "table: t\ncolumns: [{name: id, type: integer}, {name: note, type: text}]\n"
    write_yaml(root, "t.yaml", table + view.replace("N", "0") + rule)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    before = pg_dump_schema(pg_url)
    write_yaml(root, "t.yaml", table + view.replace("N", "1") + rule)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    query = pg_conn.execute("SELECT pg_get_viewdef('public.v'::regclass)").fetchone()[0]
    assert "> 1" in query
    found = pg_conn.execute("SELECT rulename FROM pg_rules WHERE tablename = 'v'").fetchall()
    assert found == [("v_delete",)]
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_when_a_trigger_fires_changes_in_place(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    write_yaml(root, "functions/app.yaml", FUNCTION)
    write_yaml(root, "tables/docs.yaml", TABLE)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    before = pg_dump_schema(pg_url)
    oid = "SELECT oid, tgenabled FROM pg_trigger WHERE tgname = 'docs_audit'"
    first = pg_conn.execute(oid).fetchone()

    changed = TABLE.replace("arguments: [audit", "fires: replica\n    arguments: [audit")
    write_yaml(root, "tables/docs.yaml", changed.replace("Keeps updated_at.", "Paused."))
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    steps = sorted((c["action"], c["address"]) for c in json.loads(r.out)["changes"])
    assert steps == [
        ("change", "pg.trigger.app.docs.docs_audit"),
        ("change", "pg.trigger.app.docs.docs_touch"),
    ]
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute(oid).fetchone() == (first[0], "R")  # the same trigger, not a new one
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before
    assert pg_conn.execute(oid).fetchone() == first
