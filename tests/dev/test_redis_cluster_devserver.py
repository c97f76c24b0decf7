"""The local Redis Cluster (reconciler.dev.cluster), against real redis-server nodes.

Most tests share the session cluster (tests/redis_cluster_fixture.py, run with
`-p tests.redis_cluster_fixture` until conftest registers it); stop() and failed starts get
clusters of their own.
"""

from __future__ import annotations

import random
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.crc import key_slot

from reconciler.dev.cluster import BUS_PORT_OFFSET, LocalCluster, start_redis_cluster
from reconciler.dev.cluster_map import SLOTS
from reconciler.dev.launch import HOST, port_is_free
from reconciler.dev.redis import RedisServer
from reconciler.errors import ReconcilerError


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="reconciler-cluster-test-"))
    yield path
    # Whatever a failed test left running must not outlive it.
    for pidfile in path.rglob("redis.pid"):
        RedisServer(dir=pidfile.parent, port=0, pid=int(pidfile.read_text())).stop()
    shutil.rmtree(path, ignore_errors=True)


def _keys_in_distinct_slots(count: int) -> list[str]:
    """`count` keys under a fresh prefix, each hashing to a slot of its own."""
    prefix = f"t{uuid.uuid4().hex[:12]}:"
    keys: dict[int, str] = {}
    index = 0
    while len(keys) < count:
        key = f"{prefix}{index}"
        keys.setdefault(key_slot(key.encode()), key)
        index += 1
    return list(keys.values())


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


def _replication(port: int) -> dict[str, object]:
    with redis.Redis(host=HOST, port=port) as client:
        return client.info("replication")


# ------------------------------------------------------------------------------ session cluster


def test_six_nodes_three_primaries_one_replica_each(redis_cluster: LocalCluster) -> None:
    nodes = redis_cluster.nodes
    assert len(nodes) == 6
    assert len({node.pid for node in nodes}) == 6
    assert all(node.is_running() and _answers(node.port) for node in nodes)

    primaries = redis_cluster.primaries()
    replicas = [redis_cluster.replica_of(primary) for primary in primaries]
    assert len(primaries) == 3
    assert sorted(primaries + replicas) == sorted(redis_cluster.ports)
    for primary, replica in zip(primaries, replicas, strict=True):
        link = _replication(replica)
        assert (link["role"], link["master_port"], link["master_link_status"]) == (
            "slave",
            primary,
            "up",
        )


def test_every_node_sees_all_slots_served(redis_cluster: LocalCluster) -> None:
    primaries = redis_cluster.primaries()
    for port in redis_cluster.ports:
        with redis.Redis(host=HOST, port=port) as client:
            info = client.execute_command("CLUSTER INFO")
            rows = client.execute_command("CLUSTER SLOTS")
        assert info["cluster_state"] == "ok"
        assert int(info["cluster_slots_assigned"]) == int(info["cluster_slots_ok"]) == SLOTS
        assert sum(int(row[1]) - int(row[0]) + 1 for row in rows) == SLOTS
        assert sorted({int(row[2][1]) for row in rows}) == primaries


def test_keys_in_100_slots_round_trip(redis_cluster_url: str) -> None:
    keys = _keys_in_distinct_slots(100)
    with redis.RedisCluster.from_url(redis_cluster_url) as client:
        for key in keys:
            client.set(key, key)
        served_by = {client.get_node_from_key(key).port for key in keys}
    with redis.RedisCluster.from_url(redis_cluster_url, decode_responses=True) as fresh:
        assert [fresh.get(key) for key in keys] == keys
    assert len(served_by) == 3  # 100 slots spread over every primary


def test_failover_switches_roles_and_keeps_data(
    redis_cluster: LocalCluster, redis_cluster_url: str
) -> None:
    old = redis_cluster.primaries()[0]
    replica = redis_cluster.replica_of(old)
    keys = _keys_in_distinct_slots(100)
    with redis.RedisCluster.from_url(redis_cluster_url, decode_responses=True) as client:
        for key in keys:
            client.set(key, key)
        moved = [key for key in keys if client.get_node_from_key(key).port == old]
        assert moved

        assert redis_cluster.failover(old) == replica

        assert replica in redis_cluster.primaries()
        assert old not in redis_cluster.primaries()
        assert redis_cluster.replica_of(replica) == old
        link = _replication(old)
        assert (link["role"], link["master_port"], link["master_link_status"]) == (
            "slave",
            replica,
            "up",
        )
        # The client that knew the old roles follows the MOVED redirections...
        assert [client.get(key) for key in keys] == keys
    # ...and a new one finds the slots at the promoted replica straight away.
    with redis.RedisCluster.from_url(redis_cluster_url, decode_responses=True) as fresh:
        assert {fresh.get_node_from_key(key).port for key in moved} == {replica}
        assert [fresh.get(key) for key in keys] == keys


def test_flushall_empties_every_node(redis_cluster: LocalCluster, redis_cluster_url: str) -> None:
    with redis.RedisCluster.from_url(redis_cluster_url) as client:
        for key in _keys_in_distinct_slots(30):
            client.set(key, 1)
    redis_cluster.flushall()
    for port in redis_cluster.ports:  # replicas too: flushall waits for them
        with redis.Redis(host=HOST, port=port) as node:
            assert node.dbsize() == 0


# ------------------------------------------------------------------------- clusters of their own


@pytest.mark.servers  # starts a cluster of its own
def test_stop_leaves_nothing_listening(workdir: Path) -> None:
    with start_redis_cluster(workdir) as cluster:
        assert all(_answers(port + BUS_PORT_OFFSET) for port in cluster.ports)
    assert not any(node.is_running() for node in cluster.nodes)
    for port in cluster.ports:
        assert not _answers(port), port
        assert not _answers(port + BUS_PORT_OFFSET), port + BUS_PORT_OFFSET
    cluster.stop()  # a second stop is harmless


@pytest.mark.servers  # starts a cluster of its own
def test_a_node_that_cannot_start_stops_the_others(workdir: Path) -> None:
    candidates = random.sample(range(20000, 22768), 40)
    ports = [p for p in candidates if port_is_free(p) and port_is_free(p + BUS_PORT_OFFSET)][:6]
    with socket.socket() as squatter:
        squatter.bind((HOST, ports[-1]))
        squatter.listen()
        with pytest.raises(ReconcilerError) as caught:
            start_redis_cluster(workdir, ports=ports)
    assert str(ports[-1]) in caught.value.summary
    assert "Address already in use" in (caught.value.detail or "")
    assert not any(_answers(port) for port in ports[:-1])


def test_impossible_shapes_are_refused_before_anything_starts(workdir: Path) -> None:
    with pytest.raises(ReconcilerError, match="at least 3 primaries"):
        start_redis_cluster(workdir, primaries=2)
    with pytest.raises(ReconcilerError, match="need 6 ports, not 2"):
        start_redis_cluster(workdir, ports=[21000, 21001])
    assert not list(workdir.iterdir())
