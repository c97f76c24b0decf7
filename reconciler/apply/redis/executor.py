"""Run a plan's Redis commands in pipelined batches, each key guarded against changes.

A TTL step only runs on a key whose expiry and type are still the ones the plan saw (a short
Lua script per key compares PEXPIRETIME and TYPE and sets the TTL atomically, O(1) each); a key
deleted, replaced by a key of another type, or changed since is skipped and reported, never
clobbered. Its inverse (PERSIST / PEXPIREAT) is guarded on the type the same way; a plan written
before types were recorded is guarded as before. A DEL (prune) runs only while the key still
dumps to the planned value, which also fixes its type. Config and ACL commands run as written,
with `${ENV}` password references substituted at the last moment, and a live user's password
hashes kept in Redis before its ACL step runs and put in place of the placeholder that a down
statement carries for them (locks/redis_acl_kept.py). When a batch fails, the steps already done
are reverted from their recorded inverses before the error is raised, so Redis is
left as it was (keys that were skipped stay untouched either way). When the connection is lost
(a restart, a failover), the revert waits up to RECONNECT_S for the server to answer again and
also covers the batch that was in flight, whose steps may have run in part.

With the run's journal (locks/redis_journal.py), each batch's guarded inverses are pushed to Redis
before the batch is sent: a run killed at any point is put back by the next command, and a
Ctrl-C puts back what was sent before the process exits. That is why a TTL is set as an instant
(the batch's server time + TTL): the journal knows beforehand the exact expiry each key will
carry, and puts a key back only while it still carries that one.

What each step is guarded with and undone by is read from the plan (pairs.py); the scripts and
sending that the journal's put-back shares live below apply/, in locks/redis_guarded.py, so that
locks/ and pipeline/ never import apply/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import redis

from reconciler.apply.redis.pairs import KeyTypes, Pairs, inverse_steps, planned
from reconciler.errors import ConnectionFailed, LockHeld, ReconcilerError
from reconciler.locks import redis_acl_kept as acl_kept
from reconciler.locks import redis_journal as jr
from reconciler.locks.redis_guarded import (
    GUARDED_DEL,
    GUARDED_RESTORE_VALUE,
    ScriptSender,
    substitute,
)
from reconciler.locks.redis_journal import RedisJournal
from reconciler.ops.redis.proto import quote, render, split
from reconciler.plan import Step

# Up: set the TTL only when the expiry and the type are still what the plan saw; as an instant
# (the batch's server time + TTL), so that the journal knows, before the batch is sent, exactly
# which expiry each key will carry. Down: PERSIST / PEXPIREAT only when the key still exists
# with its planned type. The type argument is '' for a plan that recorded none: that guard is
# then left out. Both return -3 when the key was skipped.
_GUARDED_EXPIRE = """
if redis.call('PEXPIRETIME', KEYS[1]) ~= tonumber(ARGV[1]) then return -3 end
if (ARGV[3] or '') ~= '' and redis.call('TYPE', KEYS[1])['ok'] ~= ARGV[3] then return -3 end
return redis.call('PEXPIREAT', KEYS[1], ARGV[2])
"""
_GUARDED_RESTORE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
if (ARGV[2] or '') ~= '' and redis.call('TYPE', KEYS[1])['ok'] ~= ARGV[2] then return -3 end
if ARGV[1] == '-1' then return redis.call('PERSIST', KEYS[1]) end
return redis.call('PEXPIREAT', KEYS[1], ARGV[1])
"""
# A rollback's PERSIST / PEXPIREAT: besides the above, only while the key's expiry is one the
# apply it undoes could have set (its EXPIRE's TTL from an instant of that run, ARGV[3..4]): a
# key whose TTL the application changed since, or that it deleted and wrote again, is skipped.
_GUARDED_ROLLBACK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
if (ARGV[2] or '') ~= '' and redis.call('TYPE', KEYS[1])['ok'] ~= ARGV[2] then return -3 end
local at = redis.call('PEXPIRETIME', KEYS[1])
if at < tonumber(ARGV[3]) or at > tonumber(ARGV[4]) then return -3 end
if ARGV[1] == '-1' then return redis.call('PERSIST', KEYS[1]) end
return redis.call('PEXPIREAT', KEYS[1], ARGV[1])
"""
# A RESTORE left out (its key was one the apply skipped, run_redis): a script that only
# answers -4, sent to the key's node as the RESTORE would have been.
_NOT_DELETED = "return -4"
# Clock slack around the applying run's window (its start and end are the state's timestamps,
# moved to the server's clock by the offset measured when the rollback starts).
APPLIED_SLACK_MS = 2000
BATCH = 500


@dataclass
class RedisOutcome:
    done: list[Step] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    in_flight: list[Step] = field(default_factory=list)  # sent, reply not read yet

    @property
    def applied(self) -> int:
        return len(self.done)


def _server_ms(client: redis.Redis) -> int:
    """The server's clock, in ms: TTLs are set as instants from it (see _GUARDED_EXPIRE)."""
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000


def _expiries(client: redis.Redis, parsed: list[list[bytes]]) -> dict[bytes, int]:
    """The PEXPIRETIME of every key a PERSIST / PEXPIREAT of the batch restores (one
    pipeline): the journal puts it back if the run is interrupted."""
    keys = [a[1] for a in parsed if a[0].upper() in (b"PERSIST", b"PEXPIREAT")]
    if not keys:
        return {}
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.execute_command("PEXPIRETIME", key)
    return {k: int(v) for k, v in zip(keys, pipe.execute(), strict=True)}


def run_redis(
    client: redis.Redis,
    steps: list[Step],
    *,
    log: Callable[[str], None],
    check_lock: Callable[[], None] = lambda: None,
    progress: Callable[[int], None] | None = None,
    journal: RedisJournal | None = None,
    applied: tuple[datetime, datetime] | None = None,
    not_deleted: frozenset[str] = frozenset(),
) -> RedisOutcome:
    """Run the steps; on failure revert those done, then raise.

    With the run's journal, each batch's inverses are written to it before the batch is sent,
    and Ctrl-C puts back every step sent before the interrupt propagates. `applied`: for a
    rollback, when the apply it undoes ran (its start and end): a key's expiry is put back
    only while it is one that run set. `not_deleted`: for a rollback, the keys (quoted) its
    applies left alone instead of deleting: a key gone since was deleted by someone else, and
    its RESTORE is skipped (only a key the apply deleted comes back)."""
    outcome = RedisOutcome()
    window = None
    if applied is not None:
        offset = _server_ms(client) - int(time.time() * 1000)
        window = tuple(int(t.timestamp() * 1000) + offset for t in applied)
    try:
        return _run(
            client,
            steps,
            outcome,
            log,
            check_lock,
            progress,
            journal,
            refuse=True,
            window=window,
            not_deleted=not_deleted,
        )
    except KeyboardInterrupt:
        if journal is not None and journal.written:
            log("interrupted: put back the Redis steps sent")
            journal.revert(log)
        raise
    except ConnectionFailed as exc:
        # The batch in flight may have run in part: its steps are reverted with those done
        # (each inverse is guarded and idempotent: a key never changed is left as it is).
        sent = outcome.done + outcome.in_flight
        if sent and _back(client, log):
            try:
                check_lock()  # still ours: no other run can be working on these keys
            except LockHeld:
                raise exc from None
            log(f"revert {len(sent)} Redis steps sent before the connection was lost")
            _revert(client, sent, log)
            exc.summary = (
                "The connection to Redis was lost during the apply; once it was back, the "
                f"{len(sent)} Redis steps sent before were reverted, so Redis is as it was."
            )
            exc.args = (exc.summary,)
            exc.detail = "Run the apply again when the server is steady."
        raise
    except ReconcilerError as exc:
        # Not after a lost connection (nothing can be sent) nor a lost lock (another run may
        # be working on these keys now): the error then says how many steps had run.
        if outcome.done and not isinstance(exc, ConnectionFailed | LockHeld):
            log(f"revert {len(outcome.done)} Redis steps after the failure")
            _revert(client, outcome.done, log)
            exc.summary += f" The {len(outcome.done)} Redis steps already done were reverted."
            exc.args = (exc.summary,)
        raise


def _set_by(window: tuple[int, ...] | None, up: str | None) -> tuple[bytes, bytes] | None:
    """The expiries (server ms) the up line `EXPIRE key ttl` could have set during `window`."""
    if window is None or up is None:
        return None
    args = split(up)
    if args[0].upper() != b"EXPIRE":
        return None
    ttl = int(args[2]) * 1000
    low, high = window[0] + ttl - APPLIED_SLACK_MS, window[1] + ttl + APPLIED_SLACK_MS
    return str(low).encode(), str(high).encode()


def _revert(client: redis.Redis, sent: list[Step], log: Callable[[str], None]) -> None:
    # A step sent may not have run: a user whose old password was kept but never changed has
    # no record under its current one, and is left as it is (see acl_kept.expand).
    _run(client, inverse_steps(sent), RedisOutcome(), log, lambda: None, None, None, refuse=False)


def _acl_step(
    client: redis.Redis,
    args: list[bytes],
    inverse: str | None,
    kept: list[list[bytes]],
    *,
    refuse: bool,
) -> tuple[list[bytes] | None, str | None]:
    """An ACL SETUSER / DELUSER as it is sent (None: left out) and its inverse as the journal
    keeps it. When the inverse gives back the user's old passwords (the placeholder), the
    command joins `kept`, whose users' hashes are kept in Redis before the batch goes out; when
    the command itself holds the placeholder, the kept hashes take its place
    (locks/redis_acl_kept.py)."""
    command = [substitute(a) for a in args]
    back = split(inverse) if inverse is not None else None
    if back is not None and acl_kept.holds_placeholder(back):
        kept.append(command)
        qualified = acl_kept.expecting(back, acl_kept.given(command))
        inverse = render(qualified[0].decode(), *qualified[1:])
    if not acl_kept.holds_placeholder(args):
        return command, inverse
    # A revert undoes a step that may not have run: only when the user has the passwords that
    # step gives. A rollback undoes an applied one: no `${ENV}` of the apply is needed then.
    expect = None
    if not refuse and back is not None:
        expect = acl_kept.given([substitute(a) for a in back])
    return acl_kept.expand(client, command, refuse=refuse, expect=expect), inverse


RECONNECT_S = 15.0  # how long a lost Redis may take to come back before a revert is given up


def _back(client: redis.Redis, log: Callable[[str], None]) -> bool:
    """Whether Redis answers again within RECONNECT_S (a restart, a failover)."""
    log(f"the connection to Redis was lost; waiting up to {RECONNECT_S:g} s for it to return")
    deadline = time.monotonic() + RECONNECT_S
    while time.monotonic() < deadline:
        try:
            client.ping()
            return True
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
            time.sleep(0.2)
    return False


def _run(
    client: redis.Redis,
    steps: list[Step],
    outcome: RedisOutcome,
    log: Callable[[str], None],
    check_lock: Callable[[], None],
    progress: Callable[[int], None] | None,
    journal: RedisJournal | None,
    *,
    refuse: bool,
    window: tuple[int, ...] | None = None,
    not_deleted: frozenset[str] = frozenset(),
) -> RedisOutcome:
    """`refuse`: a step restoring a user's password whose record is gone is an error (a
    rollback), rather than left out (a revert of steps that may not have run). `window` and
    `not_deleted`: see run_redis."""
    guards = planned(steps)
    types = KeyTypes()
    send = ScriptSender(client)
    pairs = Pairs()
    try:
        for start in range(0, len(steps), BATCH):
            check_lock()
            batch = steps[start : start + BATCH]
            parsed = [split(step.sql) for step in batch]
            now_ms = _server_ms(client) if any(a[0].upper() == b"EXPIRE" for a in parsed) else 0
            before = _expiries(client, parsed) if journal is not None else {}
            items: list[str] = []  # the batch's inverses, for the journal
            pipe = client.pipeline(transaction=False)
            everywhere: list[tuple[int, list[bytes]]] = []  # cluster: sent to every node
            kept: list[list[bytes]] = []  # ACL steps whose user's hashes are kept first
            for i, (step, args) in enumerate(zip(batch, parsed, strict=True)):
                verb = args[0].upper()
                user = acl_kept.is_user_command(args)
                paired = journal is not None or user or window is not None
                inverse = pairs.of(step) if paired else None
                if verb == b"EXPIRE":
                    old = guards.get((id(step.change), args[1]), b"-1")
                    at = now_ms + int(args[2]) * 1000
                    kind = types.of(step, args[1])
                    send.script(pipe, _GUARDED_EXPIRE, args[1], old, str(at).encode(), kind)
                    items.append(jr.expiry_item(args[1], at, int(old), kind))
                elif verb in (b"PERSIST", b"PEXPIREAT"):
                    when = args[2] if verb == b"PEXPIREAT" else b"-1"
                    kind = types.of(step, args[1])
                    span = _set_by(window, inverse)
                    if span is None:
                        send.script(pipe, _GUARDED_RESTORE, args[1], when, kind)
                    else:
                        send.script(pipe, _GUARDED_ROLLBACK, args[1], when, kind, *span)
                    if before.get(args[1], -2) != -2:  # a missing key is skipped: no inverse
                        items.append(jr.expiry_item(args[1], int(when), before[args[1]], kind))
                elif verb == b"DEL":
                    payload = guards.get((id(step.change), args[1]), b"")
                    send.script(pipe, GUARDED_DEL, args[1], payload)
                    if inverse is not None:
                        items.append(jr.inverse_item(inverse) or "")
                elif verb == b"RESTORE" and quote(args[1]) in not_deleted:
                    send.script(pipe, _NOT_DELETED, args[1])  # the apply never deleted it
                elif verb == b"RESTORE":
                    send.script(pipe, GUARDED_RESTORE_VALUE, args[1], args[2], args[3])
                    items.append(jr.del_item(args[1], args[3]))
                elif verb == b"ECHO":
                    pipe.echo(args[1])
                else:
                    command: list[bytes] | None = [substitute(a) for a in args]
                    if user:
                        command, inverse = _acl_step(client, args, inverse, kept, refuse=refuse)
                    if verb == b"CONFIG" and args[1].upper() == b"SET" and inverse is not None:
                        items.append(jr.config_item(args[2], args[3], split(inverse)[3]))
                    elif inverse is not None and journal is not None:
                        items.append(jr.inverse_item(inverse) or "")
                    if command is None:
                        pipe.echo(b"")  # nothing to give back: the step is left out
                    elif send.cluster:
                        everywhere.append((i, command))
                    else:
                        pipe.execute_command(*command)
            acl_kept.keep(client, kept)  # before the batch goes out, and the journal with it
            if journal is not None:
                journal.record([item for item in items if item])  # before the batch goes out
            outcome.in_flight = batch
            results = send.run(pipe, everywhere, len(batch))
            outcome.in_flight = []
            refused: ReconcilerError | None = None
            spread = {i for i, _ in everywhere}
            for i, (step, result) in enumerate(zip(batch, results, strict=True)):
                if isinstance(result, Exception):
                    # The pipeline ran the steps after this one too: they are counted as done
                    # below, so the revert covers them. A step sent to every node of a cluster
                    # may have run on the nodes before the one that refused it: reverted too.
                    refused = refused or ReconcilerError(
                        f"Redis refused a step of {step.change.address}: {result}."
                    )
                    if i in spread:
                        outcome.done.append(step)
                elif result in (-3, -4):
                    # Quoted (ASCII, \xHH for odd bytes): safe in JSON, jsonb and terminals.
                    args = split(step.sql)
                    key = quote(args[1])
                    reason = "changed" if result == -3 else "not deleted by the apply"
                    outcome.skipped.append(
                        {
                            "address": step.change.address,
                            "key": key,
                            "reason": reason,
                            "step": args[0].decode().lower(),
                        }
                    )
                    if result == -3:
                        since = "the apply" if window is not None else "the plan"
                        log(f"skip   {step.change.address}: {key} changed since {since}")
                    else:
                        log(f"skip   {step.change.address}: {key} was not deleted by the apply")
                else:
                    outcome.done.append(step)
            if refused is not None:
                raise refused
            log(f"redis  {len(outcome.done)} done, {len(outcome.skipped)} skipped")
            if progress:
                progress(len(batch))
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise ConnectionFailed(
            f"The connection to Redis was lost during the apply ({exc}); "
            f"{len(outcome.done)} steps had run.",
            detail="Run `reconciler plan` again: keys already fixed are not planned twice.",
        ) from None
    return outcome
