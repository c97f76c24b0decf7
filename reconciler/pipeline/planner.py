"""Targets and planning across engines: open connections (and locks), read live state, plan.

A run targets Postgres, Redis or both. With only one given, the other engine's part of the
desired state is left out of the plan entirely (`--redis` alone never touches Postgres).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.connect import connect_pg, redact, target_info
from reconciler.connect.deferred import OnFirstUse
from reconciler.desired import Desired
from reconciler.errors import ConnectionFailed, StalePlan
from reconciler.ops.base import Change
from reconciler.pipeline import prefetch
from reconciler.pipeline.graph import order
from reconciler.pipeline.hazards import once_per_decision
from reconciler.plan import Plan, build_plan, moved, next_version
from reconciler.project.scope import EVERY_SCHEMA, Scope

if TYPE_CHECKING:
    import psycopg

    from reconciler.model.redis import KeyspaceReport, RedisSnapshot
    from reconciler.model.snapshot import PgSnapshot

# Postgres machinery is imported inside the functions, only when Postgres is a target: a
# Redis-only run never loads psycopg. The model's values load with the first read or plan
# that builds them: a plan the cache answers (tree_plan.py) builds none.

_log = logging.getLogger(__name__)


@dataclass
class Targets:
    pg: psycopg.Connection | None = None
    redis: Any = None  # redis.Redis, imported lazily (a Postgres-only run never loads it)
    redis_url: str | None = None
    redis_lock: Any = None
    journal: Any = None  # RedisJournal of this run, while its Redis lock is held
    pg_url: str | None = None
    command: str = ""
    scope: Scope = EVERY_SCHEMA  # schemas left out of every read and plan (open_targets sets it)
    pg_target: dict[str, str] | None = None  # target_info, as the catalog read ahead found it

    def pg_sibling(self) -> psycopg.Connection:
        """Another connection to the Postgres target, named like the first (catalog reads)."""

        assert self.pg_url is not None
        return connect_pg(self.pg_url, command=self.command)


@contextmanager
def open_targets(
    pg_url: str | None,
    redis_url: str | None,
    *,
    command: str,
    scope: Scope,
    lock_timeout: float | None = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[Targets]:
    """Connections to the targets; with lock_timeout set, each engine's lock is held too.
    `scope` (no default: every caller decides) is what every read and plan on them leaves out.

    A Redis target is first cleared of any interrupted run (locks/redis_journal.py): under the
    lock, what that run had sent is put back unless its outcome is recorded, and `notice` (a
    logged warning by default) says so in one sentence. Commands that take no lock (plan, drift)
    take it for that moment only when it is free; when another run holds it they only say what
    it left."""
    say = notice or _notice
    with ExitStack() as stack:
        t = Targets(redis_url=redis_url, pg_url=pg_url, command=command, scope=scope)
        if pg_url and lock_timeout is None and prefetch.running():
            # the catalog is being read ahead: connect only if the plan asks the server more
            deferred = OnFirstUse(lambda: _connect(pg_url, command))
            stack.callback(deferred.close_if_opened)
            t.pg = deferred  # type: ignore[assignment]  # it stands for the connection
        elif pg_url:
            t.pg = stack.enter_context(_connect(pg_url, command))
            if lock_timeout is not None:
                from reconciler.locks.pg import PgLock  # deferred: start-up: psycopg

                stack.enter_context(PgLock(t.pg, timeout=lock_timeout))
        if redis_url:
            from reconciler.introspect.redis import (
                connect_redis,  # deferred: start-up: hiredis, redis
            )

            t.redis = connect_redis(redis_url, command=command)
            stack.callback(t.redis.close)
            if lock_timeout is not None:
                from reconciler.locks.redis import RedisLock  # deferred: start-up: redis

                t.redis_lock = stack.enter_context(
                    RedisLock(t.redis, timeout=lock_timeout, command=command)
                )
                from reconciler.locks import redis_journal as jr  # deferred: start-up: redis

                t.journal = jr.RedisJournal(t.redis)
                jr.settle_on_open(t.journal, jr.recorded_in(state_for(t)), say)
                # Registered after the lock, so it runs before the lock is released: a run
                # that stops for any reason leaves nothing sent and unrecorded behind it.
                stack.callback(
                    jr.settle_on_exit, t.redis_lock, t.journal, jr.recorded_in(state_for(t)), say
                )
            else:
                from reconciler.locks import redis_journal as jr  # deferred: start-up: redis

                jr.settle_unlocked(t.redis, command, jr.recorded_in(state_for(t)), say)
        yield t


# The server's refusals for a connection limit (SQLSTATE 53300, which libpq does not hand over
# for a connection that never started): max_connections, the slots kept for superusers, and a
# database's or a role's CONNECTION LIMIT.
_OVER_LIMIT = ("too many clients", "connection slots are reserved", "too many connections for")
_AFTER_READ_AHEAD_S = 5.0  # how long the stopped read's sessions may take to end


def _connect(pg_url: str, command: str) -> psycopg.Connection:
    """connect_pg; when the server refuses the connection for its limit while the catalog is
    read ahead (prefetch.py), whose sessions count against the same limit, that read is
    stopped and the connection tried again until its sessions have ended: the plan then reads
    the catalog itself, as it did before reading ahead."""
    try:
        return connect_pg(pg_url, command=command)
    except ConnectionFailed as exc:
        if not (prefetch.running() and _over_limit(exc)):
            raise
    prefetch.discard()
    deadline = time.monotonic() + _AFTER_READ_AHEAD_S
    while True:
        try:
            return connect_pg(pg_url, command=command)
        except ConnectionFailed as exc:
            if not _over_limit(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def _over_limit(exc: ConnectionFailed) -> bool:
    # connect_pg raises its sentence `from None`: the driver's error is still the context
    text = str(exc.__context__ or "")
    return any(words in text for words in _OVER_LIMIT)


def _notice(line: str) -> None:
    """A notice nobody asked to receive: a warning of this module's logger (the library never
    prints; without logging set up, Python shows warnings on stderr, as the CLI wants)."""
    _log.warning("%s", line)


def state_for(t: Targets, state_dir: Path = Path("state")) -> Any:
    """Postgres keeps the state when it is a target; otherwise the local file backend."""
    if t.pg is not None:
        from reconciler.state.postgres import PgState  # deferred: start-up: psycopg

        return PgState(t.pg)

    from reconciler.state.file import FileState  # deferred: start-up (a Redis-only state)

    return FileState(state_dir)


def unused_version(p: Plan, state: Any) -> Plan:
    """`p` with a version no recorded apply has: a plan made in the same second as the last
    apply would otherwise share its version and be refused as already applied."""
    while state.exists() and state.get(p.version) is not None:
        p = replace(p, version=next_version(p.version))
    return p


@dataclass
class Live:
    pg: PgSnapshot | None = None
    redis: RedisSnapshot | None = None
    keys: KeyspaceReport | None = None


def read_live(
    t: Targets,
    *,
    want: Desired | None = None,
    config_names: tuple[str, ...] = (),
    scan: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Live:
    live = Live()
    if t.pg is not None:
        from reconciler.introspect.pg.catalog import introspect  # deferred: start-up: psycopg

        live.pg = introspect(t.pg, scope=t.scope, sibling=t.pg_sibling)
    if t.redis is not None:
        from reconciler.introspect.redis import (  # deferred: start-up: hiredis, redis
            read_acl,
            read_config,
            scan_keyspace,
        )
        from reconciler.model.redis import RedisSnapshot  # deferred: start-up: the model

        spec = want.redis if want is not None and want.redis is not None else RedisSnapshot()
        names = tuple(spec.config) or config_names
        live.redis = RedisSnapshot(config=read_config(t.redis, names), acl=read_acl(t.redis))
        if scan and spec.patterns:
            live.keys = scan_keyspace(t.redis, list(spec.patterns.values()), progress=progress)
    return live


def redis_fingerprint(snap: RedisSnapshot | None) -> str:
    """Config values and ACL users (with password digests) as read; keys are guarded apart."""
    if snap is None:
        return ""
    from reconciler.model.snapshot import value_dict  # deferred: start-up: the model

    text = repr(
        (
            sorted((k, v.value) for k, v in snap.config.items()),
            sorted((k, value_dict(u)) for k, u in snap.acl.items()),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def target_of(t: Targets, want_redis: RedisSnapshot | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if t.pg_target is not None:
        out.update(t.pg_target)
    elif t.pg is not None:
        out.update(target_info(t.pg))
    if t.redis is not None:
        out["redis"] = {
            "server": redact(t.redis_url or ""),
            "config": sorted(want_redis.config) if want_redis else [],
        }
    return out


LARGE_ROWS = 1_000_000  # a table this big (pg_class estimate) takes phased column changes


def make_plan(
    t: Targets,
    want: Desired,
    live: Live,
    drop_mode: str = "auto",
    large_rows: int = LARGE_ROWS,
    only: tuple[str, ...] = (),
    *,
    to_apply: bool = True,
) -> Plan:
    """The ordered plan that brings every target to `want` (nothing is written).

    `drop_mode` (trash.py) says which dropped tables and columns keep their data;
    `large_rows` from which size a table's column changes go in phases (phased.py); `only`
    (--target) limits it to the changes those addresses name and what they need first.
    A plan `to_apply` is refused when it drops what an object out of scope reads
    (out_of_scope.py) or breaks what one the model cannot express needs (diff/unmodeled.py);
    drift, which only reports, says False, and gets the latter as findings of kind "refused"."""
    changes: list[Change] = []
    findings: list[dict[str, Any]] = []
    if t.pg is not None and live.pg is not None:
        from reconciler.pipeline import phased, trash  # deferred: start-up: pglast, psycopg

        t.scope.check_desired(want.pg)
        from reconciler.diff import compare  # deferred: start-up: pglast, psycopg
        from reconciler.diff.context import DiffContext  # deferred: start-up: pglast, psycopg
        from reconciler.pipeline.canonical import (
            canonicalize,  # deferred: start-up: pglast, psycopg
        )

        desired_pg = canonicalize(t.pg, want.pg, live.pg)
        snap = live.pg
        ctx = DiffContext(desired_pg, snap)
        ph = phased.phase(t.pg, desired_pg, snap, large_rows, ctx.is_enum)
        changes += ph.changes

        def seed() -> str:  # only read when something is dropped
            return f"{want.digest}|{snap.fingerprint()}"

        from reconciler.diff import unmodeled  # deferred: start-up: pglast, psycopg

        # What would break an object the model cannot express is refused; drift reports it.
        refused: list[unmodeled.BreaksUnmodeled] | None = None if to_apply else []
        if ph.live.needs and ph.changes:
            # Phased moves are built outside compare(): they too must not break what an
            # object the model cannot express reads.
            g = unmodeled.guard(ph.desired.normalize(), ph.live.normalize())
            unmodeled.check(ph.changes, g, refused)
        kept = trash.policy(t.pg, ph.desired, ph.live, drop_mode, seed)
        changes += compare(ph.desired, ph.live, kept, refused)
        findings += [
            {"kind": "refused", "address": str(r.address), "message": r.summary}
            for r in refused or ()
        ]
        if changes:  # (the check loads the driver: a plan of no change asks nothing of it)
            from reconciler.pipeline.lossy import judge  # deferred: start-up: pglast, psycopg

            changes = judge(t.pg, changes)  # type changes tried on the live values (read-only)
        if to_apply:
            from reconciler.pipeline.out_of_scope import (  # deferred: start-up (psycopg)
                refuse_out_of_scope_dependents,
            )

            refuse_out_of_scope_dependents(t.pg, changes, t.scope)
        if ph.live.needs:
            findings += unmodeled.withheld(ph.desired, ph.live)
        from reconciler.diff.grants import unnamed  # deferred: start-up: pglast, psycopg
        from reconciler.diff.tables import reordered  # deferred: start-up: pglast, psycopg

        findings += unnamed(ph.desired, ph.live) + reordered(ph.desired, ph.live)
    want_redis = want.redis if t.redis is not None else None
    if want_redis is not None and live.redis is not None:
        from reconciler.diff.redis import compare_redis  # deferred: start-up: pglast, psycopg
        from reconciler.introspect.redis import (  # deferred: start-up: hiredis, redis
            canonical_acl,
            prune_dumps,
        )

        if want_redis.manage_acl and want_redis.acl:
            want_redis = replace(want_redis, acl=canonical_acl(t.redis, want_redis.acl.values()))
        dumps = prune_dumps(t.redis, live.keys)
        redis_changes, redis_findings = compare_redis(want_redis, live.redis, live.keys, dumps)
        changes += redis_changes
        findings += redis_findings
    ordered = order(changes, only)  # only (--target): what it names and what that needs
    if t.pg is not None and live.pg is not None and ordered:
        from reconciler.pipeline.preflight import refuse_defaults  # deferred: start-up: psycopg

        refuse_defaults(t.pg, want.pg, live.pg, ordered)  # the defaults these changes set
    # The fingerprints let apply refuse a plan the database moved away from; a plan with
    # nothing to do is never applied, so a no-op plan (every PR, every drift run) skips them.
    plan = build_plan(
        ordered,
        desired_hash=want.digest,
        live_fingerprint=live.pg.fingerprint() if live.pg is not None and ordered else "",
        redis_fingerprint=redis_fingerprint(live.redis) if ordered else "",
        live_objects=moved.digests(inventory_of(live)) if ordered else {},
        target=target_of(t, want_redis),
        findings=tuple(findings),
        unsupported=live.pg.unsupported if live.pg is not None else (),
    )
    return once_per_decision(plan, ordered)  # what goes with a dropped table: its hazard says it


def check_saved(p: Plan, t: Targets, live: Live) -> None:
    """Refuse a plan made for another target, or whose target moved since."""

    here = target_info(t.pg)["database"] if t.pg is not None else None
    if here is not None and p.target.get("database") != here:
        raise StalePlan(
            f"This plan was made for database {p.target.get('database')!r}, not {here!r}; "
            "refusing to apply it here.",
        )
    engines = {c.engine for c in p.changes}
    if "pg" in engines and t.pg is None:
        raise StalePlan("This plan changes PostgreSQL: pass --pg to apply it.")
    if "redis" in engines and t.redis is None:
        raise StalePlan("This plan changes Redis: pass --redis to apply it.")
    pg_moved = p.live_fingerprint and live.pg is not None
    if pg_moved and live.pg.fingerprint() != p.live_fingerprint:
        raise StalePlan(
            "The database changed since this plan was made"
            + moved.explain(p.live_objects, inventory_of(live), redis=False)
            + "; refusing to apply a stale plan.",
            detail="Run `reconciler plan` again and review the new plan.",
        )
    redis_moved = live.redis is not None and redis_fingerprint(live.redis) != p.redis_fingerprint
    if p.redis_fingerprint and redis_moved:
        raise StalePlan(
            "The Redis config or ACL users changed since this plan was made"
            + moved.explain(p.live_objects, inventory_of(live), redis=True)
            + "; refusing to apply a stale plan.",
            detail="Run `reconciler plan` again and review the new plan.",
        )


def inventory_of(live: Live) -> dict[str, dict[str, Any]]:
    from reconciler.model.snapshot import inventory  # deferred: start-up: the model

    inv = inventory(live.pg) if live.pg is not None else {}
    if live.redis is not None:
        for p in live.redis.config.values():
            inv[str(p.address)] = {"name": p.name, "value": p.value}
        for u in live.redis.acl.values():
            inv[str(u.address)] = {
                "name": u.name,
                "enabled": u.enabled,
                "rules": list(u.rules),
                "password": "set" if u.password_hashes else ("none" if u.nopass else "unset"),
            }
    return inv
