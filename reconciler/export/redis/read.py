"""export --redis: the live keyspace read into a PatternTable, through the one SCAN loop.

Owns: `scan_keyspace` (export's), which streams every key of the server, or of each primary of a
cluster one after the other, with its TYPE and PTTL (introspect/redis/scan.py) into the table
that infers patterns (infer.py), and stops after `sample_limit` keys when asked.

Must not: hold keys (the table holds patterns and bounded counters), or handle odd replies its own
way: a key whose slot moved to another node during the scan is counted in `table.moved` and a
refused command is one sentence, both as introspect/redis/scan.py decides for every reader.
"""

from __future__ import annotations

import contextlib

import redis

from reconciler.export.redis.infer import DEFAULT_MAX_LITERALS, PatternTable
from reconciler.introspect.redis.scan import BATCH, stream_keys

__all__ = ["scan_keyspace"]

_NEEDS = "export needs SCAN, TYPE and PTTL on every key"


def scan_keyspace(
    client: redis.Redis,
    *,
    batch: int = BATCH,
    sample_limit: int | None = None,
    max_literals: int = DEFAULT_MAX_LITERALS,
) -> tuple[PatternTable, int]:
    """One SCAN over the current database (of each primary of a cluster), aggregated;
    (table, keys scanned)."""
    table = PatternTable(max_literals)
    scanned = 0
    if sample_limit is not None and sample_limit <= 0:
        return table, scanned
    batches = stream_keys(client, (b"TYPE", b"PTTL"), batch=batch, needs=_NEEDS)
    with contextlib.closing(batches):
        for stream, got in batches:
            keys = got.keys
            if sample_limit is not None:
                keys = keys[: sample_limit - scanned]
            replies = got.replies
            for i, key in enumerate(keys):
                type_reply, pttl = replies[2 * i], replies[2 * i + 1]
                odd = pttl.__class__ is not int or isinstance(type_reply, Exception)
                if odd and not stream.usable(key, (type_reply, pttl)):
                    table.moved += 1  # its slot moved to another node while we scanned
                    continue
                key_type = type_reply.decode("utf-8", errors="replace")
                if key_type == "none" or pttl == -2:
                    continue  # expired or deleted since SCAN returned it
                table.add(key, key_type, pttl)
            scanned += len(keys)
            if sample_limit is not None and scanned >= sample_limit:
                break
    return table, scanned
