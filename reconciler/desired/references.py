"""References between declared objects, resolved once every table is known.

Owns: foreign keys (whose referenced columns default to the referenced table's primary key
and must be exactly a primary or unique key of it, its partition parents' included), a
partition's parent (declared, partitioned, holding the keys it attaches), a constraint
trigger's FROM table and a check's `valid_on` tables.
Must not: build tables (tables.py does, leaving each foreign key as a PendingFk here).
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.desired.context import Context, PendingFk, split_name
from reconciler.model.pg import Check, ForeignKey, Table
from reconciler.model.words import counted
from reconciler.project.yamlload import Where


def resolve_keys(ctx: Context) -> None:
    """Every pending foreign key, then every partition's parent."""
    # Unique plain indexes per table, once: a foreign key may reference one as its key.
    for ix in ctx.indexes.values():
        if ix.unique and ix.where is None and all(e.column for e in ix.elements):
            cols = {e.column for e in ix.elements}
            ctx.unique_index_keys.setdefault((ix.schema, ix.table), []).append(cols)
    for fk in ctx.pending_fks:
        _foreign_key(ctx, fk)
    for key, where in ctx.pending_partitions:
        _partition_parent(ctx, key, where)


def trigger_sources(ctx: Context) -> None:
    """A constraint trigger's FROM names a declared table."""
    for tg in ctx.triggers.values():
        if tg.from_table is not None and tg.from_table not in ctx.tables:
            shown, _, line = (tg.source or "").rpartition(":")
            message = f"trigger {tg.name}: from table '{'.'.join(tg.from_table)}' is not declared"
            ctx.problems.append((shown, int(line) if line.isdigit() else 1, message))


def checks_valid_on(ctx: Context) -> None:
    """A check's `valid_on` names declared partitions or child tables of its table."""
    for key, t in ctx.tables.items():
        for k in t.checks:
            for below in k.valid_on:
                if key in _ancestors(ctx, below):
                    continue
                shown, _, line = (k.source or "").rpartition(":")
                message = (
                    f"check {k.name}: valid_on: '{'.'.join(below)}' is not a declared "
                    f"partition or child table of {'.'.join(key)}"
                )
                ctx.problems.append((shown, int(line) if line.isdigit() else 1, message))


def _ancestors(ctx: Context, key: tuple[str, str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    todo = list(ctx.family.get(key, ((), ()))[1])
    while todo:
        top = todo.pop()
        if top not in out:
            out.add(top)
            todo += ctx.family.get(top, ((), ()))[1]
    return out


def _partition_chain(ctx: Context, key: tuple[str, str]) -> list[Table]:
    """The declared table and the tables it is a partition of, all the way up."""
    out: list[Table] = []
    while key in ctx.tables and all(t is not ctx.tables[key] for t in out):
        out.append(ctx.tables[key])
        key = ctx.tables[key].partition_of or key
    return out


def _partition_parent(ctx: Context, key: tuple[str, str], where: Where) -> None:
    """A partition's parent must be a declared, partitioned table."""
    parent_key = ctx.tables[key].partition_of
    assert parent_key is not None
    parent = ctx.tables.get(parent_key)
    name = ".".join(parent_key)
    if parent is None:
        if ctx.complete:
            ctx.report(where, f"table '{name}' is not declared")
    elif parent.partition_by is None:
        ctx.report(where, f"table '{name}' is not partitioned: give it partition_by")
    elif ctx.complete:
        columns = ctx.inherited_columns(key)
        for col in ctx.tables[key].not_null:
            if col not in columns:
                ctx.report(where, f"not_null names no column '{col}' of table '{name}'")
        keys = {k.name for k in parent.constraints() if not isinstance(k, Check | ForeignKey)}
        # a sub-partition attaches to its parent's own copies of the parent's parent's
        keys |= {own for _, own in parent.attached_indexes or ()}
        for index, _ in ctx.tables[key].attached_indexes or ():
            ix = ctx.indexes.get((parent_key[0], index))
            if index not in keys and (ix is None or (ix.schema, ix.table) != parent_key):
                ctx.report(where, f"attached_indexes names no index or key '{index}' of '{name}'")


def _foreign_key(ctx: Context, fk: PendingFk) -> None:
    spec, where, ref = fk.spec, fk.where, fk.spec.references
    ref_schema, ref_table = split_name(ref.table, ref.schema_, fk.table[0])
    rw = where.sub("references")
    if not (ctx.name_ok(ref_schema, rw) and ctx.name_ok(ref_table, rw)):
        return
    target = ctx.tables.get((ref_schema, ref_table))
    ref_cols = tuple(ref.columns or ())
    if target is None and not ref_cols:
        if ctx.complete:
            ctx.report(rw, f"referenced table '{ref_schema}.{ref_table}' is not declared")
        return
    # With explicit columns, a table outside the desired state (out of scope) is allowed.
    if target is not None:
        if not ref_cols:
            if target.primary_key is None:
                ctx.report(rw, f"'{ref_table}' has no primary key; give references.columns")
                return
            ref_cols = target.primary_key.columns
        if not _ref_columns_ok(ctx, target, ref_cols, rw):
            return
    if len(ref_cols) != len(spec.columns):
        ctx.report(
            where.sub("columns"),
            f"{counted(len(spec.columns), 'column')} cannot reference "
            f"{counted(len(ref_cols), 'column')} of '{ref_table}'",
        )
        return
    new = ForeignKey(
        name=fk.name,
        columns=tuple(spec.columns),
        ref_schema=ref_schema,
        ref_table=ref_table,
        ref_columns=ref_cols,
        on_delete=spec.on_delete,
        on_update=spec.on_update,
        match_full=spec.match == "full",
        deferrable=ctx.deferrable(spec, where),
        initially_deferred=spec.initially_deferred,
        comment=spec.comment,
        source=where.source,
        valid=spec.valid,
    )
    table = ctx.tables[fk.table]
    ctx.tables[fk.table] = replace(table, foreign_keys=(*table.foreign_keys, new))


def _ref_columns_ok(ctx: Context, target: Table, cols: tuple[str, ...], where: Where) -> bool:
    """Postgres requires the referenced columns to be exactly a PK or unique key."""
    key = (target.schema, target.name)
    inherited = ctx.inherited_columns(key)
    missing = [c for c in cols if target.column(c) is None and c not in inherited]
    if missing:
        ctx.report(where, f"'{target.name}' has no column '{missing[0]}'")
        return False
    if len(set(cols)) != len(cols):
        ctx.report(where, "referenced columns must not repeat")
        return False
    keys: list[set[str]] = []
    # a partition has its parents' keys too (each partition holds a copy of them)
    for t in _partition_chain(ctx, key):
        keys += [set(u.columns) for u in t.uniques]
        keys += [set(t.primary_key.columns)] if t.primary_key else []
        keys += ctx.unique_index_keys.get((t.schema, t.name), [])
    if set(cols) not in keys:
        ctx.report(
            where,
            f"({', '.join(cols)}) of '{target.name}' is neither its primary key nor "
            "a unique key, so a foreign key cannot reference it",
        )
        return False
    return True
