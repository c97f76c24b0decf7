"""The keyspace, read by one streaming scan and aggregated per desired key pattern.

Owns: how keys are spelled in Python, matching keys to patterns, and `scan_keyspace`.

Keys are bytes on the server. Here they are `str` decoded as UTF-8 with `surrogateescape`
(`key_text`), and `key_bytes` gives the exact bytes back: valid UTF-8 reads as itself, so
patterns with non-ASCII text match, and every other byte becomes one lone surrogate U+DC80..U+DCFF
(never `:`), so `[^:]+` placeholders behave as on bytes. Writers of plan files must keep those
surrogates: `json.dumps` with the default `ensure_ascii=True` does ("\\udcff"), a UTF-8 text file
does not (use `cli_quote` for redis-cli syntax, or errors="surrogateescape").

The scan streams: `SCAN cursor [MATCH m] COUNT batch`, then per batch one pipeline of TYPE +
PEXPIRETIME for every key, TIME, and already the next SCAN, so each batch is one round trip; the
replies are read while Python aggregates the previous batch. Patterns with size limits add
STRLEN/HLEN/… and `MEMORY USAGE key SAMPLES 0` for their keys, sent with the next batch. Commands
are packed and replies parsed with hiredis directly on the pooled connection (redis_wire.py).

Must not: write to the server, or hold a set of keys: memory holds the aggregates, at most three
batches in flight, and the bounded lists of PatternStats (so a key SCAN returns twice, which
Redis allows while its table shrinks, is counted twice). What a count means is for
reconciler.diff.redis to decide.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import hiredis
import redis

from reconciler.errors import ReconcilerError
from reconciler.introspect.redis.wire import Wire, failed, pack
from reconciler.model.redis import KeyFix, KeyPattern, KeyspaceReport, PatternStats
from reconciler.ops.redis.proto import from_bytes, quote, to_bytes

__all__ = [
    "KEY_ENCODING",
    "KEY_ERRORS",
    "MAX_EXAMPLES",
    "MAX_MISMATCH_EXAMPLES",
    "MAX_UNMATCHED_EXAMPLES",
    "MAX_UNMATCHED_PREFIXES",
    "TOOL_NAMESPACE",
    "TTL_TOLERANCE_MS",
    "UNMATCHED_OVERFLOW",
    "cli_quote",
    "key_bytes",
    "key_text",
    "scan_keyspace",
]

KEY_ENCODING, KEY_ERRORS = "utf-8", "surrogateescape"
TOOL_NAMESPACE = "reconciler"  # `reconciler:lock` and any later key of the tool's own
TTL_TOLERANCE_MS = 1000  # a TTL this much above policy is still fine (clock granularity)
MAX_EXAMPLES, MAX_MISMATCH_EXAMPLES, MAX_UNMATCHED_EXAMPLES = 3, 5, 3
# Keys matching no pattern are counted per first segment; past this many distinct segments
# (e.g. keys without any ':' are each their own) the rest are counted under UNMATCHED_OVERFLOW,
# so that memory stays bounded.
MAX_UNMATCHED_PREFIXES = 1000
UNMATCHED_OVERFLOW = "<other>"

_LENGTH_COMMAND = {
    "string": b"STRLEN",
    "hash": b"HLEN",
    "list": b"LLEN",
    "set": b"SCARD",
    "zset": b"ZCARD",
    "stream": b"XLEN",
}
_TYPE_NAMES: dict[bytes, str] = {t.encode(): t for t in _LENGTH_COMMAND}


# One spelling of keys everywhere: the plan files' (ops/redisproto.py).
key_text = from_bytes
key_bytes = to_bytes
cli_quote = quote


# ------------------------------------------------------------------------ pattern matching


@dataclass(slots=True)
class _Entry:
    """One desired pattern prepared for matching and its running aggregate."""

    type: str
    ttl_ms: int | None
    max_length: int | None
    max_bytes: int | None
    prune: bool
    stats: PatternStats
    sized: bool  # has a size limit: its keys get length / MEMORY USAGE checks


class _Matcher:
    """Patterns grouped by their literal first segment (`app:session:{id}` under `app`), each group
    one alternation regex, so that a key costs a partition, a dict lookup and one C-level match;
    patterns without a literal first segment (`{tenant}:cache:{id}`) form a last group, tried
    only when the key's own group has no pattern for it: a namespace's patterns take precedence
    (the loader lets the two overlap). Within a group a pattern lying strictly within another
    (`sess:admin` in `sess:{token}`) is tried first (the loader lets those overlap too, and no
    others). So a key counts for exactly one pattern. (The lookup itself is inlined in
    _Scan._aggregate, the hot loop.)"""

    def __init__(self, patterns: Sequence[KeyPattern], report: KeyspaceReport) -> None:
        grouped: dict[str | None, list[tuple[tuple[int, int, int], str, _Entry]]] = {}
        for order, pat in enumerate(patterns):
            if pat.pattern in report.patterns:
                continue  # a duplicate declaration: validation reports it, the first counts
            stats = report.patterns[pat.pattern] = PatternStats(pattern=pat.pattern)
            entry = _Entry(
                type=pat.type,
                ttl_ms=None if pat.ttl is None else pat.ttl * 1000,
                max_length=pat.max_length,
                max_bytes=pat.max_bytes,
                prune=pat.prune,
                stats=stats,
                sized=pat.max_length is not None or pat.max_bytes is not None,
            )
            # Within a group patterns are disjoint (the loader checks) but for one lying
            # strictly within another, which must be tried first: the more specific first.
            rank = (-pat.specificity, -pat.prefix.count(":"), -len(pat.prefix), order)
            group = grouped.setdefault(pat.namespace_segment, [])
            group.append((rank, pat.regex.pattern, entry))
        self.groups: dict[str | None, tuple[re.Pattern[str], list[_Entry]]] = {}
        for first, members in grouped.items():
            members.sort(key=lambda m: m[0])
            # pattern_regex() has no capturing groups, so `lastindex` names the alternative.
            regex = re.compile("|".join(f"({m[1]})" for m in members), re.DOTALL)
            self.groups[first] = (regex, [m[2] for m in members])
        self.fallback = self.groups.pop(None, None)


# ------------------------------------------------------------------------------ scanning


@dataclass(slots=True)
class _SizeJob:
    entry: _Entry
    key: bytes
    type: str
    length: bool  # a length command (by the key's type) was sent
    memory: bool  # a MEMORY USAGE was sent


def scan_keyspace(
    client: redis.Redis,
    patterns: Sequence[KeyPattern],
    *,
    batch: int = 1000,
    match: str | None = None,
    progress: Callable[[int], None] | None = None,
    now_ms: int | None = None,
    readonly: bool = False,
) -> KeyspaceReport:
    """Scan every key (or those matching the glob `match`) once and aggregate per pattern.

    `now_ms` fixes the clock TTLs are judged by; by default it is the server's TIME, read with
    every batch. Keys that vanish between SCAN and TYPE are skipped (not counted as scanned).
    On a Redis Cluster every primary is scanned so, at once (redis_cluster.py), each with
    `readonly`: its connection in READONLY mode, so that a node demoted to a replica by a
    failover goes on answering."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    from reconciler.introspect.redis.cluster import is_cluster, scan_cluster

    if is_cluster(client):
        return scan_cluster(
            client, patterns, batch=batch, match=match, progress=progress, now_ms=now_ms
        )
    try:
        scan = _Scan(client, patterns, batch=batch, match=match, now_ms=now_ms, progress=progress)
        wire = Wire(client)
    except (redis.RedisError, OSError) as exc:
        raise failed("scanning keys", exc) from None
    broken = True
    try:
        if readonly:
            wire.send(pack(b"READONLY"))
            _check_reply(wire.read(1)[0], "READONLY", None)
        scan.run(wire)
        broken = False
    except (redis.RedisError, OSError) as exc:
        raise failed("scanning keys", exc) from None
    finally:
        wire.close(broken=broken)
    return scan.report


def uses_pttl(client: redis.Redis) -> bool:
    """PEXPIRETIME exists from Redis 7.0 on; older servers answer PTTL (made absolute by TIME)."""
    try:
        version = client.info("server").get("redis_version", "7")
        return int(str(version).split(".")[0]) < 7
    except (redis.ResponseError, ValueError):
        return False  # INFO not allowed to this user: assume a current server


class _Scan:
    def __init__(
        self,
        client: redis.Redis,
        patterns: Sequence[KeyPattern],
        *,
        batch: int,
        match: str | None,
        now_ms: int | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.report = KeyspaceReport()
        self.matcher = _Matcher(patterns, self.report)
        self.now_ms = now_ms
        self.progress = progress
        tail = [b"COUNT", b"%d" % batch]
        if match is not None:
            tail = [b"MATCH", key_bytes(match), *tail]
        self.scan_tail = tail
        self.pttl = uses_pttl(client)
        # Per key: TYPE, then the expiry command (the same argument, so one template).
        expiry = b"PTTL" if self.pttl else b"PEXPIRETIME"
        self.key_template = (
            b"*2\r\n$4\r\nTYPE\r\n$%d\r\n%b\r\n*2\r\n$"
            + b"%d" % len(expiry)
            + b"\r\n"
            + expiry
            + b"\r\n$%d\r\n%b\r\n"
        )

    def _scan_command(self, cursor: bytes) -> bytes:
        return pack(b"SCAN", cursor, *self.scan_tail)

    def _type_commands(self, keys: list[bytes]) -> bytes:
        template = self.key_template
        parts = [template % (len(k), k, len(k), k) for k in keys]
        parts.append(b"*1\r\n$4\r\nTIME\r\n")
        return b"".join(parts)

    def run(self, wire: Wire) -> None:
        """Keep the server busy: each pipeline starts with the SCAN for the batch after it, so
        as soon as that first reply is in, the next pipeline goes out, and the Python work on a
        batch overlaps the server's work on the next one."""
        wire.send(self._scan_command(b"0"))
        # Sent pipelines, oldest first: (starts with a SCAN, size jobs, keys typed).
        in_flight: deque[tuple[bool, list[_SizeJob], list[bytes]]] = deque([(True, [], [])])
        sizing: list[_SizeJob] = []  # aggregated, their size commands not sent yet
        while in_flight:
            has_scan, size_jobs, keys = in_flight.popleft()
            if has_scan:
                cursor, next_keys = _scan_reply(wire.read(1)[0])
                finished = cursor == b"0"
                out = [] if finished else [self._scan_command(cursor)]
                if sizing:
                    out.append(self._size_commands(sizing))
                if next_keys:
                    out.append(self._type_commands(next_keys))
                if out:
                    wire.send(b"".join(out))
                    in_flight.append((not finished, sizing, next_keys))
                    sizing = []
            size_count = sum(job.length + job.memory for job in size_jobs)
            replies = wire.read(size_count + (2 * len(keys) + 1 if keys else 0))
            if size_jobs:
                self._resolve_sizes(size_jobs, replies[:size_count])
            if keys:
                sizing += self._aggregate(keys, replies[size_count:])
        if sizing:
            wire.send(self._size_commands(sizing))
            self._resolve_sizes(sizing, wire.read(sum(j.length + j.memory for j in sizing)))

    def _aggregate(self, keys: list[bytes], replies: list[Any]) -> list[_SizeJob]:
        """Count one batch: per key its type and expiry, matched to a pattern.

        The hot loop of the scan (once per key): locals only, the matcher inlined."""
        report = self.report
        time_reply = replies[-1]
        server_now = int(time_reply[0]) * 1000 + int(time_reply[1]) // 1000
        now = server_now if self.now_ms is None else self.now_ms
        pttl = self.pttl
        types_seen, type_names = report.types, _TYPE_NAMES
        groups, fallback = self.matcher.groups, self.matcher.fallback
        sizing: list[_SizeJob] = []
        scanned = 0
        n = len(keys)
        for raw, type_reply, expiry in zip(
            keys, replies[0 : 2 * n : 2], replies[1 : 2 * n : 2], strict=True
        ):
            kind = type_names.get(type_reply)
            if kind is None or expiry.__class__ is not int:
                kind = _odd_reply(raw, type_reply, expiry, pttl)
                if kind is None:
                    continue  # gone since SCAN returned it
            if expiry < 0:
                if expiry == -2:
                    continue  # expired or deleted between TYPE and PEXPIRETIME
            elif pttl:
                expiry += server_now
            scanned += 1
            types_seen[kind] = types_seen.get(kind, 0) + 1
            key = raw.decode(KEY_ENCODING, KEY_ERRORS)
            group = groups.get(key.partition(":")[0])
            if group is not None and (m := group[0].match(key)) is not None:
                entry = group[1][m.lastindex - 1]  # type: ignore[operator]
            elif fallback is not None and (m := fallback[0].match(key)) is not None:
                entry = fallback[1][m.lastindex - 1]  # type: ignore[operator]
            else:
                self._unmatched(key)
                continue
            stats = entry.stats
            stats.count += 1
            stats.types[kind] = stats.types.get(kind, 0) + 1
            if len(stats.examples) < MAX_EXAMPLES:
                stats.examples.append(key)
            # A key of another type than its pattern's is not the data the pattern describes:
            # it is counted (a finding) and never gets a TTL step, so nothing expires or
            # persists it (reconciler.diff.redis applies the same rule). Only a pattern that
            # says `prune: true` deletes such keys, behind --allow-destructive, keeping each
            # value (DUMP) for the down file.
            ours = kind == entry.type
            if not ours:
                stats.type_mismatches += 1
                if len(stats.mismatch_examples) < MAX_MISMATCH_EXAMPLES:
                    stats.mismatch_examples.append(key)
                if entry.prune:
                    stats.prune.append(KeyFix(key, expiry, kind))
            ttl_ms = entry.ttl_ms
            if ttl_ms is not None:
                if expiry == -1:
                    stats.without_ttl += 1
                    if ours:
                        stats.fixes.append(KeyFix(key, expiry, kind))
                elif expiry - now > ttl_ms + TTL_TOLERANCE_MS:
                    stats.ttl_above_policy += 1
                    if ours:
                        stats.fixes.append(KeyFix(key, expiry, kind))
            if entry.sized:
                length = entry.max_length is not None and kind in _LENGTH_COMMAND
                if length or entry.max_bytes is not None:
                    sizing.append(_SizeJob(entry, raw, kind, length, entry.max_bytes is not None))
        report.scanned += scanned
        if self.progress is not None:
            self.progress(report.scanned)
        return sizing

    def _unmatched(self, key: str) -> None:
        report = self.report
        prefix = key.partition(":")[0]
        if prefix == TOOL_NAMESPACE:
            return  # the tool's own keys (its lock) are never part of the scope
        count = report.unmatched.get(prefix)
        if count is None and len(report.unmatched) >= MAX_UNMATCHED_PREFIXES:
            prefix = UNMATCHED_OVERFLOW
            count = report.unmatched.get(prefix)
        report.unmatched[prefix] = (count or 0) + 1
        if count is None:
            report.unmatched_examples[prefix] = [key]
        elif count < MAX_UNMATCHED_EXAMPLES:
            report.unmatched_examples[prefix].append(key)

    def _size_commands(self, jobs: list[_SizeJob]) -> bytes:
        parts: list[bytes] = []
        for job in jobs:
            if job.length:
                parts.append(pack(_LENGTH_COMMAND[job.type], job.key))
            if job.memory:
                # SAMPLES 0: exact, every element (O(elements) for aggregates, O(1) for strings).
                parts.append(pack(b"MEMORY", b"USAGE", job.key, b"SAMPLES", b"0"))
        return b"".join(parts)

    def _resolve_sizes(self, jobs: list[_SizeJob], replies: list[Any]) -> None:
        it = iter(replies)
        for job in jobs:
            entry = job.entry
            over = False
            if job.length:
                length = next(it)
                if isinstance(length, int) and length > entry.max_length:  # type: ignore[operator]
                    over = True
            if job.memory:
                used = next(it)  # None: the key is gone
                if isinstance(used, int) and used > entry.max_bytes:  # type: ignore[operator]
                    over = True
            if over:
                entry.stats.oversized += 1


def _scan_reply(reply: Any) -> tuple[bytes, list[bytes]]:
    _check_reply(reply, "SCAN", None)
    cursor, keys = reply
    return cursor, keys


def _odd_reply(raw: bytes, type_reply: Any, expiry: Any, pttl: bool) -> str | None:
    """The slow path of a key's replies: an error raises, a vanished key gives None, a module
    type (e.g. ReJSON-RL) its name."""
    _check_reply(type_reply, "TYPE", raw)
    _check_reply(expiry, "PTTL" if pttl else "PEXPIRETIME", raw)
    if type_reply == b"none":
        return None
    return _TYPE_NAMES.get(type_reply) or key_text(type_reply)


def _check_reply(reply: Any, command: str, key: bytes | None) -> None:
    if isinstance(reply, hiredis.ReplyError):
        where = f" on key {cli_quote(key_text(key))}" if key is not None else ""
        raise ReconcilerError(f"Redis refused {command}{where}: {reply}")
