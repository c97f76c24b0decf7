"""Privileges: what a role holds on an object (Grant), what it is given by default on the
objects another role creates (DefaultGrant, ALTER DEFAULT PRIVILEGES), and what Postgres gives
as an object is created (created_grants). Same rules as model/pg.py (exact catalog names,
privileges sorted and in lower case).

Owns: the privilege values and the privilege names per kind of object (PRIVILEGES).
Must not: render GRANT / REVOKE (ops/pg/grant.py, ops/pg/default_grant.py) or decide what
changed (diff/grants.py, diff/default_grants.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.model.address import Address
from reconciler.model.pg import reduce_by_fields

PRIVILEGES = {
    "table": ("select", "insert", "update", "delete", "truncate", "references", "trigger"),
    "column": ("select", "insert", "update", "references"),
    "sequence": ("usage", "select", "update"),
    "schema": ("usage", "create"),
    "function": ("execute",),
    "type": ("usage",),  # enums, domains, composite types
}

# What a role holds on an object as CREATE makes it (acldefault), besides its owner: PUBLIC's
# EXECUTE on a routine, USAGE on a type.
CREATED_PUBLIC = {"function": ("execute",), "type": ("usage",)}


@dataclass(frozen=True, slots=True)
class Grant:
    """The privileges one role (`public` for PUBLIC) holds on one object. `on` is table (also
    views), column, sequence, schema, function or type (enum, domain, composite); `name` is a
    function's `name(types)`, and `column` is set for a column. Only roles the desired state
    names for an object are compared: every other role's privileges there are left as they
    are."""

    on: str
    schema: str
    name: str
    column: str | None
    role: str
    privileges: tuple[str, ...] = ()  # sorted, lower case
    grantable: tuple[str, ...] = ()  # those held WITH GRANT OPTION
    source: str | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.on, self.schema, self.name, self.column or "", self.role)

    @property
    def routine(self) -> tuple[str, str]:
        """(name, argument types) of a routine's grant, whose `name` is `name(types)`: split
        at the parenthesis that opens the types (the name, unquoted, may hold one too; the
        types are quoted where they need it)."""
        return split_signature(self.name)

    @property
    def object_address(self) -> Address:
        if self.on == "schema":
            return Address.of("pg", "schema", self.name)
        if self.on == "function":
            return Address.of("pg", "function", self.schema, *self.routine)
        if self.on == "column":
            return Address.of("pg", "column", self.schema, self.name, self.column or "")
        kind = {"sequence": "sequence", "type": "type"}.get(self.on, "table")
        return Address.of("pg", kind, self.schema, self.name)

    @property
    def address(self) -> Address:
        return Address.of("pg", "grant", *self.object_address.parts[1:], self.role)


def split_signature(text: str) -> tuple[str, str]:
    """`name(types)` → (name, types), scanning from the end: a `(` inside the quoted name of
    a type does not open the list, one in the routine's (unquoted) name is never reached."""
    quoted = False
    for i in range(len(text) - 2, -1, -1):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif ch == "(" and not quoted:
            return text[:i], text[i + 1 : -1]
    return text, ""


# ALTER DEFAULT PRIVILEGES … ON <word>: the kind of Grant (PRIVILEGES) each word is about, and
# pg_default_acl.defaclobjtype for it. ON TABLES covers views too, ON FUNCTIONS procedures.
DEFAULT_KINDS = {"tables": "table", "sequences": "sequence", "functions": "function"}
DEFAULT_KINDS |= {"types": "type", "schemas": "schema"}


@dataclass(frozen=True, slots=True)
class DefaultGrant:
    """ALTER DEFAULT PRIVILEGES: what `grantee` (`public` for PUBLIC) holds on each object of
    kind `on` (tables, sequences, functions, types, schemas) that `role` creates in `schema`
    (`""`: anywhere in the database). Kept as what the grantee is given, whole: a live one
    appears only where that differs from `default_holding`, so a database-wide entry that
    takes PUBLIC's EXECUTE away is PUBLIC holding nothing."""

    role: str
    schema: str
    on: str
    grantee: str
    privileges: tuple[str, ...] = ()  # sorted, lower case
    grantable: tuple[str, ...] = ()
    source: str | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.role, self.schema, self.on, self.grantee)

    @property
    def address(self) -> Address:
        return Address.of(
            "pg", "default_privileges", self.role, self.schema or "*", self.on, self.grantee
        )

    def default_holding(self) -> tuple[str, ...]:
        """What the grantee is given with no entry: database-wide, Postgres' built-in default
        (acldefault: the creating role everything, PUBLIC EXECUTE on functions and USAGE on
        types); in a schema nothing (a schema's entry only adds to the database-wide one)."""
        kind = DEFAULT_KINDS[self.on]
        if self.schema:
            return ()
        if self.grantee == self.role:
            return PRIVILEGES[kind]
        return CREATED_PUBLIC.get(kind, ()) if self.grantee == "public" else ()


def created_grants(
    defaults: Iterable[DefaultGrant], creator: str, kind: str, schema: str
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """role → (privileges, grantable) that each role but `creator` holds on an object of
    `kind` (a Grant's: table, sequence, function, type, schema) as `creator` creates it in
    `schema` (a schema: its name): the database-wide default privileges, or Postgres'
    built-in ones, merged with those of the schema (as Postgres' get_user_default_acl)."""
    on = next(word for word, k in DEFAULT_KINDS.items() if k == kind)
    out: dict[str, tuple[set[str], set[str]]] = {}
    public = CREATED_PUBLIC.get(kind, ())
    if public:
        out["public"] = (set(public), set())
    entries = [d for d in defaults if (d.role, d.on) == (creator, on)]
    for d in sorted(entries, key=lambda d: d.schema):  # database-wide ("") first
        if d.schema and d.schema != schema:
            continue
        held = out.setdefault(d.grantee, (set(), set()))
        if not d.schema:  # the database-wide entry replaces the built-in default
            held[0].clear()
            held[1].clear()
        held[0].update(d.privileges)
        held[1].update(d.grantable)
    return {
        role: (tuple(sorted(p)), tuple(sorted(g)))
        for role, (p, g) in sorted(out.items())
        if role != creator and p
    }


for _cls in (Grant, DefaultGrant):
    _cls.__reduce__ = reduce_by_fields  # type: ignore[method-assign]
