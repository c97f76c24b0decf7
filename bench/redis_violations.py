"""The Redis violations figure: a plan whose keys to fix are half the keyspace.

200,000 cache strings (bench/keyspace_gen.py `write_violations_resp`) in database 2 of the
bench's Redis, every second one without its TTL: `reconciler plan --redis` must EXPIRE exactly
those 100,000 keys. The plan streams them (the scan spills them to disk, the plan files are
written line by line), so its peak RSS must stay within TARGET_MB whatever their number; each
run is checked (the files EXPIRE exactly the violating keys, the down file PERSISTs them back,
the .plan.json lists as many) and timed and measured like the other Redis figures.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from bench import redis_verify
from bench.keyspace_gen import VIOLATIONS_KEYS, write_violations_resp
from bench.measure import Figure
from bench.redis_bench import _file_sizes
from bench.report import fmt_mib, fmt_n, fmt_s, verdict
from bench.runner import NA, load1

DB = 2  # the sizes use database 0 (and FLUSHALL before each), the empty baselines database 1
TARGET_MB = 80  # decimal megabytes (80,000,000 bytes) of peak RSS
LABEL = "reconciler plan --redis, half the keys without their TTL"


def run_violations(rb: Any, *, smoke: bool = False) -> dict[str, Any]:
    """Load the keyspace in database DB of `rb`'s server (a RedisBench), measure the plan
    (3 runs; 1 in a smoke run, over 2,000 keys) and check every run; the database is
    emptied afterwards."""
    n = 2000 if smoke else VIOLATIONS_KEYS
    runs = 1 if smoke else 3
    base: Path = rb.ws.work / "redis_violations"
    base.mkdir(exist_ok=True)
    out: dict[str, Any] = {"keys": n, "db": DB, "target_mb": TARGET_MB, "checks": []}
    fig = Figure("plan_violations", LABEL)
    try:
        rb.ws.say(f"Redis: {n:,} keys, half without their TTL: the plan {runs} time(s)")
        admin = rb.admin
        admin.flushall()  # every database: what the sizes loaded too
        resp = base / "violations.resp"
        t0 = time.perf_counter()
        expected = write_violations_resp(n, resp)
        out["setup_s"] = {"generate the RESP file": round(time.perf_counter() - t0, 3)}
        load = rb.ws.run([*rb.cli_argv, "-n", str(DB), "--pipe"], stdin=resp)
        out["setup_s"]["load it with redis-cli --pipe"] = round(load.wall_s, 3)
        violating = sum(len(keys) for keys in expected.values())
        out["violating"] = violating
        problem = rb._pipe_problem(load)
        if problem is None:
            info = admin.info("keyspace").get(f"db{DB}", {})
            got = (info.get("keys", 0), info.get("expires", 0))
            want = (n, n - violating)
            problem = None if got == want else f"keys/expires {got}, expected {want}"
        out["checks"].append(_check("load the violations keyspace", problem))
        if problem is None:
            fig.load.append(load1())
            for rep in range(runs):
                plan_dir = base / f"plan_{rep}"
                argv = ["plan", "--redis", rb.server.url(DB), "--schemas", str(rb.spec)]
                run = rb.ws.reconciler(*argv, "--out", str(plan_dir))
                problem = (
                    redis_verify.violations_problem(run.stdout, plan_dir, expected)
                    if run.ok
                    else None
                )
                if fig.record(run, problem) and "plan_files" not in out:
                    out["plan_files"] = _file_sizes(plan_dir)
                shutil.rmtree(plan_dir, ignore_errors=True)
                if fig.errors:
                    break
            fig.load.append(load1())
    finally:
        rb.admin.flushall()
        shutil.rmtree(base, ignore_errors=True)
    out["figure"] = fig.to_dict()
    peak = out["figure"]["peak_rss_mib"]
    out["peak_rss_mb"] = round(peak * 2**20 / 1e6, 1) if peak is not None else None
    out["target_met"] = peak is not None and not fig.errors and out["peak_rss_mb"] <= TARGET_MB
    return out


def failures(result: dict[str, Any]) -> list[str]:
    """What went wrong in the figure, one sentence each (empty when every run was right)."""
    n = f"{result.get('keys', 0):,} keys, half without TTL"
    out = [f"{n}, {c['name']}: {c['detail']}" for c in result.get("checks", []) if not c["ok"]]
    fig = result.get("figure") or {}
    return out + [f"{n}, {fig.get('label', LABEL)}: {e}" for e in fig.get("errors", [])]


def _check(name: str, problem: str | None) -> dict[str, Any]:
    return {"name": name, "ok": problem is None, "detail": problem or "ok"}


# ------------------------------------------------------------------ docs/benchmarks.md


def _verdict(v: dict[str, Any]) -> str:
    return f"target ≤ {TARGET_MB} MB: {verdict(v.get('target_met'))}"


def summary_line(v: dict[str, Any]) -> list[str]:
    """The summary's line of the figure; nothing when it did not run."""
    fig = v.get("figure") or {}
    if not fig.get("ok"):
        return []
    return [
        f"- **Redis plan, {fmt_n(v['keys'])} keys of which {fmt_n(v['violating'])} without "
        f"their TTL**: peak RSS {v['peak_rss_mb']} MB ({fmt_mib(fig['peak_rss_mib'])}; "
        f"{_verdict(v)}); the plan took {fmt_s(fig['median_s'])} and EXPIREs exactly them."
    ]


def section(v: dict[str, Any]) -> list[str]:
    """The figure's section: how it is made, its row, its files, its checks."""
    fig = v.get("figure") or {}
    if not v:
        return []
    files = v.get("plan_files") or {}
    sizes = ", ".join(
        f"{name} {fmt_n(round(size / 1024))} KiB" for name, size in sorted(files.items())
    )
    out = [
        f"## Redis: a plan with {fmt_n(v.get('violating', 0))} keys to fix",
        "",
        f"{fmt_n(v['keys'])} cache strings of about 100 bytes (`bench/keyspace_gen.py` "
        "`write_violations_resp`, loaded with `redis-cli --pipe` into database "
        f"{v['db']} of the same server), every second one without its TTL: "
        f"{fmt_n(v.get('violating', 0))} keys break their pattern's policy, and the plan must "
        "EXPIRE exactly them. The keys to fix are streamed: the scan keeps at most a few "
        "thousand of them in memory and spills the rest, sorted, to an anonymous temporary "
        "file; the `.redis` files and the `.plan.json` are written line by line from it. Each "
        "run is checked: one change, an EXPIRE with the pattern's TTL for every violating key "
        "and no other (none twice), a PERSIST back for each in the down file, as many EXPIREs "
        "in the `.plan.json`, the sha256 it records equal to the files', no finding. Peak RSS "
        "is the largest of the runs (GNU time %M).",
        "",
        "| figure | median | min | max | peak RSS | client CPU | runs | load before → after "
        "| verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    if fig.get("ok"):
        out.append(
            f"| {LABEL} | {fmt_s(fig['median_s'])} | {fmt_s(fig['min_s'])} | "
            f"{fmt_s(fig['max_s'])} | {v['peak_rss_mb']} MB ({fmt_mib(fig['peak_rss_mib'])}) "
            f"| {fmt_s(fig['median_cpu_s'])} | {fig['runs']} | {_load(fig)} | {_verdict(v)} |"
        )
    else:
        errors = "; ".join(fig.get("errors") or [c["detail"] for c in v.get("checks", [])])
        out.append(f"| {LABEL} | {' | '.join([NA] * 5)} | 0 | {NA} | **FAILED**: {errors} |")
    out.append("")
    if sizes:
        out += [f"- plan files: {sizes}", ""]
    setup = v.get("setup_s") or {}
    if setup:
        said = ", ".join(f"{k} {fmt_s(t)}" for k, t in setup.items())
        out += [f"- setup (not a figure): {said}", ""]
    return out


def _load(fig: dict[str, Any]) -> str:
    load = fig.get("load_1min") or []
    return f"{load[0]:.1f} → {load[-1]:.1f}" if load else NA


def checks(v: dict[str, Any]) -> list[str]:
    """The figure's checks, one line each, for the list of every check."""
    if not v:
        return []
    n = f"{fmt_n(v['keys'])} keys, half without TTL"
    out = [
        f"- {n}, {c['name']}: {'ok' if c['ok'] else '**FAILED**: ' + c['detail']}"
        for c in v.get("checks", [])
    ]
    fig = v.get("figure")
    if fig is not None:
        mark = "ok" if fig["ok"] else "**FAILED**: " + "; ".join(fig["errors"])
        out.append(f"- {n}, {LABEL}, every run: {mark}")
    return out
