"""What a Redis Cluster's nodes say about it: the slot map, and whether it has settled.

Owns: asking one node one command (`ask`), CLUSTER SLOTS reduced to ports (`slot_map`), and
the judgement of a cluster as healthy (`unsettled`, `map_problem`): every node ok, all agreeing
on a map that covers every slot, each primary with its replicas linked.

Must not: start, stop or change nodes (cluster.py does), or talk to anything but HOST.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from reconciler.dev.launch import HOST
from reconciler.dev.redis import probe_client
from reconciler.errors import ReconcilerError
from reconciler.model.words import counted

__all__ = ["SLOTS", "SlotMap", "SlotRange", "ask", "map_problem", "slot_map", "unsettled"]

SLOTS = 16384


@dataclass(frozen=True, slots=True, order=True)
class SlotRange:
    """One row of CLUSTER SLOTS, reduced to ports (every node is on HOST)."""

    start: int
    end: int
    primary: int
    replicas: tuple[int, ...]


SlotMap = tuple[SlotRange, ...]


def unsettled(
    ports: Sequence[int], *, replicas: int, expect: Callable[[SlotMap], str | None] | None
) -> tuple[int, str] | None:
    """The first node that does not yet show a healthy cluster, and what it lacks; else None.

    Healthy: every node reports cluster_state:ok and the same slot map, which covers all slots,
    lists every node, gives every primary `replicas` replicas, and each replica says its link to
    that primary is up.
    """
    maps: dict[int, SlotMap] = {}
    for port in ports:
        try:
            state = ask(port, "CLUSTER INFO").get("cluster_state")
            maps[port] = slot_map(port)
        except ReconcilerError as exc:
            return port, f"does not answer ({exc.detail or exc.summary})"
        if state != "ok":
            return port, f"reports cluster_state:{state}"
    first = maps[ports[0]]
    for port in ports[1:]:
        if maps[port] != first:
            return port, f"disagrees with {HOST}:{ports[0]} about who serves which slots"
    problem = map_problem(first, ports, replicas=replicas) or (expect(first) if expect else None)
    if problem:
        return ports[0], problem
    for row in first:
        for replica in row.replicas:
            try:
                link = ask(replica, "INFO", "replication")
            except ReconcilerError as exc:
                return replica, f"does not answer ({exc.detail or exc.summary})"
            if link.get("master_port") != row.primary or link.get("master_link_status") != "up":
                return replica, f"has no live replication link to {HOST}:{row.primary} yet"
    return None


def map_problem(slot_map: SlotMap, ports: Sequence[int], *, replicas: int) -> str | None:
    """What makes an (agreed) slot map unhealthy, as a phrase; None when nothing does."""
    covered = 0
    for row in slot_map:
        if row.start != covered:
            return f"sees slots {covered}-{row.start - 1} without a primary"
        covered = row.end + 1
    if covered != SLOTS:
        return f"sees slots {covered}-{SLOTS - 1} without a primary"
    shards = {row.primary: row.replicas for row in slot_map}
    for primary, attached in sorted(shards.items()):
        if len(attached) != replicas:
            return f"sees {counted(len(attached), 'replica')} of {HOST}:{primary}, not {replicas}"
    members = set(shards).union(*shards.values())
    if members != set(ports):
        return f"sees nodes {sorted(members)} in the cluster, not {sorted(ports)}"
    return None


def slot_map(port: int) -> SlotMap:
    # Row: start, end, [ip, port, id, {metadata}] of the primary, then one such list per replica.
    rows = ask(port, "CLUSTER SLOTS")
    return tuple(
        sorted(
            SlotRange(
                start=int(row[0]),
                end=int(row[1]),
                primary=int(row[2][1]),
                replicas=tuple(sorted(int(node[1]) for node in row[3:])),
            )
            for row in rows
        )
    )


def ask(port: int, *command: str) -> Any:
    """One command to one node, on a connection of its own; a ReconcilerError if it fails."""
    client = probe_client(port, timeout=2)
    try:
        return client.execute_command(*command)
    except (redis.RedisError, OSError) as exc:
        raise ReconcilerError(
            f"Redis Cluster node {HOST}:{port} did not answer {' '.join(command)}.",
            detail=str(exc),
        ) from exc
    finally:
        client.close()
