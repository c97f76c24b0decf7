"""`python -m bench --smoke --no-write` runs end to end: every figure measured and checked.

One run covers all three parts: Postgres at 20 tables, Redis at 2,000 keys, and beyond one
server (fleet drift over 4 databases, a Redis Cluster scan of 2,000 keys), one repetition each;
its results JSON is rendered into the benchmarks page, which must show every part's section.
"""

from __future__ import annotations

import binascii
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FIGURE_NAMES = (
    "pg_dump",
    "no-op plan",
    "export",
    "full plan from",
    "apply --plan",
    "psql -1 -f of the",
    "catalog queries",
)
REDIS_FIGURE_NAMES = (
    "redis-cli --bigkeys (peer)",
    "redis-py SCAN COUNT 1000 loop (floor)",
    "reconciler plan --redis",
    "scan_keyspace alone (python -c)",
)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict]:
    json_out = tmp_path_factory.mktemp("bench") / "results.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--no-write", "--json-out", str(json_out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return result, json.loads(json_out.read_text("utf-8"))


@pytest.mark.servers  # the smoke run (python -m bench) starts servers of its own
def test_bench_smoke_measures_every_figure(smoke: tuple) -> None:
    result, _ = smoke
    output = result.stdout + result.stderr
    for name in FIGURE_NAMES + REDIS_FIGURE_NAMES:
        assert name in result.stdout, f"{name!r} missing from the bench output:\n{output[-3000:]}"
    assert "bench: ok" in result.stdout
    assert "wrote " not in result.stdout  # --no-write: neither results nor docs


@pytest.mark.servers  # the smoke run (python -m bench) starts servers of its own
def test_bench_smoke_checks_the_redis_results(smoke: tuple) -> None:
    _, results = smoke
    redis = results["redis"]
    assert [s["keys"] for s in redis["sizes"]] == [2000]
    size = redis["sizes"][0]
    assert all(c["ok"] for c in size["checks"]), size["checks"]
    for key in ("bigkeys", "scan_floor", "plan", "scan_only"):
        fig = size["figures"][key]
        assert fig["ok"] and fig["runs"] == 1, (key, fig["errors"])
        assert fig["peak_rss_mib"] > 0 and fig["median_server_cpu_s"] is not None
    # the plan's up file held an EXPIRE per key generated without TTL (checked by the bench)
    assert size["shape"]["without_ttl"] == 32 and size["shape"]["legacy"] == 20
    assert size["figures"]["plan"]["commands"]["pexpiretime"] == 2000
    assert size["plan_files"]["up.redis"] > 0
    assert size["profile"]["phases"]["phases_s"]["keyspace scan"] > 0
    assert size["derived"]["plan_vs_bigkeys"] is not None
    for key in ("plan_empty", "scan_only_empty", "cli_imports"):  # the fixed costs
        assert redis["baselines"][key]["peak_rss_mib"] > 0, redis["baselines"]
    # the violations figure: half the keys without TTL, every run checked by the bench
    v = redis["violations"]
    assert (v["keys"], v["violating"]) == (2000, 1000)
    assert all(c["ok"] for c in v["checks"]) and v["figure"]["ok"], v
    assert v["figure"]["runs"] == 1 and v["peak_rss_mb"] > 0 and v["target_met"] is not None
    assert v["plan_files"]["up.redis"] > 0 and v["plan_files"]["plan.json"] > 0


@pytest.mark.servers  # the smoke run (python -m bench) starts servers of its own
def test_bench_smoke_renders_the_redis_section(smoke: tuple) -> None:
    from bench import docgen

    _, results = smoke
    page = docgen.render(results, "smoke.json")
    for heading in (
        "## Redis: how it was measured",
        "### 2,000 keys",
        "## Redis: what dominates each figure (2,000 keys)",
        "## Redis: profile of the plan (2,000 keys)",
        "## Redis: a plan with 1,000 keys to fix",
        "## PostgreSQL: results",
    ):
        assert heading in page, heading
    assert (
        "- **Redis, 2,000 keys** (`reconciler plan --redis`): plan / redis-cli --bigkeys =" in page
    )
    assert "**FAILED**" not in page
    assert "- **Redis plan, 2,000 keys of which 1,000 without their TTL**: peak RSS" in page


@pytest.mark.servers  # the smoke run (python -m bench) starts servers of its own
def test_bench_smoke_measures_beyond_one_server(smoke: tuple) -> None:
    _, results = smoke
    beyond = results["beyond"]
    assert beyond["failures"] == []
    fleet, scan = beyond["fleet_drift"], beyond["cluster_scan"]
    assert fleet["databases"] == 4
    assert all(c["ok"] for c in fleet["checks"] + scan["checks"]), fleet["checks"] + scan["checks"]
    for key in ("sequential", "fleet_p4", "fleet_p1", "fleet_p8"):
        fig = fleet["figures"][key]
        assert fig["ok"] and fig["runs"] == 1 and fig["median_s"] > 0, (key, fig["errors"])
    for key in ("single", "cluster"):
        fig = scan["figures"][key]
        assert fig["ok"] and fig["runs"] == 1, (key, fig["errors"])
        assert fig["median_server_cpu_s"] is not None
    assert scan["keys"] == 2000 and sum(scan["keys_per_primary"].values()) == 2000
    assert "the cluster's scan reports what the single server's does" in {
        c["name"] for c in scan["checks"]
    }
    d = beyond["derived"]
    assert d["fleet_p4_vs_sequential"] is not None and d["cluster_vs_single"] is not None
    t = d["targets"]["fleet_drift_vs_sequential"]
    assert t["value"] == d["fleet_p4_vs_sequential"] and t["target"] is None  # set for 20 only


@pytest.mark.servers  # the smoke run (python -m bench) starts servers of its own
def test_bench_smoke_renders_the_beyond_section(smoke: tuple) -> None:
    from bench import docgen

    _, results = smoke
    page = docgen.render(results, "smoke.json")
    for heading in (
        "## Beyond one server: how it was measured",
        "### Fleet drift: 4 databases of 20 tables",
        "### Redis Cluster scan: 2,000 keys",
        "**What this figure means on this machine.**",
    ):
        assert heading in page, heading
    assert "- **Fleet drift, 4 databases of 20 tables**: fleet drift of 4 databases" in page
    assert "- **Redis Cluster scan, 2,000 keys**: scan_keyspace on 3 primaries took" in page


def test_cluster_slot_of_a_key_is_redis_clusters() -> None:
    """The bench routes keys as Redis Cluster does (values from the cluster specification)."""
    from bench.beyond_cluster import key_slot

    assert key_slot(b"123456789") == 0x31C3 % 16384  # the CRC16 XMODEM check value
    assert key_slot(b"somekey") == 11058
    assert key_slot(b"foo{hash_tag}") == key_slot(b"bar{hash_tag}") == 2515
    # an empty {} is no hash tag: the whole key is hashed
    assert key_slot(b"foo{}{bar}") == binascii.crc_hqx(b"foo{}{bar}", 0) % 16384
    assert key_slot(b"foo{{bar}}zap") == key_slot(b"{bar")  # the first {...}: "{bar"
