"""The Redis apply journal: what each batch of a run will undo, written before the batch is sent.

Owns: the journal key (`reconciler:journal`, under the tool's own namespace, which the keyspace
scan and the plan never treat as user data), its entries, and putting back what an interrupted
run had sent (`settle`).

Must not: decide whether a run was recorded (the caller passes `recorded`), act without the
Redis lock (only the lock holder writes, reads back or deletes the journal), or import apply/:
pipeline/ settles a journal on every command that opens Redis (plan, drift), and pipeline/ is
below apply/. Putting back sends the guarded scripts of redis_guarded.py and expands kept
passwords with redis_acl_kept.py, both below apply/, which the executor uses too.

Why a journal: a run killed (SIGKILL, a lost host) between its Redis batches and the moment
its version is recorded leaves keys with a new expiry that no recorded apply knows of, and so no
rollback undoes. The journal lives in Redis itself, so it outlives the client and any other
client finds it. It is one list: a header (version, direction, who), then one entry per batch,
pushed BEFORE that batch is sent, holding the inverse of each of its steps. Each inverse is
guarded by the value the step set, so a key changed since (by a user, an expiry) is left alone:

  X key expect put_back [type]
                            the key's PEXPIRETIME is `expect` and its TYPE `type` (when given:
                            older journals have none) → PEXPIREAT put_back (-1: PERSIST)
  C name expect old         CONFIG GET name is `expect` → CONFIG SET name old (on every node)
  R key ttl payload         the key is missing → RESTORE it (a pruned key)
  D key payload             the key still dumps to `payload` → DEL it (a restored key)
  A word args...            run as written on every node (ACL SETUSER / DELUSER as they were);
                            a user's old password hashes as kept in Redis
                            (redis_acl_kept.py): left out when none are kept under its
                            current ones (it never changed)

The entries are read back one at a time, newest first, so putting back a 200k-key run holds one
batch in memory. The list is deleted once the run is recorded, or fully put back.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from reconciler.errors import LockHeld, ReconcilerError
from reconciler.introspect.redis.server import _config_pairs
from reconciler.locks import redis_acl_kept as acl_kept
from reconciler.locks.redis import RedisLock, describe_redis_holder, redis_lock_holder
from reconciler.locks.redis_guarded import (
    GUARDED_DEL,
    GUARDED_RESTORE_VALUE,
    PUT_BACK_EXPIRY,
    ScriptSender,
    nodes,
    substitute,
)
from reconciler.ops.redis.proto import from_bytes, render, split

JOURNAL_KEY = "reconciler:journal"
_log = logging.getLogger(__name__)

Recorded = Callable[[str, str], bool]  # (version, direction) → the run's outcome is recorded


class JournalUnsettled(ReconcilerError):
    """An interrupted run's journal could not be settled."""


@dataclass
class Settled:
    version: str
    direction: str
    recorded: bool
    keys: int = 0
    configs: int = 0
    users: int = 0

    def sentence(self) -> str:
        what = "apply" if self.direction == "up" else "rollback"
        if self.recorded:
            return f"An interrupted {what} of version {self.version} was recorded as it ran."
        parts = [f"{self.keys:,} key{'s' * (self.keys != 1)}"]
        if self.configs:
            parts.append(f"{self.configs} config value{'s' * (self.configs != 1)}")
        if self.users:
            parts.append(f"{self.users} ACL user command{'s' * (self.users != 1)}")
        if not (self.keys or self.configs or self.users):
            return (
                f"An interrupted {what} of version {self.version} had left a journal; none of "
                "its Redis changes was still in place, so nothing needed putting back."
            )
        changed = " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)
        return (
            f"An interrupted {what} of version {self.version} had changed {changed} in Redis; "
            "they were put back as they were."
        )


class RedisJournal:
    """The journal of one run; `begin` names the run, `record` adds a batch before it is sent."""

    def __init__(self, client: Any, *, key: str = JOURNAL_KEY) -> None:
        self.client = client
        self.key = key
        self.header: dict[str, Any] | None = None
        self.written = False

    def begin(self, *, version: str, direction: str) -> None:
        self.written = False  # the run's first batch starts its own journal
        self.header = {
            "version": version,
            "direction": direction,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }

    def record(self, items: list[str]) -> None:
        """One batch's inverses; returns once Redis holds them (before the batch goes out)."""
        entry = json.dumps(items, separators=(",", ":"))
        if self.written:
            self.client.rpush(self.key, entry)
            return
        header = self.header or {"version": None, "direction": "up"}
        # A leftover of a dead run was settled when the lock was taken: start afresh.
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.key)
        pipe.rpush(self.key, json.dumps(header), entry)
        pipe.execute()
        self.written = True

    def read_header(self) -> dict[str, Any] | None:
        raw = self.client.lindex(self.key, 0)
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        return doc if isinstance(doc, dict) else {"version": None, "direction": "up"}

    def clear(self) -> None:
        self.client.delete(self.key)
        self.written = False

    def settle(self, recorded: Recorded, log: Callable[[str], None]) -> Settled | None:
        """Finish an interrupted run: drop the journal when its outcome is recorded, else put
        back, newest batch first, every change it still has in place, then drop it."""
        header = self.read_header()
        if header is None:
            return None
        version, direction = header.get("version"), header.get("direction") or "up"
        done = Settled(str(version), direction, bool(version) and recorded(version, direction))
        if not done.recorded:
            log(f"put back the Redis changes of the interrupted run of version {version}")
            for index in range(self.client.llen(self.key) - 1, 0, -1):
                raw = self.client.lindex(self.key, index)
                if raw is not None:
                    _put_back([str(i) for i in json.loads(raw)], self.client, done)
        self.clear()
        return done

    def revert(self, log: Callable[[str], None]) -> Settled | None:
        """Put back what this run sent (it is not recorded), e.g. on Ctrl-C."""
        return self.settle(lambda _v, _d: False, log)


# --- the items of a batch ------------------------------------------------------------------------


def expiry_item(key: bytes, expect: int, put_back: int, kind: bytes = b"") -> str:
    return render("X", key, expect, put_back, kind) if kind else render("X", key, expect, put_back)


def config_item(name: bytes, expect: bytes, old: bytes) -> str:
    return render("C", name, expect, old)


def inverse_item(inverse: str) -> str | None:
    """The journal item of a step whose inverse is the redis-cli line `inverse`."""
    args = split(inverse)
    verb = args[0].upper()
    if verb == b"RESTORE":
        return render("R", *args[1:4])
    if verb == b"DEL":
        return None  # a key restored by a rollback: its item needs the payload, see del_item
    if verb == b"ECHO":
        return None
    return render("A", *args)


def del_item(key: bytes, payload: bytes) -> str:
    return render("D", key, payload)


# --- putting back --------------------------------------------------------------------------------


def _put_back(items: list[str], client: Any, done: Settled) -> None:
    send = ScriptSender(client)
    pipe = client.pipeline(transaction=False)
    for item in reversed(items):
        tag, *args = split(item)
        if tag == b"X":
            kind = args[3] if len(args) > 3 else b""
            send.script(pipe, PUT_BACK_EXPIRY, args[0], args[1], args[2], kind)
        elif tag == b"R":
            send.script(pipe, GUARDED_RESTORE_VALUE, *args)
        elif tag == b"D":
            send.script(pipe, GUARDED_DEL, *args)
        elif tag == b"C":
            name, expect, old = (from_bytes(a) for a in args)
            changed = False
            for node in nodes(client):
                if _config_value(node, name) == expect:
                    node.execute_command("CONFIG", "SET", name, old)
                    changed = True
            done.configs += changed
        elif tag == b"A":
            command: list[bytes] | None = [substitute(a) for a in args]
            if acl_kept.is_user_command(args) and acl_kept.holds_placeholder(args):
                command = acl_kept.expand(client, command, refuse=False)
            if command is None:
                continue
            for node in nodes(client):
                node.execute_command(*command)
            done.users += 1
    if len(pipe):
        for reply in pipe.execute(raise_on_error=False):
            if isinstance(reply, Exception):
                raise JournalUnsettled(f"Redis refused to put a key back: {reply}.")
            done.keys += reply not in (0, -3)


def _config_value(node: Any, name: str) -> str | None:
    pairs = _config_pairs(node.execute_command("CONFIG", "GET", name))
    if name.lower() in pairs:
        return pairs[name.lower()]
    return next(iter(pairs.values())) if len(pairs) == 1 else None  # an alias's answer


# --- on every command that opens Redis ------------------------------------------------------


def recorded_in(state: Any) -> Recorded:
    """Whether `state` records the outcome of a run: an apply as applied, a rollback as done."""

    def recorded(version: str, direction: str) -> bool:
        if not state.exists():
            return False
        rec = state.get(version)
        if rec is None:
            return False
        return rec.status == ("applied" if direction == "up" else "rolled_back")

    return recorded


def settle_on_open(journal: RedisJournal, recorded: Recorded, say: Callable[[str], None]) -> None:
    """Under a lock just taken: what a run before us left is settled, and said."""
    done = journal.settle(recorded, _log.info)
    if done is not None:
        say(done.sentence())


def settle_on_exit(
    lock: Any, journal: RedisJournal, recorded: Recorded, say: Callable[[str], None]
) -> None:
    """As the run lets go of its lock: drop the journal of a recorded run, put back one that
    is not (a failure the run did not revert itself). A lost lock means another run may own
    the journal now; an error leaves it for the next command, which settles it the same way.
    Never raises, so the error that ends the run, if any, is the one reported."""
    if not lock.held or lock.lost:
        return
    try:
        done = journal.settle(recorded, _log.info)
    except Exception:
        _log.warning("the Redis journal is left for the next command", exc_info=True)
        return
    if done is not None and (done.keys or done.configs or done.users):
        say(done.sentence())


def settle_unlocked(
    client: Any, command: str, recorded: Recorded, say: Callable[[str], None]
) -> None:
    """For a command that takes no lock (plan, drift): when a journal is there and the lock is
    free, take the lock for the moment of settling it; when another run holds the lock, the
    journal may be that run's own, so it is only reported."""
    version = pending_version(client)
    if version is None:
        return
    lock = RedisLock(client, timeout=0, command=command)
    try:
        lock.acquire()
    except (LockHeld, redis.ResponseError):  # held, or a role that may not take it
        holder = redis_lock_holder(client)
        who = describe_redis_holder(holder) if holder else "nobody: this role may not take it"
        say(
            f"An apply of version {version} to Redis is running or was interrupted (the lock "
            f"is held by {who}); once it is gone and its lock free, the next apply, rollback, "
            "plan or drift puts back whatever it had sent and not recorded."
        )
        return
    try:
        settle_on_open(RedisJournal(client), recorded, say)
    finally:
        lock.release()


def pending_version(client: Any) -> str | None:
    """The version an unsettled journal belongs to, without the lock (a read)."""
    try:
        header = RedisJournal(client).read_header()
    except redis.RedisError:  # a role that may not read the tool's keys
        return None
    return None if header is None else str(header.get("version"))
