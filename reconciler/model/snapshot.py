"""Snapshot: one whole state (desired or live) of the Postgres part, normalized and fingerprinted.

normalize() makes order-insensitive collections (constraints) sorted by name so that two
snapshots of the same state compare equal whatever order their producer used. Column order is
significant (it is the table's physical order) and is kept.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

from reconciler.model.pg import Enum, Extension, Index, Schema, Table
from reconciler.model.pg_aggregates import Aggregate
from reconciler.model.pg_grants import DefaultGrant, Grant
from reconciler.model.pg_objects import (
    Collation,
    CompositeType,
    Domain,
    Function,
    Policy,
    Sequence,
    Trigger,
    View,
)
from reconciler.model.pg_rules import Rule


@functools.cache
def _compared_fields(cls: type) -> tuple[str, ...] | None:
    """The fields of a dataclass that take part in equality; None for any other type."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls) if f.compare)


# Values that are their own plain form: returned where they are met, without a call (most of
# a model value's fields are one of these, and an apply records thousands of values).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def value_dict(obj: Any) -> Any:
    """A plain JSON-able form of a model value, without compare=False fields."""
    cls = type(obj)
    if cls in _PLAIN:
        return obj
    names = _compared_fields(cls)  # per class, once
    if names is not None:
        out = {}
        for name in names:
            v = getattr(obj, name)
            out[name] = v if type(v) in _PLAIN else value_dict(v)
        return out
    if isinstance(obj, tuple | list):
        return [v if type(v) in _PLAIN else value_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): v if type(v) in _PLAIN else value_dict(v) for k, v in obj.items()}
    return obj


def _by_name(items: tuple[Any, ...]) -> tuple[Any, ...]:
    names = [c.name for c in items]
    return items if names == sorted(names) else tuple(sorted(items, key=lambda c: c.name))


def _sorted_constraints(t: Table) -> Table:
    """`t` with its constraints sorted by name; `t` itself when they already are (the usual
    case: the loader and the introspector both produce them sorted)."""
    uniques, checks, fks = _by_name(t.uniques), _by_name(t.checks), _by_name(t.foreign_keys)
    exclusions = _by_name(t.exclusions)
    given = (t.uniques, t.checks, t.foreign_keys, t.exclusions)
    if all(a is b for a, b in zip((uniques, checks, fks, exclusions), given, strict=True)):
        return t
    return dataclasses.replace(
        t, uniques=uniques, checks=checks, foreign_keys=fks, exclusions=exclusions
    )


@dataclass(frozen=True, slots=True)
class PgSnapshot:
    schemas: dict[str, Schema] = field(default_factory=dict)
    extensions: dict[str, Extension] = field(default_factory=dict)
    enums: dict[tuple[str, str], Enum] = field(default_factory=dict)
    tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    indexes: dict[tuple[str, str], Index] = field(default_factory=dict)
    views: dict[tuple[str, str], View] = field(default_factory=dict)
    functions: dict[tuple[str, str, str], Function] = field(default_factory=dict)  # name, types
    triggers: dict[tuple[str, str, str], Trigger] = field(default_factory=dict)  # table, name
    policies: dict[tuple[str, str, str], Policy] = field(default_factory=dict)  # table, name
    sequences: dict[tuple[str, str], Sequence] = field(default_factory=dict)
    collations: dict[tuple[str, str], Collation] = field(default_factory=dict)
    domains: dict[tuple[str, str], Domain] = field(default_factory=dict)
    composites: dict[tuple[str, str], CompositeType] = field(default_factory=dict)
    grants: dict[tuple[str, str, str, str, str], Grant] = field(default_factory=dict)
    # ALTER DEFAULT PRIVILEGES, by (creating role, schema or "", on, grantee); `creator`: the
    # role a live snapshot was read as, who owns what a plan made from it creates (part of
    # the fingerprint only where default privileges make it matter)
    default_grants: dict[tuple[str, str, str, str], DefaultGrant] = field(default_factory=dict)
    rules: dict[tuple[str, str, str], Rule] = field(default_factory=dict)  # table, name
    aggregates: dict[tuple[str, str, str], Aggregate] = field(default_factory=dict)  # name, types
    creator: str = field(default="", repr=False, compare=False)
    # Live objects in scope the model cannot express yet, as (kind, name), sorted. Never
    # planned, never exported, always reported ("unsupported: <kind> <name>").
    unsupported: tuple[tuple[str, str], ...] = ()
    # What those objects need of the modelled ones (pg_depend), as address strings:
    # (kind, name, address, "") an unsupported object needs `address`; ("", "", address, via)
    # the modelled object `via` needs `address`, which matters once `via` is kept for an
    # unsupported object's sake. Nothing needed may be dropped or broken (diff/unmodeled.py).
    needs: tuple[tuple[str, str, str, str], ...] = ()

    def normalize(self) -> PgSnapshot:
        tables = {key: _sorted_constraints(t) for key, t in self.tables.items()}
        return PgSnapshot(
            schemas=dict(sorted(self.schemas.items())),
            extensions=dict(sorted(self.extensions.items())),
            enums=dict(sorted(self.enums.items())),
            tables=dict(sorted(tables.items())),
            indexes=dict(sorted(self.indexes.items())),
            views=dict(sorted(self.views.items())),
            functions=dict(sorted(self.functions.items())),
            triggers=dict(sorted(self.triggers.items())),
            policies=dict(sorted(self.policies.items())),
            sequences=dict(sorted(self.sequences.items())),
            collations=dict(sorted(self.collations.items())),
            domains=dict(sorted(self.domains.items())),
            composites=dict(sorted(self.composites.items())),
            grants=dict(sorted(self.grants.items())),
            default_grants=dict(sorted(self.default_grants.items())),
            rules=dict(sorted(self.rules.items())),
            aggregates=dict(sorted(self.aggregates.items())),
            creator=self.creator,
            unsupported=tuple(sorted(self.unsupported)),
            needs=tuple(sorted(self.needs)),
        )

    def fingerprint(self) -> str:
        """sha256 of the normalized value's repr: equal states, equal digests.

        repr of frozen dataclasses, tuples and sorted dicts is deterministic and six times
        cheaper than building JSON; the digest is only ever compared with digests made by the
        same model (a plan records the one of the live state it was made from).
        """
        n = self.normalize()
        text = f"pg-snapshot/1 {n!r}" + (f" creator={n.creator!r}" if n.default_grants else "")
        return hashlib.sha256(text.encode()).hexdigest()

    def indexes_of(self, schema: str, table: str) -> list[Index]:
        return [i for i in self.indexes.values() if i.schema == schema and i.table == table]

    def standalone(self, t: Table) -> bool:
        """A plain table: not partitioned, not a partition, not in an inheritance tree (it can
        be moved or rebuilt on its own)."""
        if t.partition_by or t.partition_of or t.inherits:
            return False
        key = (t.schema, t.name)
        return not any(key in other.inherits for other in self.tables.values())

    def indexes_by_table(self) -> dict[tuple[str, str], list[Index]]:
        """Every table's (or materialized view's) indexes: one pass, for callers that visit
        every table (indexes_of in a loop over tables would be quadratic)."""
        out: dict[tuple[str, str], list[Index]] = {}
        for ix in self.indexes.values():
            out.setdefault((ix.schema, ix.table), []).append(ix)
        return out


def inventory(snap: PgSnapshot) -> dict[str, dict[str, Any]]:
    """Every managed object by address → its value: what the state records after an apply."""
    out: dict[str, dict[str, Any]] = {}
    n = snap.normalize()
    for s in n.schemas.values():
        out[str(s.address)] = value_dict(s)
    for e in n.extensions.values():
        out[str(e.address)] = value_dict(e)
    for e in n.enums.values():
        out[str(e.address)] = value_dict(e)
    for t in n.tables.values():
        out[str(t.address)] = {"schema": t.schema, "name": t.name, "comment": t.comment}
        for c in t.columns:
            out[str(t.column_address(c.name))] = value_dict(c)
        for k in t.constraints():
            out[str(t.constraint_address(k.name))] = {
                "type": type(k).__name__,
                **value_dict(k),
            }
    kinds = (n.indexes, n.views, n.functions, n.triggers, n.policies, n.sequences, n.domains)
    for objects in (
        *kinds,
        n.collations,
        n.composites,
        n.grants,
        n.default_grants,
        n.rules,
        n.aggregates,
    ):
        for obj in objects.values():
            out[str(obj.address)] = value_dict(obj)
    return out
