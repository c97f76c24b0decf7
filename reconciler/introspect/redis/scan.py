"""The one SCAN loop of every reader of the keyspace: the plan's aggregation (keys.py), export
(export/redis/read.py) and backup (usecases/backup.py).

Owns: walking the keys of one server (`KeyStream`) or of every primary of a Redis Cluster, one
after the other (`stream_keys`), in batches of `SCAN cursor [MATCH m] COUNT batch`; sending each
batch's keys with the per-key commands the reader names (TYPE + PEXPIRETIME, TYPE + PTTL,
DUMP + PTTL, …), and TIME when asked, in one pipeline that already holds the next SCAN, so that a
batch is one round trip and the reader's Python work on a batch overlaps the server's work on the
next one (commands packed and replies parsed with hiredis, wire.py); commands a reader wants sent
with the next pipeline (`KeyStream.later`: the plan's size checks); which expiry command a server
has (`uses_pttl`); and the one behaviour for a key whose replies are not plain values
(`KeyStream.usable`):

- MOVED or ASK: the key's slot moved to another node while the scan ran (a resharding). The key
  is left out and counted in `moved`, for the reader to report; never raised as an error.
- any other error reply (a command refused by an ACL, say): one ReconcilerError sentence naming
  the command and the key, and, when it is a permission, what the reader needs (`needs`).

Must not: write to the server, decide what a reply means (a vanished key, a type or an expiry
are the reader's), or hold keys beyond the at most three batches in flight.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import hiredis
import redis

from reconciler.errors import ReconcilerError
from reconciler.introspect.redis.cluster import primary_clients
from reconciler.introspect.redis.wire import Wire, failed, pack
from reconciler.ops.redis.proto import quote, to_bytes

__all__ = ["BATCH", "Batch", "KeyStream", "stream_keys", "uses_pttl"]

BATCH = 1000  # SCAN COUNT and keys per pipeline, unless a reader asks for another
_REDIRECTED = ("MOVED ", "ASK ")
_PLAIN_CODES = ("ERR", "NOPERM")  # error codes left out of the sentence (others say something)

# A pipeline in flight: (it starts with a SCAN, commands sent for `later`, its keys).
_Later = tuple[bytes, int, Callable[[list[Any]], None]]
_Sent = tuple[bool, list[_Later], list[bytes]]


@dataclass(slots=True)
class Batch:
    """One batch of keys as SCAN returned them, with their replies."""

    keys: list[bytes]
    replies: list[Any]  # per key its commands' replies, in order (then TIME's, when asked)
    now_ms: int | None  # the server's clock with this batch (TIME), when asked


def uses_pttl(client: redis.Redis) -> bool:
    """PEXPIRETIME exists from Redis 7.0 on; older servers answer PTTL (made absolute by TIME)."""
    try:
        version = client.info("server").get("redis_version", "7")
        return int(str(version).split(".")[0]) < 7
    except (redis.ResponseError, ValueError):
        return False  # INFO not allowed to this user: assume a current server


class KeyStream:
    """The keys of one server in batches, each key's `per_key` commands answered with it.

    Iterate `batches()` (in `contextlib.closing`, or to the end): the connection goes back to
    the pool then, and is closed instead when replies may be left unread."""

    def __init__(
        self,
        client: redis.Redis,
        per_key: Sequence[bytes],
        *,
        batch: int = BATCH,
        match: str | None = None,
        clock: bool = False,
        readonly: bool = False,
        needs: str = "",
    ) -> None:
        """`clock`: TIME with every batch; `readonly`: the connection in READONLY mode (a
        cluster node demoted to a replica by a failover goes on answering); `needs`: what the
        reader needs, said when a command is refused for lack of a permission."""
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        self.client = client
        self.per_key = tuple(per_key)
        self.needs = needs
        self.moved = 0  # keys left out: their slot moved to another node (MOVED / ASK)
        tail = [b"COUNT", b"%d" % batch]
        if match is not None:
            tail = [b"MATCH", to_bytes(match), *tail]
        self._tail = tail
        self._clock = clock
        self._readonly = readonly
        self._later: list[_Later] = []
        # Per key, each command with the key as its one argument: one template, so a batch
        # costs one `%` per key.
        self._template = b"".join(
            b"*2\r\n$" + b"%d" % len(c) + b"\r\n" + c + b"\r\n$%d\r\n%b\r\n" for c in self.per_key
        )

    # ----------------------------------------------------------------------- the stream

    def batches(self) -> Iterator[Batch]:
        try:
            wire = Wire(self.client)
        except (redis.RedisError, OSError) as exc:
            raise failed("scanning keys", exc) from None
        broken = True
        try:
            if self._readonly:
                wire.send(pack(b"READONLY"))
                self._check(wire.read(1)[0], b"READONLY")
            yield from self._run(wire)
            broken = False
        except (redis.RedisError, OSError) as exc:
            raise failed("scanning keys", exc) from None
        finally:
            wire.close(broken=broken)

    def later(self, commands: bytes, count: int, done: Callable[[list[Any]], None]) -> None:
        """Send the packed `commands` (`count` of them) with the next pipeline; `done` gets
        their replies (errors as hiredis.ReplyError values) before the next batch comes."""
        if count:
            self._later.append((commands, count, done))

    def _run(self, wire: Wire) -> Iterator[Batch]:
        """Keep the server busy: each pipeline starts with the SCAN for the batch after it, so
        as soon as that first reply is in, the next pipeline goes out."""
        per = len(self.per_key)
        wire.send(self._scan(b"0"))
        in_flight: deque[_Sent] = deque([(True, [], [])])
        while in_flight:
            has_scan, sent_later, keys = in_flight.popleft()
            if has_scan:
                reply = wire.read(1)[0]
                self._check(reply, b"SCAN")
                cursor, next_keys = reply
                finished = cursor == b"0"
                later, self._later = self._later, []
                out = [] if finished else [self._scan(cursor)]
                out += [commands for commands, _, _ in later]
                if next_keys:
                    out.append(self._key_commands(next_keys))
                if out:
                    wire.send(b"".join(out))
                    in_flight.append((not finished, later, next_keys))
            extra = sum(count for _, count, _ in sent_later)
            replies = wire.read(extra + (per * len(keys) + self._clock if keys else 0))
            if sent_later:
                self._answer(sent_later, replies[:extra])
                replies = replies[extra:]
            if keys:
                yield Batch(keys, replies, self._now(replies[-1]) if self._clock else None)
        while self._later:  # asked for while the last batch was read
            later, self._later = self._later, []
            wire.send(b"".join(commands for commands, _, _ in later))
            self._answer(later, wire.read(sum(count for _, count, _ in later)))

    def _scan(self, cursor: bytes) -> bytes:
        return pack(b"SCAN", cursor, *self._tail)

    def _key_commands(self, keys: list[bytes]) -> bytes:
        template, per = self._template, len(self.per_key)
        if per == 2:  # the common case, without building a tuple per key
            parts = [template % (len(k), k, len(k), k) for k in keys]
        else:
            parts = [template % ((len(k), k) * per) for k in keys]
        if self._clock:
            parts.append(b"*1\r\n$4\r\nTIME\r\n")
        return b"".join(parts)

    @staticmethod
    def _answer(sent: list[_Later], replies: list[Any]) -> None:
        at = 0
        for _, count, done in sent:
            done(replies[at : at + count])
            at += count

    def _now(self, reply: Any) -> int:
        self._check(reply, b"TIME")
        return int(reply[0]) * 1000 + int(reply[1]) // 1000

    # ------------------------------------------------------------------- odd replies

    def usable(self, key: bytes, replies: Sequence[Any]) -> bool:
        """The slow path of a key whose replies are not all plain values: False when its slot
        moved to another node (MOVED / ASK: counted in `moved`), ReconcilerError for any other
        error reply, True when none is an error (a vanished key is the reader's to see)."""
        for command, reply in zip(self.per_key, replies, strict=False):
            if isinstance(reply, hiredis.ReplyError):
                if str(reply).startswith(_REDIRECTED):
                    self.moved += 1
                    return False
                raise self.refused(command, reply, key)
        return True

    def _check(self, reply: Any, command: bytes) -> None:
        if isinstance(reply, hiredis.ReplyError):
            raise self.refused(command, reply, None)

    def refused(self, command: bytes, reply: Any, key: bytes | None) -> ReconcilerError:
        why = " ".join(str(reply).split()).rstrip(".")
        code, _, rest = why.partition(" ")
        if code in _PLAIN_CODES:  # the sentence says it: "this user has no permissions …"
            why = rest
        where = f" on key {quote(key)}" if key is not None else ""
        need = f" ({self.needs})" if self.needs and "permission" in why.lower() else ""
        return ReconcilerError(f"Redis refused {command.decode()}{where}: {why}{need}.")


def stream_keys(
    client: Any,
    per_key: Sequence[bytes] | Callable[[redis.Redis], Sequence[bytes]],
    **options: Any,
) -> Iterator[tuple[KeyStream, Batch]]:
    """The keys of the server, or of every primary of a cluster one after the other: each
    batch with the node's stream (whose `usable` and `moved` speak for that node). Options are
    KeyStream's; `per_key` may be a function of the node's client (e.g. by `uses_pttl`)."""
    for node in primary_clients(client):
        commands = per_key(node) if callable(per_key) else per_key
        stream = KeyStream(node, commands, **options)
        with contextlib.closing(stream.batches()) as batches:
            for batch in batches:
                yield stream, batch
