"""Rules from YAML: created after their table and everything their commands name, dropped
before them, compared in the server's spelling, changed in place where Postgres can (comment,
when it fires), rebuilt around a retyped column they read, rolled back exactly; the loader
refuses what is not one rule, naming the file and line."""

from __future__ import annotations

import json

from tests.helpers import run_cli, write_yaml

PARENT = """
table: measurement
schema: logs
columns:
  - {name: city_id, type: integer, nullable: false}
  - {name: logdate, type: date, nullable: false}
  - {name: peaktemp, type: integer}
rules:
  - name: route_2023
    event: insert
    instead: true
    where: new.logdate >= '2023-01-01' AND new.logdate < '2024-01-01'
    do: INSERT INTO logs.m2023 VALUES (new.*)
    comment: last year
  - name: route_2024
    event: insert
    instead: true
    where: new.logdate >= '2024-01-01'
    do:
      - INSERT INTO logs.m2024 VALUES (new.*)
      - UPDATE logs.seen SET n = n + 1
  - {name: keep_rows, event: delete, instead: true}
"""

CHILDREN = """
table: m2023
schema: logs
inherits: [logs.measurement]
---
"""

SEEN = "table: seen\nschema: logs\ncolumns: [{name: n, type: integer}]\n"


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def _tree(root, parent=PARENT):
    write_yaml(root, "tables/measurement.yaml", parent)
    write_yaml(
        root, "tables/m2023.yaml", "table: m2023\nschema: logs\ninherits: [logs.measurement]\n"
    )
    write_yaml(
        root, "tables/m2024.yaml", "table: m2024\nschema: logs\ninherits: [logs.measurement]\n"
    )
    write_yaml(root, "tables/seen.yaml", SEEN)


def test_routing_rules_round_trip(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    _tree(root)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    for table in ("measurement", "m2023", "m2024", "seen"):
        assert order.index(f"pg.table.logs.{table}") < order.index(
            "pg.rule.logs.measurement.route_2024"
        )
    before = pg_dump_schema(pg_url)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute("INSERT INTO logs.seen VALUES (0)")
    pg_conn.execute(
        "INSERT INTO logs.measurement VALUES (1, '2023-05-01', 20), (2, '2024-05-01', 25)"
    )
    pg_conn.execute("DELETE FROM logs.measurement")
    assert pg_conn.execute("SELECT city_id FROM ONLY logs.m2023").fetchall() == [(1,)]
    assert pg_conn.execute("SELECT city_id FROM ONLY logs.m2024").fetchall() == [(2,)]
    assert pg_conn.execute("SELECT n FROM logs.seen").fetchall() == [(1,)]
    # the server spells the commands its own way (new.* spelled out): nothing left to do
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    _cli(tmp_path, "export", "--pg", pg_url, "--out", "exported")
    exported = (tmp_path / "exported" / "tables" / "logs.measurement.yaml").read_text("utf-8")
    assert "INSERT INTO logs.m2024 (city_id, logdate, peaktemp)" in exported
    assert "comment: last year" in exported
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(tmp_path / "exported"))
    assert "No changes." in r.out

    pg_conn.execute("TRUNCATE logs.measurement, logs.seen")  # the delete rule kept them
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_a_rule_changes_by_drop_and_create_and_in_place(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    _tree(root)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    before = pg_dump_schema(pg_url)
    oid = "SELECT oid, ev_enabled FROM pg_rewrite WHERE rulename = 'route_2023'"
    first = pg_conn.execute(oid).fetchone()

    changed = PARENT.replace("comment: last year", "comment: paused\n    fires: never")
    changed = changed.replace(
        "where: new.logdate >= '2024-01-01'", "where: new.logdate > '2024-01-01'"
    )
    write_yaml(root, "tables/measurement.yaml", changed)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    actions = {(c["address"], c["action"]) for c in json.loads(r.out)["changes"]}
    assert actions == {
        ("pg.rule.logs.measurement.route_2023", "change"),  # comment and fires, in place
        ("pg.rule.logs.measurement.route_2024", "drop"),
        ("pg.rule.logs.measurement.route_2024", "create"),
    }, actions
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    now = pg_conn.execute(oid).fetchone()
    assert (now[0], now[1]) == (first[0], "D")  # the same rule, disabled
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_a_rule_is_rebuilt_around_a_column_it_reads(pg_url, pg_conn, tmp_path, pg_dump_schema):
    """Postgres refuses to retype a column a rule reads: the rule goes first, comes back."""
    root = tmp_path / "schemas"
    _tree(root)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    before = pg_dump_schema(pg_url)
    write_yaml(root, "tables/seen.yaml", SEEN.replace("integer", "bigint"))
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    kind = "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attname = 'n'"
    assert pg_conn.execute(kind).fetchone() == ("bigint",)
    assert (
        pg_conn.execute("SELECT count(*) FROM pg_rules WHERE schemaname = 'logs'").fetchone()[0]
        == 3
    )
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_dropping_a_child_drops_the_rule_naming_it_first(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    _tree(root)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    (root / "tables" / "m2023.yaml").unlink()
    parent = (
        PARENT.split("  - name: route_2023")[0]
        + "  - name: route_2024"
        + PARENT.split("  - name: route_2024")[1]
    )
    write_yaml(root, "tables/measurement.yaml", parent)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    assert order.index("pg.rule.logs.measurement.route_2023") < order.index("pg.table.logs.m2023")
    _cli(
        tmp_path,
        "apply",
        "--pg",
        pg_url,
        "--schemas",
        str(root),
        "--auto-approve",
        "--allow-destructive",
    )
    assert pg_conn.execute("SELECT to_regclass('logs.m2023')").fetchone() == (None,)


def test_rule_specs_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "t.yaml",
        "table: t\n"
        "columns: [{name: id, type: integer}]\n"
        "rules:\n"
        "  - {name: a, event: insert, do: 'INSERT INTO t VALUES (1); DROP TABLE t'}\n"
        "  - {name: b, event: insert, where: new.id > 0, do: NOTIFY t}\n"
        "  - {name: c, event: delete, do: SELECT 1 UNION SELECT 2}\n"
        "  - {name: d, event: insert, do: [CREATE TABLE x (id integer)]}\n"
        "  - {name: e, event: update, where: 'true) DO INSTEAD NOTHING; DROP TABLE t; --'}\n"
        "  - {name: _RETURN, event: delete}\n"
        "  - {name: f, event: delete, do: 'DELETE FROM t -- all'}\n"
        "  - {name: g, event: delete}\n"
        "  - {name: g, event: update}\n"
        "views:\n"
        "  - name: v\n"
        "    query: SELECT id FROM public.t\n"
        "    rules: [{name: g, event: delete, instead: true, fires: never}]\n"
        "  - name: m\n"
        "    materialized: true\n"
        "    query: SELECT id FROM public.t\n"
        "    rules: [{name: h, event: delete}]\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    for expected in (
        "t.yaml:4: rules[0].do: ';' is not allowed in the rule command",
        "t.yaml:5: rules[1].do: a rule with a `where` condition cannot NOTIFY",
        't.yaml:7: rules[3].do: invalid rule: syntax error at or near "CREATE"',
        "t.yaml:8: rules[4].where:",
        "t.yaml:9: rules[5].name: '_RETURN' is the name of a view's own rule",
        "t.yaml:10: rules[6].do: SQL comments are not allowed in the rule command",
        "t.yaml:12: rules[8].name: rule 'g' is declared twice on 't'",
        "t.yaml:16: views[0].rules[0].fires: a view's rules always fire as created",
        "t.yaml:20: views[1].rules: a materialized view has no rules",
    ):
        assert expected in r.err, r.err
    assert "rules[2]" not in r.err  # a SELECT is a command a rule runs
    # ON SELECT is a view's own rule (its query): not one to declare
    write_yaml(root, "t.yaml", "table: t\nrules: [{name: s, event: select, do: SELECT 1}]\n")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert "t.yaml:2: rules[0].event: must be 'insert', 'update' or 'delete'" in r.err, r.err


def test_a_hostile_rule_name_is_inert(pg_url, pg_conn, tmp_path, pg_dump_schema):
    name = 'r"; DROP TABLE public.t; --'
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "t.yaml",
        "table: t\ncolumns: [{name: id, type: integer}]\n"
        f"rules: [{{name: {json.dumps(name)}, event: delete, instead: true}}]\n",
    )
    before = pg_dump_schema(pg_url)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute("SELECT rulename FROM pg_rules WHERE tablename = 't'").fetchall() == [
        (name,)
    ]
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before
