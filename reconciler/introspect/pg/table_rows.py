"""Catalog rows → tables: columns, constraints (keys, checks, foreign keys, exclusions) and
indexes, as the model holds them.

Owns: the reading of tables.sql, columns.sql, constraints.sql and indexes.sql rows — catalog
codes (identity, FK actions, replica identity, index options) turned into the model's words,
and the Postgres defaults reported as the model's defaults. Pure data shaping like rows.py,
which builds the rest of the snapshot and calls these. Must not: query the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.model import sequence_options as seqopts
from reconciler.model.pg import (
    Check,
    Column,
    Exclusion,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    Table,
    Unique,
)

Rows = list[tuple[Any, ...]]

_IDENTITY = {"a": "always", "d": "by default"}
_FK_ACTION = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_INDOPTION_DESC = 1
_INDOPTION_NULLS_FIRST = 2


_REPLICA = {"d": "default", "f": "full", "n": "nothing", "i": "index"}


def tables_from_rows(
    table_rows: Rows, column_rows: Rows, constraint_rows: Rows
) -> dict[tuple[str, str], Table]:
    columns = _group_by_table(column_rows)
    constraints = _group_by_table(constraint_rows)
    tables = {}
    for row in table_rows:
        schema, name, comment, row_security, inherits, partition_by, parent, bound = row[:8]
        force_row_security, replica, replica_index, unlogged, options, attached = row[8:14]
        not_null, owner = row[14:]
        # "using an index" whose index was dropped: rows carry no old key, as with NOTHING
        replica = _REPLICA[replica] if replica != "i" or replica_index else "nothing"
        key = (schema, name)
        rows = sorted(constraints.get(key, ()), key=_name)
        primary_key, uniques, checks, foreign_keys, exclusions = _constraints(rows)
        tables[key] = Table(
            schema=schema,
            name=name,
            columns=tuple(_column(row) for row in sorted(columns.get(key, ()), key=_attnum)),
            primary_key=primary_key,
            uniques=uniques,
            checks=checks,
            foreign_keys=foreign_keys,
            comment=comment,
            row_security=row_security,
            force_row_security=force_row_security,
            replica_identity=replica,
            replica_identity_index=replica_index if replica == "index" else None,
            unlogged=unlogged,
            options=tuple(options),
            exclusions=exclusions,
            inherits=tuple((s, n) for s, n in inherits),
            partition_by=partition_by,
            partition_of=(parent[0], parent[1]) if parent else None,
            bound=bound,
            attached_indexes=tuple((p, c) for p, c in attached) if parent else None,
            not_null=tuple(not_null),
            owner=owner,
        )
    return tables


def _group_by_table(rows: Rows) -> dict[tuple[str, str], Rows]:
    """Rows whose first two fields are (schema, table), grouped; each group keeps query order."""
    groups: dict[tuple[str, str], Rows] = {}
    for row in rows:
        key = (row[0], row[1])
        group = groups.get(key)
        if group is None:
            groups[key] = [row]
        else:
            group.append(row)
    return groups


def _name(row: tuple[Any, ...]) -> str:
    return row[2]  # str order is the catalog's COLLATE "C" order (code points = UTF-8 bytes)


def _attnum(row: tuple[Any, ...]) -> int:
    return row[-1]


def _column(row: tuple[Any, ...]) -> Column:
    (
        _,
        _,
        name,
        type_,
        not_null,
        expression,
        generated,
        identity,
        collation,
        sequence,
        comment,
        *seq,
        _,
    ) = row
    # pg_attrdef holds a generated column's expression where other columns keep their default.
    # attgenerated is "s" (stored); PostgreSQL 18's virtual ("v") has no model field of its own.
    is_generated = generated != ""
    identity_ = _IDENTITY.get(identity)
    options: seqopts.Options = ()
    if (identity_ is not None or sequence is not None) and seq[0] is not None:
        start, increment, lo, hi, cache, cycle, seq_type, _ = seq
        options = seqopts.options(
            type_,
            start=start,
            increment=increment,
            lo=lo,
            hi=hi,
            cache=cache,
            cycle=cycle,
            as_type=None if identity_ else seq_type,  # an identity's is always its column's
        )
    return Column(
        name=name,
        type=type_,
        nullable=not not_null,
        default=None if is_generated else expression,
        identity=identity_,
        generated=expression if is_generated else None,
        collation=collation,
        comment=comment,
        sequence=None if identity_ else sequence,  # an identity's sequence is the identity's
        sequence_options=options,
        sequence_comment=None if identity_ else seq[-1],
    )


def _constraints(rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """One table's constraints by kind (primary key, uniques, checks, foreign keys,
    exclusions); rows come sorted by name, so each tuple is too."""
    primary_key = None
    uniques: list[Unique] = []
    checks: list[Check] = []
    foreign_keys: list[ForeignKey] = []
    exclusions: list[Exclusion] = []
    for row in rows:
        (
            _,
            _,
            name,
            kind,
            columns,
            deferrable,
            deferred,
            nulls_not_distinct,
            expression,
            ref_schema,
            ref_table,
            ref_columns,
            on_delete,
            on_update,
            match,
            comment,
            valid,
            no_inherit,
            valid_on,
            options,
        ) = row
        if kind == "p":
            primary_key = PrimaryKey(
                name=name,
                columns=tuple(columns),
                comment=comment,
                deferrable=deferrable,
                initially_deferred=deferred,
                options=tuple(options),
            )
        elif kind == "u":
            uniques.append(
                Unique(
                    name=name,
                    columns=tuple(columns),
                    deferrable=deferrable,
                    initially_deferred=deferred,
                    nulls_not_distinct=nulls_not_distinct,
                    comment=comment,
                    options=tuple(options),
                )
            )
        elif kind == "c":
            below = tuple((s, n) for s, n in valid_on or ())
            checks.append(
                Check(name, expression, comment, valid=valid, no_inherit=no_inherit, valid_on=below)
            )
        elif kind == "x":
            exclusions.append(Exclusion(name, expression, comment, columns=tuple(columns)))
        else:
            foreign_keys.append(
                ForeignKey(
                    name=name,
                    columns=tuple(columns),
                    ref_schema=ref_schema,
                    ref_table=ref_table,
                    ref_columns=tuple(ref_columns),
                    on_delete=_FK_ACTION[on_delete],
                    on_update=_FK_ACTION[on_update],
                    match_full=match == "f",
                    deferrable=deferrable,
                    initially_deferred=deferred,
                    comment=comment,
                    valid=valid,
                )
            )
    return primary_key, tuple(uniques), tuple(checks), tuple(foreign_keys), tuple(exclusions)


def index_from_row(row: tuple[Any, ...]) -> Index:
    (
        schema,
        table,
        name,
        method,
        unique,
        options,
        columns,
        expressions,
        opclasses,
        collations,
        include,
        where,
        nulls_not_distinct,
        comment,
        valid,
        storage,
    ) = row
    elements = tuple(
        _index_element(*parts)
        for parts in zip(columns, expressions, options, opclasses, collations, strict=True)
    )
    return Index(
        schema=schema,
        table=table,
        name=name,
        elements=elements,
        unique=unique,
        method=method,
        where=where,
        include=tuple(include),
        nulls_not_distinct=nulls_not_distinct,
        comment=comment,
        options=tuple(storage),
        valid=valid,
    )


def _index_element(
    column: str | None,
    expression: str | None,
    option: int,
    opclass: str | None,
    collation: str | None,
) -> IndexElement:
    descending = bool(option & _INDOPTION_DESC)
    nulls_first = bool(option & _INDOPTION_NULLS_FIRST)
    # Postgres' default is NULLS LAST for ASC and NULLS FIRST for DESC; the model writes a
    # default as None so that `nulls: last` on an ascending column is not a difference.
    nulls = None if nulls_first == descending else ("first" if nulls_first else "last")
    return IndexElement(
        column=column,
        expression=expression,
        order="desc" if descending else "asc",
        nulls=nulls,
        opclass=opclass,
        collation=collation,
    )
