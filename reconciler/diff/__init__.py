"""compare(desired, live) → list[Change]: what must happen for live to equal desired.

Owns: deciding *what* changes, per object kind (objects.py, tables.py, indexes.py, …, each
walking its desired and live objects through the one compare loop, kinds.py), after explicit
renames were applied to a working copy of live (renames.py).
Must not: order changes (pipeline/graph.py), talk to servers, or guess renames (a guessed
rename is a drop plus a create, which loses data: only `renamed_from:` renames).

Full-state semantics: everything in the live snapshot is in scope (the introspector already
left out system schemas, the tool's own schemas and extension members), so what is live but
not desired is dropped — the apply refuses those drops without --allow-destructive. The one
exception: what an object the model cannot express needs is never dropped nor broken
(unmodeled.py).
"""

from __future__ import annotations

import dataclasses

from reconciler.diff.aggregates import compare_aggregates
from reconciler.diff.carry import carry_rows
from reconciler.diff.context import DiffContext, Trash
from reconciler.diff.default_grants import compare_default_grants
from reconciler.diff.dependents import readd_dependent_foreign_keys
from reconciler.diff.enums import compare_enums
from reconciler.diff.functions import compare_functions, rebuild_dependents
from reconciler.diff.grants import compare_grants
from reconciler.diff.indexes import compare_indexes
from reconciler.diff.objects import compare_extensions, compare_schemas
from reconciler.diff.owners import keep_owners
from reconciler.diff.partitions import compare_partitions
from reconciler.diff.renames import apply_renames
from reconciler.diff.rules import compare_rules
from reconciler.diff.standalone import (
    compare_collations,
    compare_composites,
    compare_domains,
    compare_sequences,
)
from reconciler.diff.tables import compare_tables
from reconciler.diff.triggers import compare_policies, compare_triggers
from reconciler.diff.unmodeled import BreaksUnmodeled, check, guard, without_withheld
from reconciler.diff.views import compare_views
from reconciler.model.address import Address
from reconciler.model.names import qualified
from reconciler.model.pg import ForeignKey, Index
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.column import AddColumn, DropColumn
from reconciler.ops.pg.constraint import AddConstraint, DropConstraint
from reconciler.ops.pg.index import CreateIndex, DropIndex
from reconciler.ops.pg.parents import SetPartition
from reconciler.ops.pg.table import CreateTable, DropTable
from reconciler.ops.pg.trigger import CreateTrigger, DropTrigger
from reconciler.ops.pg.view import CreateView, DropView


def compare(
    desired: PgSnapshot,
    live: PgSnapshot,
    trash: Trash | None = None,
    refused: list[BreaksUnmodeled] | None = None,
) -> list[Change]:
    """`trash`: which dropped tables and columns are kept in the trash schema. A change that
    would break an object the model cannot express is refused (BreaksUnmodeled raised); given
    a `refused` list (drift, which only reports), it is kept and its refusal added there."""
    desired, live = desired.normalize(), live.normalize()
    kept = guard(desired, live)
    live = without_withheld(live, kept)
    renames, live = apply_renames(desired, live)
    ctx = DiffContext(desired, live, trash)
    changes: list[Change] = [*renames]
    changes += compare_schemas(ctx)
    changes += compare_extensions(ctx)
    changes += compare_collations(ctx)
    changes += compare_domains(ctx)
    changes += compare_composites(ctx)
    changes += compare_sequences(ctx)
    changes += compare_functions(ctx)
    changes += compare_tables(ctx)
    changes += carry_rows(ctx)
    changes += compare_indexes(ctx)
    changes += compare_partitions(ctx)
    changes += compare_enums(ctx, changes)  # what a rebuild carries depends on the rest
    changes += readd_dependent_foreign_keys(ctx, changes)
    changes = rebuild_dependents(ctx, changes)  # before the views that call those routines
    changes += compare_views(ctx, changes)
    changes += compare_triggers(ctx, changes)
    changes += compare_policies(ctx, changes)
    changes += compare_rules(ctx, changes)
    changes += compare_aggregates(ctx, changes)  # knows which views the plan drops
    changes = rebuild_dependents(ctx, changes)  # and the routines reading rebuilt views
    changes += compare_grants(ctx, changes)
    changes += compare_default_grants(ctx, changes)
    changes = keep_owners(ctx, changes)
    check(changes, kept, refused)
    return _bounds_first(_on_partitions(ctx, _online_when_nothing_waits(changes)))


def _bounds_first(changes: list[Change]) -> list[Change]:
    """Partitions of one parent whose bounds change: a partition the plan creates there waits
    for its siblings' new bounds, and one it drops goes before them (a range split, merged
    ranges, a new hash modulus: else the bounds overlap for a moment, which Postgres refuses)."""
    moved: dict[tuple[str, str], set[Address]] = {}
    for c in changes:
        if isinstance(c, SetPartition):
            for parent in (c.old_parent, c.new_parent):
                moved.setdefault(parent, set()).add(c.address)
    if not moved:
        return changes
    out = []
    for c in changes:
        if isinstance(c, CreateTable | DropTable) and c.table.partition_of in moved:
            siblings = moved[c.table.partition_of] - {c.address}  # type: ignore[index]
            if siblings:
                c = dataclasses.replace(c, deps=c.deps | siblings)
        out.append(c)
    return out


def _on_partitions(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    """An index, trigger or constraint of a partition's own, dropped or created (so dropped
    on the way back): the drop runs only while it is the partition's own. A second run of the
    file finds the one its parent's made in its place (attached to the parent's index, a
    clone of the parent's trigger or key), which goes only with the parent's."""
    parted = {
        key
        for snap in (ctx.live, ctx.desired)
        for key, t in snap.tables.items()
        if t.partition_of is not None
    }
    parents = {
        key
        for snap in (ctx.live, ctx.desired)
        for key, t in snap.tables.items()
        if t.partition_by is not None
    }
    children = {
        key for snap in (ctx.live, ctx.desired) for key, t in snap.tables.items() if t.inherits
    }
    out = []
    for c in changes:
        if isinstance(c, CreateIndex | DropIndex):
            mine = (c.index.schema, c.index.table) in parted
        elif isinstance(c, CreateTrigger | DropTrigger):
            mine = (c.trigger.schema, c.trigger.table) in parted
        elif isinstance(c, AddConstraint | DropConstraint):
            mine = _copied(c, parted, parents)
        else:
            mine = False
        if mine:
            c = dataclasses.replace(c, on_partition=True)  # type: ignore[type-var]
        elif isinstance(c, AddColumn | DropColumn) and (c.schema, c.table) in children:
            c = dataclasses.replace(c, child=True)
        out.append(c)
    return out


def _copied(
    c: AddConstraint | DropConstraint,
    parted: set[tuple[str, str]],
    parents: set[tuple[str, str]],
) -> bool:
    """A constraint whose name a copy of another may hold: on a partition (its parent's), or
    a foreign key to a partitioned table (Postgres names its copies for the partitions the
    key reaches after the key, and may give one the name of a key the plan drops)."""
    k = c.constraint
    to = (k.ref_schema, k.ref_table) if isinstance(k, ForeignKey) else None
    return (c.schema, c.table) in parted or to in parents


def _online_when_nothing_waits(changes: list[Change]) -> list[Change]:
    """An index or constraint finished only after the main transaction cannot serve a change
    inside it (a foreign key needs its referenced unique index built): such ones are made
    the plain way; so is an index dropped that names a collation or routine the transaction
    drops (Postgres drops neither while the index is there)."""
    needed = {a for c in changes if c.action is not Action.DROP for a in c.depends_on()}
    named = {
        qualified(*c.address.parts[2:4])
        for c in changes
        if c.action is Action.DROP and c.kind in ("collation", "function", "procedure")
    }
    out = []
    for c in changes:
        if isinstance(c, CreateIndex | AddConstraint) and c.online and c.provides() & needed:
            c = dataclasses.replace(c, online=False)
        if isinstance(c, DropIndex) and c.online and _names_any(c.index, named):
            c = dataclasses.replace(c, online=False)
        out.append(c)
    return _retaken_relations(out)


def _names_any(ix: Index, names: set[str]) -> bool:
    """Whether the index's texts (as the catalog prints them, schema-qualified) name one of
    `names`: a false match only costs a brief lock."""
    texts = [ix.where, *(t for e in ix.elements for t in (e.expression, e.collation))]
    return any(name in text for text in texts if text for name in names)


def _retaken_relations(changes: list[Change]) -> list[Change]:
    """A table dropped where the plan creates a view of its name, a view where it creates a
    table or a materialized view (and the other way round): the drop checks the kind, so that
    a second run of the file leaves the new one."""
    made: dict[Address, str] = {c.address: "table" for c in changes if isinstance(c, CreateTable)}
    made |= {c.view.relation_address: c.kind for c in changes if isinstance(c, CreateView)}
    gone: dict[Address, str] = {c.address: "table" for c in changes if isinstance(c, DropTable)}
    gone |= {c.view.relation_address: c.kind for c in changes if isinstance(c, DropView)}
    out: list[Change] = []
    for c in changes:
        if isinstance(c, DropTable | DropView | CreateTable | CreateView):
            at = c.view.relation_address if isinstance(c, DropView | CreateView) else c.address
            kind = c.kind if isinstance(c, DropView | CreateView) else "table"
            other = made if isinstance(c, DropTable | DropView) else gone
            # a create's way back is a drop that meets the same name: it is marked too
            if other.get(at, kind) != kind:
                c = dataclasses.replace(c, retaken=True)
        out.append(c)
    return out
