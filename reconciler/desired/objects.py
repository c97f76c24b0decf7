"""Free-standing sequences, domains and composite types from their specs (`sequences:`,
`domains:`, `composite_types:` keys).

Every option of a sequence is made explicit here, with Postgres' own defaults for its type and
direction, so that a sequence written with few options equals the live one. A domain's base
type, default and checks are checked like a column's; its default check name is Postgres'
(`<domain>_check`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from reconciler.desired.context import split_name
from reconciler.desired.grants import declare_grants
from reconciler.model import sequence_options as seqopts
from reconciler.model.names import split_qualified
from reconciler.model.pg import Check
from reconciler.model.pg_objects import INTEGER_RANGES, Collation, CompositeType, Domain, Sequence
from reconciler.project.yamlload import Where
from reconciler.sql import fragments as sqltext

if TYPE_CHECKING:
    from reconciler.desired.context import Context
    from reconciler.desired.spec import CollationSpec, CompositeSpec, DomainSpec, SequenceSpec
    from reconciler.desired.spec_table import SequenceOptionsSpec

_INT = re.compile(r"[+-]?\d+\Z")


def _names(ctx: Context, name: str, schema: str | None, where: Where) -> tuple[str, str] | None:
    schema_, name_ = split_name(name, schema, "public")
    at = where.sub("name")
    if not (ctx.name_ok(schema_, at) and ctx.name_ok(name_, at)):
        return None
    return schema_, name_


def build_sequence(ctx: Context, spec: SequenceSpec, where: Where) -> None:
    names = _names(ctx, spec.name, spec.schema_, where)
    if names is None or not ctx.claim_relation(*names, "sequence", where.sub("name")):
        return
    try:
        type_ = sqltext.canonical_type(spec.type, lambda _: None)
    except sqltext.SqlTextError as exc:
        ctx.report(where.sub("type"), str(exc))
        return
    if type_ not in INTEGER_RANGES:
        ctx.report(where.sub("type"), "a sequence is smallint, integer or bigint")
        return
    numbers = sequence_numbers(ctx, spec, type_, where)
    if numbers is None:
        return
    start, increment, lo, hi, cache = numbers
    owned_by = None
    if spec.owned_by is not None:
        owned_by = _owner(ctx, spec.owned_by, where.sub("owned_by"))
        if owned_by is None:
            return
        ctx.pending_owners.append((names, where.sub("owned_by")))
    ctx.use_schema(names[0], where)
    declare_grants(ctx, "sequence", names[0], names[1], spec.grants, where)
    ctx.sequences[names] = Sequence(
        *names,
        type=type_,
        start=str(start),
        increment=str(increment),
        min=str(lo),
        max=str(hi),
        cache=str(cache),
        cycle=spec.cycle,
        comment=spec.comment,
        owned_by=owned_by,
        source=where.source,
    )


def _owner(ctx: Context, text: str, where: Where) -> tuple[str, str] | None:
    """`table.column` of OWNED BY (in the sequence's schema: Postgres wants it there)."""
    try:
        names = split_qualified(sqltext.qualified_name(text, "column"))
    except sqltext.SqlTextError as exc:
        ctx.report(where, str(exc))
        return None
    if len(names) != 2:
        ctx.report(where, f"owned_by is `table.column` (in the sequence's schema), not '{text}'")
        return None
    return names[0], names[1]


def check_owner(ctx: Context, key: tuple[str, str], where: Where) -> None:
    """The column owning a free-standing sequence exists in the desired state, and its default
    does not call the sequence (that is the column's own `sequence`, a serial's)."""
    q = ctx.sequences[key]
    assert q.owned_by is not None
    table, column = q.owned_by
    t = ctx.tables.get((q.schema, table))
    label = f"{q.schema}.{table}" if q.schema != "public" else table
    if t is None:
        if ctx.complete:
            ctx.report(where, f"owned_by: table '{label}' is not declared")
        return
    c = t.column(column)
    if c is None:
        ctx.report(where, f"owned_by: table '{label}' has no column '{column}'")
    elif _names_of(c.sequence) == key or seqopts.calls(c.default, *key):
        ctx.report(
            where,
            f"owned_by: the default of '{label}.{column}' calls this sequence: it is that "
            "column's own sequence (a serial's); write it as the column's `sequence:` instead",
        )


def _names_of(sequence: str | None) -> tuple[str, ...]:
    names = split_qualified(sequence) if sequence else ()
    return ("public", *names) if len(names) == 1 else names


def owned_sequences_apart(ctx: Context) -> None:
    """A column's `sequence` that its default does not call is a free-standing sequence owned
    by the column (Sequence.owned_by), as the catalog is read: the column's own sequence is
    the one its default calls."""
    for key, t in list(ctx.tables.items()):
        columns = []
        for c in t.columns:
            names = _names_of(c.sequence)
            if len(names) != 2 or names[0] != t.schema or c.identity:
                columns.append(c)  # (Postgres keeps an owned sequence in its table's schema)
                continue
            if seqopts.calls(c.default, *names):
                columns.append(c)
                continue
            if (names[0], names[1]) in ctx.sequences:
                shown, _, line = (c.source or "").rpartition(":")
                message = (
                    f"column '{c.name}': sequence '{'.'.join(names)}' is also declared under "
                    "`sequences:`"
                )
                ctx.problems.append((shown, int(line) if line.isdigit() else 1, message))
                columns.append(c)
                continue
            q = seqopts.column_sequence(names, c)
            ctx.sequences[(names[0], names[1])] = replace(
                q, owned_by=(t.name, c.name), source=c.source
            )
            columns.append(replace(c, sequence=None, sequence_options=(), sequence_comment=None))
        if columns != list(t.columns):
            ctx.tables[key] = replace(t, columns=tuple(columns))


def sequence_numbers(
    ctx: Context, spec: SequenceSpec | SequenceOptionsSpec, type_: str, where: Where
) -> tuple[int, int, int, int, int] | None:
    """(start, increment, min, max, cache) with Postgres' defaults filled in, or None after
    reporting what is wrong (a sequence's or an identity column's options)."""
    values: dict[str, int | None] = {}
    for key in ("start", "increment", "min", "max", "cache"):
        text = getattr(spec, key)
        if text is not None and not _INT.match(str(text).strip()):
            ctx.report(where.sub(key), f"'{text}' is not a whole number")
            return None
        values[key] = None if text is None else int(str(text).strip())
    increment, cache = values["increment"] or 0, values["cache"] or 0
    if increment == 0:
        ctx.report(where.sub("increment"), "increment must not be zero")
        return None
    if cache < 1:
        ctx.report(where.sub("cache"), "cache must be at least 1")
        return None
    lo, hi = Sequence.bounds(type_, increment, values["min"], values["max"])
    tmin, tmax = INTEGER_RANGES[type_]
    start = values["start"] if values["start"] is not None else (lo if increment > 0 else hi)
    if not (tmin <= lo <= start <= hi <= tmax):
        ctx.report(where, f"need {tmin} ≤ min ≤ start ≤ max ≤ {tmax} for a {type_} sequence")
        return None
    return start, increment, lo, hi, cache


def build_collation(ctx: Context, spec: CollationSpec, where: Where) -> None:
    """As pg_collation reads it back: one locale when LC_COLLATE and LC_CTYPE are the same."""
    names = _names(ctx, spec.name, spec.schema_, where)
    if names is None:
        return
    if names in ctx.collations:
        first = ctx.collations[names].source
        label = ".".join(names)
        ctx.report(where.sub("name"), f"collation '{label}' is declared twice (first at {first})")
        return
    locale, lc_collate, lc_ctype = spec.locale, spec.lc_collate, spec.lc_ctype
    if locale is not None and (lc_collate is not None or lc_ctype is not None):
        ctx.report(where.sub("locale"), "give either locale or lc_collate and lc_ctype, not both")
        return
    if locale is None and (lc_collate is None or lc_ctype is None):
        ctx.report(where, "a collation needs locale, or both lc_collate and lc_ctype")
        return
    if spec.provider != "libc" and locale is None:
        ctx.report(where.sub("lc_collate"), f"a {spec.provider} collation takes one locale")
        return
    if spec.provider != "icu" and not spec.deterministic:
        ctx.report(where.sub("deterministic"), "only an ICU collation can be nondeterministic")
        return
    if lc_collate == lc_ctype and locale is None:
        locale, lc_collate, lc_ctype = lc_collate, None, None
    ctx.use_schema(names[0], where)
    ctx.collations[names] = Collation(
        names[0],
        names[1],
        provider=spec.provider,
        locale=locale,
        lc_collate=lc_collate,
        lc_ctype=lc_ctype,
        deterministic=spec.deterministic,
        comment=spec.comment,
        source=where.source,
    )


def build_domain(ctx: Context, spec: DomainSpec, where: Where) -> None:
    names = _names(ctx, spec.name, spec.schema_, where)
    if names is None:
        return
    schema, name = names
    if names in ctx.domains or names in ctx.enums:
        ctx.report(where.sub("name"), f"type '{schema}.{name}' is declared twice")
        return
    try:
        type_ = sqltext.canonical_type(spec.type, ctx.enum_resolver(schema))
    except sqltext.SqlTextError as exc:
        ctx.report(where.sub("type"), str(exc))
        return
    collation = None
    if spec.collation is not None:
        try:
            collation = sqltext.canonical_collation(spec.collation, ctx.known_schemas)
        except sqltext.SqlTextError as exc:
            ctx.report(where.sub("collation"), str(exc))
            return
    checks = []
    for i, c in enumerate(spec.checks):
        cw = where.sub("checks", i)
        expr = ctx.expression(c.expression, cw.sub("expression"), "domain check")
        check_name = c.name or f"{name}_check"
        if expr is None or not ctx.name_ok(check_name, cw, default=c.name is None):
            return
        checks.append(Check(check_name, expr, c.comment, source=cw.source))
    default = ctx.default(spec.default, where.sub("default"))
    ctx.use_schema(schema, where)
    ctx.domains[names] = Domain(
        schema=schema,
        name=name,
        type=type_,
        not_null=spec.not_null,
        default=default,
        collation=collation,
        checks=tuple(sorted(checks, key=lambda k: k.name)),
        comment=spec.comment,
        source=where.source,
    )
    declare_grants(ctx, "type", schema, name, spec.grants, where)


def build_composite(ctx: Context, spec: CompositeSpec, where: Where) -> None:
    names = _names(ctx, spec.name, spec.schema_, where)
    if names is None:
        return
    schema, name = names
    if names in ctx.composites or names in ctx.domains or names in ctx.enums:
        ctx.report(where.sub("name"), f"type '{schema}.{name}' is declared twice")
        return
    if not ctx.claim_relation(schema, name, "composite type", where.sub("name")):
        return
    attributes = []
    seen: set[str] = set()
    for i, a in enumerate(spec.attributes):
        aw = where.sub("attributes", i)
        if a.name in seen:
            ctx.report(aw.sub("name"), f"attribute '{a.name}' is given twice")
            return
        seen.add(a.name)
        try:
            type_ = sqltext.canonical_type(a.type, ctx.enum_resolver(schema))
            collation = (
                sqltext.canonical_collation(a.collation, ctx.known_schemas)
                if a.collation is not None
                else None
            )
        except sqltext.SqlTextError as exc:
            ctx.report(aw, str(exc))
            return
        attributes.append((a.name, type_, collation))
    ctx.use_schema(schema, where)
    ctx.composites[names] = CompositeType(
        schema, name, tuple(attributes), spec.comment, source=where.source
    )
    declare_grants(ctx, "type", schema, name, spec.grants, where)
