"""A rollback as a plan of its own: the reverses of what it reverts, with what they destroy.

A rollback runs the recorded down statements of applied versions. Those are written at plan
time, when a table the plan creates is empty; by the time it is rolled back it may hold rows
that nobody wants to lose. So a rollback goes through the forward plan's gate: `invert` turns
the versions to revert into one Plan (each change's down as its up, newest first), `losses`
reads which of its drops would take rows or values with them (one query for all), and `keep`
turns those drops into moves to the trash schema, each with a `destructive` hazard that
api.check_destructive gates behind --allow-destructive like any forward drop.

What was kept is recorded with the rollback ('kept': address, trash table, the statements that
bring it back), so that applying the same version again (`reconciler apply VERSION`) restores
the rows instead of creating the table empty: `with_restores`.

Must not: run anything but the read-only count, or decide whether to ask anybody.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from reconciler.introspect.pg.per_table import union_in_chunks
from reconciler.model.address import Address
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import DESTRUCTIVE, IRREVERSIBLE, Action
from reconciler.ops.pg.trash import (
    TRASH_SCHEMA,
    QuarantineColumn,
    QuarantineTable,
    quarantine_key,
    trash_name,
)
from reconciler.pipeline.lossy import TypeChange, Verdict
from reconciler.plan import Plan, PlannedChange

# Counting stops here: enough to say "at least" without reading a huge table to its end.
COUNT_LIMIT = 1_000_000

_FLIP = {"create": Action.DROP, "drop": Action.CREATE, "rename": Action.RENAME}


def _inverse(c: PlannedChange) -> PlannedChange:
    action = _FLIP.get(c.action, Action.ALTER)
    details = tuple(
        {**d, "old": d.get("new"), "new": d.get("old")} if "old" in d or "new" in d else d
        for d in c.details
    )
    return PlannedChange(
        address=c.address,
        action=action.verb,
        symbol=action.symbol,
        kind=c.kind,
        description=f"revert: {c.description}",
        # A change whose down cannot undo it says so again; its other hazards were the up's.
        hazards=tuple(h for h in c.hazards if h["code"] == IRREVERSIBLE),
        details=details,
        up=c.down,
        down=c.up,
        transactional=c.down_transactional,
        down_transactional=c.transactional,
        owner=c.owner,
    )


def access_widened(back: Plan) -> list[tuple[PlannedChange, str]]:
    """The changes of a rollback that widen which rows roles see, with why: a restrictive
    policy dropped (unless the rollback creates it again, restrictive, under its name) and
    row-level security turned off or no longer forced. Gated as a drop of data is, as the
    forward plan gates them (ops/pg/policy.py)."""

    def restrictive(sql: tuple[str, ...]) -> bool:
        return any(s.startswith("CREATE POLICY ") and "\nAS RESTRICTIVE " in s for s in sql)

    back_again = {c.address for c in back.changes if c.kind == "policy" and restrictive(c.up)}
    # a policy dropped with its table widens nothing (names may hold dots: parsed, not split)
    tables_gone = {
        Address.parse(c.address).parts[2:4]
        for c in back.changes
        if c.kind == "table" and c.action == "drop"
    }
    out = []
    for c in back.changes:
        if c.kind == "policy" and c.action == "drop" and restrictive(c.down):
            parts = Address.parse(c.address).parts  # pg.policy.schema.table.name
            if c.address not in back_again and parts[2:4] not in tables_gone:
                out.append((c, f"drops restrictive policy {parts[-1]}"))
        for d in c.details:
            if d.get("attribute") != "row_security":
                continue
            old, new = str(d.get("old")), str(d.get("new"))
            if new.startswith("off") and not old.startswith("off"):
                out.append((c, "turns row-level security off"))
            elif old == "forced" and new == "on":
                out.append((c, "no longer forces row-level security on the table's owner"))
    return out


def invert(plans: list[Plan]) -> Plan:
    """One plan that reverts `plans` (newest first): their changes' reverses, in down order.
    It carries the oldest version's name: the state the target returns to."""
    oldest = plans[-1]
    changes = tuple(_inverse(c) for p in plans for c in reversed(p.changes))
    return replace(
        oldest, changes=changes, files={}, findings=(), unsupported=(), live_fingerprint=""
    )


@dataclass(frozen=True, slots=True)
class Loss:
    """Rows of a table, or values of a column, that a rollback's drop would take with it."""

    address: str
    schema: str
    table: str
    column: str | None
    count: int  # rows, or non-null values; COUNT_LIMIT + 1 means "more than COUNT_LIMIT"

    @property
    def amount(self) -> str:
        n = f"more than {COUNT_LIMIT:,}" if self.count > COUNT_LIMIT else f"{self.count:,}"
        if self.column is None:
            return f"{n} row{'s' if self.count != 1 else ''}"
        return f"{n} value{'s' if self.count != 1 else ''}"

    @property
    def what(self) -> str:
        if self.column is None:
            return f"table {self.schema}.{self.table}"
        return f"column {self.column} of {self.schema}.{self.table}"


def _keeps_data(c: PlannedChange) -> bool:
    # A drop that already moves its object to the trash schema (the down of a restore).
    marker = f'"{TRASH_SCHEMA}"'
    return any(marker in s or f"{TRASH_SCHEMA}." in s for s in c.up)


def breaks_unmodeled(p: Plan, live: PgSnapshot) -> tuple[str, str] | None:
    """(what `p` drops, the object the model cannot express that needs it), for the first
    drop that would take part of such an object along (a table a publication publishes, a
    column extended statistics cover): the forward plan withholds such drops; a rollback,
    which cannot, must not make them."""
    needed: list[tuple[tuple[str, ...], str]] = []
    for kind, name, address, via in live.needs:
        if kind and not via:
            needed.append((Address.parse(address).parts, f"{kind} {name}"))
    if not needed:
        return None
    for c in p.changes:
        if c.engine != "pg" or c.action != "drop":
            continue
        dropped = Address.parse(c.address).parts
        for parts, who in needed:
            same = parts[2:] == dropped[2:]
            on_table = c.kind == "table" and parts[2:4] == dropped[2:4]
            if (parts[1] == dropped[1] and same) or on_table:
                return c.address, who
    return None


def restored_then_dropped(p: Plan) -> str | None:
    """An object one step of `p` brings back from the trash and a later step drops: in a
    rollback of several versions (one dropped it keeping its data, an older one created it),
    its data would be lost between the two, where the live state cannot show it."""
    restored: set[str] = set()
    for c in p.changes:
        if c.engine != "pg" or c.kind not in ("table", "column"):
            continue
        if c.action == "create" and _keeps_data(c):
            restored.add(c.address)
        elif c.action == "drop" and c.address in restored and not _keeps_data(c):
            return c.address
    return None


def _candidates(p: Plan, live: PgSnapshot) -> list[tuple[PlannedChange, tuple[str, ...]]]:
    """The drops of tables and columns that exist live and are not already kept (in the
    trash, or carried over to the table rebuilt in its place: ops/pg/rows.py)."""
    carried = {
        Address.parse(c.address).parts[2:] for c in p.changes if c.address.startswith("pg.rows.")
    }
    out = []
    for c in p.changes:
        if c.engine != "pg" or c.action != "drop" or c.kind not in ("table", "column"):
            continue
        if _keeps_data(c) or (c.kind == "table" and Address.parse(c.address).parts[2:] in carried):
            continue
        parts = Address.parse(c.address).parts[2:]
        table = live.tables.get((parts[0], parts[1]))
        if table is None or (c.kind == "column" and table.column(parts[2]) is None):
            continue  # not there now: its drop (IF EXISTS) takes nothing
        if c.kind == "column" and table.column(parts[2]).generated is not None:  # type: ignore[union-attr]
            continue  # computed again from the columns it reads: no value is lost
        out.append((c, parts))
    return out


def _moved_partitions(p: Plan) -> set[tuple[str, str]]:
    """The tables `p` moves from one parent to another (ops/pg/table.py SetPartition)."""
    out = set()
    for c in p.changes:
        if c.engine != "pg" or c.kind != "table":
            continue
        for d in c.details:
            if d.get("attribute") == "partition_of" and d.get("old") and d.get("new"):
                out.add(tuple(Address.parse(c.address).parts[2:4]))
    return out  # type: ignore[return-value]


def losses(conn: psycopg.Connection, p: Plan, live: PgSnapshot) -> list[Loss]:
    """What the drops of `p` would take: every table holding rows and every column holding
    values, counted up to COUNT_LIMIT + 1, in read-only queries of a few tables each."""
    found = _candidates(p, live)
    if not found:
        return []
    # a partition the plan moves to another parent keeps its rows: not counted with the
    # parent it leaves
    moved = sorted(_moved_partitions(p))
    stays = sql.SQL("")
    if moved:
        trees = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT relid FROM pg_catalog.pg_partition_tree({}::regclass)").format(
                sql.Literal(f"{sql.Identifier(*m).as_string(conn)}")
            )
            for m in moved
        )
        stays = sql.SQL(" WHERE tableoid NOT IN ({})").format(trees)
    parts = []
    for i, (_, names) in enumerate(found):
        where = (
            sql.SQL(" WHERE {} IS NOT NULL").format(sql.Identifier(names[2]))
            if len(names) > 2
            else sql.SQL("")
        )
        # A partitioned table's drop takes its partitions' rows; an inheritance parent's only
        # its own (its children are dropped, and counted, on their own).
        partitioned = live.tables[(names[0], names[1])].partition_by
        only = sql.SQL("" if partitioned else "ONLY ")
        if partitioned and len(names) == 2:
            where = stays
        parts.append(
            sql.SQL(
                "SELECT {}::int, (SELECT count(*) FROM (SELECT FROM {}{}{} LIMIT {}) s)"
            ).format(
                sql.Literal(i),
                only,
                sql.Identifier(names[0], names[1]),
                where,
                sql.Literal(COUNT_LIMIT + 1),
            )
        )
    rows = dict(union_in_chunks(conn, parts))
    out = []
    for i, (c, names) in enumerate(found):
        if rows[i]:
            column = names[2] if len(names) > 2 else None
            out.append(Loss(c.address, names[0], names[1], column, int(rows[i])))
    return out


@dataclass(frozen=True, slots=True)
class Kept:
    """A drop turned into a move to the trash, and what brings it back."""

    address: str
    trash: str
    restore: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "trash": self.trash, "restore": list(self.restore)}


def _keeper(loss: Loss, live: PgSnapshot, trash: str) -> Any:
    """The change that keeps what `loss` would take, or None when it cannot be kept: a table
    in a partition or inheritance tree (not movable on its own), a column without a key to
    match its values by (no primary key, or the column is in it, generated, or an identity
    that refuses updates). The same rule as a forward plan's drops (diff/tables.py)."""
    table = live.tables[(loss.schema, loss.table)]
    if loss.column is None:
        return QuarantineTable(table, trash) if live.standalone(table) else None
    column = table.column(loss.column)
    key = quarantine_key(table, column) if column is not None else None
    if column is None or key is None:
        return None
    return QuarantineColumn(loss.schema, loss.table, column, key, trash)


def retypes(p: Plan, live: PgSnapshot) -> list[tuple[PlannedChange, TypeChange]]:
    """The column type changes of `p` (a rollback) on columns that exist live, as
    lossy.TypeChange: the type now, and the one the rollback gives back."""
    out = []
    for c in p.changes:
        if c.engine != "pg" or c.kind != "column" or c.action != "change":
            continue
        typed = next((d for d in c.details if d.get("attribute") == "type"), None)
        if typed is None or not typed.get("old") or not typed.get("new"):
            continue
        schema, table, column = Address.parse(c.address).parts[2:5]
        t = live.tables.get((schema, table))
        if t is None or t.column(column) is None:
            continue
        out.append((c, TypeChange(schema, table, column, typed["old"], typed["new"])))
    return out


def with_value_hazards(p: Plan, found: list[tuple[PlannedChange, Verdict]]) -> Plan:
    """`p` with a destructive hazard on each type change that changes (or may change) live
    values: they cannot be kept, only refused or allowed."""
    said = {id(c): f"type {v.change.old_type} → {v.change.new_type} {v.hazard()}" for c, v in found}
    return replace(
        p,
        changes=tuple(
            replace(c, hazards=(*c.hazards, {"code": DESTRUCTIVE, "message": said[id(c)]}))
            if id(c) in said
            else c
            for c in p.changes
        ),
    )


def keepable(loss: Loss, live: PgSnapshot) -> bool:
    return _keeper(loss, live, "") is not None


def keep(p: Plan, found: list[Loss], live: PgSnapshot, token: str) -> tuple[Plan, list[Kept]]:
    """`p` with each drop of `found` moving its table, or its column's values, to the trash
    where it can (else dropping them, said so); each carries a destructive hazard saying how
    much it holds. `token` makes the trash names of this rollback unique."""
    by_address = {loss.address: loss for loss in found}
    kept: list[Kept] = []
    changes = []
    for c in p.changes:
        loss = by_address.get(c.address)
        if loss is None:
            changes.append(c)
            continue
        trash = trash_name(token, loss.schema, loss.table, loss.column or "")
        move = _keeper(loss, live, trash)
        if move is None:
            hazard = {
                "code": DESTRUCTIVE,
                "message": f"drops {loss.what} holding {loss.amount}; they cannot be kept in "
                f"{TRASH_SCHEMA} (see `reconciler trash`) and are lost",
            }
            changes.append(replace(c, hazards=(*c.hazards, hazard)))
            continue
        restore = tuple(s.sql for s in move.reverse().statements())
        kept.append(Kept(c.address, trash, restore))
        hazard = {
            "code": DESTRUCTIVE,
            "message": f"drops {loss.what} holding {loss.amount}; they are kept as "
            f"{TRASH_SCHEMA}.{trash} (applying version {p.version} again brings them back) "
            "until `reconciler trash purge`",
        }
        changes.append(
            replace(
                c,
                up=tuple(s.sql for s in move.statements()),
                hazards=(*c.hazards, hazard),
                description=f"{c.description} (kept in {TRASH_SCHEMA})",
            )
        )
    return replace(p, changes=tuple(changes)), kept


def with_restores(p: Plan, kept: list[dict[str, Any]]) -> Plan:
    """`p` (a version applied again after a rollback kept data) restoring what the rollback
    kept instead of creating it empty. Restores rebuild the object empty should its trash
    table be gone (purged), as the plain create would."""
    restores = {k["address"]: tuple(k["restore"]) for k in kept}
    if not restores:
        return p
    changes = tuple(
        replace(
            c,
            up=restores[c.address],
            description=f"{c.description} (back from {TRASH_SCHEMA})",
            transactional=True,
            phases=(),
            cleanups=(),
        )
        if c.address in restores and c.action == "create"
        else c
        for c in p.changes
    )
    return replace(p, changes=changes)
