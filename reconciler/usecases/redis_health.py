"""`reconciler redis health`: is a Redis server fit to serve (the seed's health_check.py --url).

Reads PING round trips and one INFO (of every node of a Redis Cluster, each node's problems named
after it, plus the cluster's own state), then judges them against HealthThresholds in a pure
function (`evaluate`), so every rule is testable from an INFO dict alone. An unreachable server is
a report too (reachable=False, one problem sentence), never an exception: the command prints the
same report, text or JSON, either way. Nothing here writes to the server; no password is ever
printed (URLs go through `connect.redact`).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from reconciler.connect import redact
from reconciler.errors import ConnectionFailed
from reconciler.introspect.redis import connect_redis
from reconciler.introspect.redis.cluster import is_cluster

PING_SAMPLES = 5


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    """Limits beyond which a server is unhealthy; None switches a check off.

    evicted_keys and rejected_connections are the server's counters since its start (or the last
    CONFIG RESETSTAT): the default 0 calls any eviction or refused client a problem, which suits
    a store of sessions and queues; an LRU cache may allow evictions (None)."""

    max_latency_ms: float | None = 50.0  # median PING round trip
    max_memory_ratio: float | None = 0.9  # used_memory / maxmemory (unlimited maxmemory passes)
    max_evicted_keys: int | None = 0
    max_rejected_connections: int | None = 0
    max_unsaved_changes: int | None = None  # rdb_changes_since_last_save


@dataclass(slots=True)
class HealthReport:
    url: str  # redacted
    reachable: bool
    thresholds: HealthThresholds
    version: str | None = None
    role: str | None = None  # "master" or "slave", as INFO says
    uptime_s: int | None = None
    latency_ms: float | None = None  # median of PING_SAMPLES round trips
    used_memory: int | None = None
    maxmemory: int | None = None  # 0: unlimited
    memory_ratio: float | None = None  # None when maxmemory is unlimited
    evicted_keys: int | None = None
    rejected_connections: int | None = None
    rdb_last_bgsave_status: str | None = None
    rdb_changes_since_last_save: int | None = None
    aof_enabled: bool | None = None
    aof_last_write_status: str | None = None
    master_link_status: str | None = None  # replicas only
    connected_slaves: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.reachable and not self.problems

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"healthy": self.healthy, **data}


def check_health(url: str, *, thresholds: HealthThresholds = HealthThresholds()) -> HealthReport:
    """Measure the server at `url`. Raises InputError only for a malformed URL."""
    report = HealthReport(url=redact(url), reachable=False, thresholds=thresholds)
    try:
        client = connect_redis(url, command="health")
    except ConnectionFailed as exc:
        report.problems.append(exc.summary)
        return report
    try:
        nodes = _nodes(client)
        for name, node in nodes:
            latencies = []
            for _ in range(PING_SAMPLES):
                start = time.perf_counter()
                node.ping()
                latencies.append((time.perf_counter() - start) * 1000)
            info = node.info("all")
            if name is None:  # a single server
                report.reachable = True
                evaluate(report, info, latencies)
                continue
            one = HealthReport(url=name, reachable=True, thresholds=thresholds)
            evaluate(one, info, latencies)
            if not report.reachable:  # the figures of the first node, the problems of all
                report.reachable, report.problems = True, []
                evaluate(report, info, latencies)
                report.problems.clear()
            report.problems += [f"Node {name}: {problem}" for problem in one.problems]
        if nodes[0][0] is not None:
            state = _str(client.cluster_info().get("cluster_state"))
            if state != "ok":
                report.problems.append(f"The cluster's state is {state} (CLUSTER INFO).")
    except (redis.RedisError, OSError) as exc:
        what = "refused INFO" if isinstance(exc, redis.ResponseError) else "stopped answering"
        report.reachable = False
        report.problems.append(f"Redis at {report.url} {what}: {' '.join(str(exc).split())}")
        return report
    finally:
        client.close()
    return report


def _nodes(client: Any) -> list[tuple[str | None, redis.Redis]]:
    """(None, the server), or (host:port, client) of every node of a Redis Cluster."""
    if not is_cluster(client):
        return [(None, client)]
    return [(node.name, client.get_redis_connection(node)) for node in client.get_nodes()]


def evaluate(report: HealthReport, info: dict[str, Any], latencies: list[float]) -> None:
    """Fill `report` from INFO (as redis-py parses it) and PING times; add one sentence per
    threshold crossed or subsystem failing."""
    limits, problems = report.thresholds, report.problems
    report.version = _str(info.get("redis_version"))
    report.role = _str(info.get("role"))
    report.uptime_s = _int(info.get("uptime_in_seconds"))
    report.latency_ms = statistics.median(latencies) if latencies else None
    report.used_memory = _int(info.get("used_memory"))
    report.maxmemory = _int(info.get("maxmemory"))
    report.evicted_keys = _int(info.get("evicted_keys"))
    report.rejected_connections = _int(info.get("rejected_connections"))
    report.rdb_last_bgsave_status = _str(info.get("rdb_last_bgsave_status"))
    report.rdb_changes_since_last_save = _int(info.get("rdb_changes_since_last_save"))
    aof = info.get("aof_enabled")
    report.aof_enabled = None if aof is None else bool(_int(aof))
    report.aof_last_write_status = _str(info.get("aof_last_write_status"))
    report.connected_slaves = _int(info.get("connected_slaves"))
    if report.role == "slave":
        report.master_link_status = _str(info.get("master_link_status"))

    latency, max_latency = report.latency_ms, limits.max_latency_ms
    if latency is not None and max_latency is not None and latency > max_latency:
        problems.append(
            f"PING takes {report.latency_ms:.3f} ms (median of {len(latencies)}), "
            f"above the limit of {limits.max_latency_ms:g} ms."
        )
    if report.used_memory is not None and report.maxmemory:
        report.memory_ratio = round(report.used_memory / report.maxmemory, 4)
        if limits.max_memory_ratio is not None and report.memory_ratio > limits.max_memory_ratio:
            problems.append(
                f"Memory use is {report.memory_ratio:.0%} of maxmemory "
                f"({report.used_memory} of {report.maxmemory} bytes), above the limit of "
                f"{limits.max_memory_ratio:.0%}."
            )
    since = "since the server started or its statistics were reset"
    _counter(problems, report.evicted_keys, limits.max_evicted_keys, f"Keys evicted {since}")
    _counter(
        problems,
        report.rejected_connections,
        limits.max_rejected_connections,
        f"Connections rejected (maxclients reached) {since}",
    )
    _counter(
        problems,
        report.rdb_changes_since_last_save,
        limits.max_unsaved_changes,
        "Changes not yet saved to the RDB file",
    )
    if report.rdb_last_bgsave_status not in (None, "ok"):
        problems.append(
            f"The last RDB save failed (rdb_last_bgsave_status: {report.rdb_last_bgsave_status})."
        )
    if report.aof_enabled and report.aof_last_write_status not in (None, "ok"):
        problems.append(
            "The append-only file cannot be written "
            f"(aof_last_write_status: {report.aof_last_write_status})."
        )
    if report.role == "slave" and report.master_link_status != "up":
        master = f"{info.get('master_host')}:{info.get('master_port')}"
        problems.append(
            f"This replica's link to its master {master} is {report.master_link_status}."
        )


def _counter(problems: list[str], value: int | None, limit: int | None, what: str) -> None:
    if value is not None and limit is not None and value > limit:
        problems.append(f"{what}: {value}, above the limit of {limit}.")


def _int(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
