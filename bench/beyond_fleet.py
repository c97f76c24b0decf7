"""Fleet drift: one `reconciler drift` over N databases, against N single-database drift runs.

Setup, in a PostgreSQL of its own (bench/cluster.py, a data directory under the run's root):
the schema of bench/schema_gen.py is loaded into a source database and exported (the desired
state), applied with `reconciler apply` to an empty template database — which records the
apply in that database's state schema — and the N databases are created from the template
(CREATE DATABASE … TEMPLATE copies the schema and the recorded state). So every database has
the desired schema and a last recorded apply that matches it: drift must find nothing, and a
run that finds something, or fails, fails the bench.

Measured, interleaved: the baseline (one `reconciler drift --pg URL --schemas DIR` process
per database, one after the other: the wall time of all N), then `reconciler drift --schemas
DIR --json --parallel P` run where a reconciler.yaml names the N databases as the environment
`fleet`, for P = 4 (the target's), 1 and 8. One unmeasured fleet drift first fills the local
cache (the loaded desired state) and every database's catalog caches for both.

The children's environment holds none of RECONCILER_PG_URL, DATABASE_URL, RECONCILER_REDIS_URL
or REDIS_URL (Workspace drops them): they would outrank the environment of reconciler.yaml.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.beyond import FLEET, FLEET_PARALLEL, BeyondOptions, Measured, Part, fleet_key, interleave
from bench.cluster import BenchCluster, bench_cluster, client_binary
from bench.measure import ProcessRun
from bench.runner import Workspace, X
from bench.schema_gen import generate_sql, shape
from bench.verify import export_problem

FLEET_ENV = "fleet"
NO_DRIFT = "No drift:"
TEMPLATE = "fleet_template"


def database_name(i: int) -> str:
    return f"fleet_db{i:02d}"


def target_name(i: int) -> str:
    return f"db{i:02d}"


def measure_fleet(ws: Workspace, opts: BeyondOptions) -> Part:
    part = Part(FLEET, info={"databases": opts.databases, "tables": opts.tables})
    base = ws.work / "beyond_fleet"
    base.mkdir()
    with bench_cluster(ws.root / "beyond") as cluster:
        part.info["postgresql"] = cluster.query("SHOW server_version")[0][0]
        setup = _setup(ws, part, cluster, opts, base)
        if setup is not None:
            _measure(ws, part, opts, base, *setup)
    return part


# --------------------------------------------------------------------------------- setup


def _setup(
    ws: Workspace, part: Part, cluster: BenchCluster, opts: BeyondOptions, base: Path
) -> tuple[Path, dict[str, str]] | None:
    """The desired state and the fleet's databases (target name → URL), or None on failure."""
    n, tables = opts.databases, opts.tables
    ws.say(f"{FLEET}: {n} databases of {tables} tables from one template")
    src = cluster.create_database("fleet_source")
    script = base / "schema.sql"
    script.write_text(generate_sql(tables), encoding="utf-8")
    psql = client_binary("psql")
    load = ws.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script), f"--dbname={src}"])
    part.setup["load the generated schema (psql)"] = load.wall_s
    if not part.check("load the generated schema", None if load.ok else load.failure()):
        return None
    desired = base / "desired"
    exp = ws.reconciler("export", "--pg", src, "--out", str(desired))
    part.setup["export (desired state)"] = exp.wall_s
    problem = exp.failure() if not exp.ok else export_problem(exp.stdout, desired, shape(tables))
    if not part.check("export of the generated schema (the desired state)", problem):
        return None
    cluster.drop_database("fleet_source")

    template = cluster.create_database(TEMPLATE)
    cwd = base / "apply"  # apply writes its logs under its working directory
    cwd.mkdir()
    argv = ("apply", "--pg", template, "--schemas", str(desired), "--auto-approve")
    applied = ws.reconciler(*argv, cwd=cwd)
    part.setup["apply to the template database"] = applied.wall_s
    problem = applied.failure() if not applied.ok else None
    if problem is None and "Apply complete!" not in applied.stdout:
        problem = f"no 'Apply complete!' in the output: {applied.stdout.strip()[-200:]!r}"
    if not part.check("apply of the desired state to the template (state recorded)", problem):
        return None

    t0 = time.perf_counter()
    urls = {
        target_name(i): cluster.create_database(database_name(i), template=TEMPLATE)
        for i in range(n)
    }
    part.setup[f"create {n} databases from the template"] = time.perf_counter() - t0
    return desired, urls


def write_config(path: Path, urls: dict[str, str], *, parallel: int) -> None:
    """reconciler.yaml whose default environment is the fleet of `urls`."""
    lines = ["version: 1", f"default_environment: {FLEET_ENV}", "environments:"]
    lines += [f"  {FLEET_ENV}:", "    pg:"]
    lines += [f'      - {{name: {name}, url: "{url}"}}' for name, url in urls.items()]
    lines.append(f"    parallel: {parallel}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------- measure


def _measure(
    ws: Workspace,
    part: Part,
    opts: BeyondOptions,
    base: Path,
    desired: Path,
    urls: dict[str, str],
) -> None:
    fleet_dir, single_dir = base / "fleet", base / "single"  # only the first has the yaml
    fleet_dir.mkdir()
    single_dir.mkdir()
    write_config(fleet_dir / "reconciler.yaml", urls, parallel=4)
    schemas = str(desired)
    names = list(urls)

    def fleet_run(parallel: int) -> ProcessRun:
        argv = ("drift", "--schemas", schemas, "--json", "--parallel", str(parallel))
        return ws.reconciler(*argv, cwd=fleet_dir, env={"RECONCILER_ENV": FLEET_ENV})

    warm = fleet_run(4)
    problem = warm.failure() if not warm.ok else fleet_problem(warm.stdout, names)[1]
    if not part.check(f"warm-up fleet drift: {len(names)} targets, all ok", problem):
        return

    in_process: dict[str, list[float]] = {}
    per_target: dict[str, list[float]] = {}
    singles: list[float] = []

    def sequential(rep: int) -> tuple[ProcessRun, str | None]:
        runs: list[ProcessRun] = []
        t0 = time.perf_counter()
        for name, url in urls.items():
            run = ws.reconciler("drift", "--pg", url, "--schemas", schemas, cwd=single_dir)
            runs.append(run)
            if not run.ok:  # exit 2 is drift: a wrong result, reported as the failure it is
                return _failed(run, name), None
        wall = time.perf_counter() - t0
        pairs = zip(urls, runs, strict=True)
        drifted = [
            f"{name}: {r.stdout.strip()[:160]!r}" for name, r in pairs if NO_DRIFT not in r.stdout
        ]
        singles.extend(r.wall_s for r in runs)
        total = ProcessRun(
            argv=("reconciler", "drift", "--pg", f"<each of {len(runs)}>"),
            returncode=0,
            wall_s=wall,
            peak_rss_kib=max(r.peak_rss_kib for r in runs),
            cpu_s=sum(r.cpu_s for r in runs),
            stdout="",
            stderr="",
        )
        if drifted:
            return total, f"{len(drifted)} run(s) without {NO_DRIFT!r}, e.g. {drifted[0]}"
        return total, None

    def fleet(parallel: int) -> Measured:
        key = fleet_key(parallel)

        def one(rep: int) -> tuple[ProcessRun, str | None]:
            run = fleet_run(parallel)
            if not run.ok:
                return run, None
            doc, problem = fleet_problem(run.stdout, names)
            if problem is None and doc is not None:
                in_process.setdefault(key, []).append(doc["seconds"])
                per_target.setdefault(key, []).extend(t["seconds"] for t in doc["targets"])
            return run, problem

        return one

    n = len(names)
    figures: list[tuple[str, str, Measured]] = [
        ("sequential", f"{n}{X} `drift --pg URL`, one after the other (baseline)", sequential)
    ]
    figures += [
        (fleet_key(p), f"fleet `drift` of {n} databases, --parallel {p}", fleet(p))
        for p in FLEET_PARALLEL
    ]
    interleave(ws, part, opts.runs, figures)
    part.info["single_run_median_s"] = _median(singles)
    part.info["fleet_in_process_median_s"] = {k: _median(v) for k, v in in_process.items()}
    part.info["per_target_median_s"] = {k: _median(v) for k, v in per_target.items()}


def fleet_problem(stdout: str, names: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    """The fleet's JSON document, and what is wrong with it: every target reported, all ok."""
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError:
        return None, f"expected the fleet's JSON document, got {stdout.strip()[:200]!r}"
    summary = doc.get("summary") or {}
    statuses = {t.get("name"): t.get("status") for t in doc.get("targets") or []}
    if summary.get("targets") != len(names) or sorted(statuses) != sorted(names):
        shown = ", ".join(map(str, sorted(statuses)[:4]))
        return doc, f"{summary.get('targets')} targets reported ({shown}…), expected {len(names)}"
    wrong = {name: status for name, status in statuses.items() if status != "ok"}
    if wrong or summary.get("ok") != len(names):
        first = next(iter(wrong.items()), None)
        return doc, f"not every target ok: summary {summary}, e.g. {first}"
    return doc, None


def _failed(run: ProcessRun, name: str) -> ProcessRun:
    """The baseline's failed run, naming its database (its last lines are what is reported)."""
    said = run.stderr.strip() or run.stdout.strip()
    return replace(run, stderr=f"{said}\n(database {name})")


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None
