"""Raw pipelining on one pooled Redis connection: packed commands out, hiredis replies in.

Owns: RESP packing of commands (`pack`), the Wire that sends them and reads the replies with
hiredis directly from the socket (redis-py's Pipeline costs several µs per command, more than the
server spends on TYPE), and turning a failed exchange into a ReconcilerError (`failed`).

Must not: know what the commands mean (scan.py builds them, its readers read them), raise on an
error reply (it is returned as a value, so no reply after it goes unread), or put a connection with
replies possibly unread back into the pool.
"""

from __future__ import annotations

from typing import Any

import hiredis
import redis

from reconciler.errors import ConnectionFailed, ReconcilerError

__all__ = ["Wire", "failed", "pack"]


def pack(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(out)


class Wire:
    """Send packed commands on one pooled connection and read their replies with hiredis.

    Error replies come back as hiredis.ReplyError values, never raised, so that a failed command
    cannot leave the replies after it unread. A connection with replies possibly unread (any
    exception) is disconnected before it goes back to the pool."""

    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool
        self._conn = self._pool.get_connection()
        self._sock = getattr(self._conn, "_sock", None)
        self._reader = hiredis.Reader()

    def send(self, data: bytes) -> None:
        self._conn.send_packed_command([data], check_health=False)

    def read(self, count: int) -> list[Any]:
        if self._sock is None:  # e.g. a client-side-caching proxy: redis-py's own parser
            return [self._read_one() for _ in range(count)]
        out: list[Any] = []
        gets, recv, feed = self._reader.gets, self._sock.recv, self._reader.feed
        while len(out) < count:
            reply = gets()
            if reply is False:
                chunk = recv(1 << 18)
                if not chunk:
                    raise redis.ConnectionError("Redis closed the connection.")
                feed(chunk)
            else:
                out.append(reply)
        return out

    def _read_one(self) -> Any:
        try:
            return self._conn.read_response(disable_decoding=True)
        except redis.exceptions.AskError as exc:  # redis-py drops the word: put it back
            word = "MOVED" if isinstance(exc, redis.exceptions.MovedError) else "ASK"
            return hiredis.ReplyError(f"{word} {exc}")
        except redis.ResponseError as exc:
            return hiredis.ReplyError(str(exc))

    def close(self, *, broken: bool) -> None:
        if broken:
            self._conn.disconnect()
        self._pool.release(self._conn)


def failed(action: str, exc: BaseException) -> ReconcilerError:
    """The ReconcilerError for `exc`, raised while `action` (e.g. "scanning keys") ran."""
    if isinstance(exc, ReconcilerError):
        return exc
    if isinstance(exc, redis.ResponseError | hiredis.ReplyError):
        return ReconcilerError(f"Redis refused {action}: {exc}")
    return ConnectionFailed(f"Lost the connection to Redis while {action}: {exc}")
