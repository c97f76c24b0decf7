"""Grants as export writes them: `grants:` of each object, `sequence_grants:` of columns,
PUBLIC's on types and routines, and `default_privileges:`.

Owns: `Lookup` (what belongs to each object — indexes, triggers, policies, grants — grouped
in one pass over the snapshot) and the grant entries. Must not: write files (write.py).
"""

from __future__ import annotations

from typing import Any

from reconciler.export.pg.yamlfile import drop_none
from reconciler.model.names import make_object_name, split_qualified
from reconciler.model.pg import Table
from reconciler.model.pg_grants import Grant
from reconciler.model.pg_objects import Trigger
from reconciler.model.snapshot import PgSnapshot


def grants_document(grants: list[Grant]) -> list[dict[str, Any]]:
    """`grants:` entries of one object; a role's column privileges held alike share one."""
    merged: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
    out: list[dict[str, Any]] = []
    for g in sorted(grants, key=lambda g: (g.role, g.column or "")):
        if g.column is None:
            out.append(grant_entry(g.role, g.privileges, g.grantable, None))
        else:
            merged.setdefault((g.role, g.privileges, g.grantable), []).append(g.column)
    out += [grant_entry(r, p, o, cols) for (r, p, o), cols in merged.items()]
    return out


def grant_entry(
    role: str, privileges: tuple[str, ...], grantable: tuple[str, ...], columns: list[str] | None
) -> dict[str, Any]:
    option: bool | list[str] | None = None
    if grantable:
        option = True if grantable == privileges else list(grantable)
    # `privileges: []` is kept: it says the role holds nothing (PUBLIC on a routine)
    rest = drop_none({"columns": columns, "with_grant_option": option})
    return {"role": role, "privileges": list(privileges), **rest}


def add_sequence_grants(look: Lookup, t: Table, doc: dict[str, Any]) -> None:
    """`sequence_grants:` on each column whose owned (serial) or identity sequence has grants
    (an identity's by the name a CREATE gives it: introspection reports others unsupported)."""
    for c, entry in zip(t.columns, doc.get("columns", ()), strict=False):
        names = split_qualified(c.sequence) if c.sequence else ()
        if c.identity:
            names = (t.schema, make_object_name(t.name, c.name, "seq"))
        if len(names) == 2 and (grants := grants_document(look.grants(("sequence",), *names))):
            entry["sequence_grants"] = grants


def add_type_grants(look: Lookup, schema: str, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    """`grants:` of a type, PUBLIC's always when read from a database (CREATE TYPE gives it
    USAGE: a live type without it had it taken away; a desired one leaves PUBLIC alone)."""
    grants = grants_document(look.grants(("type",), schema, name))
    if look.live and not any(g["role"] == "public" for g in grants):  # USAGE taken away
        grants.append(grant_entry("public", (), (), None))
    if grants:
        doc["grants"] = grants
    return doc


class Lookup:
    """What belongs to each object, grouped in one pass (a scan per object is quadratic)."""

    def __init__(self, snap: PgSnapshot) -> None:
        # An index left invalid by an interrupted build serves no query: not exported. (A
        # partitioned table's is invalid until every partition has one attached: exported.)
        parted = {k for k, t in snap.tables.items() if t.partition_by is not None}
        self.indexes = {
            key: [ix for ix in found if ix.valid or key in parted]
            for key, found in snap.indexes_by_table().items()
        }
        self.triggers: dict[tuple[str, str], list[Trigger]] = {}
        for (schema, table, _), tg in snap.triggers.items():
            self.triggers.setdefault((schema, table), []).append(tg)
        self.policies: dict[tuple[str, str], list[Any]] = {}
        for (schema, table, _), p in snap.policies.items():
            self.policies.setdefault((schema, table), []).append(p)
        self.live = bool(snap.creator)  # read from a database (introspect sets who read it)
        self._grants: dict[tuple[str, str], list[Grant]] = {}
        for g in snap.grants.values():
            self._grants.setdefault((g.schema, g.name), []).append(g)

    def grants(self, on: tuple[str, ...], schema: str, name: str) -> list[Grant]:
        return [g for g in self._grants.get((schema, name), ()) if g.on in on]


def default_privileges_document(snap: PgSnapshot) -> list[dict[str, Any]]:
    """`default_privileges:` entries, one per (creating role, schema, kind)."""
    entries: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for d in snap.default_grants.values():
        entry = grant_entry(d.grantee, d.privileges, d.grantable, None)
        entries.setdefault((d.role, d.schema, d.on), []).append(entry)
    return [
        drop_none({"for_role": role, "schema": schema or None, "on": on, "grants": grants})
        | {"grants": grants}
        for (role, schema, on), grants in entries.items()
    ]
