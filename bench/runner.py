"""One benchmark run: per size, build the database, measure every figure, check every result."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import peers, profiling, snapshot, verify
from bench.cluster import BenchCluster, client_binary
from bench.measure import Figure, ProcessRun, run_process
from bench.querylog import CATALOG_RELATIONS_SQL, count_statements
from bench.schema_gen import SchemaShape, generate_sql, shape

PROJECT_ROOT = Path(__file__).resolve().parent.parent
X = "\u00d7"  # multiplication sign, for factors
NA = "\u2013"  # en dash, for a value that was not measured

FIGURES: tuple[tuple[str, str], ...] = (
    ("pg_dump", "pg_dump --schema-only (floor)"),
    ("noop_plan", "no-op plan"),
    ("noop_plan_cold", "no-op plan, cache off"),
    ("export", "export"),
    ("full_plan", "full plan from empty database"),
    ("apply", "apply --plan (the full plan) into empty database"),
    ("psql_up", "psql -1 -f of the up file"),
    ("migra", "migra no-op diff (peer)"),
    ("help", "reconciler --help (start-up)"),
)
LABELS = dict(FIGURES)
QUERY_COUNT_LABEL = "catalog queries (no-op plan)"
_APPLIED = re.compile(r"(\d+) added, (\d+) changed, (\d+) dropped")


@dataclass
class Options:
    sizes: list[int]
    runs: int
    smoke: bool = False
    profile_size: int | None = None  # None: no profile


@dataclass
class SizeResult:
    tables: int
    shape: SchemaShape
    figures: dict[str, Figure] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    setup: dict[str, float] = field(default_factory=dict)
    query_count: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    # A plan too big for the server's lock table: what the apply and psql -1 said about it.
    lock_trap: str | None = None

    @property
    def failures(self) -> list[str]:
        out = [
            f"{self.tables} tables, {c['name']}: {c['detail']}" for c in self.checks if not c["ok"]
        ]
        for f in self.figures.values():
            out += [f"{self.tables} tables, {f.label}: {e}" for e in f.errors]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": self.tables,
            "shape": asdict(self.shape),
            "setup_s": {k: round(v, 3) for k, v in self.setup.items()},
            "figures": {k: f.to_dict() for k, f in self.figures.items()},
            "query_count": self.query_count,
            "checks": self.checks,
            "profile": self.profile,
            "lock_trap": self.lock_trap,
        }


class Workspace:
    """The run's temporary directory, the frozen code under test, and how commands are started.

    Shared by the Postgres and the Redis parts: every measured command of one run starts from
    the same copy of `reconciler` with the same environment."""

    def __init__(self, root: Path, console: Console) -> None:
        self.root = root
        self.console = console
        self.work = root / "work"
        self.work.mkdir()
        frozen = root / "code"
        self.code_digest = snapshot.freeze(PROJECT_ROOT / "reconciler", frozen)
        # the frozen reconciler first; the project root after it, for bench.phases only
        paths = (str(frozen), str(PROJECT_ROOT), os.environ.get("PYTHONPATH"))
        path = os.pathsep.join(p for p in paths if p)
        self.env = {**os.environ, "PYTHONPATH": path, "NO_COLOR": "1", "COLUMNS": "200"}
        self.env["RECONCILER_CACHE_DIR"] = str(root / "cache")
        self.env.pop("RECONCILER_NO_CACHE", None)
        for name in ("RECONCILER_PG_URL", "DATABASE_URL", "RECONCILER_REDIS_URL", "REDIS_URL"):
            self.env.pop(name, None)
        self.started = time.perf_counter()

    def say(self, text: str) -> None:
        elapsed = time.perf_counter() - self.started
        self.console.print(f"[dim]{elapsed:6.1f} s[/] {text}", highlight=False)

    def run(
        self,
        argv: list[str],
        cwd: Path | None = None,
        stdin: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> ProcessRun:
        try:
            return run_process(
                argv, env={**self.env, **(env or {})}, cwd=cwd or self.work, stdin=stdin
            )
        except OSError as exc:
            return ProcessRun(tuple(argv), 127, 0.0, 0, 0.0, "", str(exc))

    def reconciler(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> ProcessRun:
        return self.run([sys.executable, "-m", "reconciler", *args], cwd=cwd, env=env)


class Bench:
    def __init__(
        self, cluster: BenchCluster, opts: Options, console: Console, ws: Workspace
    ) -> None:
        self.cluster = cluster
        self.opts = opts
        self.console = console
        self.ws = ws
        self.work = ws.work
        self.psql = client_binary("psql")
        self.pg_dump = client_binary("pg_dump")
        self.code_digest = ws.code_digest
        self.env = ws.env
        self._catalog: frozenset[str] | None = None

    # ---------------------------------------------------------------------------- helpers

    def say(self, text: str) -> None:
        self.ws.say(text)

    def run(self, argv: list[str], cwd: Path | None = None) -> ProcessRun:
        return self.ws.run(argv, cwd=cwd)

    def reconciler(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> ProcessRun:
        return self.ws.reconciler(*args, cwd=cwd, env=env)

    def psql_file(self, url: str, path: Path, *, one_transaction: bool = True) -> ProcessRun:
        single = ["-1"] if one_transaction else []
        argv = [self.psql, "-X", *single, "-q", "-v", "ON_ERROR_STOP=1", "-f", str(path)]
        return self.run([*argv, f"--dbname={url}"])

    def dump(self, url: str) -> str | None:
        r = self.run(verify.dump_argv(self.pg_dump, url))
        return verify.normalize_dump(r.stdout) if r.ok else None

    def catalog_relations(self, dbname: str) -> frozenset[str]:
        if self._catalog is None:
            rows = self.cluster.query(CATALOG_RELATIONS_SQL, dbname)
            self._catalog = frozenset(r[0] for r in rows)
        return self._catalog

    @staticmethod
    def check(res: SizeResult, name: str, problem: str | None) -> bool:
        res.checks.append({"name": name, "ok": problem is None, "detail": problem or "ok"})
        return problem is None

    def measure(
        self,
        res: SizeResult,
        key: str,
        one: Callable[[int], tuple[ProcessRun, str | None]],
    ) -> Figure:
        """Run `one(rep)` opts.runs times; it returns the run and what is wrong with its result."""
        return self.measure_interleaved(res, [(key, one)])[0]

    def measure_interleaved(
        self,
        res: SizeResult,
        figures: list[tuple[str, Callable[[int], tuple[ProcessRun, str | None]]]],
    ) -> list[Figure]:
        """Like measure, for several figures whose repetitions alternate (a, b, a, b, …): a
        figure compared with another then sees the same machine, whatever else it was doing."""
        figs = [Figure(key, LABELS[key]) for key, _ in figures]
        for fig in figs:
            res.figures[fig.key] = fig
            fig.load.append(load1())
        labels = ", ".join(fig.label for fig in figs)
        more = ", interleaved" if len(figs) > 1 else ""
        self.say(f"{res.tables} tables: {labels} {X} {self.opts.runs}{more}")
        for rep in range(self.opts.runs):
            for fig, (_, one) in zip(figs, figures, strict=True):
                if fig.errors:
                    continue
                fig.record(*one(rep))
        for fig in figs:
            fig.load.append(load1())
        return figs

    # ------------------------------------------------------------------------------- sizes

    def run_size(self, n: int) -> SizeResult:
        res = SizeResult(tables=n, shape=shape(n))
        base = self.work / f"n{n}"
        base.mkdir()
        src = f"bench_{n}"
        src_url = self.cluster.create_database(src)
        script = base / "database.sql"
        script.write_text(generate_sql(n), encoding="utf-8")
        # statement by statement: thousands of tables in one transaction overflow the server's
        # lock table ("out of shared memory"), which is what the apply figure shows
        load = self.psql_file(src_url, script, one_transaction=False)
        res.setup["load generated SQL with psql"] = load.wall_s
        if not self.check(res, "load the generated database", None if load.ok else load.failure()):
            return res
        analyze = self.run([self.psql, "-X", "-q", "-c", "ANALYZE", f"--dbname={src_url}"])
        res.setup["ANALYZE"] = analyze.wall_s
        if not self.check(
            res, "analyze the loaded database", analyze.failure() if not analyze.ok else None
        ):
            return res
        desired = base / "desired"
        exp = self.reconciler("export", "--pg", src_url, "--out", str(desired))
        res.setup["export (desired state)"] = exp.wall_s
        problem = (
            exp.failure() if not exp.ok else verify.export_problem(exp.stdout, desired, res.shape)
        )
        if not self.check(res, "export of the generated database", problem):
            return res
        source_dump = self.dump(src_url)
        if not self.check(res, "pg_dump of the source", None if source_dump else "pg_dump failed"):
            return res

        self._dump_and_noop_plans(res, src_url, desired, base)
        self._migra(res, src_url)
        if n == min(self.opts.sizes):
            self._help(res)
        self._export(res, src_url, desired, base)
        up_file = self._full_plan(res, n, desired, base)
        if up_file is not None:
            plan_file = up_file.with_name(up_file.name.removesuffix("_up.sql") + ".plan.json")
            self._apply(res, n, plan_file, desired, base, source_dump)
            self._psql_up(res, up_file, source_dump)
        self._query_count(res, src, desired, base)
        if self.opts.profile_size == n:
            self._profile(res, src_url, desired, base)
        for name in (src, f"empty_{n}"):
            self.cluster.drop_database(name)
        return res

    def _dump_and_noop_plans(self, res: SizeResult, url: str, desired: Path, base: Path) -> None:
        """pg_dump (the floor) and the no-op plan, their runs interleaved, as the target is
        their ratio. The plan twice: as every later run sees it (the local cache holds the
        loaded YAML and the verdict of the previous identical plan; one unmeasured run fills
        it), and with the cache off, as a first run on a fresh checkout sees it."""
        dump_file = base / "schema_dump.sql"

        def dump(rep: int) -> tuple[ProcessRun, str | None]:
            run = self.run(
                [self.pg_dump, "--schema-only", f"--file={dump_file}", f"--dbname={url}"]
            )
            ok = run.ok and dump_file.stat().st_size > 0
            return run, None if ok or not run.ok else "empty dump"

        argv = ("plan", "--pg", url, "--schemas", str(desired), "--out")

        def plan(
            key: str, env: dict[str, str] | None
        ) -> Callable[[int], tuple[ProcessRun, str | None]]:
            def one(rep: int) -> tuple[ProcessRun, str | None]:
                out = base / f"{key}_{rep}"
                run = self.reconciler(*argv, str(out), env=env)
                return run, _noop_problem(run, out)

            return one

        warm = self.reconciler(*argv, str(base / "noop_plan_warmup"))
        figures = [("pg_dump", dump)]
        if self.check(res, "cache warm-up plan", None if warm.ok else warm.failure()):
            figures.append(("noop_plan", plan("noop_plan", None)))
        figures.append(("noop_plan_cold", plan("noop_plan_cold", {"RECONCILER_NO_CACHE": "1"})))
        self.measure_interleaved(res, figures)

    def _export(self, res: SizeResult, url: str, desired: Path, base: Path) -> None:
        def one(rep: int) -> tuple[ProcessRun, str | None]:
            out = base / f"export_{rep}"
            run = self.reconciler("export", "--pg", url, "--out", str(out))
            problem = None
            if run.ok:
                diff = verify.tree_difference(desired, out)
                problem = f"not byte-identical to the first export: {diff}" if diff else None
                shutil.rmtree(out, ignore_errors=True)
            return run, problem

        self.measure(res, "export", one)

    def _full_plan(self, res: SizeResult, n: int, desired: Path, base: Path) -> Path | None:
        empty_url = self.cluster.create_database(f"empty_{n}")
        up_files: list[Path] = []

        def one(rep: int) -> tuple[ProcessRun, str | None]:
            out = base / f"full_plan_{rep}"
            argv = ["plan", "--pg", empty_url, "--schemas", str(desired), "--out", str(out)]
            run = self.reconciler(*argv)
            if not run.ok:
                return run, None
            ups = sorted(out.glob("*_up.sql"))
            if len(ups) != 1:
                return run, f"{len(ups)} up files written in {out}"
            up_files.append(ups[0])
            return run, verify.full_plan_problem(run.stdout, ups[0].read_text("utf-8"), res.shape)

        fig = self.measure(res, "full_plan", one)
        return up_files[0] if up_files and fig.ok else None

    def _apply(
        self, res: SizeResult, n: int, plan_file: Path, desired: Path, base: Path, source_dump: str
    ) -> None:
        """`apply --plan` of the full plan's saved files, as psql replays the same up file: each
        run into a new empty database of the name the plan was made for. A plan the server's
        lock table cannot hold in one transaction must be refused first; it is then measured
        with --in-batches."""
        name = f"empty_{n}"

        def fresh() -> str:
            self.cluster.drop_database(name)
            return self.cluster.create_database(name)

        flags: list[str] = []
        argv = ["apply", "--plan", str(plan_file), "--auto-approve"]
        probe = self.reconciler(*argv, "--pg", fresh(), cwd=base)
        if not probe.ok and "would lock about" in probe.stderr:
            flags = ["--in-batches"]
            first = " ".join(probe.stderr.split())
            res.lock_trap = f"apply without --in-batches refused, exit {probe.returncode}: {first}"
            self.say(f"{res.tables} tables: the lock table is too small; applies use --in-batches")

        def one(rep: int) -> tuple[ProcessRun, str | None]:
            url = fresh()
            cwd = base / f"apply_{rep}"  # apply writes state/logs/ under its cwd
            cwd.mkdir()
            run = self.reconciler(*argv, "--pg", url, *flags, cwd=cwd)
            problem = None
            if run.ok:
                problem = _apply_problem(run)
                if problem is None and rep == 0:
                    problem = self._same_schema(url, source_dump, desired, base)
            return run, problem

        self.measure(res, "apply", one)

    def _help(self, res: SizeResult) -> None:
        """Start-up: `reconciler --help`, the floor of every command."""
        self.measure(res, "help", lambda rep: (self.reconciler("--help"), None))

    def _migra(self, res: SizeResult, url: str) -> None:
        """The peer: migra's diff of the database with itself, when it could be installed."""
        migra = None if self.opts.smoke else peers.migra()
        if migra is None:
            return
        # SQLAlchemy's postgresql:// may mean psycopg 3; migra's venv has psycopg2
        url = url.replace("postgresql://", "postgresql+psycopg2://", 1)

        def one(rep: int) -> tuple[ProcessRun, str | None]:
            run = self.run([str(migra), "--unsafe", url, url])
            return run, None if not run.stdout.strip() else "migra found differences"

        self.measure(res, "migra", one)

    def _psql_up(self, res: SizeResult, up_file: Path, source_dump: str) -> None:
        if res.lock_trap is not None:  # psql -1 must fail the same way: shown, not measured
            name = f"psql_{res.tables}_trap"
            url = self.cluster.create_database(name)
            run = self.psql_file(url, up_file)
            self.cluster.drop_database(name)
            said = "out of shared memory" in run.stderr
            problem = None if said and not run.ok else f"exit {run.returncode}: {run.stderr[-300:]}"
            self.check(res, "psql -1 -f of the up file runs out of shared memory", problem)
            how = "out of shared memory" if said else run.stderr.strip()[-200:]
            res.lock_trap += f" — and psql -1 -f of the same up file failed: {how}."
            return

        def one(rep: int) -> tuple[ProcessRun, str | None]:
            name = f"psql_{res.tables}_{rep}"
            url = self.cluster.create_database(name)
            run = self.psql_file(url, up_file)
            problem = None
            if run.ok and rep == 0:
                got = self.dump(url)
                if got != source_dump:
                    problem = "schema differs from the source: " + (
                        verify.first_difference(source_dump, got) if got else "pg_dump failed"
                    )
            self.cluster.drop_database(name)
            return run, problem

        self.measure(res, "psql_up", one)

    def _same_schema(self, url: str, source_dump: str, desired: Path, base: Path) -> str | None:
        """An applied database equals its source (pg_dump) and re-plans to no changes."""
        got = self.dump(url)
        if got != source_dump:
            detail = verify.first_difference(source_dump, got) if got else "pg_dump failed"
            return f"schema differs from the source after apply: {detail}"
        out = base / "replan_after_apply"
        run = self.reconciler("plan", "--pg", url, "--schemas", str(desired), "--out", str(out))
        problem = run.failure() if not run.ok else _noop_problem(run, out)
        return f"re-plan after apply: {problem}" if problem else None

    def _query_count(self, res: SizeResult, src: str, desired: Path, base: Path) -> None:
        name = f"count_{res.tables}"
        self.say(f"{res.tables} tables: statements of one no-op plan (server log)")
        url = self.cluster.create_database(name, template=src)
        self.cluster.set_database(name, "log_statement", "all")
        catalog = self.catalog_relations(src)
        out = base / "count_plan"
        # as for every no-op plan measured: one unmeasured plan of this database, under the
        # settings the counted one runs with (log_statement is in the verdict's key), first
        self.reconciler("plan", "--pg", url, "--schemas", str(desired), "--out", str(out))
        offset = self.cluster.log_size()
        run = self.reconciler("plan", "--pg", url, "--schemas", str(desired), "--out", str(out))
        problem = run.failure() if not run.ok else _noop_problem(run, out)
        if self.check(res, "no-op plan for the statement count", problem):
            counted = count_statements(self.cluster.read_log(offset), name, catalog)
            res.query_count = counted.to_dict()
            self.check(res, "statements found in the server log", None if counted.total else "none")
        self.cluster.drop_database(name)

    # ---------------------------------------------------------------------------- profile

    def _profile(self, res: SizeResult, src_url: str, desired: Path, base: Path) -> None:
        self.say(f"{res.tables} tables: phase timings and cProfile of the no-op plan")
        d = str(desired)
        phases: dict[str, Any] = {}
        empty_url = self.cluster.url(f"empty_{res.tables}")
        commands = {
            "noop_plan": ["plan", "--pg", src_url, "--schemas", d, "--out", str(base / "ph_p")],
            "noop_plan_cold": [
                "plan",
                "--pg",
                src_url,
                "--schemas",
                d,
                "--out",
                str(base / "ph_c"),
            ],
            "export": ["export", "--pg", src_url, "--out", str(base / "ph_export")],
            "full_plan": ["plan", "--pg", empty_url, "--schemas", d, "--out", str(base / "ph_f")],
        }
        if not self.opts.smoke:
            apply_url = self.cluster.create_database("profile_apply")
            cwd = base / "ph_apply"
            cwd.mkdir()
            commands["apply"] = ["apply", "--pg", apply_url, "--schemas", d, "--auto-approve"]
        for key, args in commands.items():
            phases[key] = self._phases(res, key, args, base)
        if "apply" in commands:
            self.cluster.drop_database("profile_apply")
        stats_path = base / "noop_plan.prof"
        argv = profiling.cprofile_argv(sys.executable, stats_path, commands["noop_plan"])
        run = self.run(argv)
        problem = run.failure() if not run.ok else _noop_problem(run, base / "ph_p")
        cprofile = None
        if self.check(res, "cProfile run of the no-op plan", problem):
            cprofile = profiling.summarize(stats_path)
            cprofile["process_wall_s"] = round(run.wall_s, 3)
        res.profile = {
            "phases": phases,
            "cprofile": cprofile,
            "pyinstrument_available": profiling.has_pyinstrument(),
        }

    def _phases(self, res: SizeResult, key: str, args: list[str], base: Path) -> dict[str, Any]:
        out = base / f"phases_{key}.json"
        cwd = base / "ph_apply" if key == "apply" else None
        env = {"RECONCILER_NO_CACHE": "1"} if key == "noop_plan_cold" else None
        argv = [sys.executable, "-m", "bench.phases", str(out), "--", *args]
        run = self.ws.run(argv, cwd=cwd, env=env)
        problem = run.failure() if not run.ok else None
        noop = key in ("noop_plan", "noop_plan_cold")
        if problem is None and noop and verify.NO_CHANGES not in run.stdout:
            problem = f"expected {verify.NO_CHANGES!r}, got {run.stdout.strip()[:200]!r}"
        if not self.check(res, f"phase timing run of {LABELS[key]}", problem):
            return {"error": problem}
        data = json.loads(out.read_text("utf-8"))
        data["process_wall_s"] = round(run.wall_s, 4)
        data["interpreter_start_and_exit_s"] = round(run.wall_s - data["in_process_s"], 4)
        return data


def load1() -> float:
    """The 1-minute load average (0.0 where the OS has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def _noop_problem(run: ProcessRun, out: Path) -> str | None:
    if not run.ok:
        return None  # reported as a failed run
    if verify.NO_CHANGES not in run.stdout:
        summary = verify.plan_summary(run.stdout) or run.stdout.strip()[:200]
        return f"expected {verify.NO_CHANGES!r}, got {summary!r}"
    if out.exists() and any(out.iterdir()):
        return f"a no-op plan wrote files into {out}"
    return None


def _apply_problem(run: ProcessRun) -> str | None:
    m = _APPLIED.search(run.stdout)
    if "Apply complete!" not in run.stdout or m is None:
        return f"no 'Apply complete!' summary in the output: {run.stdout.strip()[-200:]!r}"
    if m.group(1) == "0" or m.group(2) != "0" or m.group(3) != "0":
        return f"an apply into an empty database should only add: {m.group(0)}"
    return None
