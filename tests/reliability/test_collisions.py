"""Collisions: many applies at once, of the same plan and of different plans. Exactly one
applies each version; every other run waits or fails naming the holder, or is refused as
already applied or stale; nothing is ever run twice."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from reconciler.state.postgres import PgState
from tests.helpers import run_cli, write_yaml
from tests.reliability.conftest import ROOT, trials
from tests.reliability.project import write_project

FAMILY = "Collisions"
RUNS = 16


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _together(argvs: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=len(argvs)) as pool:
        return list(pool.map(lambda a: _run(a, cwd), argvs))


def _classify(res: subprocess.CompletedProcess[str]) -> str:
    err = " ".join(res.stderr.split())
    if res.returncode == 0 and "Apply complete!" in res.stdout:
        return "applied"
    if "already applied, by another plan" in err:
        return "refused: its version was taken by another plan"
    if "already applied" in err:
        return "refused: already applied"
    if "holds the" in err or "Locked by" in err:
        return "failed naming the lock holder"
    if "changed since this plan was made" in err:
        return "refused: stale plan"
    return f"other (exit {res.returncode}): {err[:200]}"


def _plan(pg: str, schemas: Path, out: Path, cwd: Path) -> Path:
    r = run_cli("plan", "--pg", pg, "--schemas", str(schemas), "--out", str(out), cwd=cwd)
    assert r.code == 0, r.text
    (plan,) = out.glob("*.plan.json")
    return plan


def test_sixteen_applies_of_the_same_plan(make_pg_database, pg_dump_schema, tmp_path, outcomes):
    schemas = write_project(tmp_path, tables=15, redis_keys=False)
    for trial in range(trials(quick=1, full=5)):
        pg = make_pg_database()
        plan = _plan(pg, schemas, tmp_path / f"plans{trial}", tmp_path)
        argv = ["apply", "--plan", str(plan), "--pg", pg, "--auto-approve", "--lock-timeout", "60"]
        results = _together([argv] * RUNS, tmp_path)
        kinds = [_classify(r) for r in results]
        assert kinds.count("applied") == 1, kinds
        assert all(k in ("applied", "refused: already applied") for k in kinds), kinds
        with psycopg.connect(pg, autocommit=True) as conn:
            history = PgState(conn).history()
            assert len(history) == 1 and history[0].status == "applied"
            # the DDL ran once: one relation per table, no duplicate work left behind
            n = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            assert n.fetchone()[0] == 15
        for k in kinds:
            outcomes.add(f"{RUNS} concurrent applies of the same saved plan", k, family=FAMILY)


def test_sixteen_applies_of_different_plans(make_pg_database, tmp_path, outcomes):
    """Sixteen plans made against the same empty database, each adding a different table: one
    applies; the others find the catalog changed under them and are refused as stale."""
    for trial in range(trials(quick=1, full=5)):
        pg = make_pg_database()
        argvs = []
        for i in range(RUNS):
            schemas = tmp_path / f"t{trial}" / f"s{i}"
            write_yaml(
                schemas,
                f"tables/only_{i}.yaml",
                f"table: only_{i}\ncolumns: [{{name: id, type: bigint}}]\n",
            )
            plan = _plan(pg, schemas, tmp_path / f"t{trial}" / f"p{i}", tmp_path)
            argvs.append(["apply", "--plan", str(plan), "--pg", pg, "--auto-approve"])
        results = _together(argvs, tmp_path)
        kinds = [_classify(r) for r in results]
        assert kinds.count("applied") == 1, kinds
        known = (
            "applied",
            "refused: stale plan",
            "refused: its version was taken by another plan",
            "failed naming the lock holder",
        )
        assert all(k in known for k in kinds), [k for k in kinds if k not in known]
        with psycopg.connect(pg, autocommit=True) as conn:
            assert len(PgState(conn).history()) == 1
            n = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            assert n.fetchone()[0] == 1
        for k in kinds:
            outcomes.add(f"{RUNS} concurrent applies of different plans", k, family=FAMILY)


def test_a_plan_applied_twice_is_refused_the_second_time(make_pg_database, tmp_path, outcomes):
    schemas = write_project(tmp_path, tables=3, redis_keys=False)
    pg = make_pg_database()
    plan = _plan(pg, schemas, tmp_path / "plans", tmp_path)
    first = run_cli("apply", "--plan", str(plan), "--pg", pg, "--auto-approve", cwd=tmp_path)
    assert first.code == 0, first.text
    second = run_cli("apply", "--plan", str(plan), "--pg", pg, "--auto-approve", cwd=tmp_path)
    assert second.code == 1 and "already applied" in second.err, second.text
    outcomes.add(
        "the same plan applied twice, one after the other", "second refused", family=FAMILY
    )


def test_a_plan_never_takes_the_version_of_a_recorded_apply(make_pg_database, tmp_path, outcomes):
    """Versions are UTC seconds: a plan made in the second of the last apply once shared its
    version and was then refused as "already applied"."""
    from dataclasses import replace

    from reconciler.pipeline.planner import unused_version
    from reconciler.plan.files import read_plan

    pg = make_pg_database()
    v1 = write_project(tmp_path / "v1", tables=1, redis_keys=False)
    r = run_cli("apply", "--pg", pg, "--schemas", str(v1), "--out", str(tmp_path / "p1"),
                "--auto-approve", cwd=tmp_path)  # fmt: skip
    assert r.code == 0, r.text
    v2 = write_project(tmp_path / "v2", tables=2, redis_keys=False)
    plan = _plan(pg, v2, tmp_path / "p2", tmp_path)
    with psycopg.connect(pg, autocommit=True) as conn:
        state = PgState(conn)
        (applied,) = state.history()
        taken = replace(read_plan(plan), version=applied.version)
        assert unused_version(taken, state).version > applied.version
    assert read_plan(plan).version > applied.version
    r = run_cli("apply", "--plan", str(plan), "--pg", pg, "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    outcomes.add("a plan made in the same second as an apply", "own version, applied",
                 family=FAMILY)  # fmt: skip
