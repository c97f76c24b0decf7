"""How many objects of each kind a snapshot holds, as the summaries of validate and export
name them.

Owns: `kind_counts` and the kinds' names in a summary.
Must not: import the diff or anything a summary does not need (export counts with it).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from reconciler.model.snapshot import PgSnapshot

# How a summary names each kind of PgSnapshot (a field not named here is counted under its
# own name, so a new kind is never left out of a summary).
_LABELS = {"composites": "composite types", "default_grants": "default privileges"}
_NOT_KINDS = ("creator", "unsupported", "needs")


def kind_counts(pg: PgSnapshot, redis: Any = None) -> list[tuple[str, int]]:
    """(kind, how many) of every kind of object in `pg` (and the Redis desired state `redis`),
    none left out: PostgreSQL's in dependency order, then Redis'; kinds with none not listed.
    The summaries of validate and export."""
    found = [
        (_LABELS.get(f.name, f.name.replace("_", " ")), len(getattr(pg, f.name)))
        for f in fields(PgSnapshot)
        if f.name not in _NOT_KINDS
    ]
    if redis is not None:
        found += [("key patterns", len(redis.patterns)), ("config parameters", len(redis.config))]
        found += [("ACL users", len(redis.acl))]
    return [(label, n) for label, n in found if n]
