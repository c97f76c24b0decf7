"""Explicit renames (`renamed_from:`), applied to a working copy of live before comparing.

After this step the live copy already uses the new names, so the comparators see a renamed
table or column as the same object and only its other differences become changes.
"""

from __future__ import annotations

import dataclasses

from pglast.parser import scan

from reconciler.errors import InputError
from reconciler.model.names import quote_ident
from reconciler.model.pg import Column, ForeignKey, Index, Table
from reconciler.model.pg_grants import Grant
from reconciler.model.pg_objects import Sequence
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg.column import RenameColumn
from reconciler.ops.pg.table import RenameTable


def apply_renames(desired: PgSnapshot, live: PgSnapshot) -> tuple[list[Change], PgSnapshot]:
    changes: list[Change] = []
    tables = dict(live.tables)
    indexes = dict(live.indexes)
    grants = dict(live.grants)
    # a sequence's owning column follows a rename (Postgres keeps OWNED BY on the column)
    sequences = dict(live.sequences)
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
        identity = tuple(c.name for c in t.columns if c.identity)
        changes.append(RenameTable(schema, old, name, tuple(c.name for c in t.columns), identity))
        tables[(schema, name)] = dataclasses.replace(t, name=name)
        tables = {k: _retarget_fks(v, schema, old, name) for k, v in tables.items()}
        indexes = {
            k: dataclasses.replace(ix, table=name) if (ix.schema, ix.table) == (schema, old) else ix
            for k, ix in indexes.items()
        }
        grants = _rename_grants(grants, (schema, old, None), (name, None))
        sequences = {
            k: _retarget_owner(q, schema, (old, None), (name, None)) for k, q in sequences.items()
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
            was = t.column(old)
            changes.append(RenameColumn(schema, name, old, col.name, bool(was and was.identity)))
            t = _rename_column(t, old, col.name)
            tables[(schema, name)] = t
            tables = {
                k: _rename_ref_column(v, schema, name, old, col.name) for k, v in tables.items()
            }
            indexes = {
                k: _rename_index_column(ix, schema, name, old, col.name)
                for k, ix in indexes.items()
            }
            grants = _rename_grants(grants, (schema, name, old), (name, col.name))
            sequences = {
                k: _retarget_owner(q, schema, (name, old), (name, col.name))
                for k, q in sequences.items()
            }
    renamed = dataclasses.replace(
        live, tables=tables, indexes=indexes, sequences=sequences, grants=grants
    )
    return changes, renamed


def _rename_grants(
    grants: dict[tuple[str, ...], Grant],
    old: tuple[str, str, str | None],
    new: tuple[str, str | None],
) -> dict[tuple[str, ...], Grant]:
    """The live grants as they read once table `old` (schema, table, None), or its column
    (schema, table, column), is renamed to `new` (table, column): the rename keeps them."""
    schema, table, column = old
    out = {}
    for g in grants.values():
        if g.on in ("table", "column") and (g.schema, g.name) == (schema, table):
            if column is None:
                g = dataclasses.replace(g, name=new[0])
            elif g.column == column:
                g = dataclasses.replace(g, column=new[1])
        out[g.key] = g
    return out


def _retarget_owner(
    q: Sequence, schema: str, old: tuple[str, str | None], new: tuple[str, str | None]
) -> Sequence:
    """`q` owned by the column renamed from `old` (table, column; a column None: any column of
    the table) as owned by `new`."""
    if q.owned_by is None or q.schema != schema or q.owned_by[0] != old[0]:
        return q
    if old[1] is not None and q.owned_by[1] != old[1]:
        return q
    return dataclasses.replace(q, owned_by=(new[0] or q.owned_by[0], new[1] or q.owned_by[1]))


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


def rename_in_expression(text: str | None, old: str, new: str) -> str | None:
    """The expression with column references to `old` spelled `new`.

    Token by token (pglast's scanner), so strings, function names (followed by `(`), type
    names (after `::`) and qualified names (after `.`) are left alone.
    """
    if text is None:
        return None
    try:
        tokens = scan(text)
    except Exception:  # a text the server printed always scans; never fail a plan over a hint
        return text
    out, pos = [], 0
    for i, tok in enumerate(tokens):
        if tok.name != "IDENT" and tok.kind not in ("UNRESERVED_KEYWORD", "COL_NAME_KEYWORD"):
            continue
        raw = text[tok.start : tok.end + 1]
        name = raw[1:-1].replace('""', '"') if raw.startswith('"') else raw.lower()
        before = tokens[i - 1].name if i else None
        after = tokens[i + 1].name if i + 1 < len(tokens) else None
        if name == old and after != "ASCII_40" and before not in ("TYPECAST", "ASCII_46"):
            out += [text[pos : tok.start], quote_ident(new)]
            pos = tok.end + 1
    return "".join(out) + text[pos:] if out else text


def _rename_column(t: Table, old: str, new: str) -> Table:
    cols: tuple[Column, ...] = tuple(
        dataclasses.replace(
            c,
            name=new if c.name == old else c.name,
            generated=rename_in_expression(c.generated, old, new),
        )
        for c in t.columns
    )
    checks = tuple(
        dataclasses.replace(k, expression=rename_in_expression(k.expression, old, new))
        for k in t.checks
    )
    pk = t.primary_key and dataclasses.replace(
        t.primary_key, columns=_swap(t.primary_key.columns, old, new)
    )
    uniques = tuple(dataclasses.replace(u, columns=_swap(u.columns, old, new)) for u in t.uniques)
    fks = tuple(dataclasses.replace(f, columns=_swap(f.columns, old, new)) for f in t.foreign_keys)
    return dataclasses.replace(
        t, columns=cols, primary_key=pk, uniques=uniques, checks=checks, foreign_keys=fks
    )


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
        dataclasses.replace(
            e,
            column=new if e.column == old else e.column,
            expression=rename_in_expression(e.expression, old, new),
        )
        for e in ix.elements
    )
    return dataclasses.replace(
        ix,
        elements=elements,
        include=_swap(ix.include, old, new),
        where=rename_in_expression(ix.where, old, new),
    )
