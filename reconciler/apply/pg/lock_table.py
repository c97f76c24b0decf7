"""The server's lock table against the relations a plan locks in one transaction.

Every relation a transaction creates, alters or drops stays locked until it commits, and the
lock table is shared and fixed in size: max_locks_per_transaction * (server processes +
max_prepared_transactions) entries. A plan creating thousands of tables in one transaction
runs out ("out of shared memory") long before it is done — so the apply counts first.

The count is an estimate from the plan alone, on the high side: a table is three relations
(itself, its TOAST table and that one's index), each index, key or view one more. Batches
cut the plan's main statements between changes, each batch under half of what is free.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from reconciler.errors import Refused
from reconciler.ops.base import MAIN
from reconciler.plan import PlannedChange, Step

_KEYS = re.compile(r"\b(PRIMARY KEY|UNIQUE|EXCLUDE)\b")


def relations(change: PlannedChange) -> set[str]:
    """Names standing for the relations one change locks (tables as three entries)."""
    parts = change.address.split(".")
    kind = change.kind
    out: set[str] = set()
    on_table = ("table", "column", "constraint", "trigger", "policy", "replica_identity")
    if kind in on_table and len(parts) >= 4:
        table = ".".join(parts[2:4])
        out |= {table, f"{table}#toast", f"{table}#toast_index"}
    if kind in ("index", "view", "sequence"):
        out.add(change.address)
    if kind in ("table", "constraint"):
        text = "\n".join(change.up if change.action != "drop" else change.down)
        out |= {f"{change.address}#key{i}" for i in range(len(_KEYS.findall(text)))}
    if kind == "constraint" and "REFERENCES" in "\n".join(change.up + change.down):
        out.add(f"{change.address}#referenced")
    return out or {change.address}


def estimate(steps: list[Step]) -> int:
    """Relations the steps lock in one transaction (each change counted once)."""
    seen: set[str] = set()
    done: set[int] = set()
    for step in steps:
        if id(step.change) not in done:
            done.add(id(step.change))
            seen |= relations(step.change)
    return len(seen)


@dataclass(frozen=True, slots=True)
class LockRoom:
    """The server's lock table: its size, what is in use now, the settings behind it."""

    per_transaction: int
    connections: int  # every server process that may lock: connections and workers
    prepared: int
    in_use: int

    @property
    def size(self) -> int:
        return self.per_transaction * (self.connections + self.prepared)

    @property
    def free(self) -> int:
        return max(self.size - self.in_use, 0)

    @property
    def budget(self) -> int:
        """What one transaction of ours may take: half of what is free."""
        return max(self.free // 2, 1)

    def describe(self) -> str:
        return (
            f"{self.size:,} entries: {self.per_transaction} max_locks_per_transaction * "
            f"({self.connections} server processes + {self.prepared} "
            f"max_prepared_transactions), {self.in_use:,} in use"
        )

    def needed_setting(self, relations: int) -> int:
        """The max_locks_per_transaction that leaves the plan room twice over."""
        slots = self.connections + self.prepared
        return -(-(2 * relations + self.in_use) // slots)


def lock_room(conn: psycopg.Connection) -> LockRoom:
    # The server sizes the table by every process that may take locks (MaxBackends): the
    # connections, the autovacuum workers and launcher, background workers and WAL senders.
    row = conn.execute(
        "SELECT current_setting('max_locks_per_transaction')::int, "
        "current_setting('max_connections')::int "
        "+ current_setting('autovacuum_max_workers')::int + 1 "
        "+ current_setting('max_worker_processes')::int "
        "+ current_setting('max_wal_senders')::int, "
        "current_setting('max_prepared_transactions')::int, "
        "(SELECT count(*) FROM pg_catalog.pg_locks WHERE NOT fastpath)::int"
    ).fetchone()
    return LockRoom(*row)


def batches(steps: list[Step], budget: int) -> list[list[Step]]:
    """`steps` cut between changes into runs that each lock at most `budget` relations (a
    single change that needs more is a batch of its own)."""
    out: list[list[Step]] = []
    current: list[Step] = []
    seen: set[str] = set()
    last = None
    for step in steps:
        if step.change is not last:
            last = step.change
            more = relations(step.change) - seen
            if current and len(seen) + len(more) > budget:
                out.append(current)
                current, seen = [], set()
                more = relations(step.change)
            seen |= more
        current.append(step)
    if current:
        out.append(current)
    return out


def lock_budget(
    conn: psycopg.Connection,
    steps: list[Step],
    *,
    in_batches: bool,
    what: str,
    log: Callable[[str], None],
) -> int | None:
    """None when the statements fit one transaction; else the relations each batch may lock
    (with --in-batches) or Refused saying what to change, before anything runs."""
    needed = estimate([s for s in steps if s.phase == MAIN])
    room = lock_room(conn)
    if needed <= room.budget:
        return None
    if in_batches:
        log(f"about {needed:,} relations to lock, {room.budget:,} per batch ({room.describe()})")
        return room.budget
    raise Refused(
        f"The {what} would lock about {needed:,} relations in one transaction, more than this "
        f"server's lock table leaves room for ({room.describe()}): it would fail with \"out of "
        'shared memory" part way.',
        detail=f"Set max_locks_per_transaction to at least {room.needed_setting(needed)} and "
        "restart the server, or pass --in-batches to run it in transactions of at most "
        f"{room.budget:,} relations, each recorded, all undone if one fails.",
    )
