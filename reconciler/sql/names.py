"""The names SQL text of the desired state refers to: the types a function's signature
names and the functions an expression or a query calls.

Pure parsing (pglast), no server: the planner's preflight (pipeline/preflight.py) resolves
these names against the server and the desired state. Every text here already passed the checks of
fragments.py / expressions.py / desired/functions.py, so it parses; should it not, nothing is
reported for it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pglast import ast, parse_sql
from pglast.parser import parse_sql_json
from pglast.stream import RawStream

from reconciler.model.pg_objects import Function


def function_types(f: Function) -> list[str]:
    """Every type of a function's arguments (TABLE columns included) and its result, as
    written, without SETOF; `%TYPE` references are left out (they name a column)."""
    kind = "PROCEDURE" if f.returns is None else "FUNCTION"
    returns = "" if f.returns is None else f" RETURNS {f.returns}"
    try:
        stmt = parse_sql(f"CREATE {kind} x({f.arguments}){returns} LANGUAGE sql AS ''")[0].stmt
    except Exception:  # checked at load; never let a parser surprise escape
        return []
    names = [p.argType for p in stmt.parameters or ()]
    if stmt.returnType is not None and not _table_result(stmt):
        names.append(stmt.returnType)
    out = []
    for tn in names:
        if tn is None or tn.pct_type:
            continue
        out.append(
            RawStream()(
                ast.TypeName(names=tn.names, typmods=tn.typmods, arrayBounds=tn.arrayBounds)
            )
        )
    return out


def _table_result(stmt: ast.CreateFunctionStmt) -> bool:
    """RETURNS TABLE (…): its columns are parameters; the result itself is SETOF record."""
    return any(_mode(p) == "t" for p in stmt.parameters or ())


def _mode(p: ast.FunctionParameter) -> str:
    return p.mode.value if hasattr(p.mode, "value") else str(p.mode)


def calls(text: str, *, query: bool = False) -> frozenset[tuple[str | None, str]]:
    """(schema or None, name) of every function an expression (or a whole query) calls,
    including the pg_catalog functions behind special syntax (EXTRACT, AT TIME ZONE, …)."""
    return _names_in(text if query else f"SELECT {text}")[0]


def relation_literals(text: str, *, query: bool = False) -> frozenset[str]:
    """The relation names an expression (or a query) holds as text: a literal cast to
    regclass (`'public.t'::regclass`), the first argument of nextval, currval or setval
    (`nextval('s')`). The server resolves them only when the text runs."""
    return _names_in(text if query else f"SELECT {text}")[2]


def cast_types(text: str) -> frozenset[tuple[str, ...]]:
    """The name (schema-qualified as written, or bare) of every type an expression casts to:
    `x::mood`, `CAST(x AS app.t)`, `date '…'`; the parser qualifies SQL's own type names
    (`int` is pg_catalog.int4)."""
    return _names_in(f"SELECT {text}")[1]


_SEQUENCE_CALLS = frozenset({"nextval", "currval", "setval"})


@lru_cache(maxsize=4096)  # the same defaults (now(), gen_random_uuid()) on every table
def _names_in(
    statement: str,
) -> tuple[frozenset[tuple[str | None, str]], frozenset[tuple[str, ...]], frozenset[str]]:
    # The parse tree as JSON, walked without building pglast's node objects (a Visitor over
    # them costs some 30 times the parse itself).
    try:
        stack: list[Any] = [json.loads(parse_sql_json(statement))]
    except Exception:
        return frozenset(), frozenset(), frozenset()
    found: set[tuple[str | None, str]] = set()
    casts: set[tuple[str, ...]] = set()
    relations: set[str] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            call = node.get("FuncCall")
            if call is not None:
                parts = [part["String"]["sval"] for part in call["funcname"]]
                found.add((parts[-2] if len(parts) > 1 else None, parts[-1]))
                if parts[-1] in _SEQUENCE_CALLS and call.get("args"):
                    relations.update(_text_of(call["args"][0]))
            cast = node.get("TypeCast")
            if cast is not None:
                names = tuple(part["String"]["sval"] for part in cast["typeName"]["names"])
                casts.add(names)
                if names[-1] == "regclass":
                    relations.update(_text_of(cast["arg"]))
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        else:
            stack.extend(v for v in node if isinstance(v, dict | list))
    return frozenset(found), frozenset(casts), frozenset(relations)


def _text_of(node: Any) -> list[str]:
    """The string of a literal (`'s'`, or `'s'::regclass`), else nothing."""
    if isinstance(node, dict) and "TypeCast" in node:
        node = node["TypeCast"]["arg"]
    value = node.get("A_Const", {}).get("sval") if isinstance(node, dict) else None
    return [value["sval"]] if isinstance(value, dict) and "sval" in value else []


def called_name(text: str) -> tuple[str | None, str] | None:
    """(schema or None, name) of a bare function name (a trigger's function)."""
    found = calls(f"{text}()")
    return next(iter(found)) if len(found) == 1 else None
