"""The rows of rebuilt tables (diff/rebuilds.py), carried over (ops/pg/rows.py).

Each rebuilt table's own rows go into its new self or, when the new one is a partition, into
the top of the new tree (so a changed bound or key routes them); the way back does the same
toward the old tables. Carried when the plan keeps dropped tables' data (the drop mode and
the table holding rows decide, pipeline/trash.py); otherwise the drop is destructive and says so.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.diff.context import DiffContext
from reconciler.diff.rebuilds import shape_in
from reconciler.model.address import Address
from reconciler.model.pg import Column, Table
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg.column import keeps_every_value
from reconciler.ops.pg.parents import attachment
from reconciler.ops.pg.rows import Carry, LoadRows, SaveRows, rows_address
from reconciler.ops.pg.trash import trash_name

Key = tuple[str, str]


def carried(ctx: DiffContext) -> dict[Key, Key]:
    """Each table whose own rows are carried → the rebuilt table it belongs to: the rebuilt
    tables, and the partitions (or inheritance children) under one that only one side has —
    a partition the new tree does not keep gives its rows to the new table, one only the new
    tree has gives them back on the way back. None when the drop mode keeps nothing."""
    if ctx.carried is not None:
        return ctx.carried
    ctx.carried = out = {}
    if ctx.trash is None or not ctx.rebuilt:
        return out
    out |= {key: key for key in ctx.rebuilt}
    for snap, other in ((ctx.live, ctx.desired), (ctx.desired, ctx.live)):
        for key, t in snap.tables.items():
            if key not in other.tables and key not in out:
                above = _rebuilt_above(snap, t, ctx.rebuilt)
                if above is not None:
                    out[key] = above
    return out


def carried_rows(ctx: DiffContext) -> frozenset[Address]:
    """What a foreign key to or from a rebuilt table, or a materialized view over one, waits
    for (ops/pg_rows.rows_address): the rows carried in."""
    return frozenset(rows_address(*key) for key in carried(ctx))


def carry_rows(ctx: DiffContext) -> list[Change]:
    out: list[Change] = []
    for key, above in sorted(carried(ctx).items()):
        # a partitioned table has no rows of its own (its partitions' are carried on their
        # own), but its drop is one that keeps them: the way back's gate sees the carry
        old, new = ctx.live.tables.get(key), ctx.desired.tables.get(key)
        there = _side(ctx.live, key, old, ctx.live.tables[above])
        back = _side(ctx.desired, key, new, ctx.desired.tables[above])
        sides = [
            _columns(snap, t)
            for snap, t in (
                (ctx.live, old),
                (ctx.live, ctx.live.tables[there.into]),
                (ctx.desired, new),
                (ctx.desired, ctx.desired.tables[back.into]),
            )
            if t is not None
        ]
        names = [c.name for c in _all_columns(ctx.live, old or ctx.live.tables[there.into])]
        cols = tuple(
            n for n in names if all(n in s for s in sides) and not any(s[n] for s in sides)
        )
        if not cols:
            continue
        assert ctx.trash is not None
        trash = trash_name(ctx.trash.token, key[0], key[1], "rows")
        was = _typed(ctx.live, old or ctx.live.tables[there.into])
        now = _typed(ctx.desired, new or ctx.desired.tables[back.into])
        name = ".".join(key)
        held = old is not None and ctx.quarantined(*key) is not None  # rows there now
        loses = _losses(name, was, now, cols) if held else ()
        loses_back = _losses(name, now, was, cols)
        out.append(SaveRows(trash, cols, there, back, loses, loses_back))
        out.append(LoadRows(trash, cols, there, back, loses, loses_back))
    return out


def _typed(snap: PgSnapshot, t: Table) -> dict[str, str]:
    return {c.name: c.type for c in _all_columns(snap, t)}


def _losses(
    name: str, was: dict[str, str], now: dict[str, str], carried: tuple[str, ...]
) -> tuple[str, ...]:
    """What carrying the rows of `name` from columns `was` to `now` loses: the values of the
    columns not carried, and those converted to another type by an assignment cast."""
    out = []
    gone = [c for c in was if c not in carried]
    if gone:
        out.append(
            f"the values of {', '.join(gone)} of {name} are not carried over (the new shape "
            "has no such column, or computes it)"
        )
    for c in carried:
        if not keeps_every_value(was[c], now[c]):
            out.append(
                f"{name}.{c} is carried over as {now[c]} (was {was[c]}): each value goes "
                "through an assignment cast and may change, or fail the apply"
            )
    return tuple(out)


def _rebuilt_above(snap: PgSnapshot, t: Table, rebuilt: Mapping[Key, str]) -> Key | None:
    """The nearest rebuilt table above `t` (its parent, its parent's parent…), if any."""
    seen: set[Key] = set()
    while True:
        parents = ((t.partition_of,) if t.partition_of else ()) + t.inherits
        if not parents or parents[0] in seen or parents[0] not in snap.tables:
            return None
        if parents[0] in rebuilt:
            return parents[0]
        seen.add(parents[0])
        t = snap.tables[parents[0]]


def _side(snap: PgSnapshot, key: Key, t: Table | None, above: Table) -> Carry:
    """Where rows of `t` (a table of one side; None: the other side has it only) come from
    and go to on that side: into `t`, or the top of its tree when it is a partition."""
    host = t or above
    into = _top(snap, host) if host.partition_of else (host.schema, host.name)
    tree = _under(snap, into)
    top = snap.tables[into]
    return Carry(
        source=key,
        shape="false" if t is None else shape_in(snap, t),
        into=into,
        tree=frozenset(
            a for s, n in tree for a in (Address.of("pg", "table", s, n), attachment(s, n))
        ),
        sequences=tuple(c.name for c in _all_columns(snap, top) if c.sequence or c.identity),
    )


def _top(snap: PgSnapshot, t: Table) -> Key:
    while t.partition_of is not None and t.partition_of in snap.tables:
        t = snap.tables[t.partition_of]
    return (t.schema, t.name)


def _under(snap: PgSnapshot, top: Key) -> set[Key]:
    """`top` and the partitions under it, at any depth."""
    out, todo = {top}, [top]
    while todo:
        parent = todo.pop()
        for key, t in snap.tables.items():
            if t.partition_of == parent and key not in out:
                out.add(key)
                todo.append(key)
    return out


def _all_columns(snap: PgSnapshot, t: Table) -> list[Column]:
    """A table's columns with those it has from its parents (a partition's are its parent's;
    an inheritance child's come after its parents'), by name, in order."""
    if t.partition_of is not None and t.partition_of in snap.tables:
        return _all_columns(snap, snap.tables[t.partition_of])
    out: dict[str, Column] = {}
    for parent in t.inherits:
        if parent in snap.tables:
            out |= {c.name: c for c in _all_columns(snap, snap.tables[parent]) if c.name not in out}
    out |= {c.name: c for c in t.columns if c.name not in out}
    return list(out.values())


def _columns(snap: PgSnapshot, t: Table) -> dict[str, bool]:
    """Column name → whether it is generated (generated columns take no values)."""
    return {c.name: c.generated is not None for c in _all_columns(snap, t)}
