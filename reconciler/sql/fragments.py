"""SQL fragments written in YAML: names, column types and collations, checked with pglast.

Owns: identifier limits, types canonicalized to what `format_type()` prints on a server whose
search_path is empty (that is how the live side is introspected), so that desired and live
compare equal as text, operator class and collation names, and the token guard every spliced
fragment passes. The guard is also the injection check: a fragment that passes is a single
self-contained piece of SQL that cannot close the statement it is embedded in.
Must not: check expressions or queries (expressions.py does, with the guard from here).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import lru_cache

from pglast import ast, parse_sql
from pglast.parser import scan

from reconciler.model.names import MAX_NAME_BYTES, quote_ident


class SqlTextError(ValueError):
    """A type or expression that cannot be used; str() is the user-facing sentence."""


# --- identifiers -------------------------------------------------------------------------------


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a Postgres identifier, or None when it can."""
    if not name:
        return "a name must not be empty"
    if "\0" in name:
        return "a name must not contain the NUL character"
    size = len(name) if name.isascii() else len(name.encode())  # isascii() reads a flag
    if size > MAX_NAME_BYTES:
        return (
            f"'{name}' is {size} bytes long; Postgres names are at most {MAX_NAME_BYTES} bytes "
            "(longer names are silently truncated, so the plan would never converge)"
        )
    return None


# --- types -------------------------------------------------------------------------------------

SERIAL_MESSAGE = "serial types are not supported; use `identity: by default` on an integer column"
_SERIALS = frozenset({"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"})

# pg_catalog type names that format_type() prints under another name.
_RENAMED = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "char": '"char"',  # the internal one-byte type, only reachable as "char" in quotes
}
# Types whose modifiers format_type() renders itself (handled in _builtin_with_typmods).
_TYPMOD_TYPES = frozenset(
    {"varchar", "bpchar", "bit", "varbit", "numeric", "interval"}
    | {"time", "timetz", "timestamp", "timestamptz"}
)
# Other pg_catalog types printed as their own name; they never take a modifier.
_PLAIN_BUILTINS = frozenset(
    [
        "text",
        "uuid",
        "json",
        "jsonb",
        "jsonpath",
        "bytea",
        "inet",
        "cidr",
        "macaddr",
        "macaddr8",
        "date",
        "money",
        "xml",
        "tsvector",
        "tsquery",
        "oid",
        "name",
        "point",
        "line",
        "lseg",
        "box",
        "path",
        "polygon",
        "circle",
        "pg_lsn",
        "pg_snapshot",
        "txid_snapshot",
        "int4range",
        "int8range",
        "numrange",
        "tsrange",
        "tstzrange",
        "daterange",
        "int4multirange",
        "int8multirange",
        "nummultirange",
        "tsmultirange",
        "tstzmultirange",
        "datemultirange",
        "regclass",
        "regtype",
        "regproc",
        "regprocedure",
        "regoper",
        "regoperator",
        "regconfig",
        "regdictionary",
        "regnamespace",
        "regrole",
        "regcollation",
        "xid",
        "xid8",
        "cid",
        "tid",
    ]
)
BUILTIN_TYPES = frozenset(_RENAMED) | _TYPMOD_TYPES | _PLAIN_BUILTINS

# Interval field masks (datetime.h INTERVAL_MASK) → the words intervaltypmodout() prints.
_INTERVAL_FIELDS = {
    0x7FFF: "",
    4: " year",
    2: " month",
    8: " day",
    1024: " hour",
    2048: " minute",
    4096: " second",
    6: " year to month",
    1032: " day to hour",
    3080: " day to minute",
    7176: " day to second",
    3072: " hour to minute",
    7168: " hour to second",
    6144: " minute to second",
}
_MAX_TIME_PRECISION = 6  # higher precisions are reduced with a mere WARNING: never converges
_MAX_LENGTH = 10 * 1024 * 1024


def canonical_type(text: str, enum_schema: Callable[[str], str | None]) -> str:
    """The format_type() spelling of `text`; `enum_schema(name)` qualifies bare enum names.

    Raises SqlTextError when `text` is not exactly one type name.
    """
    names, mods, array = _parse_type(text)
    if len(names) == 2 and names[0] != "pg_catalog":
        return _qualified(names[0], names[1], mods) + array
    name = names[-1]
    if name in _SERIALS:
        raise SqlTextError(SERIAL_MESSAGE)
    if name in _TYPMOD_TYPES:
        if not all(isinstance(m, int) for m in mods):
            raise SqlTextError(f"type modifiers must be integers (in '{text}')")
        return _builtin_with_typmods(name, list(mods), text) + array  # type: ignore[arg-type]
    if name in BUILTIN_TYPES:
        if mods:
            raise SqlTextError(f"type '{name}' does not take a modifier (in '{text}')")
        return _RENAMED.get(name, name) + array
    schema = enum_schema(name) if len(names) == 1 else None
    if schema is not None:
        return _qualified(schema, name, mods) + array
    return quote_ident(name) + _render_typmods(mods) + array


def type_names(text: str) -> tuple[str, ...]:
    """The name of a type text that passed canonical_type(), without modifiers or array
    bounds: ("schema", "name") or ("name",)."""
    return _parse_type(text)[0]


@lru_cache(maxsize=4096)  # column types repeat a lot; parsing is most of the loading time
def _parse_type(text: str) -> tuple[tuple[str, ...], tuple[int | str, ...], str]:
    """(names, modifiers as ints or rendered identifiers, "[]" or "") of one type name."""
    if not text.strip():
        raise SqlTextError("a column type must not be empty")
    _check_tokens(text, "type")
    try:
        stmts = parse_sql(f"SELECT NULL::{text}")
    except Exception as exc:  # pglast raises ParseError, but never let anything escape
        raise SqlTextError(f"'{text}' is not a type name ({parse_message(exc)})") from None
    cast = single_target(stmts, "type", text)
    if not isinstance(cast, ast.TypeCast) or not isinstance(cast.arg, ast.A_Const):
        raise SqlTextError(f"'{text}' is not a single type name")
    tn = cast.typeName
    if tn.setof or tn.pct_type:
        raise SqlTextError(f"'{text}' is not a column type")
    names = tuple(n.sval for n in tn.names)
    if len(names) > 2:
        raise SqlTextError(f"type '{text}' may have at most a schema qualifier")
    mods: list[int | str] = []
    for m in tn.typmods or ():
        if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer):
            mods.append(m.val.ival)
        elif isinstance(m, ast.ColumnRef) and all(isinstance(f, ast.String) for f in m.fields):
            mods.append(".".join(quote_ident(f.sval) for f in m.fields))
        else:
            raise SqlTextError(f"unsupported type modifier in '{text}'")
    return names, tuple(mods), "[]" if tn.arrayBounds else ""


def _qualified(schema: str, name: str, mods: tuple[int | str, ...]) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}" + _render_typmods(mods)


def _render_typmods(mods: tuple[int | str, ...]) -> str:
    """Modifiers of a non-builtin type (e.g. geometry(Point,4326)), as typmodout would."""
    return "(" + ",".join(str(m) for m in mods) + ")" if mods else ""


def _builtin_with_typmods(name: str, mods: list[int], text: str) -> str:
    def arity(*allowed: int) -> None:
        if len(mods) not in allowed:
            raise SqlTextError(f"wrong number of type modifiers in '{text}'")

    if name in ("varchar", "bpchar", "bit", "varbit"):
        arity(0, 1)
        base = {
            "varchar": "character varying",
            "bpchar": "character",
            "bit": "bit",
            "varbit": "bit varying",
        }[name]
        if not mods:
            return "bpchar" if name == "bpchar" else base  # bare bpchar: unlimited length
        if not 1 <= mods[0] <= _MAX_LENGTH:
            raise SqlTextError(f"length in '{text}' must be between 1 and {_MAX_LENGTH}")
        return f"{base}({mods[0]})"
    if name == "numeric":
        arity(0, 1, 2)
        if not mods:
            return "numeric"
        precision, scale = mods[0], (mods[1] if len(mods) == 2 else 0)
        if not 1 <= precision <= 1000 or not -1000 <= scale <= 1000:
            raise SqlTextError(f"numeric precision/scale out of range in '{text}'")
        return f"numeric({precision},{scale})"
    if name == "interval":
        arity(0, 1, 2)
        fields = _INTERVAL_FIELDS.get(mods[0]) if mods else ""
        if fields is None:
            raise SqlTextError(f"invalid interval fields in '{text}'")
        precision = f"({_precision(mods[1], text)})" if len(mods) == 2 else ""
        return f"interval{fields}{precision}"
    # time, timetz, timestamp, timestamptz
    arity(0, 1)
    base = "timestamp" if name.startswith("timestamp") else "time"
    zone = " with time zone" if name.endswith("tz") else " without time zone"
    precision = f"({_precision(mods[0], text)})" if mods else ""
    return f"{base}{precision}{zone}"


def _precision(value: int, text: str) -> int:
    if not 0 <= value <= _MAX_TIME_PRECISION:
        raise SqlTextError(
            f"precision in '{text}' must be between 0 and {_MAX_TIME_PRECISION} "
            "(Postgres would silently reduce it)"
        )
    return value


# --- expressions -------------------------------------------------------------------------------


def qualified_name(text: str, what: str) -> str:
    """A possibly schema-qualified name (operator class), rendered as Postgres prints it."""
    _check_tokens(text, what)
    try:
        stmt = parse_sql(f"CREATE INDEX i ON t (c {text})")
        names = [n.sval for n in stmt[0].stmt.indexParams[0].opclass]
    except Exception:
        raise SqlTextError(f"'{text}' is not a valid {what} name") from None
    if len(stmt) != 1 or len(names) > 2:
        raise SqlTextError(f"'{text}' is not a valid {what} name")
    if len(names) == 2 and names[0] == "pg_catalog":
        names = names[1:]
    return ".".join(quote_ident(n) for n in names)


def canonical_collation(text: str, schemas: Collection[str] = ()) -> str | None:
    """A collation as the catalog reads print it (`format('%I')`, schema-qualified outside
    pg_catalog); None for "default", which is what every collatable type starts with.

    Plain text is one exact collation name (`C`, `en_US.utf8`), unless what precedes its first
    dot is pg_catalog, public or one of `schemas` (`public.ci`); text holding a double quote is
    SQL (`public."My Coll"`, `"C"`), which is also how the exporter writes collations.
    """
    text = text.strip()
    head, dot, tail = text.partition(".")
    if '"' not in text and dot and head in {"pg_catalog", "public", *schemas}:
        text = f"{quote_ident(head)}.{quote_ident(tail)}"
    elif '"' not in text:
        problem = name_problem(text)
        if problem:
            raise SqlTextError(problem)
        return None if text == "default" else quote_ident(text)
    _check_tokens(text, "collation")
    try:
        value = single_target(parse_sql(f"SELECT NULL COLLATE {text}"), "collation", text)
        names = [n.sval for n in value.collname]
    except SqlTextError:
        raise
    except Exception:
        raise SqlTextError(f"'{text}' is not a collation name") from None
    if not isinstance(value.arg, ast.A_Const) or len(names) > 2:
        raise SqlTextError(f"'{text}' is not a collation name")
    if len(names) == 2 and names[0] == "pg_catalog":
        names = names[1:]
    if names == ["default"]:
        return None
    return ".".join(quote_ident(n) for n in names)


# --- helpers -----------------------------------------------------------------------------------


def check_tokens(text: str, what: str, *, allow_empty: bool = False) -> None:
    """Refuse ';', comments and unbalanced parentheses in SQL text spliced into a statement."""
    if not text.strip():
        if allow_empty:
            return
        raise SqlTextError(f"the {what} must not be empty")
    _check_tokens(text, what)


def _check_tokens(text: str, what: str) -> None:
    """Refuse comments and unbalanced parentheses, which could end the enclosing SQL."""
    if "\0" in text:
        raise SqlTextError(f"the {what} must not contain the NUL character")
    try:
        tokens = scan(text)
    except Exception as exc:
        raise SqlTextError(f"invalid SQL {what} '{text}': {parse_message(exc)}") from None
    depth = 0
    for tok in tokens:
        if tok.name in ("SQL_COMMENT", "C_COMMENT"):
            raise SqlTextError(f"SQL comments are not allowed in the {what} '{text}'")
        if tok.name == "ASCII_59":
            raise SqlTextError(f"';' is not allowed in the {what} '{text}'")
        depth += {"ASCII_40": 1, "ASCII_41": -1}.get(tok.name, 0)
        if depth < 0:
            break
    if depth != 0:
        raise SqlTextError(f"unbalanced parentheses in the {what} '{text}'")


def single_target(stmts, what: str = "expression", text: str = "") -> ast.Node:
    """The only target of a plain `SELECT x`, else SqlTextError."""
    sel = stmts[0].stmt if len(stmts) == 1 else None
    # Any other clause (FROM, WHERE, UNION, ...) set means the text escaped its parentheses;
    # every unset clause is falsy (None, False or a zero enum).
    if (
        isinstance(sel, ast.SelectStmt)
        and len(sel.targetList or ()) == 1
        and sel.targetList[0].name is None
        and not any(getattr(sel, a) for a in sel.__slots__ if a != "targetList")
    ):
        return sel.targetList[0].val
    if what == "type":
        raise SqlTextError(f"'{text}' is not a single type name")
    raise SqlTextError(f"the {what} '{text}' must be exactly one SQL expression")


def parse_message(exc: Exception) -> str:
    args = getattr(exc, "args", ())
    return str(args[0]) if args else type(exc).__name__
