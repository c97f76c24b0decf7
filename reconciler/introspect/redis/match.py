"""Desired key patterns prepared for matching keys, each with its running aggregate.

Owns: `Matcher`, which groups the patterns so that a key costs one dict lookup and one C-level
regex match, and decides which one pattern a key counts for; `Entry`, a pattern's limits and its
PatternStats as the scan fills them.

Must not: read the server (keys.py scans and fills the stats), or let a key count for two
patterns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.model.keyfixes import KeyFixes
from reconciler.model.redis import KeyPattern, KeyspaceReport, PatternStats

__all__ = ["Entry", "Matcher"]


@dataclass(slots=True)
class Entry:
    """One desired pattern prepared for matching and its running aggregate."""

    type: str
    ttl_ms: int | None
    max_length: int | None
    max_bytes: int | None
    prune: bool
    stats: PatternStats
    sized: bool  # has a size limit: its keys get length / MEMORY USAGE checks


class Matcher:
    """Patterns grouped by their literal first segment (`app:session:{id}` under `app`), each group
    one alternation regex, so that a key costs a partition, a dict lookup and one C-level match;
    patterns without a literal first segment (`{tenant}:cache:{id}`) form a last group, tried
    only when the key's own group has no pattern for it: a namespace's patterns take precedence
    (the loader lets the two overlap). Within a group a pattern lying strictly within another
    (`sess:admin` in `sess:{token}`) is tried first (the loader lets those overlap too, and no
    others). So a key counts for exactly one pattern. (The lookup itself is inlined in
    keys.py's _Scan._aggregate, the hot loop.)"""

    def __init__(self, patterns: Sequence[KeyPattern], report: KeyspaceReport) -> None:
        grouped: dict[str | None, list[tuple[tuple[int, int, int], str, Entry]]] = {}
        for order, pat in enumerate(patterns):
            if pat.pattern in report.patterns:
                continue  # a duplicate declaration: validation reports it, the first counts
            stats = report.patterns[pat.pattern] = PatternStats(
                pattern=pat.pattern, fixes=KeyFixes()
            )
            entry = Entry(
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
        self.groups: dict[str | None, tuple[re.Pattern[str], list[Entry]]] = {}
        for first, members in grouped.items():
            members.sort(key=lambda m: m[0])
            # pattern_regex() has no capturing groups, so `lastindex` names the alternative.
            regex = re.compile("|".join(f"({m[1]})" for m in members), re.DOTALL)
            self.groups[first] = (regex, [m[2] for m in members])
        self.fallback = self.groups.pop(None, None)
