"""`plan` refuses, before anyone reviews it, what the server would refuse at apply: unknown
types and functions, views that read themselves, a NOT NULL column without a default added to
a table holding rows. `check` stops calling a pending plan sound when the live rows refuse it.
Every refusal is exit code 1 with one sentence naming the object and its file:line, and no
plan file is written."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

THINGS = """\
table: things
primary_key: [id]
columns:
  - {name: id, type: uuid, nullable: false}
  - {name: note, type: text}
"""


def _plan(tmp_path: Path, pg_url: str):
    return run_cli("plan", "--pg", pg_url, "--schemas", "schemas", "--out", "plans", cwd=tmp_path)


def _apply(tmp_path: Path, pg_url: str):
    return run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path)


def _written(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "plans").glob("*")) if (tmp_path / "plans").exists() else []


def _refused(tmp_path: Path, pg_url: str, *needles: str) -> None:
    before = _written(tmp_path)
    r = _plan(tmp_path, pg_url)
    assert r.code == 1, r.text
    for needle in needles:
        assert needle in r.text, r.text
    assert "Traceback" not in r.text
    assert _written(tmp_path) == before


def _sql(pg_url: str, *statements: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for s in statements:
            conn.execute(s)


# lint clean, so that `check` fails for nothing else
STAMPED = (
    THINGS
    + """\
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
"""
)


# --- unknown types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "text", "line", "named"),
    [
        ("tables/things.yaml", THINGS + "  - {name: count, type: integr}\n", 6, "things.count"),
        ("tables/things.yaml", THINGS + "  - {name: tags, type: 'integr[]'}\n", 6, "things.tags"),
        ("tables/things.yaml", THINGS + "  - {name: n, type: 'nosuch.t(3)'}\n", 6, "things.n"),
        (
            "types/d.yaml",
            "domains:\n  - name: amount\n    type: numbr(10,2)\n",
            2,
            "domain public.amount",
        ),
        (
            "types/c.yaml",
            "composite_types:\n  - name: pair\n    attributes:\n"
            "      - {name: a, type: text}\n      - {name: b, type: txt}\n",
            2,
            "composite type public.pair",
        ),
        (
            "functions/f.yaml",
            "functions:\n  - name: twice\n    arguments: 'x integr'\n    returns: integer\n"
            "    language: sql\n    body: SELECT 2\n",
            2,
            "function public.twice",
        ),
        (
            "functions/f.yaml",
            "functions:\n  - name: twice\n    arguments: 'x integer'\n    returns: SETOF integr\n"
            "    language: sql\n    body: SELECT 2\n",
            2,
            "function public.twice",
        ),
        (
            "functions/f.yaml",
            "functions:\n  - name: rows\n    returns: 'TABLE (a integer, b integr)'\n"
            "    language: sql\n    body: SELECT 1, 2\n",
            2,
            "function public.rows",
        ),
    ],
)
def test_an_unknown_type_is_refused_at_plan(pg_url, tmp_path, rel, text, line, named):
    write_yaml(tmp_path / "schemas", rel, text)
    _refused(tmp_path, pg_url, named, f"schemas/{rel}:{line}", "type")


def test_known_spellings_and_types_the_plan_creates_still_plan(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "types/all.yaml",
        """\
schemas: [{name: app}]
enums:
  - {name: mood, values: [happy, sad]}
  - {name: level, schema: app, values: [low, high]}
domains:
  - {name: email, type: 'varchar(200)'}
  - {name: cents, schema: app, type: 'app.level'}
composite_types:
  - name: pair
    attributes: [{name: a, type: mood}, {name: b, type: 'numeric(10,2)'}]
extensions:
  - {name: citext}
""",
    )
    write_yaml(
        root,
        "tables/things.yaml",
        THINGS
        + """\
  - {name: a, type: 'varchar(20)'}
  - {name: b, type: 'numeric(10,2)'}
  - {name: c, type: 'text[]'}
  - {name: d, type: timestamp with time zone}
  - {name: e, type: 'timestamp(3) without time zone'}
  - {name: f, type: 'mood[]'}
  - {name: g, type: email}
  - {name: h, type: app.cents}
  - {name: i, type: pair}
  - {name: j, type: others}
  - {name: k, type: 'public.others[]'}
  - {name: l, type: citext}
  - {name: m, type: 'interval day to second'}
  - {name: o, type: 'bit varying(5)'}
  - {name: p, type: double precision}
""",
    )
    write_yaml(
        root,
        "tables/others.yaml",
        "table: others\nprimary_key: [id]\ncolumns:\n  - {name: id, type: uuid, nullable: false}\n",
    )
    write_yaml(
        root,
        "functions/f.yaml",
        """\
functions:
  - name: first_mood
    arguments: 'p pair, VARIADIC xs integer[]'
    returns: SETOF mood
    language: sql
    body: SELECT (p).a
  - name: listing
    returns: 'TABLE (a app.level, b email)'
    language: sql
    body: SELECT 'low'::app.level, 'x'::email
  - name: touch
    returns: trigger
    language: plpgsql
    body: BEGIN RETURN NEW; END
""",
    )
    r = _plan(tmp_path, pg_url)
    assert r.code == 0, r.text
    r = _apply(tmp_path, pg_url)
    assert r.code == 0, r.text


# --- unknown functions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "line", "needles"),
    [
        (
            "  - {name: code, type: text, default: make_code()}\n",
            6,
            ("things.code", "make_code"),
        ),
        (
            "checks:\n  - {name: things_note_ok, expression: 'is_ok(note)'}\n",
            7,
            ("things_note_ok", "is_ok"),
        ),
        (
            "indexes:\n  - {name: idx_things_note, columns: [{expression: 'app.fold(note)'}]}\n",
            7,
            ("idx_things_note", "app.fold"),
        ),
    ],
)
def test_an_unknown_function_is_refused_at_plan(pg_url, tmp_path, extra, line, needles):
    write_yaml(tmp_path / "schemas", "tables/things.yaml", THINGS + extra)
    _refused(tmp_path, pg_url, *needles, f"schemas/tables/things.yaml:{line}")


def test_unknown_functions_in_views_and_triggers_are_refused_at_plan(pg_url, tmp_path):
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        THINGS + "triggers:\n  - {name: things_touch, timing: before, events: [update], "
        "function: app.touch}\n",
    )
    write_yaml(
        tmp_path / "schemas",
        "views/v.yaml",
        "views:\n  - name: shout\n    query: SELECT shouted(note) FROM things\n",
    )
    _refused(
        tmp_path,
        pg_url,
        "2 objects",
        "trigger things_touch of public.things calls function app.touch()",
        "view public.shout calls function shouted()",
        "schemas/tables/things.yaml:7",
        "schemas/views/v.yaml:2",
    )


def test_functions_of_the_server_the_plan_and_its_extensions_still_plan(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "tables/things.yaml",
        THINGS
        + """\
  - {name: a, type: text, default: make_code()}
  - {name: b, type: text, default: "encode(gen_random_bytes(4), 'hex')"}
  - {name: c, type: timestamptz, default: now()}
  - {name: d, type: int, default: "extract(year from now())::int"}
  - {name: e, type: text, default: "lower(trim(both ' ' from 'X'))"}
  - {name: f, type: text, generated: "upper(coalesce(note, ''))"}
checks:
  - {name: things_note_ok, expression: "length(note) < 10 AND note IS NOT NULL OR true"}
""",
    )
    write_yaml(
        root,
        "functions/f.yaml",
        "extensions: [{name: pgcrypto}]\nfunctions:\n  - name: make_code\n    returns: text\n"
        "    language: sql\n    body: SELECT 'x'\n",
    )
    r = _plan(tmp_path, pg_url)
    assert r.code == 0, r.text
    r = _apply(tmp_path, pg_url)
    assert r.code == 0, r.text


# --- defaults the server refuses ------------------------------------------------------------------


def test_a_default_reading_a_column_is_refused_at_plan(pg_url, tmp_path):
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        THINGS + "  - {name: flag, type: text, default: 'no'}\n",
    )
    _refused(
        tmp_path,
        pg_url,
        "schemas/tables/things.yaml:6: columns[2].default: the default 'no' reads a column (no)",
        "default: \"'no'\"",
    )


def test_defaults_the_server_refuses_on_analysis_are_refused_at_plan(pg_url, tmp_path):
    """Each parses and calls only known functions, yet the server refuses it when it creates
    the column (and the apply would fail there): each is named with its line, all at once."""
    newer = _server_major(pg_url) >= 16  # SYSTEM_USER and JSON_ARRAY() are theirs from 16 on
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        THINGS
        + """  - {name: a, type: integer, default: count(*)}
  - {name: b, type: integer, default: "generate_series(1, 2)"}
  - {name: c, type: integer, default: $1}
  - {name: d, type: integer, default: "'abc'"}
  - {name: e, type: integer, default: "true"}
  - {name: f, type: text, default: lower(1)}
  - {name: g, type: date, default: "'2020-13-45'"}
  - {name: h, type: 'integer[]', default: "'{1,x}'"}
  - {name: ok, type: integer, default: "0"}
"""
        + ("" if newer else "  - {name: i, type: text, default: SYSTEM_USER}\n")
        + ("" if newer else "  - {name: j, type: json, default: JSON_ARRAY(1)}\n"),
    )
    write_yaml(
        tmp_path / "schemas",
        "types/t.yaml",
        "domains:\n  - {name: amount, type: integer, default: \"'abc'\"}\n",
    )
    at = "schemas/tables/things.yaml"
    needles = [
        f"{9 if newer else 11} objects",
        f"{at}:6: the default of column public.things.a would fail at apply: aggregate functions "
        "are not allowed in DEFAULT expressions",
        f"{at}:7: the default of column public.things.b would fail at apply: set-returning",
        f"{at}:8: the default of column public.things.c would fail at apply: there is no parameter",
        f"{at}:9: the default of column public.things.d would fail at apply: invalid input syntax "
        'for type integer: "abc"',
        f'{at}:10: the default of column public.things.e would fail at apply: column "e" is of '
        "type integer but default expression is of type boolean",
        f"{at}:11: the default of column public.things.f would fail at apply: function "
        "lower(integer) does not exist",
        f"{at}:12: the default of column public.things.g",
        f"{at}:13: the default of column public.things.h",
        "schemas/types/t.yaml:2: the default of domain public.amount would fail at apply",
    ]
    if not newer:
        needles += [f"{at}:15: the default of column public.things.i", f"{at}:16: "]
    _refused(tmp_path, pg_url, *needles)
    assert "things.ok" not in _plan(tmp_path, pg_url).text


def test_defaults_that_lean_on_what_the_plan_creates_still_plan(pg_url, tmp_path):
    """A default that only the plan makes valid is not tried: a label the plan adds to an
    enum (also through a domain, an array domain or a composite type over it), a sequence,
    enum type, function and extension it creates, an extension version it updates to, a
    domain check it changes. Tried on today's server, each would be refused. (The apply
    creates a sequence before the domain whose default calls it.)"""
    _sql(
        pg_url,
        "CREATE TYPE mood AS ENUM ('happy')",
        "CREATE DOMAIN dmood AS mood",
        "CREATE DOMAIN dmoods AS mood[]",
        "CREATE DOMAIN ddmood AS dmood",
        "CREATE TYPE mpair AS (m mood)",
        "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)",
        "CREATE FUNCTION answer() RETURNS text LANGUAGE sql AS $$SELECT 'forty-two'$$",
        "CREATE EXTENSION hstore VERSION '1.7'",
        "CREATE EXTENSION citext VERSION '1.4'",
    )
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "types/t.yaml",
        """\
extensions: [{name: citext, version: "1.6"}, {name: hstore, version: "1.8"}]
enums:
  - {name: mood, values: [happy, meh]}
  - {name: level, values: [low, high]}
composite_types:
  - {name: mpair, attributes: [{name: m, type: mood}]}
domains:
  - {name: dmood, type: mood}
  - {name: dmoods, type: "mood[]"}
  - {name: ddmood, type: dmood}
  - {name: ticket, type: bigint, default: "nextval('things_seq')"}
  - name: posint
    type: integer
    checks: [{name: posint_check, expression: "VALUE > -5"}]
sequences:
  - {name: things_seq}
functions:
  - {name: answer, returns: integer, language: sql, body: SELECT 42}
""",
    )
    write_yaml(
        root,
        "tables/things.yaml",
        THINGS
        + """  - {name: a, type: mood, default: "'meh'"}
  - {name: b, type: text, default: "('meh'::mood)::text"}
  - {name: c, type: level, default: "'high'"}
  - {name: d, type: bigint, default: "nextval('things_seq')"}
  - {name: e, type: posint, default: "'-1'"}
  - {name: f, type: integer, default: answer()}
  - {name: g, type: citext, default: "'X'::citext"}
  - {name: h, type: dmood, default: "'meh'"}
  - {name: i, type: dmoods, default: "'{meh}'"}
  - {name: j, type: ddmood, default: "'meh'"}
  - {name: k, type: mpair, default: "'(meh)'"}
  - {name: l, type: text, default: "(ROW('meh')::mpair).m::text"}
  - {name: m, type: text, default: "('a=>1'::hstore)['a']"}
  - {name: n, type: boolean, default: "citext_pattern_lt('a', 'b')"}
""",
    )
    r = _plan(tmp_path, pg_url)
    assert r.code == 0, r.text
    r = _apply(tmp_path, pg_url)
    assert r.code == 0, r.text


def test_a_relation_named_in_a_text_that_exists_nowhere_is_refused_at_plan(pg_url, tmp_path):
    """`nextval('seq')` and `'t'::regclass` name relations as text, which the server resolves
    only when the text runs: a name that is neither live nor planned fails at apply."""
    _sql(pg_url, "CREATE SEQUENCE live_seq")
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        THINGS
        + """  - {name: a, type: bigint, default: "nextval('nope_seq')"}
  - {name: b, type: regclass, default: "'public.nope'::regclass"}
  - {name: c, type: bigint, default: "nextval('live_seq')"}
  - {name: d, type: bigint, default: "nextval('things_seq'::regclass)"}
  - {name: e, type: regclass, default: "'things'::regclass"}
sequences:
  - {name: live_seq}
  - {name: things_seq}
""",
    )
    at = "schemas/tables/things.yaml"
    _refused(
        tmp_path,
        pg_url,
        "2 objects",
        f"{at}:6: the default of column public.things.a names relation 'nope_seq', which "
        "neither the database nor the desired state defines",
        f"{at}:7: the default of column public.things.b names relation 'public.nope'",
    )
    text = _plan(tmp_path, pg_url).text
    assert "things.c" not in text and "things.d" not in text and "things.e" not in text, text


def test_a_default_that_fails_when_added_to_a_table_is_refused_at_plan(pg_url, tmp_path):
    """ADD COLUMN evaluates a default that is not volatile, once, even on an empty table: a
    value too long, out of range or a division by zero fails there. A new table only stores
    the default (its apply succeeds), and a volatile one is evaluated per row (none here)."""
    _sql(pg_url, "CREATE TABLE things (id uuid PRIMARY KEY, note text)")
    broken = """  - {name: a, type: 'varchar(3)', default: "'abcd'"}
  - {name: b, type: integer, default: "3000000000"}
  - {name: c, type: integer, default: "1/0"}
  - {name: d, type: integer, default: "7"}
  - {name: e, type: timestamptz, default: "clock_timestamp()"}
"""
    write_yaml(tmp_path / "schemas", "tables/things.yaml", THINGS + broken)
    at = "schemas/tables/things.yaml"
    _refused(
        tmp_path,
        pg_url,
        "3 objects",
        f"{at}:6: the default of column public.things.a would fail at apply: value too long",
        f"{at}:7: the default of column public.things.b would fail at apply: integer out of",
        f"{at}:8: the default of column public.things.c would fail at apply: division by zero",
    )
    assert "things.d" not in _plan(tmp_path, pg_url).text
    write_yaml(tmp_path / "schemas", "tables/things.yaml", THINGS)
    write_yaml(
        tmp_path / "schemas", "tables/others.yaml", THINGS.replace("things", "others") + broken
    )
    r = _apply(tmp_path, pg_url)
    assert r.code == 0, r.text


def test_a_sequence_is_created_before_the_domain_whose_default_calls_it(pg_url, tmp_path):
    write_yaml(
        tmp_path / "schemas",
        "types/t.yaml",
        "sequences:\n  - {name: s_free}\n"
        "domains:\n  - {name: ticket, type: bigint, default: \"nextval('s_free')\"}\n",
    )
    r = _apply(tmp_path, pg_url)
    assert r.code == 0, r.text


def test_a_relation_named_as_text_is_created_before_the_default_naming_it(pg_url, tmp_path):
    """`'public.newtab'::regclass` is looked up when the default is stored: the table comes
    first, for a column added to a live table as for a new table."""
    _sql(pg_url, "CREATE TABLE things (id uuid PRIMARY KEY, note text)")
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        THINGS + """  - {name: c, type: regclass, default: "'public.newtab'::regclass"}\n""",
    )
    write_yaml(
        tmp_path / "schemas",
        "tables/another.yaml",
        THINGS.replace("things", "another")
        + """  - {name: c, type: regclass, default: "'public.newtab'::regclass"}\n""",
    )
    write_yaml(
        tmp_path / "schemas",
        "tables/newtab.yaml",
        "table: newtab\nprimary_key: [id]\ncolumns:\n  - {name: id, type: uuid, nullable: false}\n",
    )
    r = _apply(tmp_path, pg_url)
    assert r.code == 0, r.text


def test_a_targeted_plan_tries_only_the_defaults_it_sets(pg_url, tmp_path):
    """--target makes only some changes: a default the targeted plan does not set is not its
    to refuse (the whole plan still refuses it)."""
    _sql(
        pg_url, "CREATE TABLE good (id uuid PRIMARY KEY)", "CREATE TABLE bad (id uuid PRIMARY KEY)"
    )
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "tables/good.yaml",
        "table: good\nprimary_key: [id]\ncolumns:\n  - {name: id, type: uuid, nullable: false}\n"
        "  - {name: n, type: integer, default: '0'}\n",
    )
    write_yaml(
        root,
        "tables/bad.yaml",
        "table: bad\nprimary_key: [id]\ncolumns:\n  - {name: id, type: uuid, nullable: false}\n"
        "  - {name: c, type: integer, default: \"'abc'\"}\n",
    )
    only = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", "--target",
                   "pg.column.public.good.n", cwd=tmp_path)  # fmt: skip
    assert only.code == 0, only.text
    assert "public.bad.c" not in only.text, only.text
    _refused(tmp_path, pg_url, "schemas/tables/bad.yaml:5: the default of column public.bad.c")


def test_defaults_go_untried_with_a_warning_where_no_schema_may_be_created(pg_url, tmp_path):
    """A role without CREATE on the database cannot be asked (the defaults are tried in a
    scratch schema): the plan of a new table, which needs no probe, is made as before, and
    says the defaults went untried (the apply then fails, and rolls back)."""
    info = psycopg.conninfo.conninfo_to_dict(pg_url)
    role = f"plan_{info['dbname']}"[:63]
    _sql(
        pg_url,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT ALL ON SCHEMA public TO {role}",
    )
    try:
        write_yaml(
            tmp_path / "schemas",
            "tables/things.yaml",
            THINGS + "  - {name: a, type: integer, default: count(*)}\n",
        )
        r = _plan(tmp_path, psycopg.conninfo.make_conninfo(pg_url, user=role))
        assert r.code == 0, r.text
        assert "could not be asked to analyse the defaults" in r.text, r.text
        assert any(p.name.endswith("_up.sql") for p in _written(tmp_path))
    finally:
        _sql(pg_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


# --- SQL newer than the server --------------------------------------------------------------------


def _server_major(pg_url: str) -> int:
    with psycopg.connect(pg_url) as conn:
        return conn.info.server_version // 10000


def test_sql_only_a_later_postgresql_parses_is_refused_at_plan(pg_url, tmp_path):
    """The files are checked with the grammar of pglast's PostgreSQL (18): numbers with
    underscores and hexadecimal integers parse there (16 on) and not on an older server."""
    if _server_major(pg_url) >= 16:
        pytest.skip("the server parses these numbers itself")
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        THINGS
        + """  - {name: n, type: integer, default: 1_000}
  - {name: m, type: integer, default: 1000}
checks:
  - {name: things_n_small, expression: "n < 0x1F"}
""",
    )
    write_yaml(
        tmp_path / "schemas",
        "views/v.yaml",
        "views:\n  - name: big\n    query: SELECT note FROM things WHERE 1 < 2_000\n",
    )
    _refused(
        tmp_path,
        pg_url,
        "3 objects",
        "schemas/tables/things.yaml:6: the default of column public.things.n is not valid SQL "
        "on this server (PostgreSQL ",
        '"1_000"',
        "schemas/tables/things.yaml:9: check things_n_small of public.things is not valid SQL",
        "schemas/views/v.yaml:2: view public.big is not valid SQL",
    )
    assert "things.m" not in _plan(tmp_path, pg_url).text


def test_the_syntax_check_gives_the_benefit_of_the_doubt_without_plpgsql(pg_url, tmp_path):
    """The server parses the texts as the body of a PL/pgSQL function: in a database without
    PL/pgSQL it cannot be asked, and the plan is made as before (the apply then fails, and
    rolls back)."""
    if _server_major(pg_url) >= 16:
        pytest.skip("the server parses these numbers itself")
    _sql(pg_url, "DROP EXTENSION plpgsql")
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        THINGS + "  - {name: n, type: integer, default: 1_000}\n",
    )
    r = _plan(tmp_path, pg_url)
    assert r.code == 0, r.text
    assert any(p.name.endswith("_up.sql") for p in _written(tmp_path))


# --- view cycles ---------------------------------------------------------------------------------


def test_a_view_reading_itself_is_refused_at_plan(pg_url, tmp_path):
    write_yaml(tmp_path / "schemas", "tables/things.yaml", THINGS)
    write_yaml(
        tmp_path / "schemas",
        "views/v.yaml",
        "views:\n  - name: loop\n    query: SELECT * FROM things UNION ALL SELECT * FROM loop\n",
    )
    _refused(tmp_path, pg_url, "public.loop", "itself", "schemas/views/v.yaml:2")


def test_views_reading_each_other_in_a_ring_are_refused_at_plan(pg_url, tmp_path):
    write_yaml(
        tmp_path / "schemas",
        "views/v.yaml",
        """\
views:
  - {name: a, query: SELECT * FROM b}
  - {name: b, query: SELECT * FROM c}
  - {name: c, query: SELECT * FROM public.a}
  - {name: d, query: SELECT * FROM a}
""",
    )
    _refused(tmp_path, pg_url, "public.a", "public.b", "public.c", "schemas/views/v.yaml:2")


def test_a_view_ring_is_refused_by_validate_too(tmp_path):
    write_yaml(
        tmp_path / "schemas",
        "views/v.yaml",
        "views:\n  - {name: a, query: SELECT * FROM b}\n  - {name: b, query: SELECT * FROM a}\n",
    )
    r = run_cli("validate", "--schemas", "schemas", cwd=tmp_path)
    assert r.code == 1, r.text
    assert "schemas/views/v.yaml:2" in r.text and "public.a → public.b → public.a" in r.text


def test_a_recursive_query_inside_a_view_still_plans(pg_url, tmp_path):
    write_yaml(
        tmp_path / "schemas",
        "views/v.yaml",
        "views:\n  - name: counting\n    query: WITH RECURSIVE counting(n) AS (SELECT 1 UNION ALL "
        "SELECT n + 1 FROM counting WHERE n < 3) SELECT n FROM counting\n",
    )
    r = _plan(tmp_path, pg_url)
    assert r.code == 0, r.text


# --- NOT NULL without a default on a table holding rows ----------------------------------------


def test_not_null_without_default_on_a_table_with_rows_is_refused(pg_url, pg_conn, tmp_path):
    write_yaml(tmp_path / "schemas", "tables/things.yaml", THINGS)
    assert _apply(tmp_path, pg_url).code == 0
    _sql(pg_url, "INSERT INTO things VALUES (gen_random_uuid(), 'x')")
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        THINGS + "  - {name: owner, type: text, nullable: false}\n",
    )
    _refused(tmp_path, pg_url, "public.things.owner", "rows", "schemas/tables/things.yaml:6")
    # apply --schemas plans first: refused the same way, nothing changed
    r = _apply(tmp_path, pg_url)
    assert r.code == 1 and "public.things.owner" in r.text, r.text
    cols = pg_conn.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'things'"
    ).fetchone()
    assert cols == (2,)


def test_a_column_of_a_not_null_domain_without_default_is_refused_on_rows(pg_url, tmp_path):
    write_yaml(tmp_path / "schemas", "tables/things.yaml", THINGS)
    assert _apply(tmp_path, pg_url).code == 0
    _sql(pg_url, "INSERT INTO things VALUES (gen_random_uuid(), 'x')")
    write_yaml(
        tmp_path / "schemas",
        "types/label.yaml",
        "domains:\n  - {name: label, type: text, not_null: true}\n",
    )
    write_yaml(
        tmp_path / "schemas", "tables/things.yaml", THINGS + "  - {name: tag, type: label}\n"
    )
    _refused(tmp_path, pg_url, "public.things.tag", "schemas/tables/things.yaml:6")


RENAMED = "{name: remark, type: text, nullable: false, renamed_from: note}"


def test_not_null_columns_that_can_be_added_still_plan(pg_url, tmp_path):
    write_yaml(tmp_path / "schemas", "tables/things.yaml", THINGS)
    write_yaml(tmp_path / "schemas", "tables/empties.yaml", THINGS.replace("things", "empties"))
    assert _apply(tmp_path, pg_url).code == 0
    _sql(pg_url, "INSERT INTO things VALUES (gen_random_uuid(), 'x')")
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        THINGS.replace("{name: note, type: text}", RENAMED)
        + """\
  - {name: a, type: text, nullable: false, default: "'x'"}
  - {name: b, type: bigint, nullable: false, identity: by default}
  - {name: c, type: text, nullable: false, generated: "upper(remark)"}
  - {name: d, type: label, nullable: false}
""",
    )
    write_yaml(
        tmp_path / "schemas",
        "types/label.yaml",
        "domains:\n  - {name: label, type: text, not_null: true, default: \"'none'\"}\n",
    )
    write_yaml(
        tmp_path / "schemas",
        "tables/empties.yaml",
        THINGS.replace("things", "empties") + "  - {name: owner, type: text, nullable: false}\n",
    )
    write_yaml(
        tmp_path / "schemas",
        "tables/fresh.yaml",
        THINGS.replace("things", "fresh") + "  - {name: owner, type: text, nullable: false}\n",
    )
    r = _apply(tmp_path, pg_url)
    assert r.code == 0, r.text


# --- check ----------------------------------------------------------------------------------------


def test_check_fails_a_pending_not_null_column_once_the_table_has_rows(pg_url, tmp_path):
    write_yaml(tmp_path / "schemas", "tables/things.yaml", STAMPED)
    assert _apply(tmp_path, pg_url).code == 0
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        STAMPED + "  - {name: owner, type: text, nullable: false}\n",
    )
    r = _plan(tmp_path, pg_url)  # the table is empty: this plan is sound now
    assert r.code == 0, r.text
    _sql(pg_url, "INSERT INTO things VALUES (gen_random_uuid(), 'x')")

    r = run_cli("check", "--pg", pg_url, "--schemas", "schemas", "--plans", "plans", cwd=tmp_path)

    assert r.code == 1, r.text
    assert "FAIL lint" not in r.out, r.out
    assert "public.things.owner" in r.out and "rows" in r.out, r.out


def test_check_tries_new_constraints_against_the_live_rows(pg_url, tmp_path):
    write_yaml(tmp_path / "schemas", "tables/things.yaml", STAMPED)
    assert _apply(tmp_path, pg_url).code == 0
    _sql(
        pg_url,
        "INSERT INTO things VALUES (gen_random_uuid(), 'same'), (gen_random_uuid(), 'same')",
    )
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        STAMPED
        + "checks:\n  - {name: things_note_short, expression: 'length(note) < 3'}\n"
        + "indexes:\n  - {name: idx_things_note, columns: [note], unique: true}\n",
    )
    r = _plan(tmp_path, pg_url)
    assert r.code == 0, r.text

    r = run_cli("check", "--pg", pg_url, "--schemas", "schemas", "--plans", "plans", cwd=tmp_path)

    assert r.code == 1, r.text
    assert "FAIL lint" not in r.out, r.out
    assert "things_note_short" in r.out, r.out
    assert "idx_things_note" in r.out, r.out


def test_check_passes_new_rules_the_live_rows_keep(pg_url, tmp_path):
    write_yaml(tmp_path / "schemas", "tables/things.yaml", STAMPED)
    assert _apply(tmp_path, pg_url).code == 0
    _sql(pg_url, "INSERT INTO things VALUES (gen_random_uuid(), 'a'), (gen_random_uuid(), 'b')")
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        STAMPED
        + "  - {name: owner, type: text, nullable: false, default: \"'nobody'\"}\n"
        + "checks:\n  - {name: things_note_short, expression: 'length(note) < 3'}\n"
        + "indexes:\n  - {name: idx_things_note, columns: [note], unique: true}\n",
    )
    assert _plan(tmp_path, pg_url).code == 0

    r = run_cli("check", "--pg", pg_url, "--schemas", "schemas", "--plans", "plans", cwd=tmp_path)

    assert r.code == 0, r.text
    assert "2 changes that may fail on existing data: the live rows allow them" in r.out, r.out


def test_check_tries_foreign_keys_and_not_null_against_the_live_rows(pg_url, tmp_path):
    owners = STAMPED.replace("things", "owners")
    write_yaml(tmp_path / "schemas", "tables/owners.yaml", owners)
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        STAMPED + "  - {name: owner_id, type: uuid}\n",
    )
    assert _apply(tmp_path, pg_url).code == 0
    _sql(pg_url, "INSERT INTO things (id, owner_id) VALUES (gen_random_uuid(), gen_random_uuid())")
    write_yaml(
        tmp_path / "schemas",
        "tables/things.yaml",
        STAMPED.replace("{name: note, type: text}", "{name: note, type: text, nullable: false}")
        + "  - {name: owner_id, type: uuid}\n"
        + "foreign_keys:\n  - {columns: [owner_id], references: {table: owners, columns: [id]}}\n",
    )
    assert _plan(tmp_path, pg_url).code == 0, _plan(tmp_path, pg_url).text

    r = run_cli("check", "--pg", pg_url, "--schemas", "schemas", "--plans", "plans", cwd=tmp_path)

    assert r.code == 1, r.text
    assert "FAIL lint" not in r.out, r.out
    assert "fk_things_owners" in r.out and "NOT NULL on column public.things.note" in r.out, r.out
