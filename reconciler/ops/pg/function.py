"""Changes of functions and procedures: create, drop, and CREATE OR REPLACE when the
signature allows it (otherwise the diff drops and creates)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg_grants import Grant
from reconciler.model.pg_objects import Function
from reconciler.ops.base import Action, Change, Statement
from reconciler.ops.pg.grant import grant_statements
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import dollar_quote, guarded, ident, literal

# Bodies are validated when the function runs, as pg_dump does: a function may then be created
# before the tables its body reads (and the tables whose defaults call it after it).
NO_BODY_CHECK = Statement("SET LOCAL check_function_bodies = off")

# Settings whose value is a list: each element is quoted on its own, as the server stores it.
_LIST_SETTINGS = frozenset({"search_path", "temp_tablespaces", "session_preload_libraries"})


def _setting(entry: str) -> str:
    name, _, value = entry.partition("=")
    if value == '""':  # an empty list, as the catalog keeps `SET search_path = ''`
        return f"SET {ident(name)} TO ''"
    if name.lower() in _LIST_SETTINGS:
        rendered = ", ".join(literal(v.strip()) for v in value.split(","))
    else:
        rendered = literal(value)
    return f"SET {ident(name)} TO {rendered}"


def function_sql(f: Function, *, replace: bool = False, schema: str | None = None) -> str:
    head = "CREATE OR REPLACE" if replace else "CREATE"
    lines = [f"{head} {f.kind.upper()} {ident(schema or f.schema, f.name)}({f.arguments})"]
    if not f.is_procedure:
        lines.append(f"RETURNS {f.returns}")
    lines.append(f"LANGUAGE {ident(f.language)}")
    if not f.is_procedure:
        lines.append(f.volatility.upper())
        lines.append("STRICT" if f.strict else "CALLED ON NULL INPUT")
        lines.append("LEAKPROOF" if f.leakproof else "NOT LEAKPROOF")
        lines.append(f"PARALLEL {f.parallel.upper()}")
    lines.append("SECURITY DEFINER" if f.security_definer else "SECURITY INVOKER")
    if f.cost is not None:
        lines.append(f"COST {f.cost}")
    if f.rows is not None:
        lines.append(f"ROWS {f.rows}")
    lines += [_setting(c) for c in f.config]
    if f.sql_body:
        # RETURN … / BEGIN ATOMIC … END, checked at load to be exactly that (one statement);
        # a trailing line comment must not swallow what a caller writes after it (`;`)
        body = f.body.strip()
        lines.append(body + "\n" if "--" in body.rsplit("\n", 1)[-1] else body)
    else:
        lines.append(f"AS {dollar_quote(f.body, 'body')}")
    return "\n".join(lines)


def signature_sql(f: Function) -> str:
    return f"{f.kind.upper()} {ident(f.schema, f.name)}({f.types})"


def _comment(f: Function) -> list[Statement]:
    if f.comment is None:
        return []
    return [Statement(f"COMMENT ON {signature_sql(f)} IS {literal(f.comment)}")]


def _grants(
    grants: tuple[Grant, ...], given: tuple[Grant, ...] | None, unsure: tuple[Grant, ...]
) -> list[Statement]:
    """What each role held on a routine, given again after its creation. That gives what
    `given` says (Postgres' defaults and the creating role's default privileges; None: the
    defaults alone, PUBLIC's EXECUTE), of which `unsure` only perhaps (a down file may run
    before or after default privileges are given back): those are granted again where held.
    With `given`, a role `grants` does not name is left holding nothing."""
    if given is None:
        given = tuple(
            replace(g, privileges=("execute",), grantable=()) for g in grants if g.role == "public"
        )
        named: set[str] | None = None
    else:
        named = {g.role for g in grants}
    at = {g.role: g for g in given}
    perhaps = {g.role: g for g in unsure}
    out: list[Statement] = []
    for g in grants:
        start = at.get(g.role, replace(g, privileges=(), grantable=()))
        u = perhaps.get(g.role, replace(g, privileges=(), grantable=()))
        privileges = [p for p in start.privileges if p not in u.privileges or p not in g.privileges]
        option = [p for p in start.grantable if p not in u.grantable or p not in g.grantable]
        start = replace(g, privileges=tuple(privileges), grantable=tuple(option))
        out += grant_statements(start, g)
    for role, start in at.items():
        if named is not None and role not in named:
            out += grant_statements(start, replace(start, privileges=(), grantable=()))
    return out


@dataclass(frozen=True, slots=True)
class CreateFunction(CreateWhole):
    """`grants`: what roles held on it before the plan dropped it to create it again (or, in
    a down file, before the plan dropped it), given back right after its creation; `given`
    and `unsure`: what roles are given as it is created (see _grants)."""

    function: Function
    deps: frozenset[Address] = frozenset()
    grants: tuple[Grant, ...] = ()
    given: tuple[Grant, ...] | None = None
    unsure: tuple[Grant, ...] = ()
    # the routine of its name with another signature that the plan drops: created after that
    # drop (a call that fits both would be ambiguous while both exist), and what calls it by
    # name is made again after this one
    replaces: Address | None = None

    def provides(self) -> frozenset[Address]:
        return frozenset({self.address, *((self.replaces,) if self.replaces else ())})

    def statements(self) -> list[Statement]:
        f = self.function
        create = guarded(function_sql(f), "duplicate_function")
        owned = []
        if f.owner is not None:  # made again: owned as before, SECURITY DEFINER included
            signature = f"{f.kind.upper()} {ident(f.schema, f.name)}({f.types})"
            owned = [Statement(f"ALTER {signature} OWNER TO {ident(f.owner)}")]
        grants = _grants(self.grants, self.given, self.unsure)
        return [NO_BODY_CHECK, Statement(create), *owned, *_comment(f), *grants]

    def describe(self) -> str:
        return f"{self.function.kind} in {self.function.language}"


@twin_of(CreateFunction, renamed={"replaces": "replaced_by"})
@dataclass(frozen=True, slots=True)
class DropFunction(DropWhole):
    """`grants`: what roles hold on it, given back when its reverse creates it again (under
    `given` and `unsure`, as CreateFunction)."""

    function: Function
    deps: frozenset[Address] = frozenset()
    grants: tuple[Grant, ...] = ()
    given: tuple[Grant, ...] | None = None
    unsure: tuple[Grant, ...] = ()
    replaced_by: Address | None = None  # see CreateFunction.replaces: its way back waits

    def statements(self) -> list[Statement]:
        f = self.function
        return [Statement(f"DROP {f.kind.upper()} IF EXISTS {ident(f.schema, f.name)}({f.types})")]

    def describe(self) -> str:
        return self.function.kind


@dataclass(frozen=True, slots=True)
class ReplaceFunction(Change):
    old: Function
    new: Function
    deps: frozenset[Address] = frozenset()
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        out = [NO_BODY_CHECK, Statement(function_sql(self.new, replace=True))]
        if self.new.comment != self.old.comment:
            value = "NULL" if self.new.comment is None else literal(self.new.comment)
            out.append(Statement(f"COMMENT ON {signature_sql(self.new)} IS {value}"))
        return out

    def reverse(self) -> Change:
        return ReplaceFunction(self.new, self.old, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return self.deps

    def details(self) -> list[dict]:
        return attribute_changes(self.old, self.new)

    def describe(self) -> str:
        changed = [d["attribute"] for d in self.details()]
        return f"{self.new.kind}: " + ", ".join(changed)


@dataclass(frozen=True, slots=True)
class UnsetDefault(DropWhole):
    """A column default calling a routine that is dropped to be created again, set aside
    before the drop (SetDefault puts the desired one back after the creation). Its address
    is the default's own, so nothing else waits on it."""

    schema: str
    table: str
    column: str
    default: str
    deps: frozenset[Address] = frozenset()

    @property
    def address(self) -> Address:
        return Address.of("pg", "default", self.schema, self.table, self.column)

    def statements(self) -> list[Statement]:
        table, column = ident(self.schema, self.table), ident(self.column)
        return [Statement(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")]

    def describe(self) -> str:
        return "column default, set aside while the routine it calls is made again"


@twin_of(UnsetDefault)
@dataclass(frozen=True, slots=True)
class SetDefault(CreateWhole):
    """The column default UnsetDefault set aside, given back."""

    schema: str
    table: str
    column: str
    default: str
    deps: frozenset[Address] = frozenset()

    @property
    def address(self) -> Address:
        return Address.of("pg", "default", self.schema, self.table, self.column)

    def statements(self) -> list[Statement]:
        table, column = ident(self.schema, self.table), ident(self.column)
        return [Statement(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {self.default}")]

    def describe(self) -> str:
        return "column default, given back"
