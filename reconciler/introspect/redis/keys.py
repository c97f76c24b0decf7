"""The keyspace, read by one streaming scan and aggregated per desired key pattern.

Owns: how keys are spelled in Python, `scan_keyspace` (the aggregation of what the one SCAN loop,
scan.py, streams: per key its type and expiry, matched to a pattern by match.py), and adding up
the reports of a cluster's primaries (`merge_reports`).

Keys are bytes on the server. Here they are `str` decoded as UTF-8 with `surrogateescape`
(`key_text`), and `key_bytes` gives the exact bytes back: valid UTF-8 reads as itself, so
patterns with non-ASCII text match, and every other byte becomes one lone surrogate U+DC80..U+DCFF
(never `:`), so `[^:]+` placeholders behave as on bytes. Writers of plan files must keep those
surrogates: `json.dumps` with the default `ensure_ascii=True` does ("\\udcff"), a UTF-8 text file
does not (use `cli_quote` for redis-cli syntax, or errors="surrogateescape").

The scan streams (scan.py): `SCAN cursor [MATCH m] COUNT batch`, then per batch one pipeline of
TYPE + PEXPIRETIME for every key, TIME, and already the next SCAN, so each batch is one round
trip; the replies are read while Python aggregates the previous batch. Patterns with size limits
add STRLEN/HLEN/… and `MEMORY USAGE key SAMPLES 0` for their keys, sent with the next batch. A
key whose slot moved to another node during a cluster's scan is not counted for any pattern but
in `KeyspaceReport.moved`, and a warning says how many; a command the server refuses is one
ReconcilerError sentence.

Must not: write to the server, or hold a set of keys: memory holds the aggregates, at most three
batches in flight, and the bounded lists of PatternStats (so a key SCAN returns twice, which
Redis allows while its table shrinks, is counted twice). What a count means is for
reconciler.diff.redis to decide.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from reconciler.introspect.redis.cluster import is_cluster, scan_primaries
from reconciler.introspect.redis.match import Entry, Matcher
from reconciler.introspect.redis.scan import BATCH, KeyStream, uses_pttl
from reconciler.introspect.redis.wire import failed, pack
from reconciler.model.redis import KeyFix, KeyPattern, KeyspaceReport
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
    "merge_reports",
    "prune_dumps",
    "scan_keyspace",
]

_log = logging.getLogger(__name__)
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


# One spelling of keys everywhere: the plan files' (ops/redis/proto.py).
key_text = from_bytes
key_bytes = to_bytes
cli_quote = quote


# ------------------------------------------------------------------------------ scanning


def scan_keyspace(
    client: redis.Redis,
    patterns: Sequence[KeyPattern],
    *,
    batch: int = BATCH,
    match: str | None = None,
    progress: Callable[[int], None] | None = None,
    now_ms: int | None = None,
) -> KeyspaceReport:
    """Scan every key (or those matching the glob `match`) once and aggregate per pattern.

    `now_ms` fixes the clock TTLs are judged by; by default it is the server's TIME, read with
    every batch. Keys that vanish between SCAN and TYPE are skipped (not counted as scanned);
    keys whose slot moved to another node while a cluster was scanned are counted in `moved`
    (scan.py), and a warning says so. On a Redis Cluster every primary is scanned so, at once
    (cluster.py), and the reports are added up."""
    if batch < 1:
        raise ValueError("batch must be at least 1")

    def one(node: redis.Redis, counted: Callable[[int], None] | None) -> KeyspaceReport:
        return _scan_node(node, patterns, batch, match, counted, now_ms, readonly=cluster)

    cluster = is_cluster(client)
    if not cluster:
        return one(client, progress)
    report = merge_reports(scan_primaries(client, one, progress), patterns)
    if report.moved:
        _log.warning(
            "%d keys were not read: their slot moved to another node of the Redis Cluster during "
            "the scan (a resharding), so no pattern counts them; plan again once it is done.",
            report.moved,
        )
    return report


def _scan_node(
    client: redis.Redis,
    patterns: Sequence[KeyPattern],
    batch: int,
    match: str | None,
    progress: Callable[[int], None] | None,
    now_ms: int | None,
    *,
    readonly: bool,
) -> KeyspaceReport:
    """One server's keys aggregated; `readonly`: a cluster node's scan survives a failover."""
    try:
        pttl = uses_pttl(client)
    except (redis.RedisError, OSError) as exc:
        raise failed("scanning keys", exc) from None
    stream = KeyStream(
        client,
        (b"TYPE", b"PTTL" if pttl else b"PEXPIRETIME"),
        batch=batch,
        match=match,
        clock=True,
        readonly=readonly,
        needs=f"a plan needs SCAN, TYPE and {'PTTL' if pttl else 'PEXPIRETIME'} on every key",
    )
    scan = _Scan(patterns, stream, now_ms=now_ms, progress=progress, pttl=pttl)
    with contextlib.closing(stream.batches()) as batches:
        for got in batches:
            scan.aggregate(got.keys, got.replies, got.now_ms)  # type: ignore[arg-type]
    scan.report.moved += stream.moved
    return scan.report


@dataclass(slots=True)
class _SizeJob:
    entry: Entry
    key: bytes
    type: str
    length: bool  # a length command (by the key's type) was sent
    memory: bool  # a MEMORY USAGE was sent


class _Scan:
    """The aggregate of one server's keys, batch by batch; keys of patterns with size limits
    get STRLEN/HLEN/… and `MEMORY USAGE key SAMPLES 0`, sent with the next batch."""

    def __init__(
        self,
        patterns: Sequence[KeyPattern],
        stream: KeyStream,
        *,
        now_ms: int | None,
        progress: Callable[[int], None] | None,
        pttl: bool,
    ) -> None:
        self.report = KeyspaceReport()
        self.matcher = Matcher(patterns, self.report)
        self.stream = stream
        self.now_ms = now_ms
        self.progress = progress
        self.pttl = pttl

    def aggregate(self, keys: list[bytes], replies: list[Any], server_now: int) -> None:
        sizing = self._aggregate(keys, replies, server_now)
        if sizing:
            count = sum(job.length + job.memory for job in sizing)
            resolve = functools.partial(self._resolve_sizes, sizing)
            self.stream.later(self._size_commands(sizing), count, resolve)

    def _aggregate(self, keys: list[bytes], replies: list[Any], server_now: int) -> list[_SizeJob]:
        """Count one batch: per key its type and expiry, matched to a pattern.

        The hot loop of the scan (once per key): locals only, the matcher inlined."""
        report = self.report
        usable = self.stream.usable
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
                if not usable(raw, (type_reply, expiry)) or type_reply == b"none":
                    continue  # its slot moved (counted apart), or gone since SCAN returned it
                kind = type_names.get(type_reply) or key_text(type_reply)  # ReJSON-RL, …
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


# ---------------------------------------------------------------------------- a cluster


def merge_reports(
    reports: Sequence[KeyspaceReport], patterns: Sequence[KeyPattern]
) -> KeyspaceReport:
    """The per-node aggregates added up: counts summed, bounded lists kept bounded."""
    out = KeyspaceReport()
    for report in reports:
        out.scanned += report.scanned
        out.moved += report.moved
        _add_counts(out.types, report.types)
        for name, stats in report.patterns.items():
            into = out.patterns.get(name)
            if into is None:
                out.patterns[name] = stats
                continue
            into.count += stats.count
            into.type_mismatches += stats.type_mismatches
            into.without_ttl += stats.without_ttl
            into.ttl_above_policy += stats.ttl_above_policy
            into.oversized += stats.oversized
            _add_counts(into.types, stats.types)
            into.examples = (into.examples + stats.examples)[:MAX_EXAMPLES]
            into.mismatch_examples = (into.mismatch_examples + stats.mismatch_examples)[
                :MAX_MISMATCH_EXAMPLES
            ]
            into.fixes += stats.fixes
            into.prune += stats.prune
        for prefix, count in report.unmatched.items():
            if prefix not in out.unmatched and len(out.unmatched) >= MAX_UNMATCHED_PREFIXES:
                prefix = UNMATCHED_OVERFLOW
            out.unmatched[prefix] = out.unmatched.get(prefix, 0) + count
            examples = out.unmatched_examples.setdefault(prefix, [])
            more = report.unmatched_examples.get(prefix, [])
            examples += more[: MAX_UNMATCHED_EXAMPLES - len(examples)]
    # The order of declaration, as a single server's scan reports them.
    order = {p.pattern: i for i, p in enumerate(patterns)}
    out.patterns = dict(sorted(out.patterns.items(), key=lambda kv: order.get(kv[0], len(order))))
    return out


def _add_counts(into: dict[str, int], more: dict[str, int]) -> None:
    for key, n in more.items():
        into[key] = into.get(key, 0) + n


def prune_dumps(client: Any, keys: KeyspaceReport | None) -> dict[str, bytes]:
    """DUMP of every key a `prune: true` pattern would delete (by key), so that the down file
    can restore it; a key gone since the scan has none (nothing to prune)."""
    wanted = [k.key for s in (keys.patterns.values() if keys else ()) for k in s.prune]
    out: dict[str, bytes] = {}
    for start in range(0, len(wanted), 500):  # whole values come back: fewer per round trip
        chunk = wanted[start : start + 500]
        pipe = client.pipeline(transaction=False)
        for key in chunk:
            pipe.dump(to_bytes(key))
        for key, payload in zip(chunk, pipe.execute(), strict=True):
            if payload is not None:
                out[key] = payload
    return out
