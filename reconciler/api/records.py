"""What a target's records hold: the recorded state, the apply locks and the trash.

Owns: the use cases of `state list/show/history`, `lock status/force-unlock` and `trash
list/purge`: each opens what it needs, reads or changes it, and returns values.

Must not: print or prompt (the CLI renders, and asks before a purge through `confirm`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.connect import connect_pg
from reconciler.errors import InputError, Refused
from reconciler.locks.pg import force_unlock, lock_holder
from reconciler.pipeline import trash
from reconciler.pipeline.planner import open_targets, state_for
from reconciler.project.scope import EVERY_SCHEMA
from reconciler.state.base import ApplyRecord, Attempt

# ------------------------------------------------------------------------------------- state


@contextmanager
def _state(pg_url: str | None, state_dir: Path) -> Iterator[Any]:
    """The state of the PostgreSQL target, or (pg_url None) the local file state that
    Redis-only runs keep under `state_dir`."""
    if pg_url is None:
        from reconciler.state.file import FileState  # deferred: start-up (a Redis-only state)

        yield FileState(state_dir)
        return
    from reconciler.state.postgres import PgState  # deferred: start-up (psycopg)

    with connect_pg(pg_url, command="state") as conn:
        st = PgState(conn)
        if not st.exists():
            raise Refused("No state recorded in this database yet (nothing was applied).")
        yield st


def state_entries(pg_url: str | None, state_dir: Path = Path("state")) -> list[Any]:
    """The managed objects recorded after the last apply or rollback."""
    with _state(pg_url, state_dir) as st:
        return st.inventory_entries()


def state_object(address: str, pg_url: str | None, state_dir: Path = Path("state")) -> Any:
    """The recorded definition of one object."""
    with _state(pg_url, state_dir) as st:
        inv = st.inventory()
    if address not in inv:
        raise Refused(f"No recorded object {address}.")
    return inv[address]


def state_history(
    pg_url: str | None, state_dir: Path = Path("state"), limit: int = 20
) -> tuple[list[ApplyRecord], list[Attempt]]:
    """Applies and rollbacks, newest first, and the failed or interrupted attempts."""
    with _state(pg_url, state_dir) as st:
        rows = st.history(limit)
        attempts = [a for a in st.attempts(limit) if a.status in ("failed", "interrupted")]
    return rows, attempts


# ------------------------------------------------------------------------------------- locks


@dataclass
class LockStatus:
    pg: Any = None  # LockInfo of the PostgreSQL holder, None when free (or not asked)
    redis: dict[str, Any] | None = None  # the Redis lock's holder record, None when free
    asked: tuple[str, ...] = ()  # "pg", "redis": the targets asked about

    @property
    def held(self) -> bool:
        return self.pg is not None or self.redis is not None

    def redis_holder(self) -> str:
        """Who holds the Redis lock, in words (host, pid, user, command)."""
        from reconciler.locks.redis import describe_redis_holder  # deferred: start-up: redis

        return describe_redis_holder(self.redis) if self.redis is not None else ""


def lock_status(pg_url: str | None, redis_url: str | None) -> LockStatus:
    """Who holds the apply lock of each target given."""
    status = LockStatus(asked=tuple(n for n, u in (("pg", pg_url), ("redis", redis_url)) if u))
    if pg_url:
        with connect_pg(pg_url, command="lock") as conn:
            status.pg = lock_holder(conn)
    if redis_url:
        from reconciler.introspect.redis.server import connect_redis  # deferred: redis-py
        from reconciler.locks.redis import redis_lock_holder  # deferred: start-up: redis

        client = connect_redis(redis_url, command="lock")
        try:
            status.redis = redis_lock_holder(client)
        finally:
            client.close()
    return status


def force_unlock_pg(pg_url: str, holder_id: str) -> int:
    """End the PostgreSQL session holding the lock (its transaction rolls back) and record it;
    returns the backend pid."""
    from reconciler.state.postgres import PgState  # deferred: start-up (psycopg)

    if not holder_id.isdigit():
        raise InputError(f"ID {holder_id!r} is not a backend pid; `lock status` shows it.")
    backend_pid = int(holder_id)
    with connect_pg(pg_url, command="lock") as conn:
        holder = lock_holder(conn)
        if not force_unlock(conn, backend_pid):
            raise Refused(f"Backend {backend_pid} does not hold the lock; nothing was done.")
        state = PgState(conn)
        if state.exists():
            who = holder.describe() if holder else f"backend pid {backend_pid}"
            state.record_event("force-unlock", None, {"backend_pid": backend_pid, "holder": who})
    return backend_pid


def force_unlock_redis(redis_url: str, token: str) -> None:
    """Delete the Redis lock key while `token` still holds it."""
    from reconciler.introspect.redis.server import connect_redis  # deferred: redis-py
    from reconciler.locks.redis import redis_force_unlock  # deferred: start-up: redis

    client = connect_redis(redis_url, command="lock")
    try:
        if not redis_force_unlock(client, token=token):
            raise Refused(f"{token!r} does not hold the Redis lock; nothing was done.")
    finally:
        client.close()


# ------------------------------------------------------------------------------------- trash


def trash_list(pg_url: str) -> list[trash.Kept]:
    """Every kept table or column: what it was, when it was dropped, its size."""
    with open_targets(pg_url, None, command="trash", scope=EVERY_SCHEMA) as t:
        return trash.kept(t.pg)


@dataclass
class Purge:
    due: list[trash.Kept]  # what was older than asked
    versions: dict[str, list[str]] = field(default_factory=dict)  # kept table → versions
    gone: list[trash.Kept] = field(default_factory=list)  # purged (empty when not confirmed)

    @property
    def affected(self) -> list[str]:
        """Recorded versions that can no longer restore the purged rows."""
        return sorted({v for e in self.gone for v in self.versions.get(e.name, ())})


def trash_purge(
    pg_url: str,
    older_than: str,
    *,
    confirm: Callable[[Purge], bool],
    lock_timeout: float = 0.0,
) -> Purge:
    """Drop kept data dropped longer ago than `older_than` (7d, 12h, 30m) for good, under the
    apply lock (so no rollback restores meanwhile), once `confirm` agrees."""
    age = trash.parse_age(older_than)
    with open_targets(
        pg_url, None, command="trash purge", scope=EVERY_SCHEMA, lock_timeout=lock_timeout
    ) as t:
        now = t.pg.execute("SELECT now()").fetchone()[0]
        due = [
            e for e in trash.kept(t.pg) if e.dropped_at is not None and e.dropped_at <= now - age
        ]
        result = Purge(due)
        if not due:
            return result
        state = state_for(t)
        history = state.history() if state.exists() else []
        result.versions = trash.restorers(history, {e.name for e in due})
        if not confirm(result):
            return result
        result.gone = trash.purge(t.pg, age)
        if state.exists():
            state.record_event(
                "trash-purged",
                None,
                {"tables": [k.name for k in result.gone], "versions": result.versions},
            )
    return result
