"""Kinds read side by side in one statement give exactly the rows each kind's own query gives."""

from __future__ import annotations

from collections import Counter

import psycopg
import pytest

from reconciler.introspect.pg.catalog import (
    _EXCLUDED_SCHEMAS,
    KINDS,
    STATEMENTS,
    _queries,
    kind_queries,
    read_catalog,
)
from reconciler.introspect.pg.reading import read_in_own_transaction

TRIGGERS = """
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN NEW.v := coalesce(NEW.v, 'x'); RETURN NEW; END$$;
CREATE TRIGGER t_touch BEFORE INSERT OR UPDATE OF v ON public.t
  FOR EACH ROW WHEN (NEW.id > 0) EXECUTE FUNCTION public.touch();
CREATE CONSTRAINT TRIGGER t_late AFTER INSERT ON public.t
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.touch();
COMMENT ON TRIGGER t_touch ON public.t IS 'fills v';
"""
RULES = """
CREATE TABLE public.log (id integer, v text);
CREATE RULE t_log AS ON INSERT TO public.t DO ALSO INSERT INTO public.log VALUES (NEW.id, NEW.v);
"""
AGGREGATES = """
CREATE AGGREGATE public.total(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '0');
COMMENT ON AGGREGATE public.total(integer) IS 'a sum';
"""


def _own_rows(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    texts = kind_queries(conn.info.server_version)
    params = {"schemas": None, "excluded": list(_EXCLUDED_SCHEMAS), "out_of_scope": []}
    read = read_in_own_transaction(conn, [texts[kind] for kind in KINDS], params)
    return dict(zip(KINDS, read, strict=True))


@pytest.mark.parametrize(
    "made",
    [
        (),
        (TRIGGERS,),
        (RULES,),
        (AGGREGATES,),
        (TRIGGERS, AGGREGATES),
        (TRIGGERS, RULES, AGGREGATES),
    ],
    ids=["none", "triggers", "rules", "aggregates", "triggers+aggregates", "all"],
)
def test_each_kind_gets_the_rows_of_its_own_query(
    pg_conn: psycopg.Connection, made: tuple[str, ...]
) -> None:
    pg_conn.execute("CREATE TABLE public.t (id integer PRIMARY KEY, v text)")
    for script in made:
        pg_conn.execute(script)

    shared = read_catalog(pg_conn).rows
    own = _own_rows(pg_conn)

    for kind in KINDS:
        assert Counter(map(repr, shared[kind])) == Counter(map(repr, own[kind])), kind
    wanted = {TRIGGERS: "triggers", RULES: "rules", AGGREGATES: "aggregates"}
    for script, kind in wanted.items():
        assert bool(shared[kind]) == (script in made), kind  # the case means what it says
    assert len(shared["triggers"]) == (2 if TRIGGERS in made else 0)


def test_every_kind_is_read_by_exactly_one_statement() -> None:
    read = [kind for kinds in STATEMENTS for kind in kinds]
    assert sorted(read) == sorted(KINDS) and len(read) == len(set(read))
    assert len(_queries(150000)) == len(STATEMENTS) <= 10


def test_a_read_without_the_fingerprint_gives_the_same_rows_of_every_other_kind(
    pg_conn: psycopg.Connection,
) -> None:
    pg_conn.execute("CREATE TABLE public.t (id integer PRIMARY KEY, v text)")
    for script in (TRIGGERS, RULES, AGGREGATES):
        pg_conn.execute(script)

    full = read_catalog(pg_conn)
    lean = read_catalog(pg_conn, fingerprint=False)

    assert full.rows["fingerprint"] and lean.rows["fingerprint"] == []
    for kind in KINDS:
        if kind != "fingerprint":
            assert Counter(map(repr, lean.rows[kind])) == Counter(map(repr, full.rows[kind])), kind
    assert lean.snapshot() == full.snapshot()
    assert not any("pg_catalog.hashtextextended" in q for q in _queries(150000, False))
    assert any("pg_catalog.hashtextextended" in q for q in _queries(150000))
    full.digest()  # a read with the fingerprint has a digest; one without refuses to make one
    with pytest.raises(ValueError, match="without its fingerprint"):
        lean.digest()
