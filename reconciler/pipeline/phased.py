"""Which column changes of large tables become phased plans, and which phase is next.

A table is large when its YAML says `large: true`, or when it says nothing and pg_class
estimates at least `large_rows` rows (read in one query, only for tables with a candidate
change). On a large table, a column type change that rewrites the table, or a column rename,
becomes a Move (ops/pg/phased.py); the phase comes from the marker on the live table's new
column: none → expand, `expanded` → backfill, `backfilled` → contract.

While a move is expanding or backfilling, the rest of that table's changes wait (its desired
definition is taken as the live one); the contract plan carries them, computed against the
table as the contract leaves it — unless one of them is itself a move (a rename or a rewriting
type change asked for meanwhile): then the contract goes alone, and the next plan starts it.
A move the operation cannot carry safely — the column is read by a view, a policy, a
trigger, a generated column, another table's foreign key, a key or exclusion constraint over
several columns, or is an identity or serial column; the table is partitioned or inherited —
is refused with a sentence that names the way out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.diff.context import DiffContext
from reconciler.errors import NotSupported
from reconciler.introspect.pg.per_table import per_table
from reconciler.model.pg import Column, Index, IndexElement, Table
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg.column import type_change_rewrites
from reconciler.ops.pg.move import Move, plain_index_on, read_marker
from reconciler.ops.pg.phased import AbandonMove, BackfillColumn, ContractColumn, ExpandColumn

if TYPE_CHECKING:
    import psycopg

refs = DiffContext.refs  # the column names an expression reads


@dataclass
class Phased:
    changes: list[Change]
    desired: PgSnapshot
    live: PgSnapshot


def phase(
    conn: psycopg.Connection | None,
    desired: PgSnapshot,
    live: PgSnapshot,
    large_rows: int,
    is_enum: Callable[[str], bool],
) -> Phased:
    """The phase changes of every move, and the snapshots the ordinary diff then compares."""
    out = Phased([], desired, live)
    started = _started(desired, live, is_enum)
    wanted = _candidates(conn, desired, live, large_rows, started, is_enum)
    for key, moves in started.items():
        done, every = [], []
        for move, state in moves:
            if not _still_wanted(move, desired):
                every.append(_complete(move, live))
                out.changes.append(AbandonMove(every[-1]))
                continue
            move = _checked(move, desired, live)
            done.append(move)
            every.append(move)
            if state == "expanded":
                out.changes.append(BackfillColumn(move))
            else:
                out.changes.append(ContractColumn(move))
        _hide(out, key, every)
        if all(state == "backfilled" for _, state in moves):
            _contracted(out, key, done)
            want = out.desired.tables.get(key)
            if want is not None and want.large is not False and _pairs(want, out.live.tables[key]):
                # Another rename or rewriting type change of the table waits for the contract:
                # the plan after starts its phases (so do the table's other changes).
                _freeze(out, key)
        else:
            _freeze(out, key)
    for key, moves in wanted.items():
        out.changes += [ExpandColumn(_checked(m, desired, live)) for m in moves]
        _freeze(out, key)
    return out


# --- what is under way ---------------------------------------------------------------------------


def _started(
    desired: PgSnapshot, live: PgSnapshot, is_enum: Callable[[str], bool]
) -> dict[tuple[str, str], list[tuple[Move, str]]]:
    out: dict[tuple[str, str], list[tuple[Move, str]]] = {}
    for key, t in live.tables.items():
        for col in t.columns:
            marker = read_marker(col.comment)
            if marker is None:
                continue
            state, source_name, target_name = marker
            source = t.column(source_name)
            if source is None:
                continue  # contracted already (a rename): the marker is the comment to replace
            want = desired.tables.get(key)
            target = want.column(target_name) if want else None
            if target is None:  # gone from the YAML: keep enough to abandon the move
                target = dataclasses.replace(col, name=target_name, comment=None)
            # of the type the new column has: a YAML that now wants another abandons it
            move = _move(t, source, dataclasses.replace(target, type=col.type), is_enum)
            out.setdefault(key, []).append((move, state))
    return out


def _still_wanted(m: Move, desired: PgSnapshot) -> bool:
    want = desired.tables.get((m.schema, m.table))
    target = want.column(m.target.name) if want else None
    if target is None or target.type != m.target.type:
        return False
    return m.rename or m.source.type != target.type


# --- what should start ---------------------------------------------------------------------------


def _candidates(
    conn: psycopg.Connection | None,
    desired: PgSnapshot,
    live: PgSnapshot,
    large_rows: int,
    started: dict,
    is_enum: Callable[[str], bool],
) -> dict[tuple[str, str], list[Move]]:
    found: dict[tuple[str, str], list[tuple[Column, Column]]] = {}
    for key, want in desired.tables.items():
        have = live.tables.get(key)
        if have is None or key in started or want.large is False:
            continue
        if pairs := _pairs(want, have):
            found[key] = pairs
    sized = [k for k in found if desired.tables[k].large is None]
    rows = _estimated_rows(conn, sized) if sized else {}
    out: dict[tuple[str, str], list[Move]] = {}
    for key, pairs in found.items():
        if desired.tables[key].large or rows.get(key, 0) >= large_rows:
            out[key] = [_move(live.tables[key], s, t, is_enum) for s, t in pairs]
    return out


def _pairs(want: Table, have: Table) -> list[tuple[Column, Column]]:
    """(live column, desired column) of each rename, and each type change that rewrites the
    table, that `want` asks of `have`: what a move carries on a large table."""
    out = []
    for target in want.columns:
        renamed = target.renamed_from and have.column(target.name) is None
        source = have.column(target.renamed_from if renamed else target.name)
        if source is None:
            continue
        retyped = source.type != target.type and type_change_rewrites(source.type, target.type)
        if renamed or retyped:
            out.append((source, target))
    return out


def _estimated_rows(
    conn: psycopg.Connection | None, tables: list[tuple[str, str]]
) -> dict[tuple[str, str], float]:
    if conn is None:
        return {}
    rows = per_table(conn, tables, "(SELECT reltuples FROM pg_catalog.pg_class WHERE oid = {name})")
    return {key: float(n or 0) for key, n in rows.items()}


def _move(t: Table, source: Column, target: Column, is_enum: Callable[[str], bool]) -> Move:
    return Move(t.schema, t.name, source, target, via_text=is_enum(source.type))


def _complete(m: Move, live: PgSnapshot) -> Move:
    """The move with what the backfill rebuilds on the new column: the source's plain
    indexes, and its one-column primary key or unique constraint (as a unique index)."""
    key = (m.schema, m.table)
    t, col = live.tables[key], m.source.name
    indexes = [
        ix
        for ix in live.indexes.values()
        if (ix.schema, ix.table) == key and plain_index_on(ix, col)
    ]
    one_key = None
    for k in (t.primary_key, *t.uniques):
        if k is not None and k.columns == (col,):
            one_key = (k.name, "PRIMARY KEY" if k is t.primary_key else "UNIQUE")
            indexes.append(
                Index(
                    m.schema,
                    m.table,
                    k.name,
                    (IndexElement(column=col),),
                    unique=True,
                    options=k.options,
                )
            )
            break
    return dataclasses.replace(m, indexes=tuple(indexes), key=one_key)


def _refusal(m: Move, desired: PgSnapshot, live: PgSnapshot) -> str | None:
    """Why the move cannot be carried out in phases, or None."""
    key = (m.schema, m.table)
    t, col = live.tables[key], m.source.name
    if not live.standalone(t):
        return "the table is partitioned, a partition, or in an inheritance tree"
    if m.source.identity or m.source.generated or m.source.sequence:
        return "it is an identity, generated or serial column"
    for q in live.sequences.values():  # the old column's drop would take the sequence along
        if q.schema == m.schema and q.owned_by == (m.table, col):
            return f"it owns sequence {q.name}"
    if m.rename and m.source.type != m.target.type:
        # old and new clients are kept in step both ways, which needs a cast each way
        return "it is renamed and retyped at once (make one change, then the other)"
    if any(c.generated and col in refs(c.generated) for c in t.columns):
        return "a generated column reads it"
    for other in live.tables.values():
        for fk in other.foreign_keys:
            if (fk.ref_schema, fk.ref_table) == key and col in fk.ref_columns:
                return f"foreign key {fk.name} of table {other.name} references it"
    if any(
        k is not None and col in k.columns and len(k.columns) > 1
        for k in (t.primary_key, *t.uniques)
    ):
        return "a key over several columns includes it"
    if any(col in x.columns or col in refs(x.definition) for x in t.exclusions):
        return "an exclusion constraint uses it"
    for snap in (live, desired):
        for v in snap.views.values():
            if any((s, n) == key for s, n, _ in v.reads) or m.table in v.query:
                return f"view {v.name} reads the table"
        for (s, n, _), p in snap.policies.items():
            if (s, n) == key:
                return f"policy {p.name} is on the table"
        for (s, n, _), tg in snap.triggers.items():
            if (s, n) == key:
                return f"trigger {tg.name} is on the table"
    return None


def _checked(m: Move, desired: PgSnapshot, live: PgSnapshot) -> Move:
    """The completed move, or NotSupported naming what stands in its way."""
    why = _refusal(m, desired, live)
    if why is not None:
        want = desired.tables.get((m.schema, m.table))
        raise NotSupported(
            f"Column {m.schema}.{m.table}.{m.source.name} cannot change in phases "
            f"({m.kind}): {why}.",
            detail=f"Set `large: false` on table {m.table} to make the change in one step (it "
            "rewrites or locks the table), or take that dependency away first.",
            source=want.source if want else None,
        )
    return _complete(m, live)


# --- the snapshots the ordinary diff compares ----------------------------------------------------


def _hide(out: Phased, key: tuple[str, str], moves: list[Move]) -> None:
    """The moves' own objects (new columns, index copies, checks) out of the live snapshot."""
    t = out.live.tables[key]
    new_columns = {m.new_column for m in moves}
    checks = {m.not_null_check for m in moves}
    copies = {(m.schema, m.index_copy(ix).name) for m in moves for ix in m.indexes}
    kept = dataclasses.replace(
        t,
        columns=tuple(
            c for c in t.columns if c.name not in new_columns or read_marker(c.comment) is None
        ),
        checks=tuple(k for k in t.checks if k.name not in checks),
    )
    indexes = {k: ix for k, ix in out.live.indexes.items() if k not in copies}
    out.live = dataclasses.replace(out.live, tables={**out.live.tables, key: kept}, indexes=indexes)


def _freeze(out: Phased, key: tuple[str, str]) -> None:
    """The table's other changes wait: its desired definition is its live one."""
    live, want = out.live, out.desired
    t = dataclasses.replace(
        live.tables[key], large=want.tables[key].large, source=want.tables[key].source
    )

    def take(wanted: dict, have: dict, on: Callable[[object, object], bool]) -> dict:
        return {
            **{k: v for k, v in wanted.items() if not on(k, v)},
            **{k: v for k, v in have.items() if on(k, v)},
        }

    out.desired = dataclasses.replace(
        want,
        tables={**want.tables, key: t},
        indexes=take(want.indexes, live.indexes, lambda _, ix: (ix.schema, ix.table) == key),
        triggers=take(want.triggers, live.triggers, lambda k, _: (k[0], k[1]) == key),
        policies=take(want.policies, live.policies, lambda k, _: (k[0], k[1]) == key),
    )


def _contracted(out: Phased, key: tuple[str, str], moves: list[Move]) -> None:
    """The live table as the contracts leave it, for the ordinary diff of the same plan:
    each old column gone, its new one in place with the rebuilt indexes and key; what else
    used the old column (checks, foreign keys, other indexes) went with it."""
    t = out.live.tables[key]
    indexes = dict(out.live.indexes)
    for m in moves:
        t = _table_after(t, m)
        col = m.source.name
        for k, ix in list(indexes.items()):
            if (ix.schema, ix.table) != key or col not in _index_columns(ix):
                continue
            if ix in m.indexes:
                indexes[k] = m.on_column(ix, m.target.name, ix.name)
            else:
                del indexes[k]
    out.live = dataclasses.replace(out.live, tables={**out.live.tables, key: t}, indexes=indexes)


def _table_after(t: Table, m: Move) -> Table:
    col, kept_key = m.source.name, m.key[0] if m.key else None

    def rekeyed(k):  # a key over the old column: kept on the new one if the contract rebuilt it
        if k is None or col not in k.columns:
            return k
        return dataclasses.replace(k, columns=(m.target.name,)) if k.name == kept_key else None

    if m.rename:
        columns = (*(c for c in t.columns if c.name != col), m.target)
    else:
        columns = tuple(m.target if c.name == col else c for c in t.columns)
    return dataclasses.replace(
        t,
        columns=columns,
        primary_key=rekeyed(t.primary_key),
        uniques=tuple(u for u in map(rekeyed, t.uniques) if u is not None),
        checks=tuple(k for k in t.checks if col not in refs(k.expression)),
        foreign_keys=tuple(fk for fk in t.foreign_keys if col not in fk.columns),
    )


def _index_columns(ix: Index) -> set[str]:
    cols = {e.column for e in ix.elements if e.column}
    for e in ix.elements:
        cols |= set(refs(e.expression))
    return cols | set(refs(ix.where)) | set(ix.include)
