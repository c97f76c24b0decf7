"""Objects Reconciler cannot express yet are reported by plan and export — by kind and name —
and left exactly as they are: never silently skipped, never dropped."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli

# Each statement builds one object the model does not hold; the value is the report line.
OBJECTS = {
    "CREATE VIEW app.active_users AS SELECT id FROM app.users": None,  # views are modelled
    "CREATE MATERIALIZED VIEW app.user_count AS SELECT count(*) AS n FROM app.users": None,
    "CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN NEW.updated_at := now(); RETURN NEW; END$$": None,  # functions are modelled
    "CREATE PROCEDURE app.noop(n integer) LANGUAGE sql AS $$SELECT 1$$": None,
    # SQL-standard bodies are modelled
    "CREATE FUNCTION app.atomic() RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT 1; END": None,
    "CREATE FUNCTION app.c_like(text) RETURNS integer LANGUAGE internal AS 'textlen'": (
        "function app.c_like(text)"
    ),
    "CREATE TRIGGER users_touch BEFORE UPDATE ON app.users "
    "FOR EACH ROW EXECUTE FUNCTION app.touch()": None,  # triggers are modelled
    "CREATE TRIGGER users_disabled AFTER INSERT ON app.users "
    "FOR EACH ROW EXECUTE FUNCTION app.touch()": None,
    "ALTER TABLE app.users DISABLE TRIGGER users_disabled": None,  # modelled (`fires: never`)
    "ALTER TABLE app.users ENABLE ROW LEVEL SECURITY": None,  # modelled, as are policies
    "CREATE POLICY own_rows ON app.users USING (true)": None,
    "CREATE DOMAIN app.email AS text CHECK (VALUE LIKE '%@%')": None,  # modelled
    "CREATE TYPE app.pair AS (a integer, b integer)": None,  # modelled
    "CREATE TYPE app.span AS RANGE (subtype = integer)": "range type app.span",
    "CREATE SEQUENCE app.ticket_no START 100": None,  # modelled
    # a column owns one sequence in the model: the one its default calls; another it owns is
    # free-standing with its owner (owned_by), unless the default calls that one too
    "CREATE SEQUENCE app.spare_no OWNED BY app.users.serial_no": None,
    "CREATE TABLE app.twice (n bigint)": None,
    "CREATE SEQUENCE app.twice_a OWNED BY app.twice.n": None,
    "CREATE SEQUENCE app.twice_b OWNED BY app.twice.n": "second sequence of a column app.twice_b",
    "ALTER TABLE app.twice ALTER n SET DEFAULT nextval('app.twice_a') + nextval('app.twice_b')": (
        None
    ),
    # an identity's sequence's privileges are modelled under the name a CREATE gives it
    "ALTER SEQUENCE app.users_ident_seq RENAME TO odd_ident_no": None,
    "GRANT USAGE ON SEQUENCE app.odd_ident_no TO PUBLIC": "privileges app.odd_ident_no",
    # partitioning is modelled; a partition's own default or column comment is not
    "CREATE TABLE app.events (at date NOT NULL, n integer DEFAULT 0, m integer) "
    "PARTITION BY RANGE (at)": None,
    "CREATE TABLE app.events_2026 PARTITION OF app.events "
    "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')": None,  # the parent's defaults copied
    "CREATE TABLE app.events_2027 PARTITION OF app.events "
    "FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')": None,
    "ALTER TABLE app.events_2027 ALTER n SET DEFAULT 1": "partition column app.events_2027.n",
    "ALTER TABLE app.events_2027 ALTER m SET DEFAULT 2": "partition column app.events_2027.m",
    "COMMENT ON COLUMN app.events_2026.at IS 'x'": "partition column app.events_2026.at",
    # a partition's columns are not modelled: nor is a sequence one of them owns
    "CREATE SEQUENCE app.part_no OWNED BY app.events_2026.m": (
        "sequence owned by an unmodelled column app.part_no"
    ),
    "ALTER TABLE app.events ENABLE ROW LEVEL SECURITY": None,
    "CREATE POLICY on_events ON app.events USING (true)": None,
    "CREATE TABLE app.base_items (id integer)": None,  # a plain table: modelled
    "CREATE TABLE app.special_items (extra text) INHERITS (app.base_items)": None,
    "CREATE UNLOGGED TABLE app.scratch (id integer)": None,  # modelled
    "ALTER TABLE app.users ADD CONSTRAINT no_overlap EXCLUDE USING gist (id WITH =)": None,
    "ALTER TABLE app.users ADD CONSTRAINT id_positive CHECK (id > 0) NOT VALID": None,
    "ALTER TABLE app.users SET (fillfactor = 70)": None,  # modelled
    "CREATE INDEX users_updated ON app.users (updated_at) WITH (fillfactor = 50)": None,
    # so are those of a key's index, a partitioned table's included; a partition's copy of
    # one with parameters of its own is not
    "ALTER INDEX app.users_pkey SET (fillfactor = 50)": None,
    "ALTER TABLE app.events ADD CONSTRAINT events_pkey PRIMARY KEY (at) WITH (fillfactor = 60)": (
        None
    ),
    "ALTER INDEX app.events_2027_pkey SET (fillfactor = 40)": (
        "storage parameters app.events_2027_pkey"
    ),
    "ALTER TABLE app.users ADD CONSTRAINT one_stamp EXCLUDE USING btree (updated_at WITH =) "
    "WITH (fillfactor = 70)": None,
    # a view's options and column comments are modelled
    "CREATE VIEW app.guarded WITH (security_barrier) AS SELECT id FROM app.users": None,
    "COMMENT ON COLUMN app.active_users.id IS 'x'": None,
    "GRANT SELECT ON app.users TO PUBLIC": None,  # modelled
    "GRANT USAGE ON SCHEMA app TO PUBLIC": None,  # modelled
    "CREATE RULE no_delete AS ON DELETE TO app.base_items DO INSTEAD NOTHING": None,  # modelled
    "CREATE AGGREGATE app.total(integer) (SFUNC = int4pl, STYPE = integer)": None,  # modelled
    "CREATE AGGREGATE app.pct(float8 ORDER BY anyelement) (SFUNC = ordered_set_transition, "
    "STYPE = internal, FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA)": (
        "ordered-set aggregate app.pct(double precision ORDER BY anyelement)"
    ),
    "GRANT EXECUTE ON FUNCTION app.total(integer) TO PUBLIC": None,  # the default
    "REVOKE EXECUTE ON FUNCTION app.total(integer) FROM PUBLIC": "privileges app.total(integer)",
    "CREATE STATISTICS app.users_stats ON id, updated_at FROM app.users": (
        "extended statistics app.users_stats"
    ),
    "CREATE COLLATION app.ci (provider = icu, locale = 'und-u-ks-level2', "
    "deterministic = false)": None,  # modelled
}

BASE = [
    "CREATE EXTENSION btree_gist",  # its functions, types and operators are its own: not listed
    "CREATE SCHEMA app",
    "CREATE TABLE app.users (id integer PRIMARY KEY, serial_no serial, "
    "ident bigint GENERATED ALWAYS AS IDENTITY, updated_at timestamptz)",
]


def _build(conn: psycopg.Connection) -> None:
    for sql in [*BASE, *OBJECTS]:
        conn.execute(sql)


def _expected() -> list[str]:
    return sorted(f"unsupported: {line}" for line in OBJECTS.values() if line)


def _reported(text: str) -> list[str]:
    return sorted(line.strip() for line in text.splitlines() if "unsupported:" in line)


def test_plan_and_export_report_every_unsupported_object_and_change_none(
    pg_url, pg_conn, tmp_path: Path, pg_dump_schema
):
    _build(pg_conn)
    before = pg_dump_schema(pg_url)

    r = run_cli("export", "--pg", pg_url, "--out", "desired", cwd=tmp_path)
    assert r.code == 0, r.text
    assert _reported(r.err) == _expected()

    r = run_cli("plan", "--pg", pg_url, "--schemas", "desired", "--out", "plans", cwd=tmp_path)
    assert r.code == 0, r.text
    assert _reported(r.out) == _expected()
    assert "No changes." in r.out  # serial and identity sequences belong to their columns

    r = run_cli(
        "plan", "--pg", pg_url, "--schemas", "desired", "--out", "plans", "--json", cwd=tmp_path
    )
    items = json.loads(r.out)["unsupported"]
    assert sorted(f"unsupported: {u['kind']} {u['name']}" for u in items) == _expected()

    # An apply of the export (nothing to do) and a second plan leave every object in place.
    r = run_cli(
        "apply",
        "--pg",
        pg_url,
        "--schemas",
        "desired",
        "--out",
        "plans",
        "--auto-approve",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    assert pg_dump_schema(pg_url) == before


def test_a_database_with_only_modelled_objects_reports_nothing(pg_url, pg_conn, tmp_path: Path):
    for sql in BASE:
        pg_conn.execute(sql)
    r = run_cli("export", "--pg", pg_url, "--out", "desired", cwd=tmp_path)
    assert r.code == 0, r.text
    assert "unsupported" not in r.text
    r = run_cli("plan", "--pg", pg_url, "--schemas", "desired", "--out", "plans", cwd=tmp_path)
    assert "unsupported" not in r.text and "No changes." in r.out


# Attributes of modelled objects that the model does not hold: each case builds them on top of
# ATTRIBUTE_BASE and names the lines plan and export must print (an empty list: the ordinary
# case, nothing reported).
_ROLES = ("unsup_owner", "unsup_reader", "unsup_writer")

ATTRIBUTE_BASE = [
    *(
        f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        for role in _ROLES
    ),
    "CREATE EXTENSION pg_trgm",  # its operator classes are its own: not listed
    "CREATE SCHEMA app",
    "CREATE TABLE app.t (id integer PRIMARY KEY, name text, doc tsvector, q integer)",
    "GRANT USAGE ON SCHEMA app TO unsup_reader",  # modelled
]

ATTRIBUTE_CASES = {
    "column settings": (
        [
            "ALTER TABLE app.t ALTER id SET STATISTICS 500",
            "ALTER TABLE app.t ALTER name SET STORAGE EXTERNAL",
            "ALTER TABLE app.t ALTER doc SET COMPRESSION pglz",
            "ALTER TABLE app.t ALTER q SET (n_distinct = 10)",
            # a child's copies of its parent's settings are reported with the parent only; a
            # setting of its own is its own
            "CREATE TABLE app.child_t () INHERITS (app.t)",
            "ALTER TABLE app.child_t ALTER q SET (n_distinct = 20)",
            "CREATE TABLE app.parted (id integer, name text) PARTITION BY LIST (id)",
            "ALTER TABLE app.parted ALTER name SET STORAGE MAIN",
            "CREATE TABLE app.parted_1 PARTITION OF app.parted FOR VALUES IN (1)",
        ],
        [
            "column compression app.t.doc",
            "column options app.child_t.q",
            "column options app.t.q",
            "column statistics target app.t.id",
            "column storage app.parted.name",
            "column storage app.t.name",
        ],
    ),
    "column settings at their defaults": (
        [
            "ALTER TABLE app.t ALTER id SET STATISTICS 500",
            "ALTER TABLE app.t ALTER id SET STATISTICS -1",
            "ALTER TABLE app.t ALTER name SET STORAGE EXTENDED",  # the type's own
            "ALTER TABLE app.t ALTER q SET (n_distinct = 10)",
            "ALTER TABLE app.t ALTER q RESET (n_distinct)",
        ],
        [],
    ),
    "cluster on": (["ALTER TABLE app.t CLUSTER ON t_pkey"], ["clustered index app.t_pkey"]),
    "index column settings": (
        [
            "CREATE INDEX t_lower ON app.t (lower(name))",
            "ALTER INDEX app.t_lower ALTER COLUMN 1 SET STATISTICS 500",
            "CREATE INDEX t_trgm ON app.t USING gist (name gist_trgm_ops (siglen = 32))",
            "CREATE INDEX t_doc ON app.t USING gist (doc tsvector_ops (siglen = 40))",
            # an exclusion constraint's operator class parameters are its definition's
            "ALTER TABLE app.t ADD CONSTRAINT t_similar "
            "EXCLUDE USING gist (name gist_trgm_ops (siglen = 16) WITH %)",
        ],
        [
            "index column statistics target app.t_lower column 1",
            "operator class parameters app.t_doc column 1",
            "operator class parameters app.t_trgm column 1",
        ],
    ),
    "view column default": (
        [
            "CREATE VIEW app.v AS SELECT id, name FROM app.t",
            "ALTER VIEW app.v ALTER COLUMN name SET DEFAULT 'x'",
        ],
        ["view column default app.v.name"],
    ),
    "inherited column": (
        [
            "CREATE TABLE app.par (id integer, kind text DEFAULT 'p', at date NOT NULL, n int)",
            "CREATE TABLE app.chi (extra integer) INHERITS (app.par)",
            "ALTER TABLE app.chi ALTER COLUMN kind SET DEFAULT 'c'",
            "ALTER TABLE app.chi ALTER COLUMN id SET NOT NULL",
            "COMMENT ON COLUMN app.chi.n IS 'x'",
        ],
        [
            "inherited column app.chi.id",
            "inherited column app.chi.kind",
            "inherited column app.chi.n",
        ],
    ),
    "inherited column as its parent's": (
        [
            "CREATE TABLE app.par (id integer, kind text DEFAULT 'p', at date NOT NULL)",
            "CREATE TABLE app.chi (extra integer) INHERITS (app.par)",  # NOT NULL, default copied
            "CREATE TABLE app.chi2 (kind text DEFAULT 'c2') INHERITS (app.par)",  # its own column
            "ALTER TABLE app.chi2 ADD PRIMARY KEY (id)",  # NOT NULL through its key: modelled
        ],
        [],
    ),
    "comment on a key's index": (
        [
            "COMMENT ON CONSTRAINT t_pkey ON app.t IS 'the key'",  # modelled
            "COMMENT ON INDEX app.t_pkey IS 'its index'",
        ],
        ["index comment app.t_pkey"],
    ),
    "owner privileges": (
        [
            "ALTER TABLE app.t OWNER TO unsup_owner",
            "REVOKE DELETE, TRUNCATE ON app.t FROM unsup_owner",
            "GRANT UPDATE (q) ON app.t TO unsup_owner",
            "CREATE VIEW app.v AS SELECT id FROM app.t",
            "ALTER VIEW app.v OWNER TO unsup_owner",
            "GRANT SELECT ON app.v TO unsup_owner WITH GRANT OPTION",
            "CREATE SEQUENCE app.s",
            "ALTER SEQUENCE app.s OWNER TO unsup_owner",
            "REVOKE USAGE ON SEQUENCE app.s FROM unsup_owner",
            "CREATE FUNCTION app.f(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1'",
            "ALTER FUNCTION app.f(integer) OWNER TO unsup_owner",
            "REVOKE EXECUTE ON FUNCTION app.f(integer) FROM unsup_owner",
        ],
        [
            "owner column privileges app.t.q",
            "owner privileges app.f(integer)",
            "owner privileges app.s",
            "owner privileges app.t",
            "owner privileges app.v",
        ],
    ),
    "owner holding its defaults": (
        [
            "ALTER TABLE app.t OWNER TO unsup_owner",
            "GRANT SELECT ON app.t TO unsup_reader",  # modelled
            "REVOKE ALL ON app.t FROM unsup_owner",
            "GRANT ALL ON app.t TO unsup_owner",  # the default again
            "CREATE FUNCTION app.f(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1'",
            "REVOKE EXECUTE ON FUNCTION app.f(integer) FROM PUBLIC",  # modelled
        ],
        [],
    ),
    "grant by another role": (
        [
            "ALTER TABLE app.t OWNER TO unsup_owner",
            "GRANT SELECT, UPDATE (q) ON app.t TO unsup_reader WITH GRANT OPTION",
            "SET ROLE unsup_reader",
            "GRANT SELECT ON app.t TO unsup_writer",
            "GRANT UPDATE (q) ON app.t TO unsup_writer",
            "RESET ROLE",
        ],
        [
            "column privileges granted by another role app.t.q",
            "privileges granted by another role app.t",
        ],
    ),
}


@pytest.mark.parametrize("case", list(ATTRIBUTE_CASES))
def test_attributes_the_model_lacks_are_reported(
    case: str, pg_url, pg_conn, tmp_path: Path, pg_dump_schema
):
    statements, lines = ATTRIBUTE_CASES[case]
    for sql in [*ATTRIBUTE_BASE, *statements]:
        pg_conn.execute(sql)
    expected = sorted(f"unsupported: {line}" for line in lines)
    before = pg_dump_schema(pg_url)

    r = run_cli("export", "--pg", pg_url, "--out", "desired", cwd=tmp_path)
    assert r.code == 0, r.text
    assert _reported(r.err) == expected

    r = run_cli("plan", "--pg", pg_url, "--schemas", "desired", "--out", "plans", cwd=tmp_path)
    assert r.code == 0, r.text
    assert _reported(r.out) == expected
    assert "No changes." in r.out
    assert pg_dump_schema(pg_url) == before
