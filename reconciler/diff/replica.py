"""A table's replica identity (ops/pg/replica.py), compared for every table of either side:
the index it names may be rebuilt while the table itself stays equal."""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg import Table
from reconciler.ops.base import Change
from reconciler.ops.pg.replica import (
    DEFAULT,
    ReleaseReplicaIdentity,
    SetReplicaIdentity,
    replica_identity,
    replica_index,
)


def compare_replica_identity(
    ctx: DiffContext, old: Table | None, new: Table | None
) -> list[Change]:
    was, now = replica_identity(old), replica_identity(new)
    if was == now == DEFAULT:
        return []  # most tables: nothing to look at
    t = new or old
    assert t is not None
    s, n = t.schema, t.name
    out: list[Change] = []
    gone = replica_index(was)
    if gone is not None and old is not None and _index_goes(ctx, old, new, gone):
        deps = frozenset({old.address, _index_address(old, gone)})
        out.append(ReleaseReplicaIdentity(s, n, was, deps))
        was = DEFAULT
    if new is None or was == now:
        return out
    if old is None and replica_index(now) is None:
        return out  # CREATE TABLE sets FULL or NOTHING itself
    # an index it names is then built in the main transaction (diff/__init__.py)
    index = replica_index(now)
    deps = {new.address, *([_index_address(new, index)] if index is not None else [])}
    return [*out, SetReplicaIdentity(s, n, was, now, frozenset(deps))]


def _keys(t: Table) -> dict[str, object]:
    return {k.name: k for k in (t.primary_key, *t.uniques) if k is not None}


def _index_address(t: Table, name: str) -> Address:
    """A key's index is its constraint's; any other is an index of its own."""
    if name in _keys(t):
        return t.constraint_address(name)
    return Address.of("pg", "index", t.schema, name)


def _index_goes(ctx: DiffContext, old: Table, new: Table | None, name: str) -> bool:
    """Whether the plan drops or rebuilds the live index `name` of `old`."""
    if new is None:
        return True
    key = _keys(old).get(name)
    if key is not None:
        want = _keys(new).get(name)
        return (
            want is None
            or type(want) is not type(key)
            or bool(attribute_changes(key, want, exclude=("comment",)))
        )
    was = ctx.live.indexes.get((old.schema, name))
    if was is None:
        return False  # not one the model holds (a partition's copy of its parent's index)
    ix = ctx.desired.indexes.get((old.schema, name))
    return (
        ix is None
        or not was.valid
        or ix.table != new.name
        or bool(attribute_changes(was, ix, exclude=("comment",)))
    )
