"""Who holds the Redis apply lock (redis.py): the lock key's value read back as its holder,
described in a sentence, and whether that holder's OS process still runs on this host.

Owns: the lock key's name, `redis_lock_holder`, `describe_redis_holder` and the LockHeld
error that names a holder.

Must not: take, renew, release or delete the lock (redis.py does), or write anything.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis

from reconciler import errors
from reconciler.locks.holder_alive import holder_gone

LOCK_KEY = "reconciler:lock"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


# --- who holds it -------------------------------------------------------------------------------


def redis_lock_holder(client: redis.Redis, *, key: str = LOCK_KEY) -> dict[str, Any] | None:
    """Who holds the lock, or None when it is free.

    The dict has the fields the holder wrote — token, host, pid, user, command and since (ISO
    8601, UTC) — plus `ttl_ms`, the lease left (-1: the key has no expiry, which Reconciler
    never writes). A value Reconciler did not write (set by hand, another tool) reads as
    `{"raw": <text>, "ttl_ms": ...}`.
    """
    pipe = client.pipeline(transaction=True)  # one consistent view of value and lease
    pipe.get(key)
    pipe.pttl(key)
    value, ttl = pipe.execute(raise_on_error=False)
    if isinstance(ttl, Exception):
        raise ttl
    if isinstance(value, Exception):  # WRONGTYPE: something that is not a string sits there
        if int(ttl) == -2:
            return None
        return {"raw": f"<not a string: {value}>", "ttl_ms": int(ttl)}
    if value is None:
        return None
    text = _text(value) or ""
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("token"), str):
        return {"raw": text, "ttl_ms": int(ttl)}
    holder = {name: doc.get(name) for name in ("token", "host", "pid", "user", "command", "since")}
    holder["ttl_ms"] = int(ttl)
    return holder


def describe_redis_holder(holder: dict[str, Any]) -> str:
    """`host H pid P user U since 2026-11-25 12:00:00 UTC` (what LockHeld says)."""
    if "raw" in holder:
        raw = holder["raw"]
        shown = raw if len(raw) <= 60 else raw[:57] + "..."
        return f"a value Reconciler did not write ({shown!r})"
    parts = [
        f"{label} {holder[name]}"
        for label, name in (("host", "host"), ("pid", "pid"), ("user", "user"))
        if holder.get(name) is not None
    ]
    text = " ".join(parts) or "an unnamed holder"
    since = holder.get("since")
    if isinstance(since, str):
        try:
            stamp = datetime.fromisoformat(since).astimezone(UTC)
        except ValueError:
            text += f" since {since}"
        else:
            text += f" since {stamp.strftime('%Y-%m-%d %H:%M:%S UTC')}"
    if holder_gone(holder.get("host"), holder.get("pid")):
        # Nothing renews the key of a dead run; only its lease (or force-unlock) frees it.
        text += (
            f"; pid {holder['pid']} on this host is no longer running: a crashed run, "
            f"whose lock {_lease_text(holder.get('ttl_ms'))}"
            "`reconciler lock force-unlock ID --redis URL` frees it now"
        )
    return text


def _lease_text(ttl_ms: object) -> str:
    if isinstance(ttl_ms, int) and ttl_ms >= 0:
        return f"expires within {max(1, -(-ttl_ms // 1000))} s; "
    return "has no expiry; "


def _held_error(holder: dict[str, Any] | None) -> errors.LockHeld:
    if holder is None:  # released and retaken by someone else between our two looks
        return errors.LockHeld(
            "Another run holds the Redis lock (it changed hands while we looked).",
            detail="Try again, or run `reconciler lock status --redis` to see who holds it.",
        )
    command = holder.get("command") or "apply"
    ttl_ms = holder.get("ttl_ms", -1)
    if ttl_ms is not None and ttl_ms >= 0:
        lease = f"its lease frees the lock within {max(1, -(-ttl_ms // 1000))} s, or "
    else:
        lease = ""
    return errors.LockHeld(
        f"Another {command} holds the Redis lock: {describe_redis_holder(holder)}.",
        detail=(
            "Wait for it to finish (or pass --lock-timeout SECONDS to wait longer); "
            f"if that run is gone, {lease}run `reconciler lock force-unlock ID --redis URL` "
            "with the id `reconciler lock status --redis URL` shows."
        ),
    )
