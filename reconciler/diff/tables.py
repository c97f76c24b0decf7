"""Tables, their columns and their constraints."""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg import Column, Constraint, ForeignKey, Table
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg_column import AddColumn, AlterColumn, DropColumn
from reconciler.ops.pg_constraint import AddConstraint, DropConstraint
from reconciler.ops.pg_objects import SetComment
from reconciler.ops.pg_table import CreateTable, DropTable


def compare_tables(ctx: DiffContext) -> list[Change]:
    out: list[Change] = []
    want, have = ctx.desired.tables, ctx.live.tables
    for key, t in want.items():
        old = have.get(key)
        if old is None:
            out.append(CreateTable(t, ctx.table_deps(t)))
            out += [
                AddConstraint(t.schema, t.name, fk, ctx.ref_key(fk, ctx.desired), new_table=True)
                for fk in t.foreign_keys
            ]
        else:
            out += _compare_columns(ctx, old, t)
            out += _compare_constraints(ctx, old, t)
            if old.comment != t.comment:
                out.append(SetComment(t.address, old.comment, t.comment))
    for key, t in have.items():
        if key not in want:
            # Outgoing foreign keys are separate changes so that the down file re-adds them
            # after every table they reference exists again.
            out += [_drop(ctx, t, fk) for fk in t.foreign_keys]
            out.append(DropTable(t, ctx.table_deps(t)))
    return out


def _compare_columns(ctx: DiffContext, old: Table, new: Table) -> list[Change]:
    out: list[Change] = []
    s, n = new.schema, new.name
    for col in new.columns:
        was = old.column(col.name)
        if was is None:
            out.append(AddColumn(s, n, col, _col_deps(ctx, new, col)))
            continue
        if was.generated != col.generated:
            # Postgres 15 cannot change a generation expression in place: drop and re-add.
            out.append(DropColumn(s, n, was, _col_deps(ctx, old, was)))
            out.append(AddColumn(s, n, col, _col_deps(ctx, new, col)))
            continue
        if attribute_changes(was, col, exclude=("name", "comment", "generated")):
            out.append(AlterColumn(s, n, was, col, _col_deps(ctx, new, was, col)))
        if was.comment != col.comment:
            out.append(SetComment(new.column_address(col.name), was.comment, col.comment))
    for col in old.columns:
        if new.column(col.name) is None:
            out.append(DropColumn(s, n, col, _col_deps(ctx, old, col)))
    return out


def _by_name(t: Table) -> dict[str, Constraint]:
    return {k.name: k for k in t.constraints()}


def _compare_constraints(ctx: DiffContext, old: Table, new: Table) -> list[Change]:
    out: list[Change] = []
    have, want = _by_name(old), _by_name(new)
    for name, k in want.items():
        was = have.get(name)
        if was is not None and type(was) is type(k):
            if attribute_changes(was, k, exclude=("comment",)):
                out.append(_drop(ctx, old, was))
                out.append(_add(ctx, new, k))
            elif was.comment != k.comment:
                out.append(SetComment(new.constraint_address(name), was.comment, k.comment))
            continue
        if was is not None:
            out.append(_drop(ctx, old, was))
        out.append(_add(ctx, new, k))
    for name, k in have.items():
        if name not in want:
            out.append(_drop(ctx, old, k))
    return out


def _ref(ctx: DiffContext, k: Constraint, snap: PgSnapshot) -> Address | None:
    return ctx.ref_key(k, snap) if isinstance(k, ForeignKey) else None


def _add(ctx: DiffContext, t: Table, k: Constraint) -> AddConstraint:
    deps = ctx.expression_deps(t.schema, t.name, getattr(k, "expression", None))
    return AddConstraint(t.schema, t.name, k, _ref(ctx, k, ctx.desired), deps=deps)


def _drop(ctx: DiffContext, t: Table, k: Constraint) -> DropConstraint:
    deps = ctx.expression_deps(t.schema, t.name, getattr(k, "expression", None))
    return DropConstraint(t.schema, t.name, k, _ref(ctx, k, ctx.live), deps=deps)


def _col_deps(ctx: DiffContext, t: Table, *cols: Column) -> frozenset[Address]:
    """Types the columns use, and the columns their generation expressions read."""
    exprs = [c.generated for c in cols]
    return ctx.type_deps(*cols) | ctx.expression_deps(t.schema, t.name, *exprs)
