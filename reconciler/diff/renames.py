"""Explicit renames (`renamed_from:`), applied to a working copy of live before comparing.

After this step the live copy already uses the new names, so the comparators see a renamed
table or column as the same object and only its other differences become changes.
"""

from __future__ import annotations

import dataclasses

from reconciler.errors import InputError
from reconciler.model.pg import Column, ForeignKey, Index, Table
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg_column import RenameColumn
from reconciler.ops.pg_table import RenameTable


def apply_renames(desired: PgSnapshot, live: PgSnapshot) -> tuple[list[Change], PgSnapshot]:
    changes: list[Change] = []
    tables = dict(live.tables)
    indexes = dict(live.indexes)
    for (schema, name), want in desired.tables.items():
        old = want.renamed_from
        if not old or old == name or (schema, old) not in tables:
            continue  # already renamed, or nothing to rename from
        if (schema, name) in tables:
            raise InputError(
                f"Table {schema}.{name} says renamed_from: {old}, but both tables exist.",
                detail="Drop or rename one of them by hand, or remove renamed_from.",
                source=want.source,
            )
        t = tables.pop((schema, old))
        changes.append(RenameTable(schema, old, name, tuple(c.name for c in t.columns)))
        tables[(schema, name)] = dataclasses.replace(t, name=name)
        tables = {k: _retarget_fks(v, schema, old, name) for k, v in tables.items()}
        indexes = {
            k: dataclasses.replace(ix, table=name) if (ix.schema, ix.table) == (schema, old) else ix
            for k, ix in indexes.items()
        }
    for (schema, name), want in desired.tables.items():
        t = tables.get((schema, name))
        if t is None:
            continue
        for col in want.columns:
            old = col.renamed_from
            if not old or old == col.name or t.column(old) is None:
                continue
            if t.column(col.name) is not None:
                raise InputError(
                    f"Column {schema}.{name}.{col.name} says renamed_from: {old}, "
                    "but both columns exist.",
                    detail="Drop one of them by hand, or remove renamed_from.",
                    source=col.source,
                )
            changes.append(RenameColumn(schema, name, old, col.name))
            t = _rename_column(t, old, col.name)
            tables[(schema, name)] = t
            tables = {
                k: _rename_ref_column(v, schema, name, old, col.name) for k, v in tables.items()
            }
            indexes = {
                k: _rename_index_column(ix, schema, name, old, col.name)
                for k, ix in indexes.items()
            }
    return changes, dataclasses.replace(live, tables=tables, indexes=indexes)


def _swap(cols: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    return tuple(new if c == old else c for c in cols)


def _retarget_fks(t: Table, schema: str, old: str, new: str) -> Table:
    fks = tuple(
        dataclasses.replace(fk, ref_table=new)
        if (fk.ref_schema, fk.ref_table) == (schema, old)
        else fk
        for fk in t.foreign_keys
    )
    return dataclasses.replace(t, foreign_keys=fks)


def _rename_column(t: Table, old: str, new: str) -> Table:
    cols: tuple[Column, ...] = tuple(
        dataclasses.replace(c, name=new) if c.name == old else c for c in t.columns
    )
    pk = t.primary_key and dataclasses.replace(
        t.primary_key, columns=_swap(t.primary_key.columns, old, new)
    )
    uniques = tuple(dataclasses.replace(u, columns=_swap(u.columns, old, new)) for u in t.uniques)
    fks = tuple(dataclasses.replace(f, columns=_swap(f.columns, old, new)) for f in t.foreign_keys)
    return dataclasses.replace(t, columns=cols, primary_key=pk, uniques=uniques, foreign_keys=fks)


def _rename_ref_column(t: Table, schema: str, table: str, old: str, new: str) -> Table:
    def fix(fk: ForeignKey) -> ForeignKey:
        if (fk.ref_schema, fk.ref_table) != (schema, table):
            return fk
        return dataclasses.replace(fk, ref_columns=_swap(fk.ref_columns, old, new))

    return dataclasses.replace(t, foreign_keys=tuple(fix(f) for f in t.foreign_keys))


def _rename_index_column(ix: Index, schema: str, table: str, old: str, new: str) -> Index:
    if (ix.schema, ix.table) != (schema, table):
        return ix
    elements = tuple(
        dataclasses.replace(e, column=new) if e.column == old else e for e in ix.elements
    )
    return dataclasses.replace(ix, elements=elements, include=_swap(ix.include, old, new))
