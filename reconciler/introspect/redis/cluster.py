"""Redis Cluster: one keyspace spread over several primaries, read node by node.

Owns: recognising a cluster behind a URL (`cluster_enabled:1`), the per-node clients, running
one scan on every primary in parallel with retries of a lost shard (`scan_primaries`), and
reading server-wide settings (config, ACL) from every node, which must agree (`on_every_node`).

Why node by node: SCAN walks one server's table, so a cluster is scanned by running the same
streaming scan (scan.py) on each primary, at the same time; the caller adds up what each node
gave (keys.py merges the per-pattern aggregates). Keys are never fetched through one node.

Surviving a failover during a scan: each node's scan connection is put in READONLY mode, so
when `CLUSTER FAILOVER` demotes the primary being scanned, the demoted node (now a replica with
the same data, kept in sync) goes on answering TYPE and PEXPIRETIME instead of redirecting. When
a node is lost outright (connection refused, CLUSTERDOWN, LOADING), its shard — the slots it
served when the scan began — is scanned again from the start on whichever node serves those
slots now, up to SHARD_ATTEMPTS times; the partial result of the lost attempt is discarded, so
no key is counted twice. A key whose slot moved to another primary (a resharding: MOVED, ASK)
loses no node: scan.py counts it apart, and the scan goes on.

Must not: know what a scan reads or how its results add up (the caller's `scan_one` does), write
to any node (config and ACL are read, never set here), or report a cluster whose nodes disagree
on a setting as if they agreed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import redis
from redis.cluster import ClusterNode, RedisCluster

from reconciler.errors import ConnectionFailed, ReconcilerError
from reconciler.introspect.redis.wire import failed

__all__ = [
    "SHARD_ATTEMPTS",
    "is_cluster",
    "on_every_node",
    "primary_clients",
    "scan_primaries",
]

SHARD_ATTEMPTS = 5  # scans of one shard before the whole scan gives up
_TOPOLOGY_WAIT_S = 15.0  # how long a lost shard may take to get a new primary
_T = TypeVar("_T")


def is_cluster(client: Any) -> bool:
    return isinstance(client, RedisCluster)


def primary_clients(client: Any) -> list[redis.Redis]:
    """The servers holding the keyspace: the client itself, or one client per primary of its
    cluster (for reads that walk every key: export, backup)."""
    if not is_cluster(client):
        return [client]
    return [client.get_redis_connection(node) for node in client.get_primaries()]


def cluster_enabled(client: redis.Redis) -> bool:
    """Whether the server answering is a node of a Redis Cluster."""
    try:
        info = client.info("cluster")
    except redis.ResponseError:  # INFO not allowed to this user: treat as a single server
        return False
    return str(info.get("cluster_enabled", "0")) == "1"


# ---------------------------------------------------------------------------- the keyspace


def scan_primaries(
    cluster: RedisCluster,
    scan_one: Callable[[redis.Redis, Callable[[int], None] | None], _T],
    progress: Callable[[int], None] | None,
) -> list[_T]:
    """`scan_one(node client, its progress)` on every primary at once (one thread each), one
    result per shard. A node lost mid-scan (ConnectionFailed, CLUSTERDOWN, TRYAGAIN, LOADING)
    has its shard scanned again from the start, up to SHARD_ATTEMPTS times; `progress` gets
    the running total of keys scanned over every shard."""
    shards = _shards(cluster)
    seen: dict[int, int] = {}  # shard → keys scanned so far, for one running total
    lock = threading.Lock()

    def counted(shard: int) -> Callable[[int], None] | None:
        if progress is None:
            return None

        def update(n: int) -> None:
            with lock:
                seen[shard] = n
                progress(sum(seen.values()))

        return update

    def one(shard: int) -> _T:
        last: BaseException | None = None
        for attempt in range(SHARD_ATTEMPTS):
            node = _serving(cluster, shard, fresh=attempt > 0)
            try:
                return scan_one(cluster.get_redis_connection(node), counted(shard))
            except ReconcilerError as exc:
                if not _lost(exc):
                    raise
                last = exc
                with lock:
                    seen[shard] = 0
        raise ReconcilerError(
            f"Scanning the cluster failed: the node serving slot {shard} was lost "
            f"{SHARD_ATTEMPTS} times ({last}).",
            detail="Run the command again once the cluster is steady (CLUSTER INFO: ok).",
        )

    with ThreadPoolExecutor(max_workers=len(shards), thread_name_prefix="scan") as pool:
        return list(pool.map(one, shards))


def _shards(cluster: RedisCluster) -> list[int]:
    """One slot per primary that serves any (its lowest): the shard's identity for retries."""
    first: dict[str, int] = {}
    for slot, nodes in sorted(cluster.nodes_manager.slots_cache.items()):
        if nodes:
            first.setdefault(nodes[0].name, slot)
    if not first:
        raise ReconcilerError("The Redis Cluster serves no slots (CLUSTER SLOTS is empty).")
    return sorted(first.values())


def _serving(cluster: RedisCluster, slot: int, *, fresh: bool) -> ClusterNode:
    """The primary serving `slot`; after a lost node, read again from the cluster until a node
    serves it (a failover takes a few node timeouts)."""
    if not fresh:
        return cluster.nodes_manager.slots_cache[slot][0]
    deadline = time.monotonic() + _TOPOLOGY_WAIT_S
    while True:
        try:
            cluster.nodes_manager.initialize()
            nodes = cluster.nodes_manager.slots_cache.get(slot)
            if nodes:
                return nodes[0]
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise ReconcilerError(f"No node of the Redis Cluster serves slot {slot}.")
        time.sleep(0.5)


def _lost(exc: ReconcilerError) -> bool:
    """A node gone or not serving (as opposed to a refused command). A key whose slot moved
    (MOVED / ASK) is no lost node: the scan counts it apart (scan.py)."""
    if isinstance(exc, ConnectionFailed):
        return True
    return any(f": {word}" in str(exc) for word in ("CLUSTERDOWN", "TRYAGAIN", "LOADING"))


# ------------------------------------------------------------------- config and ACL users


def on_every_node(cluster: RedisCluster, read: Callable[[redis.Redis], _T], what: str) -> _T:
    """`read` on every node (primaries and replicas); they must give the same answer, since a
    plan can only say one thing about a setting (and apply sets it on every node)."""
    answers: list[tuple[str, _T]] = []
    for node in cluster.get_nodes():
        try:
            answers.append((node.name, read(cluster.get_redis_connection(node))))
        except (redis.RedisError, OSError) as exc:
            raise failed(f"reading {what} of node {node.name}", exc) from None
    first_node, first = answers[0]
    for name, answer in answers[1:]:
        if answer != first:
            which = what
            if isinstance(first, dict) and isinstance(answer, dict):
                keys = sorted(
                    k for k in first.keys() | answer.keys() if first.get(k) != answer.get(k)
                )
                which = f"{what} {', '.join(map(str, keys[:5]))}"
            raise ReconcilerError(
                f"The nodes of the Redis Cluster disagree on {which} ({first_node} and {name} "
                "differ); a plan cannot say what to change.",
                detail="Make the nodes agree (CONFIG SET / ACL SETUSER on each), then plan again.",
            )
    return first
