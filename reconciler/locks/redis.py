"""The apply lock for Redis: one key holding the holder's identity, kept alive by a lease.

Owns: taking, renewing, releasing and inspecting the lock key (`reconciler:lock` by default),
and deleting it on request (`redis_force_unlock`).

Must not: touch any key but its own, or decide what a lost lock means for a run (the executor
calls `check()` between batches and stops).

Why a lease: Redis has no session-scoped locks, so nothing frees the key when a holder dies. The
key is set with `SET key value NX PX lease_ms` and a daemon thread extends it every lease_ms/3;
a run killed with SIGKILL stops renewing and its key expires at most lease_ms later. The value
is a JSON document naming the holder (token, host, pid, user, command, since); the random token
makes it unique, and renewal and release are Lua scripts that act only while the key still
holds exactly that value, so a run never extends or deletes a lock it no longer owns (after its
lease ran out, or after `lock force-unlock ID --redis URL`, someone else may hold it).

Why `check()` also asks the server: the renewal thread notices a lost lock only at its next
renewal (up to lease_ms/3 later). check() raises at once when the renewal thread saw the loss,
when the last successful renewal is older than a lease (renewals failing, so the key may have
expired), or when the key no longer holds our value: one GET per batch.

`since` is the holder's own clock (UTC) when it took the lock; Redis keeps no acquisition time.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import secrets
import socket
import threading
import time
from datetime import UTC, datetime

import redis

from reconciler import errors
from reconciler.locks.redis_holder import (  # LOCK_KEY and the holder calls: re-exported
    LOCK_KEY,
    _held_error,
    _text,
    describe_redis_holder,
    redis_lock_holder,
)

log = logging.getLogger(__name__)

_MAX_POLL = 2.0  # cap of the retry backoff, seconds
_MIN_LEASE_MS = 10

# Both compare the whole value, which contains our random token: only the owner acts.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # containers often run as a uid with no passwd entry
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


# --- taking it ----------------------------------------------------------------------------------


class RedisLock:
    """The apply lock on one Redis; `with RedisLock(client, timeout=30) as lock: ...`.

    acquire() tries SET NX PX, retrying with doubling waits (from `poll`, capped at 2 s) until
    `timeout` seconds have passed, then raises LockHeld naming the holder. While held, a daemon
    thread renews the lease every lease_ms/3; `lost` turns True when it finds the lock gone.
    The client may decode responses or not, and is shared with the renewal thread (redis-py
    clients are thread-safe; the thread takes its own pooled connection per call).
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        key: str = LOCK_KEY,
        timeout: float = 0.0,
        lease_ms: int = 30_000,
        poll: float = 0.1,
        command: str | None = None,
    ) -> None:
        if lease_ms < _MIN_LEASE_MS:
            raise ValueError(f"lease_ms must be at least {_MIN_LEASE_MS}, got {lease_ms}")
        self.client = client
        self.key = key
        self.timeout = max(timeout, 0.0)
        self.lease_ms = int(lease_ms)
        self.poll = max(poll, 0.01)
        self.command = command
        self.held = False
        self.lost = False
        self.lost_reason: str | None = None
        self.token: str | None = None
        self._value: str | None = None
        # monotonic time before which the lease is certainly still ours (set from the time a
        # successful SET/PEXPIRE was *sent*, so it errs early)
        self._valid_until = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    # --- acquire ------------------------------------------------------------------------------

    def _new_value(self) -> str:
        self.token = secrets.token_hex(16)
        doc = {
            "token": self.token,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "user": _os_user(),
            "command": self.command,
            "since": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        return json.dumps(doc, separators=(",", ":"))

    def _try(self) -> bool:
        value = self._new_value()
        sent = time.monotonic()
        self._value = value  # before the SET, so that an interrupted acquire can release it
        if not self.client.set(self.key, value, nx=True, px=self.lease_ms):
            self._value = None
            return False
        self._valid_until = sent + self.lease_ms / 1000
        self.held, self.lost, self.lost_reason = True, False, None
        self._start_renewal()
        return True

    def acquire(self) -> None:
        if self.held:
            raise RuntimeError("this RedisLock is already held; release it before acquiring again")
        try:
            self._acquire()
        except BaseException:
            # Ctrl-C may land after the SET took the key and before the caller could register
            # the release: a lock nobody renews would then block every run for a whole lease.
            self._abandon()
            raise

    def _abandon(self) -> None:
        self._stop_renewal()
        value, self._value, self.held = self._value, None, False
        if value is not None:
            try:
                self._release(keys=[self.key], args=[value])
            except redis.RedisError:
                log.warning("could not release the Redis lock", exc_info=True)

    def _acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        delay = self.poll
        said = False
        while True:
            if self._try():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                holder = redis_lock_holder(self.client, key=self.key)
                if holder is None and self._try():  # released between our try and the look
                    return
                raise _held_error(holder)
            if not said:  # the first attempt found it held: say why we wait, once
                said = True
                holder = redis_lock_holder(self.client, key=self.key)
                who = (
                    f"{holder.get('command') or 'a run'}: {describe_redis_holder(holder)}"
                    if holder
                    else "another run"
                )
                log.warning(
                    "Waiting for the Redis lock held by %s (up to %g s)…", who, self.timeout
                )
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, max(_MAX_POLL, self.poll))

    # --- renewal ------------------------------------------------------------------------------

    def _start_renewal(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._renew_loop,
            args=(self._stop, self._value),
            name=f"reconciler-redis-lock-renew:{self.key}",
            daemon=True,
        )
        self._thread.start()

    def _mark_lost(self, reason: str) -> None:
        if not self.lost:
            self.lost_reason = reason
            self.lost = True
            log.warning("the Redis lock %r was lost: %s", self.key, reason)

    def _renew_loop(self, stop: threading.Event, value: str | None) -> None:
        interval = self.lease_ms / 3000
        while not stop.wait(interval):
            sent = time.monotonic()
            try:
                renewed = self._renew(keys=[self.key], args=[value, self.lease_ms])
            except (redis.RedisError, OSError) as exc:
                if stop.is_set():
                    return
                if time.monotonic() >= self._valid_until:
                    self._mark_lost(f"its lease could not be renewed before it ran out ({exc})")
                    return
                log.warning("could not renew the Redis lock lease (will retry): %s", exc)
                continue
            if stop.is_set():
                return
            if renewed:
                self._valid_until = sent + self.lease_ms / 1000
            else:
                self._mark_lost(_gone_reason(self.client, self.key))
                return

    def _stop_renewal(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        # A Ctrl-C between creating the thread and starting it leaves one never started.
        if (
            thread is not None
            and thread.ident is not None
            and thread is not threading.current_thread()
        ):
            thread.join()

    # --- check --------------------------------------------------------------------------------

    def check(self) -> None:
        """Raise LockHeld when the lock is no longer ours; call it between batches of work.

        Asks the server (one GET), so a force-unlock or a takeover is noticed at once. Redis
        errors (a lost connection) propagate as redis-py raises them.
        """
        if not self.held:
            raise RuntimeError("this RedisLock is not held")
        if not self.lost and time.monotonic() >= self._valid_until:
            self._mark_lost("its lease ran out before it could be renewed")
        if not self.lost:
            current = _text(self.client.get(self.key))
            if current != self._value:
                self._mark_lost(_gone_reason(self.client, self.key))
        if self.lost:
            raise errors.LockHeld(
                f"Lost the Redis lock {self.key!r} during the run: {self.lost_reason}.",
                detail=(
                    "Another run may now change the same keys, so this one stopped before its "
                    "next batch. Run `reconciler plan` again to see what is left to do."
                ),
            )

    # --- release ------------------------------------------------------------------------------

    def release(self) -> None:
        """Stop renewing and delete the key if it still holds our value; a no-op when not held
        or when the lock was lost (someone else's lock is never deleted)."""
        if not self.held:
            return
        self.held = False
        self._stop_renewal()
        value, self._value = self._value, None
        if not self._release(keys=[self.key], args=[value]):
            log.warning("the Redis lock was not ours at release (lease ran out, or force-unlock?)")

    def __enter__(self) -> RedisLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.release()
        except redis.RedisError:
            # Never hide the error that is already propagating (most likely the same lost
            # connection; the lease frees the lock anyway).
            if exc is None:
                raise
            log.warning("could not release the Redis lock", exc_info=True)


def _gone_reason(client: redis.Redis, key: str) -> str:
    try:
        holder = redis_lock_holder(client, key=key)
    except redis.RedisError:
        holder = None
    if holder is None:
        return "the key is gone (force-unlocked, or its lease ran out)"
    return f"it is now held by {describe_redis_holder(holder)}"


# --- breaking it --------------------------------------------------------------------------------


def redis_force_unlock(
    client: redis.Redis, *, key: str = LOCK_KEY, token: str | None = None
) -> bool:
    """Delete the lock key; False when there was none. With `token` (from redis_lock_holder),
    only while that holder still has it, so a lock that changed hands is left alone.

    The holder, if it still runs, notices at its next check() or renewal and stops."""
    if token is None:
        return bool(client.delete(key))
    value = _text(client.get(key))
    if value is None:
        return False
    try:
        doc = json.loads(value)
    except ValueError:
        return False
    if not isinstance(doc, dict) or doc.get("token") != token:
        return False
    return bool(client.register_script(_RELEASE)(keys=[key], args=[value]))
