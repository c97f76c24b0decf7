"""`python -m bench [--pg-sizes 100,1000] [--redis-sizes 100000,1000000] [--runs 5] [--smoke]`.

Postgres: per table count, pg_dump against the no-op plan, export, full plan, apply and psql.
Redis: per keyspace size, redis-cli --bigkeys against `reconciler plan --redis`, a bare SCAN
loop and scan_keyspace alone. Beyond one server: fleet drift over 20 databases against 20
single-database drift runs, and scan_keyspace on a 3-primary Redis Cluster against a single
server (1M keys). Results go to bench/results/*.json and docs/benchmarks.md.

Exit 0 when every measured command ran and gave the right result (targets may still be
missed: that is reported, not an error); 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import beyond, docgen, redis_violations, report
from bench.beyond_cluster import measure_cluster_scan
from bench.beyond_fleet import measure_fleet
from bench.cluster import BenchCluster, bench_cluster, bench_root, client_binary
from bench.machine import describe, redis_packages
from bench.measure import rss_method, run_process
from bench.redis_bench import SMOKE_KEYS, RedisBench, RedisOptions, bench_redis, redis_cli_binary
from bench.runner import PROJECT_ROOT, Bench, Options, Workspace
from reconciler.errors import ReconcilerError

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
DOC_PATH = PROJECT_ROOT / "docs" / "benchmarks.md"
PROFILE_SIZE = 1000
REDIS_PROFILE_SIZE = 1_000_000


def _counts(what: str, minimum: int) -> Any:
    def parse(text: str) -> list[int]:
        try:
            sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a list of {what}: {text!r}") from None
        if not sizes or sizes[0] < minimum:
            raise argparse.ArgumentTypeError(f"sizes are {what} of at least {minimum}")
        return sizes

    return parse


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument(
        "--pg-sizes",
        "--sizes",
        dest="sizes",
        type=_counts("table counts", 2),
        default=[100, 1000, 5000],
        help="Postgres table counts (100,1000,5000)",
    )
    p.add_argument(
        "--redis-sizes",
        type=_counts("key counts", 1000),
        default=[100_000, 1_000_000],
        help="Redis keyspace sizes (100000,1000000)",
    )
    p.add_argument("--runs", type=int, default=5, help="repetitions of each Postgres figure (5)")
    p.add_argument(
        "--smoke",
        action="store_true",
        help=f"one size of 20 tables and one of {SMOKE_KEYS:,} keys, 1 repetition",
    )
    p.add_argument("--no-pg", action="store_true", help="skip the Postgres part")
    p.add_argument("--no-redis", action="store_true", help="skip the Redis part")
    p.add_argument(
        "--no-beyond",
        action="store_true",
        help="skip the part beyond one server (fleet drift, Redis Cluster scan)",
    )
    p.add_argument("--no-write", action="store_true", help="do not write results or docs")
    p.add_argument("--json-out", type=Path, help="also write the results JSON to this file")
    p.add_argument("--no-profile", action="store_true", help="skip phase timings and cProfile")
    p.add_argument(
        "--render-only",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: write docs/benchmarks.md again from a recorded run's results",
    )
    args = p.parse_args(argv)
    if args.smoke:
        args.sizes, args.runs, args.redis_sizes = [20], 1, [SMOKE_KEYS]
    if args.runs < 1:
        p.error("--runs must be at least 1")
    if args.no_pg and args.no_redis and args.no_beyond:
        p.error("--no-pg, --no-redis and --no-beyond leave nothing to measure")
    return args


def _versions(cluster: BenchCluster, pg_dump: str) -> tuple[str, str]:
    server = cluster.query("SHOW server_version")[0][0]
    dump = run_process([pg_dump, "--version"]).stdout.strip()
    return server, dump


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _pg_part(
    args: argparse.Namespace, ws: Workspace, console: Console, machine: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    profile_size = None
    if not args.no_profile:
        profile_size = PROFILE_SIZE if PROFILE_SIZE in args.sizes else max(args.sizes)
    opts = Options(args.sizes, args.runs, smoke=args.smoke, profile_size=profile_size)
    sizes: list[dict[str, Any]] = []
    failures: list[str] = []
    with bench_cluster(ws.root) as cluster:
        bench = Bench(cluster, opts, console, ws)
        server_version, dump_version = _versions(cluster, bench.pg_dump)
        machine["postgresql"], machine["pg_dump"] = server_version, dump_version
        for n in args.sizes:
            try:
                res = bench.run_size(n)
            except Exception as exc:  # reported as a failure of this size, the run goes on
                failures.append(f"{n} tables: {type(exc).__name__}: {exc}")
                continue
            failures += res.failures
            size = res.to_dict()
            size["derived"] = report.derive(size)
            sizes.append(size)
    return sizes, failures


def _redis_part(args: argparse.Namespace, ws: Workspace, machine: dict[str, Any]) -> dict[str, Any]:
    profile_size = None
    if not args.no_profile:
        sizes = args.redis_sizes
        profile_size = REDIS_PROFILE_SIZE if REDIS_PROFILE_SIZE in sizes else max(sizes)
    opts = RedisOptions(args.redis_sizes, smoke=args.smoke, profile_size=profile_size)
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    baselines: dict[str, Any] = {}
    violations: dict[str, Any] = {}
    with bench_redis(ws.root) as server:
        rb = RedisBench(ws, server, opts)
        try:
            machine["redis"] = {**rb.versions(), **redis_packages()}
            baselines = rb.baselines(runs=1 if args.smoke else 3)
            for n in args.redis_sizes:
                try:
                    res = rb.run_size(n)
                except Exception as exc:  # reported as a failure of this size, the run goes on
                    failures.append(f"{n:,} keys: {type(exc).__name__}: {exc}")
                    continue
                failures += res.failures
                size = res.to_dict()
                size["derived"] = report.derive_redis(size)
                results.append(size)
            try:
                violations = redis_violations.run_violations(rb, smoke=args.smoke)
                failures += redis_violations.failures(violations)
            except Exception as exc:  # a failure of this figure, the others still count
                failures.append(f"violations figure: {type(exc).__name__}: {exc}")
        finally:
            rb.close()
    return {
        "options": {
            "sizes": args.redis_sizes,
            "runs": {str(n): opts.runs(n) for n in args.redis_sizes},
        },
        "baselines": baselines,
        "sizes": results,
        "growth": report.redis_growth(results),
        "violations": violations,
        "failures": failures,
    }


def _beyond_part(
    args: argparse.Namespace, ws: Workspace, machine: dict[str, Any]
) -> dict[str, Any]:
    """Fleet drift and the Redis Cluster scan; each may fail without stopping the other."""
    opts = beyond.BeyondOptions.for_run(smoke=args.smoke)
    out: dict[str, Any] = {"options": opts.to_dict(), "failures": []}
    measures = (
        ("fleet_drift", beyond.FLEET, measure_fleet),
        ("cluster_scan", beyond.CLUSTER, measure_cluster_scan),
    )
    for key, name, measure in measures:
        out[key] = None
        try:
            part = measure(ws, opts)
        except Exception as exc:  # e.g. no redis-cli: the other measurement still counts
            out["failures"].append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        out[key] = part.to_dict()
        out["failures"] += part.failures
    # the servers' versions, when the Postgres or the Redis part did not record them
    fleet, scan = out["fleet_drift"] or {}, out["cluster_scan"] or {}
    try:
        if not machine.get("postgresql") and fleet.get("postgresql"):
            dump = run_process([client_binary("pg_dump"), "--version"]).stdout.strip()
            machine["postgresql"], machine["pg_dump"] = fleet["postgresql"], dump
        if not machine.get("redis") and scan.get("redis"):
            cli = run_process([redis_cli_binary(), "--version"]).stdout.strip()
            machine["redis"] = {"server": scan["redis"], "redis_cli": cli, **redis_packages()}
    except (OSError, ReconcilerError):  # a missing client binary: the figures still stand
        pass
    out["derived"] = beyond.derive(out)
    return out


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.render_only is not None:
        results = json.loads(args.render_only.read_text(encoding="utf-8"))
        DOC_PATH.write_text(docgen.render(results, args.render_only.name), encoding="utf-8")
        print(f"wrote {DOC_PATH.relative_to(PROJECT_ROOT)} from {args.render_only}")
        return 0
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:  # a pipe or a file: 80 columns would wrap every label
        console = Console(highlight=False, soft_wrap=True, width=120)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    parts = []
    if not args.no_pg:
        parts.append(f"Postgres sizes {args.sizes} ({args.runs} run(s) per figure)")
    if not args.no_redis:
        parts.append(f"Redis sizes {args.redis_sizes}")
    if not args.no_beyond:
        o = beyond.BeyondOptions.for_run(smoke=args.smoke)
        parts.append(
            f"beyond one server ({o.databases} databases, {o.keys:,} keys, {o.runs} run(s))"
        )
    console.print("reconciler bench: " + ", ".join(parts))
    sizes: list[dict[str, Any]] = []
    failures: list[str] = []
    redis_results: dict[str, Any] | None = None
    beyond_results: dict[str, Any] | None = None
    with bench_root() as root:
        ws = Workspace(root, console)
        machine = describe(PROJECT_ROOT)
        machine["server_data_dir"] = str(root)
        machine["code_sha256"] = ws.code_digest
        machine["peak_rss_method"] = rss_method()
        machine["load_average_start"] = _loadavg()
        if not args.no_pg:
            sizes, failures = _pg_part(args, ws, console, machine)
        if not args.no_redis:
            try:
                redis_results = _redis_part(args, ws, machine)
                failures += redis_results["failures"]
            except Exception as exc:  # e.g. redis-server missing: the Postgres part still counts
                failures.append(f"Redis: {type(exc).__name__}: {exc}")
        if not args.no_beyond:
            beyond_results = _beyond_part(args, ws, machine)
            failures += beyond_results["failures"]
    machine["load_average_end"] = _loadavg()
    results: dict[str, Any] = {
        "format": 2,
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 1),
        "options": {
            "sizes": [] if args.no_pg else args.sizes,
            "runs": args.runs,
            "smoke": args.smoke,
            "redis_sizes": [] if args.no_redis else args.redis_sizes,
            "beyond": not args.no_beyond,
        },
        "machine": machine,
        "targets": {
            **{key: goals for key, _, _, _, _, goals in report.PG_RATIO_TARGETS},
            "catalog_queries": report.TARGET_CATALOG_QUERIES,
            "help_s": report.TARGET_HELP_S,
            "noop_growth_1000_to_5000": report.TARGET_NOOP_GROWTH,
            "redis_plan_vs_bigkeys": report.TARGET_PLAN_VS_BIGKEYS,
            "redis_plan_vs_scan_loop": report.TARGET_PLAN_VS_SCAN,
            "redis_rss_growth": report.TARGET_RSS_GROWTH,
            "fleet_drift_vs_sequential": beyond.TARGET_FLEET_VS_SEQUENTIAL,
        },
        "sizes": sizes,
        "growth": report.growth(sizes),
        "growth_targets": report.growth_targets(report.growth(sizes)),
        "redis": redis_results,
        "beyond": beyond_results,
        "failures": failures,
        "ok": not failures,
    }
    if redis_results is not None:
        redis_results["targets"] = report.redis_targets(redis_results)
    results["target_misses"] = report.target_misses(results)
    console.print()
    if sizes:
        report.print_table(results, console)
    if redis_results is not None:
        report.print_redis_table(results, console)
    if beyond_results is not None:
        beyond.print_table(beyond_results, console)
    if not args.no_write:
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        path = report.write_json(results, RESULTS_DIR, stamp)
        DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
        DOC_PATH.write_text(docgen.render(results, path.name), encoding="utf-8")
        console.print(
            f"wrote {path.relative_to(PROJECT_ROOT)}, bench/results/latest.json and "
            f"{DOC_PATH.relative_to(PROJECT_ROOT)}"
        )
    if args.json_out is not None:
        args.json_out.write_text(report.dumps(results), encoding="utf-8")
    for miss in results["target_misses"]:
        console.print(f"[yellow]target missed[/]: {miss}")
    for failure in failures:
        console.print(f"[red]FAILED[/]: {failure}")
    console.print("bench: " + ("ok" if not failures else f"{len(failures)} failure(s)"))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
