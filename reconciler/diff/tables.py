"""Tables, their columns and their constraints."""

from __future__ import annotations

import dataclasses

from reconciler.diff.carry import carried, carried_rows
from reconciler.diff.context import DiffContext
from reconciler.diff.kinds import Kind, comment_change, walk
from reconciler.diff.owned_sequences import without_moved
from reconciler.diff.partitions import attach_table
from reconciler.diff.rebuilds import check_rebuilds, shape_in
from reconciler.diff.replica import compare_replica_identity
from reconciler.errors import NotSupported
from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg import Check, Column, Constraint, ForeignKey, PrimaryKey, Table, Unique
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg.column import AddColumn, DropColumn
from reconciler.ops.pg.column_alter import AlterColumn
from reconciler.ops.pg.constraint import AddConstraint, DropConstraint, SetValidity
from reconciler.ops.pg.generated import SetGenerated
from reconciler.ops.pg.objects import SetComment
from reconciler.ops.pg.parents import SetInherits, SetPartition
from reconciler.ops.pg.policy import SetRowSecurity, row_security_state
from reconciler.ops.pg.storage import (
    SetIndexOptions,
    SetLogged,
    SetTableOptions,
    persistence_address,
)
from reconciler.ops.pg.table import CreateTable, DropTable
from reconciler.ops.pg.trash import QuarantineColumn, QuarantineTable, quarantine_key, trash_name


def compare_tables(ctx: DiffContext) -> list[Change]:
    check_rebuilds(ctx.desired, ctx.live, ctx.rebuilt)
    return walk(
        ctx.desired.tables,
        ctx.live.tables,
        Kind(
            create=lambda t: [*compare_replica_identity(ctx, None, t), *_create(ctx, t)],
            rebuild=lambda key, _, __: key in ctx.rebuilt,
            replace=lambda old, t: _rebuild(ctx, old, t),
            # most tables of a plan are unchanged: one equality test skips them, but for
            # the replica identity (the index it names may be rebuilt)
            unchanged=lambda old, t: compare_replica_identity(ctx, old, t),
            alter=lambda old, t: [*compare_replica_identity(ctx, old, t), *_alter(ctx, old, t)],
            drop=lambda t: _drop_all(ctx, t),
        ),
    )


def _create(ctx: DiffContext, t: Table) -> list[Change]:
    kept = (t.schema, t.name) in carried(ctx)  # under a rebuilt table: rows go back on rollback
    later = [k for k in t.checks if _below(ctx.desired, t, k)]
    names = frozenset(k.name for k in later)
    out: list[Change] = [CreateTable(t, ctx.table_deps(t), carried=kept, later=names)]
    out += [_add(ctx, t, k) for k in later]
    out += [
        AddConstraint(t.schema, t.name, fk, ctx.ref_key(fk, ctx.desired), new_table=True)
        for fk in t.foreign_keys
    ]
    return out


def _alter(ctx: DiffContext, old: Table, t: Table) -> list[Change]:
    if t.partition_of and not old.partition_of:  # attached: the parent's columns
        out = _compare_columns(ctx, old, _as_partition(ctx, old, t))
    else:
        out = _compare_columns(ctx, old, t)
    out += _compare_constraints(ctx, old, t)
    out += comment_change(old, t)
    if old.inherits != t.inherits:
        out.append(SetInherits(t.schema, t.name, old.inherits, t.inherits))
    out += _compare_partitioning(ctx, old, t)
    if old.unlogged != t.unlogged:
        out.append(_set_logged(ctx, t))
    if old.options != t.options:
        out.append(SetTableOptions(t.schema, t.name, old.options, t.options))
    if row_security_state(old) != row_security_state(t):
        was, now = row_security_state(old), row_security_state(t)
        out.append(SetRowSecurity(t.schema, t.name, was, now))
    return out


def _drop_all(ctx: DiffContext, t: Table) -> list[Change]:
    # Outgoing foreign keys are separate changes so that the down file re-adds them after
    # every table they reference exists again.
    out: list[Change] = [_drop(ctx, t, fk) for fk in t.foreign_keys]
    return [*out, *compare_replica_identity(ctx, t, None), _drop_table(ctx, t)]


def _drop_table(ctx: DiffContext, t: Table) -> Change:
    if (t.schema, t.name) in carried(ctx):  # under a rebuilt table: its rows go over to it
        return DropTable(t, ctx.table_deps(t), carried=True)
    token = ctx.quarantined(t.schema, t.name)
    if token is not None and ctx.live.standalone(t):
        return QuarantineTable(t, trash_name(token, t.schema, t.name), ctx.table_deps(t))
    return DropTable(t, ctx.table_deps(t), emptied=_moved_out(ctx, t))


def _moved_out(ctx: DiffContext, t: Table) -> bool:
    """A partitioned table whose partitions all go to other parents (SetPartition, before the
    drop): nothing is left in it to lose."""
    if not t.partition_by:
        return False
    key = (t.schema, t.name)
    parts = [p for p in ctx.live.tables.values() if p.partition_of == key]
    moved = [ctx.desired.tables.get((p.schema, p.name)) for p in parts]
    return all(m is not None and m.partition_of not in (None, key) for m in moved)


def _rebuild(ctx: DiffContext, old: Table, new: Table) -> list[Change]:
    """A table Postgres cannot change in place (diff/rebuilds.py): dropped, each drop only
    while the table has its old shape, and created again; the comparators of what is on it
    or leans on it see the drop and the create and make those again."""
    rows = carried_rows(ctx)  # foreign keys go before the rows are copied, come after them
    out: list[Change] = [_drop(ctx, old, fk, rows) for fk in old.foreign_keys]
    out += compare_replica_identity(ctx, old, None)
    kept = (old.schema, old.name) in carried(ctx)  # else dropped with its rows, and says so
    shape = shape_in(ctx.live, old)
    out.append(DropTable(old, ctx.table_deps(old), shape=shape, carried=kept))
    out += compare_replica_identity(ctx, None, new)
    shape = shape_in(ctx.desired, new)
    out.append(CreateTable(new, ctx.table_deps(new), shape=shape, carried=kept))
    out += [
        AddConstraint(
            new.schema, new.name, fk, ctx.ref_key(fk, ctx.desired), new_table=True, deps=rows
        )
        for fk in new.foreign_keys
    ]
    return out


def _drop_column(
    ctx: DiffContext, t: Table, new: Table, col: Column, deps: frozenset[Address]
) -> Change:
    """A column drop; one that keeps its values when its table's drops are quarantined and
    its key stays (the values are copied, and put back, by that key)."""
    token = ctx.quarantined(t.schema, t.name)
    key = quarantine_key(t, col) if token is not None else None
    if key is not None and any(new.column(k) is None for k in key):
        key = None
    if token is None or key is None:
        return DropColumn(t.schema, t.name, col, deps)
    name = trash_name(token, t.schema, t.name, col.name)
    return QuarantineColumn(t.schema, t.name, col, key, name, deps)


def _set_logged(ctx: DiffContext, new: Table) -> Change:
    """SET LOGGED / UNLOGGED, after the tables it references go logged, or after those that
    reference it go unlogged; a partitioned table holds no rows and Postgres leaves its
    persistence as it was created (its partitions have their own)."""
    if new.partition_by is not None:
        raise NotSupported(
            f"Table {new.schema}.{new.name}: a partitioned table cannot become "
            f"{'unlogged' if new.unlogged else 'logged'} in place.",
            detail="Postgres keeps a partitioned table's persistence as it was created; set "
            "`unlogged` on its partitions instead, or create the table anew.",
            source=new.source,
        )
    key = (new.schema, new.name)
    tables = [*ctx.live.tables.values(), *ctx.desired.tables.values()]
    if new.unlogged:  # the tables referencing it first
        first = {
            (t.schema, t.name)
            for t in tables
            for fk in t.foreign_keys
            if (fk.ref_schema, fk.ref_table) == key
        }
    else:  # the tables it references first
        old = ctx.live.tables.get(key)
        first = {(fk.ref_schema, fk.ref_table) for t in (old, new) if t for fk in t.foreign_keys}
    deps = frozenset(persistence_address(*k) for k in first - {key})
    return SetLogged(new.schema, new.name, new.unlogged, deps)


def _as_partition(ctx: DiffContext, old: Table, new: Table) -> Table:
    """The partition a table becomes, with the columns it will have: its parent's (ATTACH
    wants them exactly; a default, NOT NULL or type of its own is changed first), less the
    sequences only the parent owns; column comments stay the table's own."""
    parent = ctx.desired.tables.get(new.partition_of)  # type: ignore[arg-type]
    if parent is None:
        return new
    columns = []
    for c in parent.columns:
        was = old.column(c.name)
        columns.append(
            dataclasses.replace(
                c,
                nullable=c.nullable and c.name not in new.not_null,
                sequence=None,
                sequence_options=(),
                sequence_comment=None,
                comment=was.comment if was is not None else None,
            )
        )
    return dataclasses.replace(new, columns=tuple(columns))


def _compare_partitioning(ctx: DiffContext, old: Table, new: Table) -> list[Change]:
    """A partition may move to another bound or parent (detach, attach), and a table become
    one (attach); a new partitioning, or a partition ceasing to be one, is a rebuild
    (diff/rebuilds.py), never seen here."""
    if old.partition_of is None and new.partition_of is not None:
        deps = frozenset(new.column_address(c.name) for c in old.columns)
        return [attach_table(ctx, old, new, deps)]
    was, now = old.partition_of, new.partition_of
    if was is None or now is None or (was, old.bound) == (now, new.bound):
        return []
    return [SetPartition(new.schema, new.name, was, old.bound or "", now, new.bound or "")]


def _compare_columns(ctx: DiffContext, old: Table, new: Table) -> list[Change]:
    out: list[Change] = []
    s, n = new.schema, new.name
    retyped = {
        c.name
        for c in new.columns
        if (was := old.column(c.name)) and (was.type, was.collation) != (c.type, c.collation)
    }
    # Postgres refuses to retype a column a generated column reads: such generated columns
    # are dropped before and re-added after the type change (their values are recomputed).
    regenerate = {
        c.name
        for c in old.columns
        if c.generated and new.column(c.name) and retyped & set(ctx.refs(c.generated))
    }
    added: list[Address] = []  # new columns are appended in the order the YAML lists them
    kept = [c.name for c in new.columns if old.column(c.name) is not None]
    for col in _append_order(ctx, [c for c in new.columns if old.column(c.name) is None]):
        deps = _col_deps(ctx, new, col) | frozenset(added[-1:])
        later = kept and new.columns.index(col) < new.columns.index(new.column(kept[-1]))
        out.append(AddColumn(s, n, col, deps, out_of_order=bool(later)))
        added.append(new.column_address(col.name))
    for col in new.columns:
        was = old.column(col.name)
        if was is None:
            continue
        moves = ctx.moved_sequences  # those change hands on their own (owned_sequences.py)
        was, col = without_moved(was, moves), without_moved(col, moves)
        if col.name in regenerate:
            out.append(DropColumn(s, n, was, _col_deps(ctx, old, was)))
            last = col.name == new.columns[-1].name  # else it moves to the end, and says so
            out.append(AddColumn(s, n, col, _col_deps(ctx, new, col), out_of_order=not last))
        elif was.generated != col.generated:
            out.append(SetGenerated(s, n, was, col, _col_deps(ctx, new, was, col)))
        elif attribute_changes(was, col, exclude=("name", "comment", "generated")):
            out.append(
                AlterColumn(
                    s,
                    n,
                    was,
                    col,
                    _col_deps(ctx, new, was, col),
                    old_is_enum=ctx.is_enum(was.type),
                    new_is_enum=ctx.is_enum(col.type),
                    online=ctx.online(s, n),
                )
            )
        if was.comment != col.comment:
            out.append(SetComment(new.column_address(col.name), was.comment, col.comment))
    dropped: list[Address] = []
    for col in old.columns:
        if new.column(col.name) is None:
            # Each drop waits for the drop of the column before it, so the later column goes
            # first and the down file re-adds them in their original relative order.
            deps = _col_deps(ctx, old, col) | frozenset(dropped[-1:])
            out.append(_drop_column(ctx, old, new, col, deps))
            dropped.append(old.column_address(col.name))
    return out


def _append_order(ctx: DiffContext, cols: list[Column]) -> list[Column]:
    """YAML order, except that a generated column waits for the new columns it reads."""
    pending, done, out = list(cols), set(), []
    names = {c.name for c in cols}
    while pending:
        for c in pending:
            if all(r in done or r not in names or r == c.name for r in ctx.refs(c.generated)):
                break
        else:
            c = pending[0]  # a cycle of generated columns: Postgres will say what is wrong
        pending.remove(c)
        done.add(c.name)
        out.append(c)
    return out


def _compare_constraints(ctx: DiffContext, old: Table, new: Table) -> list[Change]:
    def alter(was: Constraint, k: Constraint) -> list[Change] | None:
        changed = [d["attribute"] for d in attribute_changes(was, k, exclude=("comment",))]
        address = new.constraint_address(k.name)
        comment = [SetComment(address, was.comment, k.comment)] if was.comment != k.comment else []
        if changed and set(changed) <= {"valid", "valid_on"}:  # NOT VALID again re-adds its comment
            return [SetValidity(new.schema, new.name, was, k), *(comment if k.valid else [])]
        if changed == ["options"] and old.partition_by is None:
            # a key's index's storage parameters, in place (a partitioned table's index takes
            # no ALTER INDEX … SET: its key is made again)
            assert isinstance(was, PrimaryKey | Unique) and isinstance(k, PrimaryKey | Unique)
            opts = (was.options, k.options)
            return [SetIndexOptions(new.schema, new.name, k.name, *opts, key=True), *comment]
        return None if changed else comment

    attached = {own for _, own in new.attached_indexes or ()}
    return walk(
        {k.name: k for k in new.constraints()},
        {k.name: k for k in old.constraints()},
        Kind(
            create=lambda k: [_add(ctx, new, k)],
            rebuild=lambda _, was, k: type(was) is not type(k),
            alter=alter,
            drop=lambda k: [_drop(ctx, old, k)],
            # a partition's key its parent's key takes over (attached by name) is not dropped
            left_alone=lambda name, k: name in attached and not isinstance(k, Check | ForeignKey),
        ),
    )


def _ref(ctx: DiffContext, k: Constraint, snap: PgSnapshot) -> Address | None:
    return ctx.ref_key(k, snap) if isinstance(k, ForeignKey) else None


def _add(ctx: DiffContext, t: Table, k: Constraint) -> AddConstraint:
    deps = _check_deps(ctx, t, k) | _below(ctx.desired, t, k)
    if t.partition_of is not None:  # a partition's columns are its parent's: after their changes
        deps |= {Address.of("pg", "column", *t.partition_of, c) for c in getattr(k, "columns", ())}
    ref = _ref(ctx, k, ctx.desired)
    return AddConstraint(t.schema, t.name, k, ref, deps=deps, online=ctx.online(t.schema, t.name))


def _drop(
    ctx: DiffContext, t: Table, k: Constraint, more: frozenset[Address] = frozenset()
) -> DropConstraint:
    deps = _check_deps(ctx, t, k) | _below(ctx.live, t, k) | more
    return DropConstraint(t.schema, t.name, k, _ref(ctx, k, ctx.live), deps=deps)


def _below(snap: PgSnapshot, t: Table, k: Constraint) -> frozenset[Address]:
    """A NOT VALID check is added after the partitions and child tables it holds for: their
    copies are NOT VALID too, but for those it is validated on (`valid_on`); one made later
    would be validated already."""
    if not isinstance(k, Check) or k.valid or k.no_inherit:
        return frozenset()
    out: set[Address] = set()
    todo = [(t.schema, t.name)]
    while todo:
        top = todo.pop()
        for c in snap.tables.values():
            if (c.partition_of == top or top in (c.inherits or ())) and c.address not in out:
                out.add(c.address)
                todo.append((c.schema, c.name))
    return frozenset(out)


def _check_deps(ctx: DiffContext, t: Table, k: Constraint) -> frozenset[Address]:
    """The columns a check reads, and the routines it may call (after their creation, before
    their drop)."""
    expression = getattr(k, "expression", None)
    deps = ctx.expression_deps(t.schema, t.name, expression)
    return deps | ctx.callable_from(t.schema, t.name) if expression else deps


def _col_deps(ctx: DiffContext, t: Table, *cols: Column) -> frozenset[Address]:
    """Types the columns use, the columns their generation expressions read, and the
    relations their texts name as a string (`'public.t'::regclass`)."""
    exprs = [c.generated for c in cols]
    types = ctx.type_deps(*cols, on=(t.schema, t.name))
    named = ctx.named_relations((t.schema, t.name), *exprs, *(c.default for c in cols))
    return types | named | ctx.expression_deps(t.schema, t.name, *exprs)


def reordered(desired: PgSnapshot, live: PgSnapshot) -> list[dict[str, str]]:
    """Findings: tables whose YAML lists the columns they keep in another order than theirs.
    Postgres cannot reorder a table's columns in place: they are left as they are."""
    out = []
    for key, want in desired.tables.items():
        have = live.tables.get(key) or (
            live.tables.get((want.schema, want.renamed_from)) if want.renamed_from else None
        )
        if have is None:
            continue
        names = {c.renamed_from or c.name: c.name for c in want.columns}
        kept = [names[c.name] for c in have.columns if c.name in names]
        listed = [c.name for c in want.columns if c.name in kept]
        if kept != listed:
            out.append(
                {
                    "kind": "column_order",
                    "address": str(want.address),
                    "message": f"the columns of {want.schema}.{want.name} stay in their order "
                    f"({', '.join(kept)}), not the YAML's ({', '.join(listed)}): Postgres cannot "
                    "reorder columns in place, only rebuilding the table would",
                }
            )
    return out
