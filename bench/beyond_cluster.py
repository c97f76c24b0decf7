"""Cluster scan: scan_keyspace over one keyspace on a single redis-server and on a Redis Cluster.

The keyspace is the Redis part's (bench/keyspace_gen.py, one RESP file). A throwaway
redis-server (bench_redis) gets the whole file through `redis-cli --pipe`; a local Redis Cluster
(reconciler.dev.cluster: three primaries with one replica each, all on 127.0.0.1)
gets it split by slot: each command goes to the primary owning its key's slot, one
`redis-cli -p PORT --pipe` per primary (a key sent to the wrong node would be refused with
MOVED, which --pipe counts as an error). The load is checked: every key and TTL on the single
server; on the cluster, each primary's DBSIZE equals the keys routed to it and the sum of
CLUSTER COUNTKEYSINSLOT over its slots, and the totals add up to the keyspace. The bench's slot
function is checked against CLUSTER KEYSLOT on a sample of keys.

Measured, interleaved (single, cluster, single, …): scan_keyspace alone as a whole process
(redis_bench.SCAN_SCRIPT, the Redis part's "scan_keyspace alone (python -c)") against the single
server's URL and against one cluster node's URL, where connect_redis returns a RedisCluster and
scan_keyspace scans every primary at once, a thread each, and merges. The rate-limit keys (TTL
60 s) are written again before every run, on both; one unmeasured scan first fills the local
cache of the loaded spec, as the Redis part's fixed-cost runs do. Each run is checked against
the generated keyspace, and the cluster's report against the single server's (same scanned
count, same per-pattern counts). The servers' CPU time during each run (INFO cpu before and
after, summed over every node of the cluster; the replicas' share apart) is recorded with it.
"""

from __future__ import annotations

import binascii
import json
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import redis

from bench.beyond import CLUSTER, BeyondOptions, Measured, Part, interleave
from bench.keyspace_gen import KeyspaceShape, write_resp, write_specs
from bench.measure import ProcessRun
from bench.redis_bench import SCAN_SCRIPT, RedisBench, bench_redis, redis_cli_binary
from bench.redis_verify import scan_problem
from bench.runner import Workspace
from reconciler import dev
from reconciler.dev.cluster import LocalCluster, start_redis_cluster

SLOTS = 16384
KEYSLOT_SAMPLE = 200  # keys whose slot is also asked of the cluster (CLUSTER KEYSLOT)
_WAIT_MS = 60_000  # replicas must have caught up with a load within this


def key_slot(key: bytes) -> int:
    """The cluster slot of `key`: CRC16 (XMODEM: binascii.crc_hqx from 0) mod 16384 of the key
    or, when it holds a `{…}` with something inside, of what is inside the first one."""
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    return binascii.crc_hqx(key, 0) % SLOTS


def resp_commands(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(key, the command's bytes) of each command of a RESP file; the key is the second
    argument (every command keyspace_gen writes is `VERB key …`)."""
    pos, end, find = 0, len(data), data.find
    while pos < end:
        eol = find(b"\r\n", pos)
        argc, p, key = int(data[pos + 1 : eol]), eol + 2, b""
        for index in range(argc):
            eol = find(b"\r\n", p)
            length = int(data[p + 1 : eol])
            if index == 1:
                key = data[eol + 2 : eol + 2 + length]
            p = eol + 4 + length
        yield key, data[pos:p]
        pos = p


def split_resp(
    source: Path, owner: Sequence[int], out_dir: Path
) -> tuple[dict[int, Path], dict[int, int], list[bytes]]:
    """`source` split by the port owning each key's slot (`owner`: slot → port): the file of
    each port, the distinct keys sent to it, and the first KEYSLOT_SAMPLE keys."""
    parts: dict[int, list[bytes]] = {port: [] for port in set(owner)}
    keys = dict.fromkeys(parts, 0)
    sample: list[bytes] = []
    last, port = b"", 0
    for key, command in resp_commands(source.read_bytes()):
        if key != last:  # a key's commands are consecutive: count and route it once
            last, port = key, owner[key_slot(key)]
            keys[port] += 1
            if len(sample) < KEYSLOT_SAMPLE:
                sample.append(key)
        parts[port].append(command)
    paths = {}
    for port, commands in parts.items():
        paths[port] = out_dir / f"{source.stem}.{port}.resp"
        paths[port].write_bytes(b"".join(commands))
    return paths, keys, sample


def measure_cluster_scan(ws: Workspace, opts: BeyondOptions) -> Part:
    part = Part(CLUSTER, info={"keys": opts.keys})
    base = ws.work / "beyond_cluster"
    base.mkdir()
    try:
        with (
            bench_redis(ws.root / "beyond") as single,
            start_redis_cluster(ws.root / "beyond" / "cluster") as cluster,
        ):
            _ClusterScan(ws, part, opts, base, single, cluster).run()
    finally:
        shutil.rmtree(base, ignore_errors=True)  # the RESP files are large
    return part


class _ClusterScan:
    def __init__(
        self,
        ws: Workspace,
        part: Part,
        opts: BeyondOptions,
        base: Path,
        single: dev.RedisServer,
        cluster: LocalCluster,
    ) -> None:
        self.ws, self.part, self.opts, self.base = ws, part, opts, base
        self.single, self.cluster = single, cluster
        self.cli = redis_cli_binary()
        self.clients = {
            port: redis.Redis(host=dev.HOST, port=port, decode_responses=True)
            for port in (single.port, *cluster.ports)
        }
        self.primaries = cluster.primaries()
        self.replicas = {p: len(cluster.replicas_of(p)) for p in self.primaries}
        self.spec = write_specs(base / "spec")
        self.parts: dict[int, Path] = {}  # primary port → its share of the keyspace's RESP
        self.rl_parts: dict[int, Path] = {}  # … and of the rate-limit keys'

    def run(self) -> None:
        try:
            shape = self._load()
            if shape is not None:
                self._measure(shape)
        finally:
            for client in self.clients.values():
                client.close()

    # ------------------------------------------------------------------------------ load

    def _pipe(self, port: int, path: Path) -> str | None:
        """Pipe `path` into the server on `port`; what went wrong, if anything."""
        run = self.ws.run([self.cli, "-h", dev.HOST, "-p", str(port), "--pipe"], stdin=path)
        problem = RedisBench._pipe_problem(run)
        return None if problem is None else f"port {port}: {problem}"

    def _wait_replicas(self) -> str | None:
        """Every primary's replicas have acknowledged its writes (they are idle afterwards)."""
        for port, wanted in self.replicas.items():
            acked = int(self.clients[port].execute_command("WAIT", wanted, _WAIT_MS))
            if acked < wanted:
                return f"{acked} of {wanted} replicas of port {port} caught up"
        return None

    def _load(self) -> KeyspaceShape | None:
        part, n = self.part, self.opts.keys
        self.ws.say(f"{CLUSTER}: generate {n:,} keys; load a single server and a cluster")
        every, ratelimits = self.base / "keyspace.resp", self.base / "ratelimits.resp"
        t0 = time.perf_counter()
        shape = write_resp(n, every, ratelimits)
        part.info["shape"] = asdict(shape)
        part.setup["generate the RESP file"] = time.perf_counter() - t0
        with_ttl = n - shape.legacy - shape.queues - shape.without_ttl

        t0 = time.perf_counter()
        problem = self._pipe(self.single.port, every)
        part.setup["load the single server (redis-cli --pipe)"] = time.perf_counter() - t0
        if problem is None:
            db0 = self.clients[self.single.port].info("keyspace").get("db0", {})
            got = (db0.get("keys", 0), db0.get("expires", 0))
            problem = None if got == (n, with_ttl) else f"keys/expires {got}, not {(n, with_ttl)}"
        if not part.check("the single server holds every key and TTL", problem):
            return None

        owner = [0] * SLOTS
        for row in self.cluster.slot_map():
            owner[row.start : row.end + 1] = [row.primary] * (row.end - row.start + 1)
        t0 = time.perf_counter()
        self.parts, routed, sample = split_resp(every, owner, self.base)
        self.rl_parts = split_resp(ratelimits, owner, self.base)[0]
        part.setup["split the RESP file by slot owner"] = time.perf_counter() - t0
        asked = self.clients[self.primaries[0]]
        wrong = [k for k in sample if int(asked.cluster("KEYSLOT", k)) != key_slot(k)]
        problem = f"{len(wrong)} keys, e.g. {wrong[0]!r}" if wrong else None
        if not part.check(f"the bench's slot of {len(sample)} keys is CLUSTER KEYSLOT's", problem):
            return None

        t0 = time.perf_counter()
        problems = [self._pipe(port, path) for port, path in self.parts.items()]
        problem = next((p for p in problems if p), None) or self._wait_replicas()
        part.setup["load the cluster (redis-cli --pipe per primary, replicas synced)"] = (
            time.perf_counter() - t0
        )
        if not part.check("every primary loaded its share, its replicas caught up", problem):
            return None
        return shape if self._check_cluster(routed, n, with_ttl) else None

    def _check_cluster(self, routed: dict[int, int], n: int, with_ttl: int) -> bool:
        """Each primary holds exactly the keys routed to it, in its own slots; totals add up."""
        held: dict[int, int] = {}
        problems = []
        expires = 0
        for row in self.cluster.slot_map():
            pipe = self.clients[row.primary].pipeline(transaction=False)
            for slot in range(row.start, row.end + 1):
                pipe.cluster("COUNTKEYSINSLOT", slot)
            held[row.primary] = held.get(row.primary, 0) + sum(int(c) for c in pipe.execute())
        for port in self.primaries:
            size = int(self.clients[port].dbsize())
            expires += self.clients[port].info("keyspace").get("db0", {}).get("expires", 0)
            if not size == held.get(port) == routed.get(port):
                problems.append(
                    f"port {port}: DBSIZE {size}, keys in its slots {held.get(port)}, "
                    f"routed to it {routed.get(port)}"
                )
        total = sum(held.values())
        if total != n or expires != with_ttl:
            problems.append(f"keys/expires {(total, expires)}, not {(n, with_ttl)}")
        self.part.info["keys_per_primary"] = {str(p): routed.get(p) for p in self.primaries}
        self.part.info["nodes"] = {"primaries": len(self.primaries), "replicas_each": 1}
        self.part.info["server_memory_mib"] = {
            "single": self._memory([self.single.port]),
            "cluster_primaries": self._memory(self.primaries),
        }
        self.part.info["redis"] = str(
            self.clients[self.single.port].info("server")["redis_version"]
        )
        problem = "; ".join(problems) or None
        return self.part.check(
            "each primary's DBSIZE = its slots' COUNTKEYSINSLOT = keys routed to it; totals add up",
            problem,
        )

    def _memory(self, ports: list[int]) -> float:
        used = sum(int(self.clients[p].info("memory")["used_memory"]) for p in ports)
        return round(used / 2**20, 1)

    # --------------------------------------------------------------------------- measure

    def _cpu(self, ports: Sequence[int]) -> dict[int, float]:
        """CPU time (user + system) each server has used since it started."""
        out = {}
        for port in ports:
            info = self.clients[port].info("cpu")
            out[port] = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return out

    def _measure(self, shape: KeyspaceShape) -> None:
        reports: dict[str, dict[str, Any]] = {}
        on_replicas: list[float] = []
        targets = {
            "single": (self.single.url(), [self.single.port], self._refresh_single),
            "cluster": (self.cluster.url, list(self.cluster.ports), self._refresh_cluster),
        }
        labels = {
            "single": "scan_keyspace alone (python -c), single redis-server",
            "cluster": f"scan_keyspace alone (python -c), cluster of {len(self.primaries)} "
            "primaries",
        }

        def scan(key: str) -> Measured:
            url, ports, refresh = targets[key]
            cpu: list[float] = self.part.server_cpu.setdefault(key, [])
            replicas = [p for p in ports if p != self.single.port and p not in self.primaries]

            def one(rep: int) -> tuple[ProcessRun, str | None]:
                problem = refresh()
                if problem is not None:  # a failed refresh, reported as this run's
                    return _refused(f"refreshing the rate-limit keys: {problem}"), None
                before = self._cpu(ports)
                run = self.ws.run([sys.executable, "-c", SCAN_SCRIPT, url, str(self.spec)])
                after = self._cpu(ports)
                spent = {p: after[p] - before[p] for p in ports}
                if not run.ok:
                    return run, None
                problem = scan_problem(run.stdout, shape)
                if problem is None:
                    reports.setdefault(key, json.loads(run.stdout))
                    cpu.append(sum(spent.values()))
                    if replicas:  # their share: what the scan did not ask of them
                        on_replicas.append(sum(spent[p] for p in replicas))
                return run, problem

            return one

        # unmeasured: fills the local cache of the loaded spec, which every later run reads
        problem = self._refresh_single()
        warm = self.ws.run([sys.executable, "-c", SCAN_SCRIPT, self.single.url(), str(self.spec)])
        if problem is None:
            problem = scan_problem(warm.stdout, shape) if warm.ok else warm.failure()
        if not self.part.check("warm-up scan of the single server", problem):
            return
        figures = [(key, labels[key], scan(key)) for key in targets]
        interleave(self.ws, self.part, self.opts.runs, figures)
        self.part.info["replicas_cpu_s_runs"] = [round(c, 3) for c in on_replicas]
        if len(reports) == 2:
            self.part.check("the cluster's scan reports what the single server's does",
                            same_report(reports["single"], reports["cluster"]))  # fmt: skip

    def _refresh_single(self) -> str | None:
        """The rate-limit keys (TTL 60 s) written again: every run sees the whole keyspace."""
        return self._pipe(self.single.port, self.base / "ratelimits.resp")

    def _refresh_cluster(self) -> str | None:
        for port, path in self.rl_parts.items():
            if problem := self._pipe(port, path):
                return problem
        return self._wait_replicas()


def same_report(single: dict[str, Any], cluster: dict[str, Any]) -> str | None:
    """None when both scans counted the same keys, types and per-pattern figures."""
    wrong = [
        f"{k}: single {single.get(k)!r}, cluster {cluster.get(k)!r}"
        for k in ("scanned", "types", "unmatched", "patterns")
        if single.get(k) != cluster.get(k)
    ]
    return "; ".join(wrong)[:400] if wrong else None


def _refused(reason: str) -> ProcessRun:
    """A run that could not start, as a failed ProcessRun saying why."""
    return ProcessRun(("scan",), 1, 0.0, 0, 0.0, "", reason)
