"""A table's columns from its spec: types, defaults, identity and generated columns, and the
sequence behind a serial-like column (its options and grants).

Owns: the column rules — a name given twice, exclusive default/identity/generated, identity
types, NOT NULL forced on identity and primary key columns, `sequence_options` checked
against the column's type — and the default-NULL rule (Postgres keeps no default then).
Must not: touch the table's keys, indexes or other objects (tables.py does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from reconciler.desired.grants import declare_grants
from reconciler.desired.objects import sequence_numbers
from reconciler.desired.table_scope import TableScope
from reconciler.model import sequence_options as seqopts
from reconciler.model.names import make_object_name, split_qualified
from reconciler.model.pg import Column
from reconciler.model.sequence_options import Options
from reconciler.project.yamlload import Where
from reconciler.sql import expressions as sqlexpr
from reconciler.sql import fragments as sqltext

if TYPE_CHECKING:
    from reconciler.desired.spec_table import ColumnSpec

IDENTITY_TYPES = ("smallint", "integer", "bigint")


# The columns every table has (ctid, the row's transaction ids, its table's oid): a column of
# one of these names is refused by CREATE TABLE / ADD COLUMN. (`oid` is not one since
# PostgreSQL 12.)
SYSTEM_COLUMNS = ("tableoid", "xmin", "cmin", "xmax", "cmax", "ctid")


def build_columns(table: TableScope) -> tuple[Column, ...]:
    ctx, spec = table.ctx, table.spec
    pk_cols = set(spec.primary_key.columns) if spec.primary_key else set()
    all_names = [c.name for c in spec.columns]
    resolve = ctx.enum_resolver(table.schema)
    out: list[Column] = []
    for i, c in enumerate(spec.columns):
        cw = table.where.sub("columns", i)
        if all_names.index(c.name) != i:
            ctx.report(cw.sub("name"), f"column '{c.name}' is declared twice")
            continue
        if c.name in SYSTEM_COLUMNS:
            ctx.report(
                cw.sub("name"),
                f"column name '{c.name}' is a system column of every table "
                f"({', '.join(SYSTEM_COLUMNS)}): Postgres refuses it; choose another name",
            )
        if c.renamed_from is not None and c.renamed_from == c.name:
            ctx.report(cw.sub("renamed_from"), "renamed_from must differ from the name")
        elif c.renamed_from in all_names:
            ctx.report(cw.sub("renamed_from"), f"'{c.renamed_from}' is also a column here")
        try:
            type_ = sqltext.canonical_type(c.type, resolve)
        except sqltext.SqlTextError as exc:
            ctx.report(cw.sub("type"), str(exc))
            type_ = None
        # (each position made only for what is given: a thousand tables have ten thousand
        # columns, most with neither a default nor a generated expression nor a collation)
        default = None if c.default is None else ctx.default(c.default, cw.sub("default"))
        if default is not None and _stored_as_none(default, type_, resolve):
            default = None  # Postgres stores DEFAULT NULL as no default at all
        generated = None
        if c.generated is not None:
            generated = ctx.expression(c.generated, cw.sub("generated"), "generated expression")
        given = [k for k in ("default", "identity", "generated") if getattr(c, k) is not None]
        if len(given) > 1:
            ctx.report(cw, f"column '{c.name}': {' and '.join(given)} exclude each other")
        if c.identity and type_ is not None and type_ not in IDENTITY_TYPES:
            message = f"identity needs a smallint, integer or bigint column, not {type_}"
            ctx.report(cw.sub("identity"), message)
        # Identity and primary-key columns are NOT NULL in the catalog whatever was asked.
        forced = "an identity" if c.identity else ("a primary key" if c.name in pk_cols else "")
        if forced and c.nullable and "nullable" in c.model_fields_set:
            ctx.report(cw.sub("nullable"), f"{forced} column cannot be nullable")
        options = _sequence_options(table, c, type_, cw)
        sequence = None
        if c.sequence is not None:
            try:
                sequence = sqltext.qualified_name(c.sequence, "sequence")
            except sqltext.SqlTextError as exc:
                ctx.report(cw.sub("sequence"), str(exc))
        if c.sequence_grants:
            _sequence_grants(table, c, sequence, cw)
        if c.sequence_comment is not None and c.sequence is None:
            ctx.report(cw.sub("sequence_comment"), "sequence_comment needs a `sequence`")
        col = Column(
            name=c.name,
            type=type_ or c.type,
            nullable=c.nullable and not forced,
            default=default,
            identity=c.identity,
            generated=generated,
            collation=None
            if c.collation is None
            else table.collation(c.collation, cw.sub("collation")),
            comment=c.comment,
            renamed_from=c.renamed_from,
            source=cw.source,
            sequence=sequence,
            sequence_options=options,
            using=c.using,
            sequence_comment=c.sequence_comment,
        )
        out.append(col)
    return tuple(out)


def _sequence_grants(table: TableScope, c: ColumnSpec, sequence: str | None, where: Where) -> None:
    if c.identity is not None:  # the identity's sequence, by the name a CREATE gives it
        name = make_object_name(table.name, c.name, "seq")
        declare_grants(
            table.ctx,
            "sequence",
            table.schema,
            name,
            c.sequence_grants,
            where,
            key="sequence_grants",
        )
        return
    if c.sequence is None:
        message = "sequence_grants need a `sequence` or an identity"
        table.ctx.report(where.sub("sequence_grants"), message)
        return
    if sequence is None:
        return  # reported with the sequence

    names = split_qualified(sequence)
    if len(names) != 2:
        message = "sequence_grants need the sequence schema-qualified: `schema.name`"
        table.ctx.report(where.sub("sequence"), message)
        return
    schema, name = names
    declare_grants(
        table.ctx, "sequence", schema, name, c.sequence_grants, where, key="sequence_grants"
    )


def _sequence_options(table: TableScope, c: ColumnSpec, type_: str | None, where: Where) -> Options:
    if c.sequence_options is None:
        return ()
    if not (c.identity or c.sequence):
        message = "sequence_options need an identity or a `sequence`"
        table.ctx.report(where.sub("sequence_options"), message)
        return ()
    if type_ not in IDENTITY_TYPES:
        if c.sequence and type_ is not None:
            message = f"a sequence's column is smallint, integer or bigint, not {type_}"
            table.ctx.report(where.sub("sequence_options"), message)
        return ()  # an identity's is reported with it

    spec = c.sequence_options
    seq_type = _sequence_type(table, c, type_, where.sub("sequence_options", "type"))
    if seq_type is None:
        return ()
    numbers = sequence_numbers(table.ctx, spec, seq_type, where.sub("sequence_options"))
    if numbers is None:
        return ()
    start, increment, lo, hi, cache = numbers
    return seqopts.options(
        type_,
        start=start,
        increment=increment,
        lo=lo,
        hi=hi,
        cache=cache,
        cycle=spec.cycle,
        as_type=seq_type,
    )


def _sequence_type(table: TableScope, c: ColumnSpec, type_: str, where: Where) -> str | None:
    """A serial column's sequence type (`sequence_options.type`), the column's if not given;
    None after reporting a bad one."""
    given = c.sequence_options.type if c.sequence_options else None
    if given is None:
        return type_
    try:
        seq_type = sqltext.canonical_type(given, lambda _: None)
    except sqltext.SqlTextError as exc:
        table.ctx.report(where, str(exc))
        return None
    if c.identity:
        table.ctx.report(where, "an identity's sequence has its column's type: leave out `type`")
        return None
    if seq_type not in IDENTITY_TYPES:
        table.ctx.report(where, f"a sequence is smallint, integer or bigint, not {given}")
        return None
    return seq_type


def _stored_as_none(default: str, type_: str | None, resolve: Callable[[str], str | None]) -> bool:
    """Whether Postgres keeps no default for this one: a bare NULL, or a NULL cast once to the
    column's own built-in type without modifiers. (A domain's NULL goes through the domain's
    checks, a length or precision through a coercion, a cast to another type stays: each is
    kept as a default.)"""
    cast = sqlexpr.null_cast_type(default)
    if not cast:
        return cast == ""
    try:
        same = type_ is not None and sqltext.canonical_type(cast, resolve) == type_
        builtin = sqltext.type_names(cast)[-1] in sqltext.BUILTIN_TYPES
        return same and builtin and "(" not in type_
    except sqltext.SqlTextError:
        return False
