"""Indexes that do not back a constraint (those travel with their constraint)."""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg import Index
from reconciler.ops.base import Change
from reconciler.ops.pg_index import CreateIndex, DropIndex
from reconciler.ops.pg_objects import SetComment


def compare_indexes(ctx: DiffContext) -> list[Change]:
    out: list[Change] = []
    want, have = ctx.desired.indexes, ctx.live.indexes
    for key, ix in want.items():
        was = have.get(key)
        if was is not None and not was.valid:
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
            out.append(CreateIndex(ix, _deps(ctx, ix), new_table=new_table, online=online))
        elif attribute_changes(was, ix, exclude=("comment",)):
            out.append(DropIndex(was, _deps(ctx, was)))
            out.append(CreateIndex(ix, _deps(ctx, ix), online=ctx.online(ix.schema, ix.table)))
        elif was.comment != ix.comment:
            out.append(SetComment(ix.address, was.comment, ix.comment))
    out += [
        DropIndex(ix, _deps(ctx, ix), online=ctx.online(ix.schema, ix.table))
        for key, ix in have.items()
        if key not in want
    ]
    return out


def _deps(ctx: DiffContext, ix: Index) -> frozenset[Address]:
    """Extensions (methods, operator classes) and the columns its expressions read."""
    exprs = [e.expression for e in ix.elements]
    deps = ctx.callable_from(ix.schema, ix.table)
    deps |= ctx.expression_deps(ix.schema, ix.table, ix.where, *exprs)
    # on a materialized view: after its creation, before its drop
    view = ctx.desired.views.get((ix.schema, ix.table)) or ctx.live.views.get((ix.schema, ix.table))
    return deps | {view.address} if view is not None else deps
