"""Ordering: dependencies from the model, deterministic ties, drops in reverse order."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.diff import compare
from reconciler.model.pg import (
    Check,
    Column,
    Enum,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    Schema,
    Table,
)
from reconciler.model.snapshot import PgSnapshot
from reconciler.pipeline import graph as graph_mod
from reconciler.pipeline.graph import order


def _table(name: str, *fks: tuple[str, str], schema: str = "public") -> Table:
    cols = [Column("id", "uuid", nullable=False)]
    keys = []
    for col, ref in fks:
        cols.append(Column(col, "uuid"))
        ref_schema, _, ref_table = ref.rpartition(".")
        keys.append(
            ForeignKey(f"fk_{name}_{ref_table}", (col,), ref_schema or schema, ref_table, ("id",))
        )
    return Table(
        schema,
        name,
        tuple(cols),
        primary_key=PrimaryKey(f"{name}_pkey", ("id",)),
        foreign_keys=tuple(keys),
    )


def _snap(*tables: Table, indexes: tuple[Index, ...] = ()) -> PgSnapshot:
    schemas = {t.schema: Schema(t.schema) for t in tables} | {"public": Schema("public")}
    return PgSnapshot(
        schemas=schemas,
        tables={(t.schema, t.name): t for t in tables},
        indexes={(i.schema, i.name): i for i in indexes},
    )


def _addresses(changes) -> list[str]:
    return [f"{c.action.verb} {c.address}" for c in changes]


def test_mutual_foreign_keys_create_tables_first_then_both_keys():
    a = _table("alphas", ("beta_id", "betas"))
    b = _table("betas", ("alpha_id", "alphas"))
    got = _addresses(order(compare(_snap(a, b), _snap())))
    assert got == [
        "create pg.table.public.alphas",
        "create pg.table.public.betas",
        "create pg.constraint.public.alphas.fk_alphas_betas",
        "create pg.constraint.public.betas.fk_betas_alphas",
    ]


def test_self_reference_plans_after_its_table():
    t = _table("nodes", ("parent_id", "nodes"))
    got = _addresses(order(compare(_snap(t), _snap())))
    assert got == [
        "create pg.table.public.nodes",
        "create pg.constraint.public.nodes.fk_nodes_nodes",
    ]


def test_dropping_a_referenced_table_drops_the_foreign_key_first():
    users = _table("users")
    runs = _table("runs", ("user_id", "users"))
    got = _addresses(order(compare(_snap(), _snap(users, runs))))
    fk = got.index("drop pg.constraint.public.runs.fk_runs_users")
    assert fk < got.index("drop pg.table.public.users")
    assert fk < got.index("drop pg.table.public.runs")


def test_schema_created_before_and_dropped_after_its_tables():
    t = _table("events", schema="audit")
    up = _addresses(order(compare(_snap(t), _snap())))
    assert up.index("create pg.schema.audit") < up.index("create pg.table.audit.events")
    down = _addresses(order(compare(_snap(), _snap(t))))
    assert down.index("drop pg.table.audit.events") < down.index("drop pg.schema.audit")


def test_index_dropped_before_its_column_and_created_after_a_new_column():
    old = _table("runs")
    new = Table(old.schema, old.name, (*old.columns, Column("status", "text")), old.primary_key)
    ix = Index("public", "runs", "idx_runs_status", (IndexElement(column="status"),))
    up = _addresses(order(compare(_snap(new, indexes=(ix,)), _snap(old))))
    assert up == ["create pg.column.public.runs.status", "create pg.index.public.idx_runs_status"]
    down = _addresses(order(compare(_snap(old), _snap(new, indexes=(ix,)))))
    assert down == ["drop pg.index.public.idx_runs_status", "drop pg.column.public.runs.status"]


@pytest.mark.parametrize("seed", range(5))
def test_order_is_independent_of_input_order(seed):
    tables = [_table(f"t{i:02d}", *((f"r{j}", f"t{j:02d}") for j in range(i))) for i in range(8)]
    changes = compare(_snap(*tables), _snap())
    expected = _addresses(order(list(changes)))
    shuffled = list(changes)
    random.Random(seed).shuffle(shuffled)
    assert _addresses(order(shuffled)) == expected


def test_column_leaves_an_enum_before_the_enum_is_dropped():
    status = Enum("public", "status", ("a", "b"))
    old = Table("public", "runs", (Column("state", "public.status"),))
    new = Table("public", "runs", (Column("state", "text"),))
    before = PgSnapshot(
        schemas={"public": Schema("public")},
        enums={("public", "status"): status},
        tables={("public", "runs"): old},
    )
    after = PgSnapshot(schemas={"public": Schema("public")}, tables={("public", "runs"): new})
    got = _addresses(order(compare(after, before)))
    assert got.index("change pg.column.public.runs.state") < got.index("drop pg.enum.public.status")


def test_generated_column_and_check_come_after_the_columns_they_read():
    old = Table("public", "items", (Column("id", "integer"),))
    new = Table(
        "public",
        "items",
        (
            Column("id", "integer"),
            Column("a_total", "numeric", generated="(z_price * 2)"),
            Column("z_price", "numeric"),
        ),
        checks=(Check("a_check", "(z_price > 0)"),),
    )
    got = _addresses(order(compare(_snap(new), _snap(old))))
    price = got.index("create pg.column.public.items.z_price")
    assert price < got.index("create pg.column.public.items.a_total")
    assert price < got.index("create pg.constraint.public.items.a_check")


class _Node:
    """A change as _lexicographic sees one: only its tie-break key."""

    def __init__(self, key: tuple[int, str, str]) -> None:
        self.key = key

    def sort_key(self) -> tuple[int, str, str]:
        return self.key


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            st.lists(
                st.tuples(st.integers(0, 3), st.sampled_from("abc"), st.sampled_from("xy")),
                min_size=n,
                max_size=n,
            ),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
        )
    )
)
def test_the_order_is_networkx_lexicographical_topological_sort(drawn) -> None:
    """The same order as networkx (equal keys: the node made first), and a cycle where it
    finds one; graphlib makes it without loading networkx."""
    import networkx as nx

    keys, pairs = drawn
    nodes = {f"n{i}": _Node(key) for i, key in enumerate(keys)}
    edges = [(f"n{a}", f"n{b}") for a, b in pairs if a != b]
    got = graph_mod._lexicographic(nodes, edges)
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    try:
        want = list(nx.lexicographical_topological_sort(g, key=lambda n: graph_mod._key(nodes[n])))
    except nx.NetworkXUnfeasible:
        assert got is None
    else:
        assert got == [nodes[n] for n in want]
