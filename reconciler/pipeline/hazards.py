"""Hazards said once per decision: what goes with a dropped table adds none of its own.

Owns: taking the hazards off the drops a table's drop already covers (its indexes, its
constraints and foreign keys, triggers, policies and rules on it), so a plan shows one hazard
for the table (destructive, with what becomes of its rows) rather than one per index.
A foreign key on a table that stays, which referenced the dropped one, is a decision of its
own and keeps its hazard; so does every `irreversible` one (a rollback depends on it).
Must not: add, remove or reorder changes, or touch their SQL; judge any change but a drop.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model.address import Address
from reconciler.ops.base import IRREVERSIBLE
from reconciler.plan import Plan, PlannedChange

# Kinds whose address is pg.<kind>.<schema>.<table>.<name>: they live on a table.
_ON_TABLE = frozenset({"constraint", "trigger", "policy", "rule"})


def _table_of(c: PlannedChange) -> str | None:
    """`schema.table` of the table `c` lives on, or None when it is not on one."""
    if c.owner:  # an index
        return c.owner
    parts = Address.parse(c.address).parts
    if parts[0] == "pg" and parts[1] in _ON_TABLE and len(parts) == 5:
        return f"{parts[2]}.{parts[3]}"
    return None


def _dropped_tables(changes: tuple[PlannedChange, ...]) -> set[str]:
    out: set[str] = set()
    for c in changes:
        parts = Address.parse(c.address).parts
        if c.action == "drop" and parts[:2] == ("pg", "table") and len(parts) == 4:
            out.add(f"{parts[2]}.{parts[3]}")
    return out


def covered(c: PlannedChange, dropped: set[str]) -> bool:
    """Whether `c` is a drop that goes with a table dropped by the same plan."""
    return c.action == "drop" and _table_of(c) in dropped


def once_per_decision(p: Plan) -> Plan:
    """`p` with the hazards of drops its table drops cover taken off (all but irreversible)."""
    dropped = _dropped_tables(p.changes)
    if not dropped:
        return p
    changes = tuple(
        replace(c, hazards=tuple(h for h in c.hazards if h["code"] == IRREVERSIBLE))
        if covered(c, dropped)
        else c
        for c in p.changes
    )
    return replace(p, changes=changes)
