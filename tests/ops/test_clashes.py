"""The re-run guard around creates passes over only the object the statement makes: a second
run of an up file changes nothing, while any other holder of the name fails the statement."""

from __future__ import annotations

import psycopg
import pytest

from reconciler.model.pg import PrimaryKey, Unique
from reconciler.ops.pg.constraint import add_constraint_sql
from reconciler.sql.render import ident


@pytest.fixture
def conn(make_pg_database):
    with psycopg.connect(make_pg_database(), autocommit=True) as c:
        c.execute("CREATE TABLE public.t (a integer NOT NULL, b integer)")
        yield c


def test_a_second_run_passes_over_the_same_constraint(conn):
    sql = add_constraint_sql(ident("public", "t"), PrimaryKey("t_key", ("a",)))
    conn.execute(sql)
    conn.execute(sql)  # the file run again: the same primary key is there, nothing happens
    assert conn.execute(
        "SELECT conname, contype FROM pg_constraint WHERE conrelid = 'public.t'::regclass"
    ).fetchall() == [("t_key", "p")]


@pytest.mark.parametrize(
    ("holder", "key"),
    [
        ("CREATE UNIQUE INDEX t_key ON public.t (a)", PrimaryKey("t_key", ("a",))),
        ("CREATE UNIQUE INDEX t_key ON public.t (a)", Unique("t_key", ("a",))),
        (
            "ALTER TABLE public.t ADD CONSTRAINT other_pk PRIMARY KEY (b)",
            PrimaryKey("t_key", ("a",)),
        ),
        ("CREATE TABLE public.t_key (x integer)", Unique("t_key", ("b",))),
        ("ALTER TABLE public.t ADD CONSTRAINT t_key CHECK (a > 0)", Unique("t_key", ("a",))),
    ],
    ids=["index-for-pk", "index-for-unique", "other-pk", "table", "check-for-unique"],
)
def test_another_holder_of_the_name_fails_the_statement(conn, holder, key):
    conn.execute(holder)
    with pytest.raises(psycopg.Error):
        conn.execute(add_constraint_sql(ident("public", "t"), key))
