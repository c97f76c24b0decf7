"""What moved in the live state since a plan was made: one short digest per object.

Owns: the plan's `live_objects` map (address → digest of the object's value, as the state's
inventory records it) and the sentence naming what differs between two such maps.
Must not: read a server (the caller passes the inventory), decide whether a plan is stale
(the fingerprints do; this only explains).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reconciler.model.address import Address

SHOWN = 5  # objects named in a sentence; the rest are counted


def digests(inventory: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Address → the first 16 hex digits of the sha256 of its value (compact, stable)."""
    out = {}
    for address, value in sorted(inventory.items()):
        text = json.dumps(value, sort_keys=True, default=repr, ensure_ascii=False)
        out[address] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return out


_PARTS_OF_TABLE = ("column", "constraint")  # addresses pg.<kind>.<schema>.<table>.<name>


def differences(before: dict[str, str], now: dict[str, str]) -> list[str]:
    """`address: added|dropped|changed` for each object that differs, in address order; the
    columns and constraints of a table added or dropped as a whole go unsaid (the table is)."""
    moves: dict[str, str] = {}
    for address in sorted(before.keys() | now.keys()):
        if address not in before:
            moves[address] = "added"
        elif address not in now:
            moves[address] = "dropped"
        elif before[address] != now[address]:
            moves[address] = "changed"
    whole = {
        (parts[2:4], how)
        for address, how in moves.items()
        if (parts := Address.parse(address).parts)[:2] == ("pg", "table") and how != "changed"
    }
    out = []
    for address, how in moves.items():
        parts = Address.parse(address).parts
        if parts[0] == "pg" and parts[1] in _PARTS_OF_TABLE and (parts[2:4], how) in whole:
            continue
        out.append(f"{address}: {how}")
    return out


def summary(lines: list[str]) -> str:
    """The first few differences, then "and N more"."""
    shown = "; ".join(lines[:SHOWN])
    rest = len(lines) - SHOWN
    return f"{shown}; and {rest} more" if rest > 0 else shown


def explain(before: dict[str, str], inventory: dict[str, dict[str, Any]], *, redis: bool) -> str:
    """` (what: …)` naming the objects of one engine (Redis or PostgreSQL) that differ from
    those a plan was made against (`before`, its live_objects); "" when the plan records none
    (made before plans recorded them) or no object differs by address (the fingerprint covers
    more, e.g. who creates objects)."""
    if not before:
        return ""

    def engine(m: dict[str, str]) -> dict[str, str]:
        return {a: d for a, d in m.items() if a.startswith("redis.") == redis}

    lines = differences(engine(before), engine(digests(inventory)))
    return f" ({summary(lines)})" if lines else ""
