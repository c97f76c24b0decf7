"""A table's shape as SQL: what makes a rebuilt table's drop safe to run a second time.

A table the plan rebuilds (diff/rebuilds.py) is dropped and created under one name. A second
run of the up file must not drop the table the first run created, nor a second run of the
down file the one the rollback brought back: each drop runs only while the relation under the
name still has the shape of the table it drops — its kind, whether it is a partition, its
partition key, and its parent's partition key.
"""

from __future__ import annotations

from reconciler.model.pg import Table
from reconciler.sql.render import dollar_quote, ident, literal


def _key(alias: str) -> str:
    """The partition key of relation `alias`, as _plain() writes one."""
    spelled = f"coalesce(pg_catalog.pg_get_partkeydef({alias}.oid), '')"
    return f"pg_catalog.lower(pg_catalog.translate({spelled}, '\" ', ''))"


def _plain(key: str | None) -> str:
    """A partition key without quotes or spaces, in lower case: the YAML's spelling and the
    server's (`list ("k")`, `LIST (k)`) compare equal; a guard only tells shapes apart."""
    return (key or "").replace('"', "").replace(" ", "").lower()


def table_shape(t: Table, parent_key: str | None) -> str:
    """A SQL condition true while the relation named like `t` is shaped like it; `parent_key`
    is its parent's partition key (none for an inheritance child)."""
    name = literal(ident(t.schema, t.name))
    parents = t.inherits + ((t.partition_of,) if t.partition_of else ())
    if parents:
        parent = (
            "EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p "
            "ON p.oid = i.inhparent WHERE i.inhrelid = c.oid AND "
            f"{_key('p')} = {literal(_plain(parent_key))})"
        )
    else:
        parent = "NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid)"
    conditions = (
        f"c.relkind = {literal('p' if t.partition_by else 'r')}",
        f"c.relispartition = {'true' if t.partition_of else 'false'}",
        f"{_key('c')} = {literal(_plain(t.partition_by))}",
        parent,
    )
    return (
        "EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = "
        f"pg_catalog.to_regclass({name}) AND {' AND '.join(conditions)})"
    )


def while_shaped(statements: list[str], shape: str) -> str:
    """`statements` in one DO block, run only while `shape` holds."""
    body = "".join(f"{s};\n" for s in statements)
    block = f"BEGIN\nIF {shape} THEN\n{body}END IF;\nEND"
    return f"DO {dollar_quote(block)}"
