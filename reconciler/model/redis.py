"""Redis object values: key patterns, server config and ACL users (desired and live alike).

A key pattern is the seed's `<namespace>:<entity>:<id>[:<attribute>]` with `{placeholders}`
for its variable parts (the language: keypattern.py). Keys are data, never declared one by
one: the live side of a pattern is a KeyspaceReport of what a scan found
(introspect/redis/keys.py), while config and ACL users are whole-truth values compared like
Postgres objects.

Invariants producers establish before comparing:
- config values are the strings `CONFIG GET` returns (the loader turns YAML scalars into them);
- ACL rules are the server's own spelling (the planner asks the server, see canonical probes),
  and passwords are never values: only the name of an environment variable (`password_env`)
  and, on the live side, the sha256 hex digests Redis keeps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.model.address import Address
from reconciler.model.keypattern import (
    first_literal,
    literal_prefix,
    parse,
    pattern_regex,
    specificity,
)

REDIS_TYPES = ("string", "hash", "list", "set", "zset", "stream")

# Seed conventions: TTL 3600 s for cache, 86400 s for sessions; queues and persistent data do
# not expire; rate limits and locks expire, with a window the spec must state.
CLASS_TTL: dict[str, int | None] = {
    "cache": 3600,
    "session": 86400,
    "queue": None,
    "persistent": None,
    "ratelimit": None,
    "lock": None,
}
CLASS_NEEDS_TTL = frozenset({"cache", "session", "ratelimit", "lock"})
CLASS_TYPES: dict[str, tuple[str, ...]] = {
    "cache": ("string", "hash"),
    "session": ("string", "hash"),
    "queue": ("list", "stream"),
    "ratelimit": ("zset", "string"),
}


@dataclass(frozen=True, slots=True)
class KeyPattern:
    pattern: str
    type: str  # one of REDIS_TYPES
    key_class: str | None = None  # one of CLASS_TTL, or None
    ttl: int | None = None  # seconds every key must expire within; None: no TTL required
    reason: str | None = None  # why ttl differs from the class default
    max_length: int | None = None  # elements (hash fields, list/set/zset members, string bytes)
    max_bytes: int | None = None  # MEMORY USAGE
    prune: bool = False  # keys of this pattern may be deleted (with --allow-destructive)
    namespace: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("redis", "keys", self.pattern)

    @property
    def regex(self) -> re.Pattern[str]:
        return pattern_regex(self.pattern)

    @property
    def prefix(self) -> str:
        """The literal text before the first placeholder: keys are matched by prefix first."""
        return literal_prefix(self.pattern)

    @property
    def specificity(self) -> int:
        """Higher for a pattern lying strictly within another: a plan tries it first."""
        return specificity(parse(self.pattern))

    @property
    def namespace_segment(self) -> str | None:
        """The first segment when written literally: keys are matched within it first."""
        return first_literal(self.pattern)


@dataclass(frozen=True, slots=True)
class AclUser:
    """One ACL user. `rules` are the server's canonical ACL rules other than passwords and
    on/off, e.g. ("~app:*", "&app:*", "-@all", "+@read"); order is significant for commands."""

    name: str
    enabled: bool = True
    rules: tuple[str, ...] = ()
    password_env: str | None = None  # desired: the environment variable holding the password
    password_hashes: tuple[str, ...] = ()  # live: sha256 hex digests (never a password)
    nopass: bool = False
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("redis", "acl", self.name)


@dataclass(frozen=True, slots=True)
class ConfigParam:
    name: str
    value: str
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("redis", "config", self.name)


@dataclass(frozen=True, slots=True)
class RedisSnapshot:
    """Desired: patterns + config + users. Live: config + users (keys live in KeyspaceReport).

    `config` holds only the parameters the desired state names (others are not ours).
    """

    patterns: dict[str, KeyPattern] = field(default_factory=dict)
    config: dict[str, ConfigParam] = field(default_factory=dict)
    acl: dict[str, AclUser] = field(default_factory=dict)
    manage_acl: bool = False  # True when the desired state declares `acl:` (whole truth then)


@dataclass(frozen=True, slots=True)
class KeyFix:
    """One key whose TTL breaks its pattern's policy, with the expiry it had when scanned."""

    key: str
    pexpiretime: int  # absolute expiry in unix ms (PEXPIRETIME); -1: no TTL
    type: str = "string"


@dataclass(slots=True)
class PatternStats:
    """What a scan found for one pattern. Counts are exact; lists are bounded (see limits)."""

    pattern: str
    count: int = 0
    types: dict[str, int] = field(default_factory=dict)
    type_mismatches: int = 0
    without_ttl: int = 0
    ttl_above_policy: int = 0
    oversized: int = 0
    examples: list[str] = field(default_factory=list)  # a few keys, for humans
    mismatch_examples: list[str] = field(default_factory=list)
    # every key needing EXPIRE: a KeyFixes (model/keyfixes.py), on disk past a few thousand
    fixes: Any = field(default_factory=list)
    prune: list[KeyFix] = field(default_factory=list)  # wrong-type keys of a prune pattern


@dataclass(slots=True)
class KeyspaceReport:
    """The live keyspace, aggregated per desired pattern; memory grows with patterns, never
    with the number of keys (keys to fix past a few thousand go to disk: keyfixes.py)."""

    scanned: int = 0
    types: dict[str, int] = field(default_factory=dict)  # over every key (cf. --bigkeys)
    patterns: dict[str, PatternStats] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)  # prefix (first segment) → count
    unmatched_examples: dict[str, list[str]] = field(default_factory=dict)
    moved: int = 0  # keys not read: their slot moved to another node during a cluster's scan
