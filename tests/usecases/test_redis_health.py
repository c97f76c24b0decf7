"""`check_health` against real servers, each test on a Redis of its own (config changes)."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from reconciler import dev
from reconciler.errors import InputError
from reconciler.usecases.redis_health import HealthReport, HealthThresholds, check_health, evaluate
from tests.helpers import run_cli


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin(server: dev.RedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url(), decode_responses=True)


def _wait(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_fresh_server_is_healthy(private_redis: dev.RedisServer) -> None:
    report = check_health(private_redis.url())
    assert report.problems == []
    assert report.healthy and report.reachable
    assert report.version is not None and report.version.startswith("7.")
    assert report.role == "master" and report.master_link_status is None
    assert report.latency_ms is not None and 0 < report.latency_ms < 50
    assert report.uptime_s is not None and report.uptime_s >= 0
    assert report.maxmemory == 0 and report.memory_ratio is None  # unlimited
    assert (report.evicted_keys, report.rejected_connections, report.connected_slaves) == (0, 0, 0)
    assert report.rdb_last_bgsave_status == "ok" and report.aof_enabled is False
    data = json.loads(json.dumps(report.to_dict()))
    assert data["healthy"] is True and data["problems"] == []
    assert data["thresholds"]["max_latency_ms"] == 50.0


def test_latency_above_the_limit(private_redis: dev.RedisServer) -> None:
    report = check_health(private_redis.url(), thresholds=HealthThresholds(max_latency_ms=0))
    assert not report.healthy and report.reachable
    assert len(report.problems) == 1
    assert report.problems[0].startswith("PING takes ")
    assert report.problems[0].endswith("above the limit of 0 ms.")


def test_memory_near_maxmemory(private_redis: dev.RedisServer) -> None:
    admin = _admin(private_redis)
    pipe = admin.pipeline(transaction=False)
    for i in range(3000):
        pipe.set(f"blob:{i}", "x" * 1000)
    pipe.execute()
    admin.config_set("maxmemory", "2mb")  # noeviction: nothing goes, writes would be refused
    admin.close()
    report = check_health(private_redis.url())
    assert report.maxmemory == 2 * 1024 * 1024
    assert report.memory_ratio is not None and report.memory_ratio > 1
    assert [p for p in report.problems if p.startswith("Memory use is ")] == report.problems
    assert "of maxmemory" in report.problems[0] and "above the limit of 90%" in report.problems[0]
    lenient = check_health(private_redis.url(), thresholds=HealthThresholds(max_memory_ratio=None))
    assert lenient.healthy


def test_evictions(private_redis: dev.RedisServer) -> None:
    admin = _admin(private_redis)
    admin.config_set("maxmemory-policy", "allkeys-lru")
    admin.config_set("maxmemory", "2mb")
    for start in range(0, 4000, 500):
        pipe = admin.pipeline(transaction=False)
        for i in range(start, start + 500):
            pipe.set(f"blob:{i}", "x" * 1000)
        pipe.execute()
    evicted = int(admin.info("stats")["evicted_keys"])
    admin.close()
    assert evicted > 0
    relaxed = HealthThresholds(max_memory_ratio=None)
    report = check_health(private_redis.url(), thresholds=relaxed)
    assert report.evicted_keys is not None and report.evicted_keys >= evicted  # it goes on
    assert report.problems == [
        "Keys evicted since the server started or its statistics were reset: "
        f"{report.evicted_keys}, above the limit of 0."
    ]
    cache = HealthThresholds(max_memory_ratio=None, max_evicted_keys=None)
    assert check_health(private_redis.url(), thresholds=cache).healthy


def test_rejected_connections(private_redis: dev.RedisServer) -> None:
    admin = _admin(private_redis)
    admin.ping()
    admin.config_set("maxclients", "1")  # this connection is the one
    refused = redis.Redis.from_url(private_redis.url())
    with pytest.raises(redis.ConnectionError):
        refused.ping()
    refused.close()
    unreachable = check_health(private_redis.url())
    assert not unreachable.reachable and "max number of clients" in unreachable.problems[0]
    admin.config_set("maxclients", "100")
    admin.close()
    report = check_health(private_redis.url())
    assert report.reachable and report.rejected_connections == 2
    assert report.problems == [
        "Connections rejected (maxclients reached) since the server started or its statistics "
        "were reset: 2, above the limit of 0."
    ]


def test_unreachable_is_a_report_without_password() -> None:
    port = _free_port()
    report = check_health(f"redis://ops:hunter2-secret@127.0.0.1:{port}/0")
    assert not report.reachable and not report.healthy
    assert report.url == f"redis://ops:***@127.0.0.1:{port}/0"
    assert len(report.problems) == 1
    sentence = report.problems[0]
    assert sentence.startswith(f"Cannot connect to Redis at redis://ops:***@127.0.0.1:{port}/0: ")
    assert sentence.endswith(".")
    assert "hunter2" not in json.dumps(report.to_dict())


def test_malformed_url_raises() -> None:
    with pytest.raises(InputError):
        check_health("mysql://root:pw@127.0.0.1/0")


def test_replica_link(private_redis: dev.RedisServer, server_dir: Path) -> None:
    """A replica whose master is gone is unhealthy; once linked to a live master it is fine."""
    replica = dev.start_redis(server_dir / f"replica-{uuid.uuid4().hex[:12]}")
    try:
        admin = _admin(replica)
        dead = _free_port()
        admin.replicaof("127.0.0.1", dead)
        report = check_health(replica.url())
        assert report.role == "slave" and report.master_link_status == "down"
        assert report.problems == [f"This replica's link to its master 127.0.0.1:{dead} is down."]

        master_admin = _admin(private_redis)
        master_admin.config_set("repl-diskless-sync-delay", "0")  # sync now, not in 5 s
        master_admin.close()
        admin.replicaof("127.0.0.1", private_redis.port)
        _wait(lambda: admin.info("replication")["master_link_status"] == "up")
        admin.close()
        linked = check_health(replica.url())
        assert linked.healthy and linked.master_link_status == "up"
        master = check_health(private_redis.url())
        assert master.healthy and master.connected_slaves == 1
    finally:
        replica.stop()


def _evaluate(info: dict[str, object], **limits: object) -> HealthReport:
    report = HealthReport(url="redis://x", reachable=True, thresholds=HealthThresholds(**limits))
    evaluate(report, info, [0.2, 0.1, 0.3])
    return report


def test_persistence_failures_from_info() -> None:
    ok = {"redis_version": "7.0.15", "role": "master", "used_memory": 10, "maxmemory": 0}
    assert _evaluate(ok).problems == []
    assert _evaluate(ok).latency_ms == 0.2  # the median
    failed = _evaluate({**ok, "rdb_last_bgsave_status": "err"})
    assert failed.problems == ["The last RDB save failed (rdb_last_bgsave_status: err)."]
    aof = _evaluate({**ok, "aof_enabled": 1, "aof_last_write_status": "err"})
    assert aof.problems == ["The append-only file cannot be written (aof_last_write_status: err)."]
    assert _evaluate({**ok, "aof_enabled": 0, "aof_last_write_status": "err"}).problems == []
    unsaved = {**ok, "rdb_changes_since_last_save": 5000}
    assert _evaluate(unsaved).problems == []
    assert _evaluate(unsaved, max_unsaved_changes=1000).problems == [
        "Changes not yet saved to the RDB file: 5000, above the limit of 1000."
    ]
    assert _evaluate({**ok, "maxmemory": 20}, max_memory_ratio=0.4).memory_ratio == 0.5


def test_the_command_passes_every_threshold(private_redis: dev.RedisServer) -> None:
    r = run_cli("redis", "health", "--url", private_redis.url(), "--json")
    assert r.code == 0, r.text
    assert json.loads(r.out)["thresholds"]["max_evicted_keys"] == 0
    r = run_cli("redis", "health", "--url", private_redis.url(), "--max-latency-ms", "0")
    assert r.code == 1 and "above the limit of 0 ms" in r.out, r.text


def test_a_cluster_is_judged_node_by_node(redis_cluster) -> None:
    healthy = check_health(redis_cluster.url)
    assert healthy.healthy and healthy.reachable, healthy.problems
    strict = check_health(redis_cluster.url, thresholds=HealthThresholds(max_latency_ms=0))
    named = {":".join(p.split(":", 2)[:2]) for p in strict.problems}
    assert named == {f"Node 127.0.0.1:{port}" for port in redis_cluster.ports}, strict.problems
