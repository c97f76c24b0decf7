"""SQL expressions and queries written in YAML: checked with pglast, and read for what they name.

Owns: the check that a text is exactly one scalar expression (defaults, checks, predicates)
or one SELECT (a view's query), the NULL literal test, the columns an expression and the
relations a query read, and a trigger's WHEN condition as pglast prints it back.
Expressions are only *checked* and kept as written: the planner asks the server for their
canonical form. Must not: canonicalize types or names (fragments.py does).
"""

from __future__ import annotations

from functools import lru_cache

from pglast import ast, parse_sql
from pglast.stream import RawStream
from pglast.visitors import Visitor

from reconciler.sql.fragments import SqlTextError, check_tokens, parse_message, single_target


@lru_cache(maxsize=4096)  # defaults such as now() repeat on every table
def check_expression(text: str, what: str = "expression") -> str:
    """`text` stripped, after checking it is exactly one scalar SQL expression."""
    text = text.strip()
    if not text:
        raise SqlTextError(f"the {what} must not be empty")
    check_tokens(text, what)
    try:
        # The newline keeps a trailing `--` from swallowing the closing parenthesis.
        stmts = parse_sql(f"SELECT (\n{text}\n)")
    except Exception as exc:
        raise SqlTextError(f"invalid SQL {what} '{text}': {parse_message(exc)}") from None
    single_target(stmts, what, text)
    return text


def check_query(text: str, what: str = "view query") -> str:
    """`text` stripped of whitespace and one trailing ';', after checking it is exactly one
    SELECT (or VALUES) statement without comments: it is spliced into CREATE VIEW … AS."""
    text = text.strip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise SqlTextError(f"the {what} must not be empty")
    check_tokens(text, what)
    try:
        stmts = parse_sql(text)
    except Exception as exc:
        raise SqlTextError(f"invalid SQL {what}: {parse_message(exc)}") from None
    if len(stmts) != 1 or not isinstance(stmts[0].stmt, ast.SelectStmt):
        raise SqlTextError(f"the {what} must be exactly one SELECT statement")
    if stmts[0].stmt.intoClause is not None:
        raise SqlTextError(f"the {what} must not be SELECT … INTO")
    return text


class _Relations(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[tuple[str | None, str]] = set()
        self.ctes: set[str] = set()

    def visit_RangeVar(self, ancestors, node) -> None:
        self.found.add((node.schemaname, node.relname))

    def visit_CommonTableExpr(self, ancestors, node) -> None:
        self.ctes.add(node.ctename)


def relations_read(query: str, default_schema: str = "public") -> tuple[tuple[str, str], ...]:
    """(schema, relation) of every table or view a checked query names, sorted; a bare name
    is taken to be in `default_schema` (what the server's search_path gives at apply)."""
    visitor = _Relations()
    visitor(parse_sql(query))
    found = {
        (schema or default_schema, name)
        for schema, name in visitor.found
        if schema is not None or name not in visitor.ctes
    }
    return tuple(sorted(found))


def null_cast_type(text: str) -> str | None:
    """ "" for a bare NULL, the type's text for a NULL cast once (`NULL::text`, `CAST(NULL AS
    text)`), None for anything else."""
    if "null" not in text.lower():
        return None
    try:
        value = single_target(parse_sql(f"SELECT (\n{text}\n)"))
    except Exception:
        return None
    if isinstance(value, ast.TypeCast) and isinstance(value.arg, ast.A_Const):
        return RawStream()(value.typeName) if value.arg.isnull else None
    return "" if isinstance(value, ast.A_Const) and value.isnull else None


class _ColumnRefs(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[int, str]] = []

    def visit_ColumnRef(self, ancestors, node) -> None:
        last = node.fields[-1]
        if isinstance(last, ast.String):
            self.found.append((node.location, last.sval))


@lru_cache(maxsize=1024)
def column_refs(text: str) -> tuple[str, ...]:
    """Column names an (already checked) expression references, in source order, unique."""
    visitor = _ColumnRefs()
    visitor(parse_sql(f"SELECT (\n{text}\n)"))
    out: list[str] = []
    for _, name in sorted(visitor.found):
        if name not in out:
            out.append(name)
    return tuple(out)


# Date and time input words the server turns into a value as it reads them: in a default,
# that is when the table is created, frozen; the plan would then never converge.
_FROZEN_WORDS = frozenset({"now", "today", "tomorrow", "yesterday"})
_DATE_TIME_TYPES = frozenset({"date", "timestamp", "timestamptz", "time", "timetz"})
_LIVE = {
    "now": "now()",
    "today": "CURRENT_DATE",
    "tomorrow": "CURRENT_DATE + 1",
    "yesterday": "CURRENT_DATE - 1",
}


class _DefaultRefusals(Visitor):
    """What the server refuses in a DEFAULT expression and the text alone shows."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[tuple[int, str]] = []
        self.subquery = self.window = False
        self.frozen: str | None = None  # 'now', 'today' … read once, when the default is made

    def visit_ColumnRef(self, ancestors, node) -> None:
        names = [f.sval for f in node.fields if isinstance(f, ast.String)]
        self.columns.append((node.location, ".".join(names) or "*"))

    def visit_SubLink(self, ancestors, node) -> None:
        self.subquery = True

    def visit_FuncCall(self, ancestors, node) -> None:
        self.window = self.window or node.over is not None

    def visit_TypeCast(self, ancestors, node) -> None:
        value = node.arg.val if isinstance(node.arg, ast.A_Const) else None
        word = value.sval.strip().lower() if isinstance(value, ast.String) else ""
        typed = node.typeName.names[-1].sval if node.typeName.names else ""
        if word in _FROZEN_WORDS and typed in _DATE_TIME_TYPES and self.frozen is None:
            self.frozen = word


@lru_cache(maxsize=1024)
def default_problem(text: str) -> str | None:
    """Why an (already checked) expression cannot be a column's or a domain's DEFAULT, as far
    as the text shows it (what the server would say at apply), or None."""
    found = _DefaultRefusals()
    found(parse_sql(f"SELECT (\n{text}\n)"))
    if found.subquery:  # first: the columns a subquery reads are its own business
        return f"the default '{text}' holds a subquery, which a default cannot"
    if found.window:
        return f"the default '{text}' calls a window function (OVER), which a default cannot"
    if found.frozen is not None:
        return (
            f"the default '{text}' is the moment the default is created, frozen ('{found.frozen}' "
            f"is read once), and every plan would set it again; write {_LIVE[found.frozen]} "
            "for each insert's"
        )
    if found.columns:
        name = min(found.columns)[1]
        said = f"the default '{text}' reads a column ({name}), which a default cannot"
        if name == text.strip().strip('"'):  # a bare word: a value meant, not a column
            said += f"; a text value is written in SQL quotes: default: \"'{name}'\""
        return said
    return None


def trigger_when(definition: str) -> str | None:
    """The WHEN condition of a CREATE TRIGGER statement, as pglast prints it back."""
    stmt = parse_sql(definition)[0].stmt
    return None if stmt.whenClause is None else RawStream()(stmt.whenClause)
