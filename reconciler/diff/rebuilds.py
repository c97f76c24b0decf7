"""Tables the plan drops and creates again: Postgres cannot change them in place.

A table's partitioning (none, or a partition key) is fixed at CREATE TABLE, and a partition
whose parent stays cannot become a plain table without losing what it shares with the parent
in the model (its columns are its parent's). Such a table is rebuilt: dropped (its rows kept
in the trash where the drop mode keeps them) and created in its desired form, with everything
on it (indexes, triggers, policies, grants) and everything leaning on it (views, routines of
its row type, foreign keys from other tables) dropped before and made again after by the
comparators that own them. Every table under a rebuilt one (its partitions, its inheritance
children) is rebuilt with it: Postgres drops a partition with its parent, and refuses to drop
a parent that children inherit from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from reconciler.diff.owned_sequences import nextval_calls
from reconciler.errors import NotSupported
from reconciler.model.names import qualified, quote_ident
from reconciler.model.pg import Table
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.pg.shape import table_shape

Key = tuple[str, str]


def rebuild_reason(old: Table, new: Table) -> str | None:
    """Why this table cannot become the desired one in place, or None when it can."""
    if old.partition_by != new.partition_by:
        return (
            f"its partitioning changes ({old.partition_by or 'none'} → "
            f"{new.partition_by or 'none'}), which Postgres cannot do in place"
        )
    if old.partition_of is not None and new.partition_of is None:
        return "it stops being a partition of " + ".".join(old.partition_of)
    if old.partition_by:
        for c in new.columns:
            was = old.column(c.name)
            if was is None or (was.type, was.collation) == (c.type, c.collation):
                continue
            if c.name in _key_names(old.partition_by):
                return (
                    f"column {c.name} of its partition key changes type ({was.type} → "
                    f"{c.type}), which Postgres cannot do in place"
                )
    return None


_NAME = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)')


def _key_names(key: str) -> set[str]:
    """The names a partition key's text mentions (its columns among them)."""
    return {q.replace('""', '"') if q else p.lower() for q, p in _NAME.findall(key)}


def rebuilt_tables(desired: PgSnapshot, live: PgSnapshot) -> dict[Key, str]:
    """(schema, table) → why, for every live table the plan rebuilds."""
    out: dict[Key, str] = {}
    for key, old in live.tables.items():
        new = desired.tables.get(key)
        why = rebuild_reason(old, new) if new is not None else None
        if why is not None:
            out[key] = why
    while True:  # what sits under a rebuilt table goes with it
        more = {
            key: f"its parent {'.'.join(parent)} is rebuilt"
            for key, t in live.tables.items()
            if key not in out and key in desired.tables
            for parent in (*((t.partition_of,) if t.partition_of else ()), *t.inherits)
            if parent in out
        }
        if not more:
            return out
        out |= more


def shape_in(snap: PgSnapshot, t: Table) -> str:
    """The SQL condition true while the relation named like `t` has its shape in `snap`."""
    parent = snap.tables.get(t.partition_of) if t.partition_of else None
    return table_shape(t, parent.partition_by if parent is not None else None)


def check_rebuilds(desired: PgSnapshot, live: PgSnapshot, rebuilt: Mapping[Key, str]) -> None:
    """Refuse, at plan time, a rebuild that Postgres would refuse half-way through the apply:
    a table that stays holds a column of a rebuilt table's row type, or a default calling a
    sequence that one of its columns owns (the drop takes the sequence along)."""
    if not rebuilt:
        return
    types = {qualified(*key): key for key in rebuilt}
    owned = {
        c.sequence: key
        for key in rebuilt
        for c in live.tables[key].columns
        if c.sequence and not c.identity
    }
    for key, t in live.tables.items():
        if key in rebuilt or key not in desired.tables:
            continue
        for c in t.columns:
            kept = desired.tables[key].column(c.name)  # as it stays (a change may free it)
            if kept is None:
                continue
            row_type = types.get(c.type.removesuffix("[]"))
            found = []
            if row_type is not None and kept.type == c.type:
                found.append((f"is of the row type of table {qualified(*row_type)}", row_type))
            found += [
                (f"calls sequence {seq} in its default, which table {qualified(*owned[seq])} "
                 "owns", owned[seq])
                for seq in nextval_calls(c.default)
                if seq in owned and seq in nextval_calls(kept.default)
            ]  # fmt: skip
            for why, table in found:
                raise NotSupported(
                    f"Column {qualified(*key)}.{quote_ident(c.name)} {why}, and that table is "
                    f"rebuilt: {rebuilt[table]}.",
                    detail="Postgres would refuse to drop the table while the column needs "
                    "it: change the column first (another type, or a sequence of its own), or "
                    "keep the table's shape.",
                    source=desired.tables[table].source,
                )
