"""The names SQL text of the desired state refers to: the types a function's signature
names and the functions an expression or a query calls.

Pure parsing (pglast), no server: the planner's preflight (pipeline/preflight.py) resolves
these names against the server and the desired state. Every text here already passed the checks of
fragments.py / expressions.py / desired/functions.py, so it parses; should it not, nothing is
reported for it.
"""

from __future__ import annotations

from pglast import ast, parse_sql
from pglast.stream import RawStream
from pglast.visitors import Visitor

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


class _Calls(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[tuple[str | None, str]] = set()

    def visit_FuncCall(self, ancestors, node) -> None:
        parts = [n.sval for n in node.funcname]
        self.found.add((parts[-2] if len(parts) > 1 else None, parts[-1]))


def calls(text: str, *, query: bool = False) -> set[tuple[str | None, str]]:
    """(schema or None, name) of every function an expression (or a whole query) calls,
    including the pg_catalog functions behind special syntax (EXTRACT, AT TIME ZONE, …)."""
    visitor = _Calls()
    try:
        visitor(parse_sql(text if query else f"SELECT {text}"))
    except Exception:
        return set()
    return visitor.found


def called_name(text: str) -> tuple[str | None, str] | None:
    """(schema or None, name) of a bare function name (a trigger's function)."""
    found = calls(f"{text}()")
    return next(iter(found)) if len(found) == 1 else None
