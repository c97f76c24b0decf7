"""Changes of aggregates: create and drop (a changed aggregate is a drop and a create, refused
at plan time while something that stays uses it). The comment changes in place
(ops/pg/objects.py SetComment)."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg_aggregates import Aggregate
from reconciler.ops.base import Statement
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import guarded, ident, literal

_MODIFY = {"read_only": "READ_ONLY", "shareable": "SHAREABLE", "read_write": "READ_WRITE"}


def aggregate_options(a: Aggregate) -> list[str]:
    """The options of CREATE AGGREGATE, in the order of its documentation. Routine names are
    SQL already (quoted where needed), types checked at load or the server's own."""
    out = [f"SFUNC = {a.sfunc}", f"STYPE = {a.stype}"]
    if a.sspace:
        out.append(f"SSPACE = {int(a.sspace)}")
    if a.finalfunc is not None:
        out.append(f"FINALFUNC = {a.finalfunc}")
    if a.finalfunc_extra:
        out.append("FINALFUNC_EXTRA")
    if a.finalfunc_modify != "read_only":
        out.append(f"FINALFUNC_MODIFY = {_MODIFY[a.finalfunc_modify]}")
    for key, value in (
        ("COMBINEFUNC", a.combinefunc),
        ("SERIALFUNC", a.serialfunc),
        ("DESERIALFUNC", a.deserialfunc),
    ):
        if value is not None:
            out.append(f"{key} = {value}")
    if a.initcond is not None:
        out.append(f"INITCOND = {literal(a.initcond)}")
    for key, value in (("MSFUNC", a.msfunc), ("MINVFUNC", a.minvfunc), ("MSTYPE", a.mstype)):
        if value is not None:
            out.append(f"{key} = {value}")
    if a.msspace:
        out.append(f"MSSPACE = {int(a.msspace)}")
    if a.mfinalfunc is not None:
        out.append(f"MFINALFUNC = {a.mfinalfunc}")
    if a.mfinalfunc_extra:
        out.append("MFINALFUNC_EXTRA")
    if a.mfinalfunc_modify != "read_only":
        out.append(f"MFINALFUNC_MODIFY = {_MODIFY[a.mfinalfunc_modify]}")
    if a.minitcond is not None:
        out.append(f"MINITCOND = {literal(a.minitcond)}")
    if a.sortop is not None:
        out.append(f"SORTOP = OPERATOR({a.sortop})" if "." in a.sortop else f"SORTOP = {a.sortop}")
    if a.parallel != "unsafe":
        out.append(f"PARALLEL = {a.parallel.upper()}")
    return out


def aggregate_sql(a: Aggregate, *, schema: str | None = None) -> str:
    """CREATE AGGREGATE; `schema`: in another schema (the planner's probe)."""
    arguments = a.arguments or "*"
    options = ",\n    ".join(aggregate_options(a))
    return f"CREATE AGGREGATE {ident(schema or a.schema, a.name)} ({arguments}) (\n    {options}\n)"


def signature(a: Aggregate) -> str:
    """`schema.name(types)`, as DROP and COMMENT name an ordinary aggregate."""
    return f"{ident(a.schema, a.name)}({a.types or '*'})"


@dataclass(frozen=True, slots=True)
class CreateAggregate(CreateWhole):
    aggregate: Aggregate
    deps: frozenset[Address] = frozenset()

    def statements(self) -> list[Statement]:
        a = self.aggregate
        # no CREATE AGGREGATE IF NOT EXISTS: a second run of the file finds it there
        out = [Statement(guarded(aggregate_sql(a), "duplicate_function"))]
        if a.comment is not None:
            out.append(Statement(f"COMMENT ON AGGREGATE {signature(a)} IS {literal(a.comment)}"))
        return out

    def describe(self) -> str:
        return f"aggregate ({self.aggregate.arguments or '*'})"


@twin_of(CreateAggregate)
@dataclass(frozen=True, slots=True)
class DropAggregate(DropWhole):
    """RESTRICT: Postgres refuses it while a view or another object uses the aggregate (the
    diff orders the plan's own drops of those first, and refuses one that stays)."""

    aggregate: Aggregate
    deps: frozenset[Address] = frozenset()

    def statements(self) -> list[Statement]:
        return [Statement(f"DROP AGGREGATE IF EXISTS {signature(self.aggregate)} RESTRICT")]

    def describe(self) -> str:
        return "aggregate"
