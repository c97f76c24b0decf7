"""Checks that each measured Redis command gave the right result for the generated keyspace.

A figure is only worth reporting when its command saw the whole keyspace and, for the plan,
when the plan is exactly right: an EXPIRE for every key generated without its TTL (and no
other key, none twice, with the pattern's TTL), a PERSIST back in the down file, and the
`legacy:*` keys reported as matching no pattern.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from bench.keyspace_gen import (
    CACHE_PATTERN,
    LEGACY_PREFIX,
    QUEUE_PATTERN,
    RATELIMIT_PATTERN,
    SESSION_PATTERN,
    KeyspaceShape,
)

_SAMPLED = re.compile(r"^Sampled (\d+) keys in the keyspace!", re.M)
_TYPE_LINE = re.compile(r"^(\d+) (string|list|set|hash|zset|stream)s with ", re.M)
_PLAN_SUMMARY = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to drop\.")
# Generated keys need no escaping, so the plan renders them as plain quoted words.
_EXPIRE = re.compile(r'^EXPIRE "([^"\\]+)" "(\d+)"$')
_PERSIST = re.compile(r'^PERSIST "([^"\\]+)"$')


def bigkeys_problem(stdout: str, shape: KeyspaceShape) -> str | None:
    """`--bigkeys` sampled every key and counted each type right."""
    m = _SAMPLED.search(stdout)
    if m is None:
        return f"no 'Sampled N keys' line in the output: {stdout.strip()[-200:]!r}"
    if int(m.group(1)) != shape.keys:
        return f"sampled {m.group(1)} keys, the keyspace has {shape.keys}"
    got = {t: int(c) for c, t in _TYPE_LINE.findall(stdout) if int(c)}
    want = {t: c for t, c in shape.by_type().items() if c}
    return None if got == want else f"type counts {got}, expected {want}"


def floor_problem(stdout: str, shape: KeyspaceShape) -> str | None:
    """SCAN returns every key present throughout at least once (more while a table rehashes)."""
    try:
        seen = int(stdout.strip())
    except ValueError:
        return f"expected a key count, got {stdout.strip()[:200]!r}"
    return None if seen >= shape.keys else f"SCAN returned {seen} keys, expected {shape.keys}"


def scan_problem(stdout: str, shape: KeyspaceShape) -> str | None:
    """scan_keyspace's report counts every key once, with the right types and violations."""
    try:
        got = json.loads(stdout)
    except json.JSONDecodeError:
        return f"expected the report as JSON, got {stdout.strip()[:200]!r}"
    want = {
        "scanned": shape.keys,
        "types": {t: c for t, c in shape.by_type().items() if c},
        "unmatched": {LEGACY_PREFIX: shape.legacy} if shape.legacy else {},
        "patterns": {
            SESSION_PATTERN: _stats(shape.sessions, shape.sessions_without_ttl),
            CACHE_PATTERN: _stats(shape.caches, shape.caches_without_ttl),
            QUEUE_PATTERN: _stats(shape.queues, 0),
            RATELIMIT_PATTERN: _stats(shape.ratelimits, 0),
        },
    }
    wrong = [f"{k}: {got.get(k)!r}, expected {v!r}" for k, v in want.items() if got.get(k) != v]
    return "; ".join(wrong) if wrong else None


def _stats(count: int, without_ttl: int) -> dict[str, int]:
    return {"count": count, "without_ttl": without_ttl, "ttl_above_policy": 0, "fixes": without_ttl}


def plan_problem(
    stdout: str, out_dir: Path, shape: KeyspaceShape, expected: dict[str, dict[str, int]]
) -> str | None:
    """The plan EXPIREs exactly the keys generated without TTL and reports the legacy keys."""
    patterns_with_fixes = sum(1 for keys in expected.values() if keys)
    m = _PLAN_SUMMARY.search(stdout)
    want_summary = (0, patterns_with_fixes, 0)
    if m is None or tuple(map(int, m.groups())) != want_summary:
        got = m.group(0) if m else stdout.strip()[-200:]
        want = f"Plan: 0 to add, {patterns_with_fixes} to change, 0 to drop."
        return f"expected {want!r}, got {got!r}"
    files = {p.name for p in out_dir.iterdir()} if out_dir.is_dir() else set()
    plans = sorted(f for f in files if f.endswith(".plan.json"))
    ups = sorted(f for f in files if f.endswith("_up.redis"))
    downs = sorted(f for f in files if f.endswith("_down.redis"))
    if (len(plans), len(ups), len(downs), len(files)) != (1, 1, 1, 3):
        return f"expected one .plan.json, _up.redis and _down.redis, found {sorted(files)}"
    problem = _up_problem((out_dir / ups[0]).read_text("utf-8"), expected)
    if problem:
        return problem
    down = (out_dir / downs[0]).read_text("utf-8").splitlines()
    persisted = {m.group(1) for line in down if (m := _PERSIST.match(line))}
    every = {k for keys in expected.values() for k in keys}
    if persisted != every or sum(1 for line in down if line.startswith("PERSIST ")) != len(every):
        return f"the down file PERSISTs {len(persisted)} keys, expected the {len(every)} fixed"
    plan = json.loads((out_dir / plans[0]).read_text("utf-8"))
    problem = _findings_problem(plan.get("findings", []), shape) or _changes_problem(plan, expected)
    if problem is None and shape.legacy and f"under '{LEGACY_PREFIX}' match no" not in stdout:
        problem = f"the output does not report the {LEGACY_PREFIX}:* keys"
    return problem


def _up_problem(text: str, expected: dict[str, dict[str, int]]) -> str | None:
    want = {k: ttl for keys in expected.values() for k, ttl in keys.items()}
    got: dict[str, int] = {}
    lines = [line for line in text.splitlines() if line.startswith("EXPIRE ")]
    for line in lines:
        m = _EXPIRE.match(line)
        if m is None:
            return f"unexpected EXPIRE line in the up file: {line[:120]!r}"
        if m.group(1) in got:
            return f"key {m.group(1)!r} is EXPIREd twice"
        got[m.group(1)] = int(m.group(2))
    if len(lines) != len(want):
        return f"the up file has {len(lines)} EXPIRE commands, {len(want)} keys have no TTL"
    if got.keys() != want.keys():
        extra, missing = sorted(got.keys() - want.keys()), sorted(want.keys() - got.keys())
        return (
            f"EXPIREd keys differ: {len(extra)} unexpected (e.g. {extra[:2]}), "
            f"{len(missing)} missing (e.g. {missing[:2]})"
        )
    wrong = [k for k, ttl in got.items() if want[k] != ttl]
    if wrong:
        return f"{len(wrong)} keys get a TTL other than their policy's, e.g. {wrong[0]}"
    return None


def _findings_problem(findings: list[dict[str, Any]], shape: KeyspaceShape) -> str | None:
    legacy = [f for f in findings if f.get("address") == f"redis.keys.{LEGACY_PREFIX}:*"]
    if len(legacy) != 1 or legacy[0].get("kind") != "unmatched":
        return f"no 'unmatched' finding for {LEGACY_PREFIX}:* keys in {findings!r:.300}"
    if legacy[0].get("count") != shape.legacy:
        return f"{legacy[0].get('count')} legacy keys reported, {shape.legacy} generated"
    others = [f for f in findings if f not in legacy]
    return f"unexpected findings: {others!r:.300}" if others else None


def _changes_problem(plan: dict[str, Any], expected: dict[str, dict[str, int]]) -> str | None:
    counts = {
        c["address"].removeprefix("redis.keys."): sum(
            1 for s in c.get("up", []) if s.startswith("EXPIRE ")
        )
        for c in plan.get("changes", [])
    }
    want = {p: len(keys) for p, keys in expected.items() if keys}
    return None if counts == want else f"changes per pattern {counts}, expected {want}"


def violations_problem(
    stdout: str, out_dir: Path, expected: dict[str, dict[str, int]]
) -> str | None:
    """The violations figure's plan: one change, an EXPIRE for exactly every key generated
    without its TTL (none twice, each with its pattern's TTL), a PERSIST back for each in the
    down file, as many EXPIREs in the .plan.json, and no finding (every key matches)."""
    m = _PLAN_SUMMARY.search(stdout)
    with_fixes = sum(1 for keys in expected.values() if keys)
    if m is None or tuple(map(int, m.groups())) != (0, with_fixes, 0):
        got = m.group(0) if m else stdout.strip()[-200:]
        return f"expected 'Plan: 0 to add, {with_fixes} to change, 0 to drop.', got {got!r}"
    files = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
    ups = [f for f in files if f.endswith("_up.redis")]
    downs = [f for f in files if f.endswith("_down.redis")]
    plans = [f for f in files if f.endswith(".plan.json")]
    if (len(plans), len(ups), len(downs), len(files)) != (1, 1, 1, 3):
        return f"expected one .plan.json, _up.redis and _down.redis, found {files}"
    problem = _up_problem((out_dir / ups[0]).read_text("utf-8"), expected)
    if problem:
        return problem
    every = {k for keys in expected.values() for k in keys}
    down = [line for line in (out_dir / downs[0]).read_text("utf-8").splitlines()]
    persisted = [m.group(1) for line in down if (m := _PERSIST.match(line))]
    if len(persisted) != len(every) or set(persisted) != every:
        return f"the down file PERSISTs {len(persisted)} keys, expected the {len(every)} fixed"
    plan = json.loads((out_dir / plans[0]).read_text("utf-8"))
    for meta in (plan.get("files") or {}).values():
        digest = hashlib.sha256((out_dir / meta["name"]).read_bytes()).hexdigest()
        if digest != meta.get("sha256"):
            return f"{meta['name']}: its sha256 is not the one the .plan.json records"
    if len(plan.get("files") or {}) != 2:
        return f"the .plan.json records {sorted(plan.get('files') or {})}, expected both files"
    if plan.get("findings"):
        return f"unexpected findings: {plan['findings']!r:.300}"
    return _changes_problem(plan, expected)
