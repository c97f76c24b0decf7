"""`python -m bench [--sizes 100,1000] [--runs 5] [--smoke] [--no-write]`.

Exit 0 when every measured command ran and gave the right result (targets may still be
missed: that is reported, not an error); 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from bench import docgen, report
from bench.cluster import BenchCluster, bench_cluster
from bench.machine import describe
from bench.measure import rss_method, run_process
from bench.runner import PROJECT_ROOT, Bench, Options

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
DOC_PATH = PROJECT_ROOT / "docs" / "benchmarks.md"
PROFILE_SIZE = 1000


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of table counts: {text!r}") from None
    if not sizes or sizes[0] < 2:
        raise argparse.ArgumentTypeError("sizes are table counts of at least 2")
    return sizes


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=_sizes, default=[100, 1000], help="table counts (100,1000)")
    p.add_argument("--runs", type=int, default=5, help="repetitions of each figure (5)")
    p.add_argument("--smoke", action="store_true", help="one size of 20 tables, 1 repetition")
    p.add_argument("--no-write", action="store_true", help="do not write results or docs")
    p.add_argument("--no-profile", action="store_true", help="skip phase timings and cProfile")
    args = p.parse_args(argv)
    if args.smoke:
        args.sizes, args.runs = [20], 1
    if args.runs < 1:
        p.error("--runs must be at least 1")
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


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:  # a pipe or a file: 80 columns would wrap every label
        console = Console(highlight=False, soft_wrap=True, width=120)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    profile_size = None
    if not args.no_profile:
        profile_size = PROFILE_SIZE if PROFILE_SIZE in args.sizes else max(args.sizes)
    opts = Options(args.sizes, args.runs, smoke=args.smoke, profile_size=profile_size)
    console.print(f"reconciler bench: sizes {args.sizes}, {args.runs} run(s) per figure")
    sizes: list[dict[str, Any]] = []
    failures: list[str] = []
    with bench_cluster() as cluster:
        bench = Bench(cluster, opts, console)
        server_version, dump_version = _versions(cluster, bench.pg_dump)
        machine = describe(PROJECT_ROOT, server_version, dump_version)
        machine["server_data_dir"] = str(cluster.root)
        machine["code_sha256"] = bench.code_digest
        machine["peak_rss_method"] = rss_method()
        machine["load_average_start"] = _loadavg()
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
    machine["load_average_end"] = _loadavg()
    results: dict[str, Any] = {
        "format": 1,
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 1),
        "options": {"sizes": args.sizes, "runs": args.runs, "smoke": args.smoke},
        "machine": machine,
        "targets": {
            "noop_plan_vs_pg_dump": report.TARGET_NOOP_VS_DUMP,
            "catalog_queries": report.TARGET_CATALOG_QUERIES,
        },
        "sizes": sizes,
        "growth": report.growth(sizes),
        "failures": failures,
        "ok": not failures,
    }
    results["target_misses"] = report.target_misses(results)
    console.print()
    report.print_table(results, console)
    if not args.no_write:
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        path = report.write_json(results, RESULTS_DIR, stamp)
        DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
        DOC_PATH.write_text(docgen.render(results, path.name), encoding="utf-8")
        console.print(
            f"wrote {path.relative_to(PROJECT_ROOT)}, bench/results/latest.json and "
            f"{DOC_PATH.relative_to(PROJECT_ROOT)}"
        )
    for miss in results["target_misses"]:
        console.print(f"[yellow]target missed[/]: {miss}")
    for failure in failures:
        console.print(f"[red]FAILED[/]: {failure}")
    console.print("bench: " + ("ok" if not failures else f"{len(failures)} failure(s)"))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
