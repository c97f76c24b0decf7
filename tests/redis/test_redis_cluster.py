"""Redis Cluster: the keyspace scan runs on every primary and adds up to exactly what a single
server reports; a failover or a lost connection during the scan changes nothing in the result;
apply follows MOVED and ASK during a resharding; config is read from and set on every node.

(The plan → apply → rollback and lock suites run on the cluster too:
tests/redis/test_redis_plan_apply.py and tests/locks/test_redis_lock.py set ON_REDIS_CLUSTER.)"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from reconciler import api
from reconciler.dev.cluster import LocalCluster
from reconciler.errors import ReconcilerError
from reconciler.export.redis.write import export_redis
from reconciler.introspect.redis import connect_redis, read_config, scan_keyspace
from reconciler.model.redis import KeyPattern
from reconciler.usecases.backup import dump_keys, restore_keys
from tests.helpers import write_yaml
from tests.introspect.test_introspect_redis import assert_mixed_scan


@pytest.fixture
def cluster(redis_cluster: LocalCluster) -> Iterator[LocalCluster]:
    """The session cluster, empty before and after the test."""
    redis_cluster.flushall()
    yield redis_cluster
    redis_cluster.flushall()


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Any]:
    c = connect_redis(cluster.url, command="test")
    yield c
    c.close()


def _node(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port)


def test_connect_recognises_a_cluster(client) -> None:
    assert isinstance(client, redis.RedisCluster)
    assert len(client.get_primaries()) == 3


@pytest.mark.parametrize("batch", [1, 1000])
def test_the_mixed_keyspace_reports_as_on_a_single_server(client, cluster, batch) -> None:
    assert_mixed_scan(client, batch)
    # The keys were read on their own nodes: each primary answered TYPE for its share.
    typed = [
        _node(p).info("commandstats").get("cmdstat_type", {}).get("calls", 0)
        for p in cluster.primaries()
    ]
    assert all(n > 0 for n in typed), typed


def _bulk(client: Any, n: int, *, ttl_every: int = 2) -> None:
    """n keys `bulk:<i>` spread over every slot; every `ttl_every`-th has a TTL."""
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        if i % ttl_every:
            pipe.set(f"bulk:{i}", "v")
        else:
            pipe.set(f"bulk:{i}", "v", ex=600)
        if len(pipe) >= 2000:
            pipe.execute()
    pipe.execute()


BULK = [KeyPattern("bulk:{n}", "string", ttl=3600)]


def test_a_failover_during_the_scan_changes_nothing_in_the_report(client, cluster) -> None:
    n = 30_000
    _bulk(client, n)
    for port in cluster.primaries():  # what was written is on the replicas before the switch
        _node(port).execute_command("WAIT", 1, 5000)
    victim = cluster.primaries()[0]
    switched: list[int] = []
    totals: list[int] = []

    def progress(done: int) -> None:
        totals.append(done)
        # Progress is reported under the scan's lock, so every shard's scan waits here, each
        # in the middle of its walk, until the roles have switched.
        if done > n // 6 and not switched:
            switched.append(cluster.failover(victim))

    report = scan_keyspace(client, BULK, batch=50, progress=progress)
    assert switched and victim not in cluster.primaries()
    # The demoted node went on answering (READONLY): no shard had to begin again.
    assert totals == sorted(totals)
    assert report.scanned == n
    stats = report.patterns["bulk:{n}"]
    assert stats.count == n and stats.without_ttl == n - n // 2
    assert len({f.key for f in stats.fixes}) == n - n // 2


def test_a_lost_connection_rescans_that_shard_from_the_start(client, cluster) -> None:
    n = 20_000
    _bulk(client, n)
    killed: list[int] = []
    totals: list[int] = []

    def progress(done: int) -> None:
        totals.append(done)
        if done > n // 4 and not killed:
            port = cluster.primaries()[1]
            admin = _node(port)
            for entry in admin.client_list():
                if entry.get("name") == "reconciler/test-scan":
                    killed.append(admin.client_kill_filter(_id=entry["id"]))

    scanner = connect_redis(cluster.url, command="test-scan")
    try:
        report = scan_keyspace(scanner, BULK, batch=50, progress=progress)
    finally:
        scanner.close()
    assert killed == [1]
    assert any(b < a for a, b in itertools.pairwise(totals))  # a shard began again
    assert report.scanned == n and report.patterns["bulk:{n}"].count == n


def _migrate(client: Any, slot: int, *, fraction: float, finish: bool) -> None:
    """Move `slot` to another primary: its keys (a fraction of them), then the slot itself."""
    src = client.nodes_manager.slots_cache[slot][0]
    dst = next(n for n in client.get_primaries() if n.name != src.name)
    s, d = _node(src.port), _node(dst.port)
    src_id, dst_id = s.execute_command("CLUSTER MYID"), d.execute_command("CLUSTER MYID")
    d.execute_command("CLUSTER SETSLOT", slot, "IMPORTING", src_id)
    s.execute_command("CLUSTER SETSLOT", slot, "MIGRATING", dst_id)
    keys = s.execute_command("CLUSTER GETKEYSINSLOT", slot, 10_000)
    moving = keys[: int(len(keys) * fraction)]
    if moving:
        s.execute_command("MIGRATE", "127.0.0.1", dst.port, "", 0, 5000, "KEYS", *moving)
    if finish:
        for node in (d, s, *(_node(p.port) for p in client.get_primaries())):
            node.execute_command("CLUSTER SETSLOT", slot, "NODE", dst_id)


def test_apply_follows_moved_and_ask_during_a_resharding(
    client, cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a Redis-only run keeps its state in ./state: the test's own
    # Two groups of keys, each in one slot (hash tags), none with a TTL: all get one.
    for tag in ("ask", "moved"):
        for i in range(40):
            client.set(f"app:cache:{{{tag}}}{i}", "v")
    schemas = tmp_path / "schemas"
    write_yaml(
        schemas,
        "keys/app.yaml",
        'namespace: app\npatterns:\n  - {pattern: "app:cache:{id}", type: string, ttl: 600}\n',
    )
    ask_slot, moved_slot = client.keyslot("{ask}"), client.keyslot("{moved}")
    resharded: list[str] = []

    def confirm(plan) -> bool:  # the client has read the slot map; now the slots move
        _migrate(client, moved_slot, fraction=1.0, finish=True)  # MOVED for the whole slot
        _migrate(client, ask_slot, fraction=0.5, finish=False)  # ASK for half of its keys
        resharded.append(plan.version)
        return True

    result = api.apply(
        None,
        redis_url=cluster.url,
        schemas_dir=schemas,
        out_dir=tmp_path / "plans",
        logs_dir=tmp_path / "logs",
        confirm=confirm,
    )
    assert resharded and result.applied and not result.skipped
    checker = redis.RedisCluster.from_url(cluster.url)
    for tag in ("ask", "moved"):
        for i in range(40):
            ttl = checker.ttl(f"app:cache:{{{tag}}}{i}")
            assert 0 < ttl <= 600, (tag, i, ttl)
    _migrate(checker, ask_slot, fraction=1.0, finish=True)  # end the resharding


def test_a_slot_moving_during_the_plan_scan_is_counted_apart(
    client, cluster, caplog: pytest.LogCaptureFixture
) -> None:
    # Every key in one slot, so one primary holds them all; after its first batch the slot
    # starts moving (MIGRATING/IMPORTING, its keys migrated): keys SCAN returned before the move
    # and TYPE reads after it are answered ASK.
    n = 400
    for i in range(n):
        client.set(f"slot:{{s}}{i}", "v")
    slot = client.keyslot("{s}")
    moving: list[bool] = []

    def progress(done: int) -> None:
        if not moving:
            time.sleep(0.2)  # the pipeline in flight (the next SCAN) has been answered
            _migrate(client, slot, fraction=1.0, finish=False)
            moving.append(True)

    try:
        report = scan_keyspace(
            client, [KeyPattern("slot:{id}", "string")], batch=50, progress=progress
        )
    finally:
        _migrate(redis.RedisCluster.from_url(cluster.url), slot, fraction=1.0, finish=True)
    assert moving and report.moved > 0
    assert report.scanned == report.patterns["slot:{id}"].count
    assert report.scanned + report.moved <= n
    assert f"{report.moved} keys were not read: their slot moved" in caplog.text


def test_every_reader_counts_keys_of_a_slot_being_moved_apart(
    client, cluster, tmp_path: Path
) -> None:
    # A resharding under way: the slot's keys are on the importing node, which answers MOVED
    # for them (no ASKING), while the migrating node no longer has them.
    from reconciler.export.redis.write import export_redis
    from reconciler.usecases.backup import dump_keys

    n = 60
    for i in range(n):
        client.set(f"slot:{{s}}{i}", "v")
    client.set("other:1", "v")
    slot = client.keyslot("{s}")
    _migrate(client, slot, fraction=1.0, finish=False)
    try:
        report = scan_keyspace(client, [KeyPattern("slot:{id}", "string")], batch=7)
        exported = export_redis(client, tmp_path / "exported", batch=7)
        with pytest.raises(ReconcilerError, match=f"incomplete: {n} keys could not be read"):
            dump_keys(cluster.url, tmp_path / "all.redis")
    finally:
        _migrate(redis.RedisCluster.from_url(cluster.url), slot, fraction=1.0, finish=True)
    assert (report.moved, report.scanned, report.unmatched) == (n, 1, {"other": 1})
    assert report.patterns["slot:{id}"].count == 0
    assert (exported.moved, exported.keys) == (n, 1)
    assert not (tmp_path / "all.redis").exists()


def test_config_is_read_from_every_node_and_must_agree(client, cluster) -> None:
    assert read_config(client, ["maxmemory-policy"])["maxmemory-policy"].value == "noeviction"
    odd = cluster.ports[-1]
    _node(odd).config_set("maxmemory-policy", "allkeys-lru")
    try:
        with pytest.raises(ReconcilerError, match="disagree on configuration maxmemory-policy"):
            read_config(client, ["maxmemory-policy"])
    finally:
        _node(odd).config_set("maxmemory-policy", "noeviction")


def _everything(client: Any) -> dict[bytes, tuple[bytes, int]]:
    """Every key of the cluster with its DUMP and expiry."""
    keys = sorted(client.scan_iter(count=1000))
    return {k: (client.dump(k), client.pexpiretime(k)) for k in keys}


def test_export_and_backup_read_every_primary(client, cluster, tmp_path: Path) -> None:
    _bulk(client, 3000)
    written = export_redis(client, tmp_path / "exported").files
    bulk = next(p for p in written if p.name == "bulk.yaml").read_text()
    assert "1 pattern, 3000 keys" in bulk
    before = _everything(client)
    assert len(before) == 3000
    assert dump_keys(cluster.url, tmp_path / "all.redis") == 3000
    cluster.flushall()
    assert restore_keys(cluster.url, tmp_path / "all.redis") == (3000, 0)
    assert _everything(client) == before
