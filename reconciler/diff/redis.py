"""Redis: config and ACL users compared as values; keys judged against their patterns.

Keys are never "fixed" by deleting or rewriting data: TTL violations of keys of the pattern's
type become ExpireKeys changes, everything else a scan finds (wrong types, oversized values, keys
no pattern declares) becomes a finding in the plan. Every per-key change is made in
`_key_changes`, behind one rule: a key whose type is not its pattern's is never a step.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from typing import Any

from reconciler.diff.kinds import Kind, walk
from reconciler.errors import InputError
from reconciler.model.keyfixes import fixes_of
from reconciler.model.redis import (
    AclUser,
    ConfigParam,
    KeyPattern,
    KeyspaceReport,
    PatternStats,
    RedisSnapshot,
)
from reconciler.model.words import counted
from reconciler.ops.base import Change
from reconciler.ops.redis.changes import ConfigSet, DeleteAclUser, ExpireKeys, PruneKeys, SetAclUser
from reconciler.ops.redis.proto import quote

BUILTIN_USERS = frozenset({"default"})


def compare_redis(
    desired: RedisSnapshot,
    live: RedisSnapshot,
    report: KeyspaceReport | None,
    dumps: dict[str, bytes] | None = None,
) -> tuple[list[Change], list[dict[str, Any]]]:
    """`dumps`: DUMP payloads of the keys a `prune: true` pattern would delete (by key)."""
    changes: list[Change] = []
    for name, want in sorted(desired.config.items()):
        have = live.config.get(name, ConfigParam(name, ""))
        if not config_equal(name, want.value, have.value):
            changes.append(ConfigSet(have, want))
    if desired.manage_acl:
        changes += _compare_acl(desired.acl, live.acl)
    findings: list[dict[str, Any]] = []
    if report is not None:
        for pattern, stats in sorted(report.patterns.items()):
            spec = desired.patterns[pattern]
            changes += _key_changes(spec, stats, dumps or {})
            findings += _pattern_findings(spec.address, stats, spec.type, spec.prune)
        for prefix, count in sorted(report.unmatched.items()):
            findings.append(
                {
                    "address": f"redis.keys.{prefix}:*",
                    "kind": "unmatched",
                    "count": count,
                    "message": f"{counted(count, 'key')} under {prefix!r} "
                    f"{'matches' if count == 1 else 'match'} no declared pattern",
                    "examples": [quote(k) for k in report.unmatched_examples.get(prefix, [])[:3]],
                }
            )
    return changes, findings


def _key_changes(spec: KeyPattern, stats: PatternStats, dumps: dict[str, bytes]) -> list[Change]:
    """Every change of one pattern's keys, in the up file and (by reverse) the down file.

    The rule before any step: a key whose type is not the pattern's holds data the pattern does
    not describe (another feature's key under a shared prefix, a bug's leftovers). Expiring or
    persisting it could lose that data, so it never gets a TTL step. The one step that may
    touch it is the deletion a pattern asks for by name (`prune: true`), which is destructive
    (gated by --allow-destructive) and keeps each value for the down file."""
    out: list[Change] = []
    if spec.ttl is not None and (fixes := fixes_of(stats.fixes, spec.type)):
        out.append(ExpireKeys(spec.pattern, spec.ttl, fixes))  # by key, read from the scan
    doomed = sorted((k for k in stats.prune if k.type != spec.type), key=lambda k: k.key)
    pruned = [(k, dumps[k.key]) for k in doomed if k.key in dumps]
    if spec.prune and pruned:
        out.append(PruneKeys(spec.pattern, tuple(pruned)))
    return out


def _pattern_findings(
    address: Any, stats: Any, want_type: str, prune: bool = False
) -> list[dict[str, Any]]:
    out = []
    if stats.type_mismatches:
        got = ", ".join(f"{t} {n}" for t, n in sorted(stats.types.items()) if t != want_type)
        them = "it" if stats.type_mismatches == 1 else "them"
        # The keys the pattern's `prune: true` deletes (the change above says so) are these.
        fate = f"prune: true deletes {them} (above)" if prune else f"no TTL step touches {them}"
        out.append(
            {
                "address": str(address),
                "kind": "type_mismatch",
                "count": stats.type_mismatches,
                "message": f"{counted(stats.type_mismatches, 'key')} "
                f"{'is' if stats.type_mismatches == 1 else 'are'} not {want_type} ({got}); " + fate,
                "examples": [quote(k) for k in stats.mismatch_examples[:3]],
            }
        )
    if stats.oversized:
        out.append(
            {
                "address": str(address),
                "kind": "oversized",
                "count": stats.oversized,
                "message": f"{counted(stats.oversized, 'key')} "
                f"{'exceeds' if stats.oversized == 1 else 'exceed'} the declared size bounds",
                "examples": [],
            }
        )
    return out


_SIZE = re.compile(r"(\d+)\s*(b|k|kb|m|mb|g|gb)?", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3,
          "gb": 1024**3}  # fmt: skip
# notify-keyspace-events: `A` is an alias for these classes (Redis 7.0).
_NOTIFY_ALL = set("g$lshzxetd")


def _size(value: str) -> int | None:
    m = _SIZE.fullmatch(value.strip())
    return int(m.group(1)) * _UNITS[(m.group(2) or "").lower()] if m else None


def config_equal(name: str, want: str, have: str) -> bool:
    """Whether a desired value means what the server reports: CONFIG GET answers in its own
    spelling (`100mb` as bytes, `Ex` as `xE`, enum words in lowercase)."""
    if want == have or want.lower() == have.lower():
        return True
    if name == "notify-keyspace-events":

        def flags(v: str) -> set[str]:
            chars = set(v)
            return (chars - {"A"}) | _NOTIFY_ALL if "A" in chars else chars

        return flags(want) == flags(have)
    a, b = _size(want), _size(have)
    return a is not None and a == b


def password_digest(env_name: str) -> str:
    value = os.environ.get(env_name)
    if value is None:
        raise InputError(
            f"The environment variable {env_name} is not set; it holds an ACL user's password.",
            detail="Set it in the environment of plan and apply (its value is never printed).",
        )
    return hashlib.sha256(value.encode()).hexdigest()


def _comparable(user: AclUser) -> tuple:
    hashes = (password_digest(user.password_env),) if user.password_env else user.password_hashes
    return (user.enabled, user.rules, tuple(sorted(hashes)), user.nopass)


def _compare_acl(want: dict[str, AclUser], have: dict[str, AclUser]) -> list[Change]:
    return walk(
        dict(sorted(want.items())),
        dict(sorted(have.items())),
        Kind(
            create=lambda user: [SetAclUser(None, user)],
            same=lambda old, user: _comparable(old) == _comparable(user),
            # the reverse must restore the old password: keep the server's hashes for it
            alter=lambda old, user: [SetAclUser(old, dataclasses.replace(user))],
            drop=lambda user: [DeleteAclUser(user)],
            left_alone=lambda name, _: name in BUILTIN_USERS,
        ),
    )
