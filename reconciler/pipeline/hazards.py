"""Hazards said once per decision: what goes with a dropped table or column adds none.

Owns: taking the hazards off the drops a table's drop already covers (its indexes, its
constraints and foreign keys, triggers, policies and rules on it), so a plan shows one hazard
for the table (destructive, with what becomes of its rows) rather than one per index; and off
the drop of an index or constraint every column of which the plan drops too (the column's
destructive hazard says it). A foreign key on a table that stays, which referenced the dropped
one, is a decision of its own and keeps its hazard; so does a constraint that also reads a
column that stays, and every `irreversible` hazard (a rollback depends on it).
A restrictive policy dropped and created again by the plan (replaced) is not a drop of it.
Must not: add, remove or reorder changes, or touch their SQL; judge any change but a drop.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model.address import Address
from reconciler.ops.base import DESTRUCTIVE, IRREVERSIBLE, Action, Change
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


def _columns_of(c: Change) -> frozenset[Address]:
    """The columns of its own table the dropped index or constraint `c` reads."""
    parts = c.address.parts
    if c.kind == "constraint":
        table = parts[2:4]
    else:  # an index: its table is not in its address
        index = getattr(c, "index", None)  # a model Index; AttachIndex names it by a string
        name = getattr(index, "table", None)
        table = (index.schema, name) if name else ()  # type: ignore[union-attr]
    return frozenset(
        a for a in c.depends_on() if a.kind == "column" and a.parts[2:4] == tuple(table)
    )


def _gone_with_columns(changes: list[Change]) -> set[int]:
    """Positions of the index and constraint drops whose every column is dropped too."""
    dropped = {c.address for c in changes if c.action is Action.DROP and c.kind == "column"}
    if not dropped:
        return set()
    out: set[int] = set()
    for i, c in enumerate(changes):
        if c.action is Action.DROP and c.kind in ("constraint", "index"):
            cols = _columns_of(c)
            if cols and cols <= dropped:
                out.add(i)
    return out


def covered(c: PlannedChange, dropped: set[str]) -> bool:
    """Whether `c` is a drop that goes with a table dropped by the same plan."""
    return c.action == "drop" and _table_of(c) in dropped


def once_per_decision(p: Plan, changes: list[Change]) -> Plan:
    """`p` (built from `changes`, in the same order) with the hazards of the drops that a
    table's or a column's drop covers taken off (all but irreversible ones), and the
    destructive one of a policy the plan creates again (replaced: it hides the same rows
    after the transaction as before)."""
    dropped = _dropped_tables(p.changes)
    with_columns = _gone_with_columns(changes)
    replaced = _replaced_policies(changes)
    if not dropped and not with_columns and not replaced:
        return p
    quiet = tuple(
        replace(c, hazards=tuple(h for h in c.hazards if h["code"] == IRREVERSIBLE))
        if covered(c, dropped) or i in with_columns
        else replace(c, hazards=tuple(h for h in c.hazards if h["code"] != DESTRUCTIVE))
        if i in replaced
        else c
        for i, c in enumerate(p.changes)
    )
    return replace(p, changes=quiet)


def _replaced_policies(changes: list[Change]) -> set[int]:
    """Positions of the drops of restrictive policies that the plan creates again, restrictive,
    under the same name on the same table (edited). One that comes back permissive hides
    nothing any more; one that comes back under another name is not told from a new policy
    (its expressions are compared as written, not as the server keeps them): both stay gated."""

    def restrictive(c: Change) -> tuple[str, str, str] | None:
        p = getattr(c, "policy", None)  # a policy's create or drop (ops/pg/policy.py)
        if c.kind != "policy" or getattr(p, "permissive", True):
            return None
        return (p.schema, p.table, p.name)  # type: ignore[union-attr]

    back = {restrictive(c) for c in changes if c.action is Action.CREATE} - {None}
    return {i for i, c in enumerate(changes) if c.action is Action.DROP and restrictive(c) in back}
