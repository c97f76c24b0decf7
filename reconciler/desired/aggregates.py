"""Aggregates from their specs (the `aggregates:` key of any file).

The argument types that name the aggregate are worked out as a function's are
(desired/functions.py); routine names are kept as SQL names (quoted where needed, a bare one
resolved by the apply's search path, so `int4pl` is pg_catalog's); every text spliced into
CREATE AGGREGATE is checked, and the whole statement is parsed to be exactly one aggregate
with the options given. The planner asks the server for its spelling before comparing
(pipeline/canonical_aggregates.py). Ordered-set aggregates (`ORDER BY` in the arguments) are
refused.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pglast import ast, parse_sql

from reconciler.desired.context import split_name
from reconciler.desired.functions import _identity_types
from reconciler.model.names import quote_ident, split_qualified
from reconciler.model.pg_aggregates import Aggregate
from reconciler.ops.pg.aggregate import aggregate_options, aggregate_sql
from reconciler.project.yamlload import Where
from reconciler.sql import fragments as sqltext

if TYPE_CHECKING:
    from reconciler.desired.context import Context
    from reconciler.desired.spec import AggregateSpec

_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)
_OPERATOR = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_$]*\.)?[-+*/<>=~!@#%^&|`?]+\Z")
_ROUTINES = (
    "sfunc",
    "finalfunc",
    "combinefunc",
    "serialfunc",
    "deserialfunc",
    "msfunc",
    "minvfunc",
    "mfinalfunc",
)


def build_aggregate(ctx: Context, spec: AggregateSpec, where: Where) -> None:
    name_at = where.sub("name")
    schema, name = split_name(spec.name, spec.schema_, "public")
    if not (ctx.name_ok(schema, name_at) and ctx.name_ok(name, name_at)):
        return
    arguments = spec.arguments.strip()
    if _ORDER_BY.search(arguments):
        ctx.report(
            where.sub("arguments"),
            "ordered-set and hypothetical-set aggregates (ORDER BY) are not modelled yet",
        )
        return
    arguments = "" if arguments == "*" else arguments
    try:
        types = _identity_types(arguments, ctx.enum_resolver(schema))
    except sqltext.SqlTextError as exc:
        ctx.report(where.sub("arguments"), str(exc))
        return
    routines = {}
    for key in _ROUTINES:
        text = getattr(spec, key)
        if text is not None:
            sql = _routine(ctx, text, where.sub(key))
            if sql is None:
                return
            routines[key] = sql
    for key in ("stype", "mstype"):
        text = getattr(spec, key)
        if text is not None and not _checked(ctx, text, where.sub(key), "type"):
            return
    if spec.sortop is not None and not _OPERATOR.match(spec.sortop.strip()):
        ctx.report(where.sub("sortop"), f"'{spec.sortop}' is not an operator (`>`, `schema.>`)")
        return
    moving = [k for k in ("msfunc", "minvfunc", "mstype") if getattr(spec, k) is not None]
    if moving and len(moving) != 3:
        ctx.report(where.sub(moving[0]), "the moving-aggregate mode needs msfunc, minvfunc, mstype")
        return
    sizes = {}
    for key in ("sspace", "msspace"):
        text = getattr(spec, key)
        if text is not None and not (text.isdigit() and int(text) < 2**31):
            ctx.report(where.sub(key), f"'{text}' is not a size in bytes")
            return
        sizes[key] = int(text) if text is not None else 0
    key = (schema, name, types)
    if key in ctx.aggregates or key in ctx.functions:
        ctx.report(name_at, f"aggregate '{schema}.{name}({types})' is declared twice")
        return
    ctx.use_schema(schema, where)
    aggregate = Aggregate(
        schema,
        name,
        types,
        arguments,
        routines["sfunc"],
        spec.stype.strip(),
        sspace=sizes["sspace"],
        finalfunc=routines.get("finalfunc"),
        finalfunc_extra=spec.finalfunc_extra,
        finalfunc_modify=spec.finalfunc_modify,
        combinefunc=routines.get("combinefunc"),
        serialfunc=routines.get("serialfunc"),
        deserialfunc=routines.get("deserialfunc"),
        initcond=spec.initcond,
        msfunc=routines.get("msfunc"),
        minvfunc=routines.get("minvfunc"),
        mstype=spec.mstype.strip() if spec.mstype is not None else None,
        msspace=sizes["msspace"],
        mfinalfunc=routines.get("mfinalfunc"),
        mfinalfunc_extra=spec.mfinalfunc_extra,
        mfinalfunc_modify=spec.mfinalfunc_modify,
        minitcond=spec.minitcond,
        sortop=spec.sortop.strip() if spec.sortop is not None else None,
        parallel=spec.parallel,
        comment=spec.comment,
        source=where.source,
    )
    if not _one_aggregate(aggregate):
        ctx.report(where, "these options do not make one CREATE AGGREGATE")
        return
    ctx.aggregates[key] = aggregate


def _routine(ctx: Context, text: str, where: Where) -> str | None:
    """A routine's name as SQL: `name` or `schema.name`, each part quoted where needed."""
    parts = split_qualified(text.strip()) if '"' in text else tuple(text.strip().split("."))
    if not 1 <= len(parts) <= 2:
        ctx.report(where, f"'{text}' is not a routine name (`name` or `schema.name`)")
        return None
    if not all(ctx.name_ok(p, where) for p in parts):
        return None
    return ".".join(quote_ident(p) for p in parts)


def _checked(ctx: Context, text: str, where: Where, what: str) -> bool:
    try:
        sqltext.check_tokens(text, what)
    except sqltext.SqlTextError as exc:
        ctx.report(where, str(exc))
        return False
    return True


def _one_aggregate(a: Aggregate) -> bool:
    """Whether the statement parses as exactly one aggregate with exactly these options
    (nothing spliced in a type can add one, or end the statement)."""
    try:
        stmts = parse_sql(aggregate_sql(a))
    except Exception:
        return False
    stmt = stmts[0].stmt if len(stmts) == 1 else None
    return isinstance(stmt, ast.DefineStmt) and len(stmt.definition or ()) == len(
        aggregate_options(a)
    )
