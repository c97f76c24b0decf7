"""Aggregates from YAML: created after their routines and before what calls them, compared
in the server's spelling, redefined by a drop and a create (refused while something that stays
uses one), rolled back exactly; ordered-set aggregates stay reported and untouched."""

from __future__ import annotations

import json

from tests.helpers import run_cli, write_yaml

AGGREGATES = """
functions:
  - name: app.avg_accum
    arguments: state numeric[], x numeric
    returns: numeric[]
    language: sql
    body: SELECT ARRAY[state[1] + x, state[2] + 1]
  - name: app.avg_final
    arguments: state numeric[]
    returns: numeric
    language: sql
    body: SELECT CASE WHEN state[2] = 0 THEN NULL ELSE state[1] / state[2] END
aggregates:
  - name: app.my_avg
    arguments: numeric
    sfunc: app.avg_accum
    stype: numeric[]
    finalfunc: app.avg_final
    initcond: '{0,0}'
    comment: an average
  - name: app.total
    arguments: x int
    sfunc: int4pl
    stype: int
    initcond: '0'
    combinefunc: int4pl
    msfunc: int4pl
    minvfunc: int4mi
    mstype: int4
    minitcond: '0'
    sortop: '>'
    parallel: safe
"""

TABLE = """
table: t
schema: app
columns: [{name: n, type: integer}, {name: v, type: numeric}]
views:
  - name: app.sums
    query: SELECT app.total(n) AS total, app.my_avg(v) AS avg FROM app.t
"""


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def test_aggregates_round_trip(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    write_yaml(root, "aggregates.yaml", AGGREGATES)
    write_yaml(root, "tables/t.yaml", TABLE)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    my_avg = order.index("pg.aggregate.app.my_avg.numeric")
    assert order.index('pg.function.app.avg_final."numeric[]"') < my_avg
    assert order.index('pg.function.app.avg_accum."numeric[], numeric"') < my_avg
    assert my_avg < order.index("pg.view.app.sums")
    assert order.index("pg.aggregate.app.total.integer") < order.index("pg.view.app.sums")
    before = pg_dump_schema(pg_url)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute("INSERT INTO app.t VALUES (1, 2), (3, 4)")
    assert pg_conn.execute("SELECT total, avg FROM app.sums").fetchone() == (4, 3)
    # `int`, `int4pl` and `>` are spelled as the catalog does before comparing
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    _cli(tmp_path, "export", "--pg", pg_url, "--out", "exported")
    exported = (tmp_path / "exported" / "aggregates" / "app.total.yaml").read_text("utf-8")
    assert "sfunc: pg_catalog.int4pl" in exported and "minvfunc: pg_catalog.int4mi" in exported
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(tmp_path / "exported"))
    assert "No changes." in r.out

    pg_conn.execute("TRUNCATE app.t")
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_an_aggregate_is_redefined_and_commented(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    write_yaml(root, "aggregates.yaml", AGGREGATES)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    before = pg_dump_schema(pg_url)
    changed = AGGREGATES.replace("comment: an average", "comment: the mean").replace(
        "initcond: '0'\n    combinefunc", "initcond: '10'\n    combinefunc"
    )
    write_yaml(root, "aggregates.yaml", changed)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    actions = {(c["address"], c["action"]) for c in json.loads(r.out)["changes"]}
    assert actions == {
        ("pg.aggregate.app.my_avg.numeric", "change"),  # the comment, in place
        ("pg.aggregate.app.total.integer", "drop"),
        ("pg.aggregate.app.total.integer", "create"),
    }, actions
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute("SELECT app.total(1)").fetchone() == (11,)
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_an_aggregate_a_view_uses_is_not_redefined(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    write_yaml(root, "aggregates.yaml", AGGREGATES)
    write_yaml(root, "tables/t.yaml", TABLE)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    before = pg_dump_schema(pg_url)
    write_yaml(root, "aggregates.yaml", AGGREGATES.replace("parallel: safe", "parallel: unsafe"))
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code != 0, r.text
    assert "Aggregate app.total(integer) cannot be redefined while view app.sums" in r.err
    assert "aggregates.yaml:" in r.err
    assert pg_dump_schema(pg_url) == before


def test_aggregate_specs_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "aggregates.yaml",
        "aggregates:\n"
        "  - {name: a, arguments: 'float8 ORDER BY anyelement', sfunc: f, stype: internal}\n"
        "  - {name: b, arguments: integer, sfunc: a.b.c, stype: integer}\n"
        "  - {name: c, arguments: integer, sfunc: int4pl, stype: integer, msfunc: int4pl}\n"
        "  - {name: d, arguments: integer, sfunc: int4pl, stype: integer, sortop: '> 1'}\n"
        "  - {name: e, arguments: integer, sfunc: int4pl, stype: 'integer, SFUNC = int4mi'}\n"
        "  - {name: f, arguments: integer, sfunc: int4pl, stype: 'integer); DROP TABLE t; --'}\n"
        "  - {name: g, arguments: 'integer) AS $$ $$', sfunc: int4pl, stype: integer}\n"
        "  - {name: h, arguments: integer, sfunc: int4pl, stype: integer, sspace: lots}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    for expected in (
        "aggregates.yaml:2: aggregates[0].arguments: ordered-set and hypothetical-set",
        "aggregates.yaml:3: aggregates[1].sfunc: 'a.b.c' is not a routine name",
        "aggregates.yaml:4: aggregates[2].msfunc: the moving-aggregate mode needs",
        "aggregates.yaml:5: aggregates[3].sortop: '> 1' is not an operator",
        "aggregates.yaml:6: aggregates[4]: these options do not make one CREATE AGGREGATE",
        "aggregates.yaml:7: aggregates[5].stype: unbalanced parentheses",
        "aggregates.yaml:8: aggregates[6].arguments: unbalanced parentheses",
        "aggregates.yaml:9: aggregates[7].sspace: 'lots' is not a size in bytes",
    ):
        assert expected in r.err, r.err


def test_a_hostile_aggregate_name_is_inert(pg_url, pg_conn, tmp_path, pg_dump_schema):
    name = 'x"(integer); DROP TABLE public.t; --'
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "aggregates.yaml",
        f"aggregates:\n  - {{name: {json.dumps(name)}, schema: public, arguments: integer, "
        'sfunc: int4pl, stype: integer, comment: "\'); DROP TABLE public.t; --"}\n',
    )
    before = pg_dump_schema(pg_url)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    found = pg_conn.execute(
        "SELECT proname FROM pg_proc WHERE prokind = 'a' AND proname LIKE 'x\"%'"
    )
    assert found.fetchall() == [(name,)]
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_an_ordered_set_aggregate_is_reported_and_left_alone(pg_url, pg_conn, tmp_path):
    pg_conn.execute(
        "CREATE AGGREGATE public.my_pct(float8 ORDER BY anyelement) (SFUNC = "
        "ordered_set_transition, STYPE = internal, FINALFUNC = percentile_disc_final, "
        "FINALFUNC_EXTRA)"
    )
    root = tmp_path / "schemas"
    write_yaml(root, "t.yaml", "table: t\ncolumns: [{name: id, type: integer}]\n")
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    plan = json.loads(r.out)
    assert all("my_pct" not in c["address"] for c in plan["changes"]), plan["changes"]
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root))
    assert "ordered-set aggregate public.my_pct(double precision ORDER BY anyelement)" in r.text


def test_an_aggregate_is_rebuilt_around_a_routine_made_again(pg_url, tmp_path, pg_dump_schema):
    """A new result type drops and creates the final function: Postgres refuses that drop
    while the aggregate is there, so the aggregate goes first and comes back after."""
    root = tmp_path / "schemas"
    write_yaml(root, "aggregates.yaml", AGGREGATES)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    before = pg_dump_schema(pg_url)
    changed = AGGREGATES.replace("    returns: numeric\n", "    returns: double precision\n")
    changed = changed.replace("state[1] / state[2] END", "(state[1] / state[2])::float8 END")
    write_yaml(root, "aggregates.yaml", changed)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [(c["address"], c["action"]) for c in json.loads(r.out)["changes"]]
    final = 'pg.function.app.avg_final."numeric[]"'
    aggregate = "pg.aggregate.app.my_avg.numeric"
    assert order.index((aggregate, "drop")) < order.index((final, "drop"))
    assert order.index((final, "create")) < order.index((aggregate, "create"))
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_an_aggregate_goes_after_what_calls_it(pg_url, tmp_path, pg_dump_schema):
    """A function whose SQL-standard body calls an aggregate, and a view: created after it,
    dropped before it in the same plan (not refused as users that stay)."""
    root = tmp_path / "schemas"
    caller = (
        "functions:\n  - name: app.sum_of\n    arguments: a integer[]\n    returns: integer\n"
        "    language: sql\n    body: RETURN (SELECT app.total(x) FROM unnest(a) AS x)\n"
    )
    write_yaml(root, "aggregates.yaml", AGGREGATES)
    write_yaml(root, "caller.yaml", caller)
    write_yaml(root, "tables/t.yaml", TABLE)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    assert order.index("pg.aggregate.app.total.integer") < order.index(
        'pg.function.app.sum_of."integer[]"'
    )
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    before = pg_dump_schema(pg_url)
    for path in (root / "aggregates.yaml", root / "caller.yaml", root / "tables" / "t.yaml"):
        path.unlink()
    write_yaml(root, "app.yaml", "schemas: [{name: app}]\n")
    flags = ("--auto-approve", "--allow-destructive")
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), *flags)
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", *flags)
    assert pg_dump_schema(pg_url) == before


def test_an_aggregate_with_privileges_of_its_own_is_not_reset(
    pg_url, pg_conn, tmp_path, pg_dump_schema
):
    """Its privileges are not modelled yet: redefining or dropping it would give PUBLIC its
    EXECUTE back and take a role's grant away, here and in the rollback. Refused instead."""
    root = tmp_path / "schemas"
    write_yaml(root, "aggregates.yaml", AGGREGATES)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute("REVOKE EXECUTE ON FUNCTION app.total(integer) FROM PUBLIC")
    before = pg_dump_schema(pg_url)
    changed = AGGREGATES.replace(
        "initcond: '0'\n    combinefunc", "initcond: '10'\n    combinefunc"
    )
    write_yaml(root, "aggregates.yaml", changed)
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code != 0, r.text
    assert "Aggregate app.total(integer) cannot be redefined: it has privileges" in r.err
    assert "aggregates.yaml:" in r.err
    assert pg_dump_schema(pg_url) == before


def test_a_function_and_an_aggregate_of_one_signature_are_refused(pg_url, tmp_path):
    """Postgres keeps one routine per name and arguments: in either file order, the pair is
    refused with file:line (the apply kept only one, silently, and never converged)."""
    aggregate = "aggregates:\n  - {name: x, arguments: integer, sfunc: int4pl, stype: integer}\n"
    function = (
        "functions:\n  - {name: x, arguments: integer, returns: integer, language: sql, "
        "body: select 1}\n"
    )
    for first, second in ((aggregate, function), (function, aggregate)):
        root = tmp_path / f"schemas{len(first)}"
        write_yaml(root, "a.yaml", first)
        write_yaml(root, "b.yaml", second)
        r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
        assert r.code != 0, r.text
        assert ".yaml:2:" in r.err and "'public.x(integer)' is declared twice" in r.err
