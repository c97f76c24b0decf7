"""ALTER DEFAULT PRIVILEGES: what one role is given on the objects of one kind another role
creates (in one schema, or anywhere in the database)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.model.address import Address
from reconciler.model.pg_grants import DefaultGrant
from reconciler.ops.base import Action, Change, Statement
from reconciler.sql.render import ident


def default_grant_statements(old: DefaultGrant, new: DefaultGrant) -> list[Statement]:
    """The ALTER DEFAULT PRIVILEGES … GRANT / REVOKE turning `old` into `new`."""
    head = f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(new.role)}"
    if new.schema:
        head += f" IN SCHEMA {ident(new.schema)}"
    on, to = new.on.upper(), "PUBLIC" if new.grantee == "public" else ident(new.grantee)

    def names(privileges: list[str]) -> str:
        return ", ".join(p.upper() for p in privileges)

    out = []
    if removed := [p for p in old.privileges if p not in new.privileges]:
        out.append(f"{head} REVOKE {names(removed)} ON {on} FROM {to}")
    lost = [p for p in old.grantable if p in new.privileges and p not in new.grantable]
    if lost:
        out.append(f"{head} REVOKE GRANT OPTION FOR {names(lost)} ON {on} FROM {to}")
    plain = [p for p in new.privileges if p not in old.privileges and p not in new.grantable]
    if plain:
        out.append(f"{head} GRANT {names(plain)} ON {on} TO {to}")
    if option := [p for p in new.grantable if p not in old.grantable]:
        out.append(f"{head} GRANT {names(option)} ON {on} TO {to} WITH GRANT OPTION")
    return [Statement(text) for text in out]


@dataclass(frozen=True, slots=True)
class ChangeDefaultGrant(Change):
    """What `new.grantee` is given by default, from `old` (what it is given now) to `new`.
    It runs before the creation of the plan's new objects in `precedes` (they are given what
    the desired state says) and after that of the new schemas in `follows` (its own schema;
    for ON SCHEMAS, every new schema: they are made under the defaults the plan found)."""

    old: DefaultGrant
    new: DefaultGrant
    precedes: tuple[str, ...] = ()
    follows: tuple[str, ...] = ()
    # in a schema the plan creates: the way back drops the schema, which takes them along (an
    # ALTER DEFAULT PRIVILEGES before it fails on a second run of the file, the schema gone)
    fresh: bool = False
    action = Action.ALTER
    early = True  # before the creates in `precedes` (uses_what_it_makes), never after a drop

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        return default_grant_statements(self.old, self.new)

    def reverse(self) -> Change:
        if self.fresh:
            return DefaultGrantsGoWith(self.new)
        return ChangeDefaultGrant(self.new, self.old)  # a down file runs in reverse order

    def uses_what_it_makes(self, other: Change) -> bool:
        """Whether `other` creates an object its default privileges are given to."""
        parts = other.address.parts
        if other.action is not Action.CREATE or other.kind == "schema" or len(parts) < 3:
            return False
        return parts[2] in self.precedes

    def depends_on(self) -> frozenset[Address]:
        return frozenset(Address.of("pg", "schema", s) for s in self.follows)

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
        where = f" in schema {self.new.schema}" if self.new.schema else ""
        what = f"the {self.new.on} {self.new.role} creates{where}"
        return f"{self.new.grantee} is given {held} on {what}"


@dataclass(frozen=True, slots=True)
class DefaultGrantsGoWith(Change):
    """Default privileges given in a schema the plan drops: DROP SCHEMA takes them (nothing
    to run), and the rollback, once the schema is back, gives them again."""

    held: DefaultGrant
    action = Action.DROP

    @property
    def address(self) -> Address:
        return self.held.address

    def describe(self) -> str:
        return "default privileges in a schema that is dropped (given back on rollback)"

    def statements(self) -> list[Statement]:
        return []

    def reverse(self) -> Change:
        unset = replace(self.held, privileges=self.held.default_holding(), grantable=())
        schema = (self.held.schema,)
        return ChangeDefaultGrant(unset, self.held, schema, schema, fresh=True)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        return frozenset({Address.of("pg", "schema", self.held.schema)})
