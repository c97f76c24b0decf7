"""Indexes that do not back a constraint (those travel with their constraint)."""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.diff.partitions import attached_keys, attached_names
from reconciler.diff.rebuilds import shape_in
from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg import Index
from reconciler.ops.base import Change
from reconciler.ops.pg.index import CreateIndex, DropIndex, index_on
from reconciler.ops.pg.objects import SetComment
from reconciler.ops.pg.storage import SetIndexOptions


def compare_indexes(ctx: DiffContext) -> list[Change]:
    out: list[Change] = []
    want, have = ctx.desired.indexes, ctx.live.indexes
    for key, ix in want.items():
        was = have.get(key)
        if (ix.schema, ix.table) in ctx.rebuilt:
            continue  # made again with its table, below
        live_table = ctx.live.tables.get((ix.schema, ix.table))
        partitioned = live_table is not None and live_table.partition_by is not None
        # a partitioned table's index is invalid until every partition has one attached: the
        # partitions' attachments (diff/partitions.py) make it valid, not a rebuild
        if was is not None and not was.valid and not partitioned:
            # A build that never finished is not the declared index, however equal its
            # definition: dropped and built again in one change, whose reverse drops the new
            # one (the invalid index is not brought back).
            online = ctx.online(ix.schema, ix.table)
            out.append(CreateIndex(ix, _deps(ctx, ix), online=online, replaces_invalid=True))
            continue
        if was == ix:
            continue
        if was is None:
            new_table = (ix.schema, ix.table) not in ctx.live.tables
            online = ctx.online(ix.schema, ix.table)
            want_t = ctx.desired.tables.get((ix.schema, ix.table))
            parted = want_t is not None and want_t.partition_by is not None
            out.append(
                CreateIndex(
                    ix, _deps(ctx, ix), new_table=new_table, online=online, partitioned=parted
                )
            )
        elif attribute_changes(was, ix, exclude=("comment", "options")) or (
            was.options != ix.options and partitioned  # no ALTER INDEX … SET on one
        ):
            # on another table now: each drop only while the index is on its own table, so a
            # second run of a file leaves the index made in its place
            moved = was.table != ix.table
            was_on, now_on = (index_on(was), index_on(ix)) if moved else (None, None)
            out.append(DropIndex(was, _deps(ctx, was), partitioned=partitioned, shape=was_on))
            online = ctx.online(ix.schema, ix.table)
            out.append(
                CreateIndex(
                    ix, _deps(ctx, ix), online=online, partitioned=partitioned, shape=now_on
                )
            )
        else:
            if was.comment != ix.comment:
                out.append(SetComment(ix.address, was.comment, ix.comment))
            if was.options != ix.options:  # in place, in the order given (pg_dump shows it)
                out.append(SetIndexOptions(ix.schema, ix.table, ix.name, was.options, ix.options))
    out += _rebuilt(ctx)
    attached = attached_names(ctx.desired)  # a partition's index its parent's will take
    for key, ix in have.items():
        if (ix.schema, ix.table) in ctx.rebuilt:
            continue
        if key in want or (ix.schema, ix.table, ix.name) in attached:
            continue
        # a key of the same name takes its place: a second run finds the key's index
        t = ctx.desired.tables.get((ix.schema, ix.table))
        keyed = t is not None and any(k.name == ix.name for k in t.constraints())
        online = ctx.online(ix.schema, ix.table) and not keyed
        live_t = ctx.live.tables.get((ix.schema, ix.table))
        parted = live_t is not None and live_t.partition_by is not None
        online = online and not parted
        out.append(DropIndex(ix, _deps(ctx, ix), online=online, keyed=keyed, partitioned=parted))
    return out


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
