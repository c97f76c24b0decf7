"""Privileges: what one role holds on one object, changed by GRANT and REVOKE. Only the
roles the desired state names for an object are ever touched (see model.pg.Grant)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.model.address import Address
from reconciler.model.pg_grants import Grant
from reconciler.ops.base import Action, Change, Statement
from reconciler.sql.render import ident

_TYPE_KINDS = ("enum", "domain", "composite_type")


def _object_sql(g: Grant) -> str:
    if g.on == "schema":
        return f"SCHEMA {ident(g.name)}"
    if g.on == "function":
        name, types = g.routine
        return f"ROUTINE {ident(g.schema, name)}({types})"
    if g.on == "type":
        return f"TYPE {ident(g.schema, g.name)}"  # a domain too
    if g.on == "sequence":
        return f"SEQUENCE {ident(g.schema, g.name)}"
    return f"TABLE {ident(g.schema, g.name)}"


def _privileges_sql(g: Grant, privileges: list[str]) -> str:
    column = f" ({ident(g.column)})" if g.column else ""
    return ", ".join(p.upper() + column for p in privileges)


def _role_sql(g: Grant) -> str:
    return "PUBLIC" if g.role == "public" else ident(g.role)


def grant_statements(old: Grant, new: Grant) -> list[Statement]:
    """GRANT / REVOKE turning what `old` holds into what `new` holds."""
    target, role = _object_sql(new), _role_sql(new)
    out = []
    removed = [p for p in old.privileges if p not in new.privileges]
    if removed:
        out.append(f"REVOKE {_privileges_sql(new, removed)} ON {target} FROM {role}")
    lost_option = [p for p in old.grantable if p in new.privileges and p not in new.grantable]
    if lost_option:
        privileges = _privileges_sql(new, lost_option)
        out.append(f"REVOKE GRANT OPTION FOR {privileges} ON {target} FROM {role}")
    plain = [p for p in new.privileges if p not in old.privileges and p not in new.grantable]
    if plain:
        out.append(f"GRANT {_privileges_sql(new, plain)} ON {target} TO {role}")
    option = [p for p in new.grantable if p not in old.grantable]
    if option:
        privileges = _privileges_sql(new, option)
        out.append(f"GRANT {privileges} ON {target} TO {role} WITH GRANT OPTION")
    return [Statement(text) for text in out]


@dataclass(frozen=True, slots=True)
class ChangeGrant(Change):
    old: Grant  # what the role holds now (no privileges when it holds none)
    new: Grant
    # on an object the plan creates (`old`: what it holds as made): the way back drops the
    # object, which takes the privileges along (a REVOKE before it would fail on a second run
    # of the file, the object gone)
    fresh: bool = False
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        return grant_statements(self.old, self.new)

    def reverse(self) -> Change:
        if self.fresh:
            return GrantsGoWith(self.new, self.old.privileges, self.old.grantable)
        return ChangeGrant(self.new, self.old)

    def provides(self) -> frozenset[Address]:
        # A table-level REVOKE takes the role's column privileges too: a column grant of the
        # same role runs after it (depends_on).
        return frozenset({self.new.address}) if self.new.on == "table" else frozenset()

    def depends_on(self) -> frozenset[Address]:
        g = self.new
        deps = {g.object_address}
        if g.on == "function":  # the same signature may be a procedure
            deps.add(Address.of("pg", "procedure", *g.object_address.parts[2:]))
        if g.on == "type":  # whichever kind of type it is
            deps |= {Address.of("pg", k, g.schema, g.name) for k in _TYPE_KINDS}
        if g.on == "column":
            deps.add(Address.of("pg", "table", g.schema, g.name))
            deps.add(Address.of("pg", "grant", "table", g.schema, g.name, g.role))
        return frozenset(deps)

    def details(self) -> list[dict]:
        return [
            {
                "attribute": "privileges",
                "old": list(self.old.privileges),
                "new": list(self.new.privileges),
            }
        ]

    def describe(self) -> str:
        held = ", ".join(self.new.privileges) or "nothing"
        return f"{self.new.role} holds {held}"


@dataclass(frozen=True, slots=True)
class GrantsGoWith(Change):
    """What a role held on an object the plan drops: the drop takes it (nothing to run), and
    the rollback, once the object is back, grants it again."""

    held: Grant
    fresh: tuple[str, ...] = ()  # what the role may hold on the object as made again
    fresh_grantable: tuple[str, ...] = ()  # of those, WITH GRANT OPTION
    # what drops the object with it (a sequence's table or column): this comes before it, so
    # the rollback grants once it is back
    owner: Address | None = None
    action = Action.DROP

    @property
    def address(self) -> Address:
        return self.held.address

    def describe(self) -> str:
        return "privileges held on an object that is dropped (granted back on rollback)"

    def statements(self) -> list[Statement]:
        return []

    def reverse(self) -> Change:
        # `fresh` may hold more than the object is given (see diff.grants): what the role
        # holds is made exact whatever it was given — revoke the rest, grant all it held
        extra = tuple(p for p in self.fresh if p not in self.held.privileges)
        option = tuple(p for p in self.fresh_grantable if p not in self.held.grantable)
        held = replace(self.held, privileges=extra, grantable=option)
        return ChangeGrant(held, self.held, fresh=True)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        deps = ChangeGrant(self.held, self.held).depends_on()
        return deps | {self.owner} if self.owner else deps
