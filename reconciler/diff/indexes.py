"""Indexes that do not back a constraint (those travel with their constraint)."""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.diff.kinds import Kind, comment_change, walk
from reconciler.diff.partitions import attached_keys, attached_names
from reconciler.diff.rebuilds import shape_in
from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg import Index
from reconciler.ops.base import Change
from reconciler.ops.pg.index import CreateIndex, DropIndex, index_on
from reconciler.ops.pg.storage import SetIndexOptions


def compare_indexes(ctx: DiffContext) -> list[Change]:
    attached = attached_names(ctx.desired)  # a partition's index its parent's will take
    return walk(
        ctx.desired.indexes,
        ctx.live.indexes,
        Kind(
            create=lambda ix: [_create(ctx, ix)],
            # A build that never finished is not the declared index, however equal its
            # definition: built again (_replace)
            rebuild=lambda _, was, ix: not was.valid and not _partitioned(ctx, ix),
            alter=lambda was, ix: _in_place(ctx, was, ix),
            replace=lambda was, ix: _replace(ctx, was, ix),
            drop=lambda ix: [_drop(ctx, ix)],
            # made again with its table (_rebuilt), between the others' changes and drops
            elsewhere=lambda _, ix: (ix.schema, ix.table) in ctx.rebuilt,
            between=lambda: _rebuilt(ctx),
            left_alone=lambda _, ix: (
                (ix.schema, ix.table) in ctx.rebuilt or (ix.schema, ix.table, ix.name) in attached
            ),
        ),
    )


def _partitioned(ctx: DiffContext, ix: Index) -> bool:
    """Whether the live table is partitioned: its index is invalid until every partition has
    one attached, and the partitions' attachments (diff/partitions.py) make it valid, not a
    rebuild."""
    live_table = ctx.live.tables.get((ix.schema, ix.table))
    return live_table is not None and live_table.partition_by is not None


def _create(ctx: DiffContext, ix: Index) -> Change:
    new_table = (ix.schema, ix.table) not in ctx.live.tables
    online = ctx.online(ix.schema, ix.table)
    want_t = ctx.desired.tables.get((ix.schema, ix.table))
    parted = want_t is not None and want_t.partition_by is not None
    return CreateIndex(ix, _deps(ctx, ix), new_table=new_table, online=online, partitioned=parted)


def _in_place(ctx: DiffContext, was: Index, ix: Index) -> list[Change] | None:
    """Its comment and storage parameters (in the order given: pg_dump shows it); None when
    anything else differs, or those of an index of a partitioned table (no ALTER INDEX … SET
    on one)."""
    partitioned = _partitioned(ctx, ix)
    if attribute_changes(was, ix, exclude=("comment", "options")) or (
        was.options != ix.options and partitioned
    ):
        return None
    out = comment_change(was, ix)
    if was.options != ix.options:
        out.append(SetIndexOptions(ix.schema, ix.table, ix.name, was.options, ix.options))
    return out


def _replace(ctx: DiffContext, was: Index, ix: Index) -> list[Change]:
    partitioned = _partitioned(ctx, ix)
    online = ctx.online(ix.schema, ix.table)
    if not was.valid and not partitioned:
        # dropped and built again in one change, whose reverse drops the new one (the
        # invalid index is not brought back)
        return [CreateIndex(ix, _deps(ctx, ix), online=online, replaces_invalid=True)]
    # on another table now: each drop only while the index is on its own table, so a second
    # run of a file leaves the index made in its place
    moved = was.table != ix.table
    was_on, now_on = (index_on(was), index_on(ix)) if moved else (None, None)
    return [
        DropIndex(was, _deps(ctx, was), partitioned=partitioned, shape=was_on),
        CreateIndex(ix, _deps(ctx, ix), online=online, partitioned=partitioned, shape=now_on),
    ]


def _drop(ctx: DiffContext, ix: Index) -> Change:
    # a key of the same name takes its place: a second run finds the key's index
    t = ctx.desired.tables.get((ix.schema, ix.table))
    keyed = t is not None and any(k.name == ix.name for k in t.constraints())
    parted = _partitioned(ctx, ix)
    online = ctx.online(ix.schema, ix.table) and not keyed and not parted
    return DropIndex(ix, _deps(ctx, ix), online=online, keyed=keyed, partitioned=parted)


def _rebuilt(ctx: DiffContext) -> list[Change]:
    """The indexes of a rebuilt table (diff/rebuilds.py): each old one dropped before it (the
    table's drop takes them; a change of their own brings them back on rollback), each
    desired one built on the new table, in the apply's transaction."""
    out: list[Change] = []
    for snap in (ctx.live, ctx.desired):
        for ix in snap.indexes.values():
            t = snap.tables.get((ix.schema, ix.table))
            if t is None or (ix.schema, ix.table) not in ctx.rebuilt:
                continue
            parted, deps = t.partition_by is not None, _deps(ctx, ix)
            shape = shape_in(snap, t)
            if snap is ctx.live:
                out.append(DropIndex(ix, deps, partitioned=parted, shape=shape))
            else:
                made = CreateIndex(ix, deps, new_table=True, partitioned=parted, shape=shape)
                out.append(made)
    return out


def _ancestor_columns(
    ctx: DiffContext, schema: str, table: str, names: set[str]
) -> frozenset[Address]:
    """The columns `names` of every table above a partition, on either side."""
    out: set[Address] = set()
    for snap in (ctx.desired, ctx.live):
        t, seen = snap.tables.get((schema, table)), set()
        while t is not None and t.partition_of is not None and t.partition_of not in seen:
            seen.add(t.partition_of)
            out |= {Address.of("pg", "column", *t.partition_of, n) for n in names}
            t = snap.tables.get(t.partition_of)
    return frozenset(out)


def _deps(ctx: DiffContext, ix: Index) -> frozenset[Address]:
    """Extensions (methods, operator classes) and the columns its expressions read."""
    exprs = [e.expression for e in ix.elements]
    deps = ctx.callable_from(ix.schema, ix.table)
    deps |= ctx.expression_deps(ix.schema, ix.table, ix.where, *exprs)
    # a partition's columns are its parent's: an index of one waits for them there
    names = {e.column for e in ix.elements if e.column} | {
        a.parts[-1] for a in deps if a.kind == "column"
    }
    deps |= _ancestor_columns(ctx, ix.schema, ix.table, names)
    # on a materialized view: after its creation, before its drop
    deps |= attached_keys(ctx, ix)
    view = ctx.desired.views.get((ix.schema, ix.table)) or ctx.live.views.get((ix.schema, ix.table))
    return deps | {view.address} if view is not None else deps
