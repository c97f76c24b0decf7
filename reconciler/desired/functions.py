"""Functions and procedures from their specs (the `functions:` key of any file).

Every piece of SQL text a spec gives is checked to be what it claims (an argument list, a
return type, one setting value) with pglast before it is spliced into CREATE FUNCTION; the
body is passed dollar-quoted, verbatim. The argument types that name the function are worked
out here in the server's spelling (format_type, no modifiers); the planner asks the server
for its spelling of the arguments and result before comparing (pipeline/canonical.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pglast import ast, parse_sql
from pglast.stream import RawStream

from reconciler.desired.context import split_name
from reconciler.desired.grants import declare_grants
from reconciler.model.pg_objects import Function
from reconciler.project.yamlload import Where
from reconciler.sql import fragments as sqltext

if TYPE_CHECKING:
    from reconciler.desired.context import Context
    from reconciler.desired.spec import FunctionSpec

_IDENTITY_MODES = {"i", "d", "b", "v"}  # IN (explicit or default), INOUT, VARIADIC
_TYPMODS = re.compile(r"\(\s*\d+\s*(?:,\s*\d+\s*)?\)")
# An SQL-standard body: neither is valid at the start of a quoted SQL body, so a `language:
# sql` body that starts so (after white space and comments) is one, and is written unquoted
# into CREATE FUNCTION.
_SQL_BODY = re.compile(
    r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*(?:RETURN\b|BEGIN\s+ATOMIC\b)",
    re.IGNORECASE | re.DOTALL,
)


def build_function(ctx: Context, spec: FunctionSpec, where: Where) -> None:
    name_at = where.sub("name")
    schema, name = split_name(spec.name, spec.schema_, "public")
    if not (ctx.name_ok(schema, name_at) and ctx.name_ok(name, name_at)):
        return
    procedure = spec.kind == "procedure"
    if procedure and spec.returns is not None:
        ctx.report(where.sub("returns"), "a procedure returns nothing: remove `returns`")
        return
    if not procedure and spec.returns is None:
        ctx.report(where, "a function needs `returns` (a type, `trigger`, `SETOF …`, `TABLE(…)`)")
        return
    try:
        types = _identity_types(spec.arguments, ctx.enum_resolver(schema))
    except sqltext.SqlTextError as exc:
        ctx.report(where.sub("arguments"), str(exc))
        return
    returns = None
    if spec.returns is not None:
        try:
            returns = _check_returns(spec.returns)
        except sqltext.SqlTextError as exc:
            ctx.report(where.sub("returns"), str(exc))
            return
    sql_body = spec.language == "sql" and bool(_SQL_BODY.match(spec.body))
    if sql_body:
        try:
            _check_sql_body(spec.body, spec.kind)
        except sqltext.SqlTextError as exc:
            ctx.report(where.sub("body"), str(exc))
            return
    config = []
    for key, value in spec.set.items():
        try:
            config.append(f"{key}={_check_setting(key, value)}")
        except sqltext.SqlTextError as exc:
            ctx.report(where.sub("set", key), str(exc))
            return
    # one routine per name and arguments, an aggregate included
    first_of = ctx.functions.get((schema, name, types)) or ctx.aggregates.get((schema, name, types))
    if first_of is not None:
        first = first_of.source
        ctx.report(
            name_at, f"{spec.kind} '{schema}.{name}({types})' is declared twice (first at {first})"
        )
        return
    ctx.use_schema(schema, where)
    declare_grants(ctx, "function", schema, f"{name}({types})", spec.grants, where)
    ctx.functions[(schema, name, types)] = Function(
        schema=schema,
        name=name,
        types=types,
        arguments=spec.arguments.strip(),
        returns=returns,
        language=spec.language,
        body=spec.body,
        sql_body=sql_body,
        volatility=spec.volatility,
        strict=spec.strict,
        security_definer=spec.security_definer,
        leakproof=spec.leakproof,
        parallel=spec.parallel,
        config=tuple(config),
        comment=spec.comment,
        cost=_number(ctx, spec.cost, 100, where.sub("cost")),
        rows=_number(ctx, spec.rows, 1000, where.sub("rows")),
        source=where.source,
    )


def _create(arguments: str, returns: str, what: str) -> ast.CreateFunctionStmt:
    text = f"CREATE FUNCTION x(\n{arguments}\n) RETURNS {returns}\nLANGUAGE sql AS ''"
    try:
        stmts = parse_sql(text)
    except Exception as exc:
        raise sqltext.SqlTextError(f"invalid {what}: {exc.args[0] if exc.args else exc}") from None
    if len(stmts) != 1 or not isinstance(stmts[0].stmt, ast.CreateFunctionStmt):
        raise sqltext.SqlTextError(f"the {what} must be exactly one {what}")
    return stmts[0].stmt


def _identity_types(arguments: str, enum_schema) -> str:
    sqltext.check_tokens(arguments, "argument list", allow_empty=True)
    stmt = _create(arguments, "void", "argument list")
    if len(stmt.options or ()) != 2:
        raise sqltext.SqlTextError(f"'{arguments}' is not an argument list")
    types = []
    for p in stmt.parameters or ():
        mode = p.mode.value if hasattr(p.mode, "value") else str(p.mode)
        if mode in _IDENTITY_MODES:
            text = RawStream()(p.argType)
            types.append(_TYPMODS.sub("", sqltext.canonical_type(text, enum_schema)))
    return ", ".join(types)


def _check_sql_body(body: str, kind: str) -> None:
    """An SQL-standard body is spliced into CREATE FUNCTION as it is: it must be exactly one
    `RETURN expression` or one `BEGIN ATOMIC … END` block, with nothing after it."""
    if "\0" in body:
        raise sqltext.SqlTextError("the body must not contain the NUL character")
    returns = "" if kind == "procedure" else " RETURNS integer"
    try:
        stmts = parse_sql(f"CREATE {kind.upper()} x(){returns} LANGUAGE sql\n{body}\n")
    except Exception as exc:
        message = exc.args[0] if exc.args else exc
        raise sqltext.SqlTextError(f"invalid SQL-standard body: {message}") from None
    ok = (
        len(stmts) == 1
        and isinstance(stmts[0].stmt, ast.CreateFunctionStmt)
        and stmts[0].stmt.sql_body is not None
        and len(stmts[0].stmt.options or ()) == 1
    )
    if not ok:
        raise sqltext.SqlTextError(
            "an SQL-standard body must be exactly one `RETURN expression` or one "
            "`BEGIN ATOMIC … END` block, with nothing after it"
        )


def _check_returns(returns: str) -> str:
    returns = returns.strip()
    sqltext.check_tokens(returns, "return type")
    stmt = _create("", returns, "return type")
    # exactly LANGUAGE and AS, the two options _create writes: nothing smuggled in after the
    # type (`integer SECURITY DEFINER` parses as a return type and an option)
    if stmt.returnType is None or len(stmt.options or ()) != 2:
        raise sqltext.SqlTextError(f"'{returns}' is not a return type")
    return returns


def _check_setting(key: str, value: str) -> str:
    """The value as the catalog keeps it: SQL (`'30s'`, `public, pg_temp`, `off`), or a plain
    value with a unit (`30s`) taken as the string it is; one quoted string unquoted."""
    value = value.strip()
    if value in ('""', "''"):  # the empty list (search_path = ''), as the catalog keeps it
        return '""'
    bare = re.fullmatch(r"[\w.+-]+", value) is not None  # 30s, 64MB: read as a string
    refused: sqltext.SqlTextError | None = None
    # a plain word as the string it is: read as SQL, UTC would be folded to utc
    for text in (f"'{value}'", value) if bare else (value,):
        try:
            sqltext.check_tokens(text, f"value of setting {key}")
        except sqltext.SqlTextError as exc:
            refused = refused or exc
            continue
        try:
            stmts = parse_sql(f"SET {key} TO {text}")
        except Exception:
            continue
        if len(stmts) == 1 and isinstance(stmts[0].stmt, ast.VariableSetStmt):
            args = stmts[0].stmt.args or ()
            if len(args) == 1 and isinstance(getattr(args[0], "val", None), ast.String):
                return args[0].val.sval  # one quoted string: its text
            return value
    raise refused or sqltext.SqlTextError(f"'{value}' is not a value of setting {key}")


def _number(ctx: Context, text: str | None, default: float, where: Where) -> str | None:
    """COST / ROWS as the catalog prints them (float4 text), None when the default."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        ctx.report(where, f"'{text}' is not a positive number")
        return None
    if value == default:
        return None
    return str(int(value)) if value == int(value) else repr(value)
