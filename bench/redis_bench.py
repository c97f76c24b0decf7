"""The Redis part of one bench run: per keyspace size, load it, measure every figure, check it.

A throwaway redis-server (reconciler.dev.start_redis: 127.0.0.1, `--save ""`, no AOF) in the
run's temporary directory. For each size the keyspace of bench/keyspace_gen.py is loaded with
`redis-cli --pipe`, then four whole processes are measured, each run checked:

- `redis-cli --bigkeys` (the peer: a full SCAN that reads every key's type and size);
- a bare redis-py `SCAN COUNT 1000` loop (the floor: iterating the keys, nothing else);
- `reconciler plan --redis URL --schemas SPEC --out DIR` (load, scan, diff, plan files);
- scan_keyspace alone, from `python -c` (load the spec, connect, scan; no diff, no files).

The repetitions are interleaved (bigkeys, floor, plan, scan, bigkeys, …) so that a change of
the machine's load affects every figure alike, and the rate-limit keys (TTL 60 s) are written
again before every run. Around each run the server's CPU time (INFO cpu) and its per-command
call counts (CONFIG RESETSTAT, then INFO commandstats) are read. Before the first size, the
fixed costs: the plan and the scan against an empty keyspace (database 1), a process that only
imports the CLI, and `python -X importtime` per package. At the profile size, one plan runs
under bench.phases and one under cProfile.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench import profiling, redis_verify
from bench.keyspace_gen import KeyspaceShape, keys_without_ttl, write_resp, write_specs
from bench.measure import Figure, ProcessRun
from bench.runner import Workspace, X, load1
from reconciler import dev
from reconciler.errors import ReconcilerError

REDIS_FIGURES: tuple[tuple[str, str], ...] = (
    ("bigkeys", "redis-cli --bigkeys (peer)"),
    ("scan_floor", "redis-py SCAN COUNT 1000 loop (floor)"),
    ("plan", "reconciler plan --redis"),
    ("scan_only", "scan_keyspace alone (python -c)"),
)
REDIS_LABELS = dict(REDIS_FIGURES)
SMOKE_KEYS = 2000
# The bench's own commands around each run, left out of the per-run command counts.
_OWN_COMMANDS = frozenset({"info", "config|resetstat", "config"})

# The floor: iterate the keyspace with redis-py and count what SCAN returns.
FLOOR_SCRIPT = """\
import sys

import redis

client = redis.Redis.from_url(sys.argv[1])
cursor, seen = 0, 0
while True:
    cursor, keys = client.scan(cursor, count=1000)
    seen += len(keys)
    if cursor == 0:
        break
print(seen)
"""

# scan_keyspace alone: what `reconciler plan --redis` does before it diffs and writes files.
SCAN_SCRIPT = """\
import json
import sys
from pathlib import Path

from reconciler.desired import load
from reconciler.introspect.redis import connect_redis, scan_keyspace

want = load(Path(sys.argv[2]))
client = connect_redis(sys.argv[1], command="bench-scan")
report = scan_keyspace(client, list(want.redis.patterns.values()))
client.close()
print(json.dumps({
    "scanned": report.scanned,
    "types": report.types,
    "unmatched": report.unmatched,
    "patterns": {
        p: {"count": s.count, "without_ttl": s.without_ttl,
            "ttl_above_policy": s.ttl_above_policy, "fixes": len(s.fixes)}
        for p, s in report.patterns.items()
    },
}))
"""


# Import-only processes: the imports of the plan (the CLI) and of scan_keyspace alone.
CLI_IMPORTS = "import reconciler.cli\nfrom reconciler.cli import commands, dev_cmds, state_cmds\n"
SCAN_IMPORTS = "import reconciler.desired\nimport reconciler.introspect.redis\n"
# Packages whose import time `python -X importtime` reports for the CLI's imports.
IMPORT_PACKAGES = (
    "psycopg", "pglast", "deepdiff", "networkx", "pydantic", "yaml", "typer", "rich", "redis",
)  # fmt: skip
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s+)(\S+)$")


@dataclass
class RedisOptions:
    sizes: list[int]
    smoke: bool = False
    profile_size: int | None = None  # None: no profile

    def runs(self, n: int) -> int:
        """5 runs for the smallest size, 3 for larger ones (1 in a smoke run)."""
        if self.smoke:
            return 1
        return 5 if n == min(self.sizes) else 3


def redis_cli_binary() -> str:
    """redis-cli next to the redis-server start_redis uses (versions match), else from PATH."""
    try:
        candidate = dev.find_redis_server().parent / "redis-cli"
        if candidate.is_file():
            return str(candidate)
    except ReconcilerError:
        pass
    found = shutil.which("redis-cli")
    if found is None:
        raise ReconcilerError("redis-cli was not found; run `make setup`.")
    return found


@contextmanager
def bench_redis(root: Path) -> Iterator[dev.RedisServer]:
    """A non-persisting redis-server in `root/redis`, shut down (NOSAVE) at the end."""
    server = dev.start_redis(root / "redis")
    try:
        yield server
    finally:
        server.stop()


SLOWLOG_US = 5000  # the target: no command of the plan blocks the server for 5 ms or more


@dataclass
class RedisSizeResult:
    keys: int
    shape: KeyspaceShape | None = None
    figures: dict[str, Figure] = field(default_factory=dict)
    server_cpu: dict[str, list[float]] = field(default_factory=dict)
    commands: dict[str, dict[str, int]] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    setup: dict[str, float] = field(default_factory=dict)
    server_memory_mib: float | None = None
    plan_files: dict[str, int] | None = None
    profile: dict[str, Any] | None = None
    # per figure: the slowest command the server logged while it ran (SLOWLOG, ≥ 5 ms only)
    slowest_us: dict[str, int] = field(default_factory=dict)
    slowest_command: dict[str, str] = field(default_factory=dict)  # its name and first argument

    @property
    def failures(self) -> list[str]:
        n = f"{self.keys:,} keys"
        out = [f"{n}, {c['name']}: {c['detail']}" for c in self.checks if not c["ok"]]
        for f in self.figures.values():
            out += [f"{n}, {f.label}: {e}" for e in f.errors]
        return out

    def to_dict(self) -> dict[str, Any]:
        figures = {}
        for key, fig in self.figures.items():
            d = fig.to_dict()
            cpu = self.server_cpu.get(key) or []
            d["server_cpu_s_runs"] = [round(c, 3) for c in cpu]
            d["median_server_cpu_s"] = round(statistics.median(cpu), 3) if cpu else None
            d["commands"] = self.commands.get(key)
            d["slowest_command_us"] = self.slowest_us.get(key)
            d["slowest_command"] = self.slowest_command.get(key)
            figures[key] = d
        return {
            "keys": self.keys,
            "shape": asdict(self.shape) if self.shape else None,
            "setup_s": {k: round(v, 3) for k, v in self.setup.items()},
            "server_memory_mib": self.server_memory_mib,
            "figures": figures,
            "plan_files": self.plan_files,
            "checks": self.checks,
            "profile": self.profile,
        }


class RedisBench:
    def __init__(self, ws: Workspace, server: dev.RedisServer, opts: RedisOptions) -> None:
        self.ws = ws
        self.server = server
        self.opts = opts
        self.url = server.url()
        self.cli = redis_cli_binary()
        self.cli_argv = [self.cli, "-h", dev.HOST, "-p", str(server.port)]
        self.admin = redis.Redis(host=dev.HOST, port=server.port, decode_responses=True)
        self.spec = write_specs(ws.work / "redis_spec")

    def close(self) -> None:
        self.admin.close()

    def versions(self) -> dict[str, str | None]:
        cli = self.ws.run([self.cli, "--version"])
        return {
            "server": str(self.admin.info("server").get("redis_version")),
            "redis_cli": cli.stdout.strip() if cli.ok else None,
        }

    @staticmethod
    def check(res: RedisSizeResult, name: str, problem: str | None) -> bool:
        res.checks.append({"name": name, "ok": problem is None, "detail": problem or "ok"})
        return problem is None

    # ----------------------------------------------------------------------------- server

    def _pipe(self, path: Path) -> ProcessRun:
        return self.ws.run([*self.cli_argv, "--pipe"], stdin=path)

    @staticmethod
    def _pipe_problem(run: ProcessRun) -> str | None:
        if not run.ok:
            return run.failure()
        return None if "errors: 0," in run.stdout else f"redis-cli --pipe: {run.stdout.strip()!r}"

    def _server_cpu(self) -> float:
        info = self.admin.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def _commands(self) -> dict[str, int]:
        stats = self.admin.info("commandstats")
        out = {}
        for name, value in stats.items():
            cmd = name.removeprefix("cmdstat_")
            if cmd not in _OWN_COMMANDS:
                out[cmd] = int(value["calls"])
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    # --------------------------------------------------------------------------- baselines

    def baselines(self, runs: int = 3) -> dict[str, Any]:
        """What a plan and a scan cost before they see a key: each against an empty keyspace
        (database 1 of the same server), and a process that only imports the CLI. Plus
        `python -X importtime` of the CLI's and of the scan's imports, per package."""
        self.ws.say("Redis: fixed costs (empty keyspace, import-only process)")
        empty = self.server.url(1)
        out_dir = self.ws.work / "redis_empty_plan"
        plan = ["plan", "--redis", empty, "--schemas", str(self.spec), "--out", str(out_dir)]

        def plan_problem(run: ProcessRun) -> str | None:
            if "No changes." in run.stdout and not out_dir.exists():
                return None
            return f"expected 'No changes.' and no files: {run.stdout.strip()[:200]!r}"

        def scan_problem(run: ProcessRun) -> str | None:
            try:
                scanned = json.loads(run.stdout)["scanned"]
            except (json.JSONDecodeError, KeyError, TypeError):
                scanned = None
            return None if scanned == 0 else f"expected 0 keys: {run.stdout.strip()[:200]!r}"

        commands: dict[str, tuple[list[str], Callable[[ProcessRun], str | None]]] = {
            "plan_empty": ([sys.executable, "-m", "reconciler", *plan], plan_problem),
            "scan_only_empty": ([sys.executable, "-c", SCAN_SCRIPT, empty, str(self.spec)],
                                scan_problem),
            "cli_imports": ([sys.executable, "-c", CLI_IMPORTS], lambda run: None),
        }  # fmt: skip
        out: dict[str, Any] = {}
        for key, (argv, problem_of) in commands.items():
            done: list[ProcessRun] = []
            problem = None
            for _ in range(runs):
                run = self.ws.run(argv)
                problem = problem_of(run) if run.ok else run.failure()
                if problem is not None:
                    break
                done.append(run)
            if problem is not None:
                out[key] = {"error": problem}
                continue
            out[key] = {
                "median_s": round(statistics.median(r.wall_s for r in done), 4),
                "median_cpu_s": round(statistics.median(r.cpu_s for r in done), 3),
                "peak_rss_mib": round(max(r.peak_rss_kib for r in done) / 1024, 1),
                "runs": runs,
            }
        for key, script in (("cli_importtime_s", CLI_IMPORTS), ("scan_importtime_s", SCAN_IMPORTS)):
            run = self.ws.run([sys.executable, "-X", "importtime", "-c", script])
            out[key] = _import_times(run.stderr) if run.ok else None
        return out

    # ------------------------------------------------------------------------------- sizes

    def run_size(self, n: int) -> RedisSizeResult:
        res = RedisSizeResult(keys=n)
        base = self.ws.work / f"redis_{n}"
        base.mkdir()
        try:
            self._run_size(res, n, base)
        finally:
            shutil.rmtree(base, ignore_errors=True)  # the RESP files are large
        return res

    def _run_size(self, res: RedisSizeResult, n: int, base: Path) -> None:
        self.ws.say(f"{n:,} keys: generate and load the keyspace")
        self.admin.flushall()
        every, ratelimits = base / "keyspace.resp", base / "ratelimits.resp"
        t0 = time.perf_counter()
        shape = res.shape = write_resp(n, every, ratelimits)
        res.setup["generate the RESP file"] = time.perf_counter() - t0
        load = self._pipe(every)
        res.setup["load it with redis-cli --pipe"] = load.wall_s
        if not self.check(res, "load the generated keyspace", self._pipe_problem(load)):
            return
        keyspace = self.admin.info("keyspace").get("db0", {})
        with_ttl = n - shape.legacy - shape.queues - shape.without_ttl
        got = (keyspace.get("keys", 0), keyspace.get("expires", 0))
        problem = None if got == (n, with_ttl) else f"keys/expires {got}, expected {(n, with_ttl)}"
        if not self.check(res, "the loaded keyspace has every key and TTL", problem):
            return
        res.server_memory_mib = round(int(self.admin.info("memory")["used_memory"]) / 2**20, 1)
        expected = keys_without_ttl(n)

        runs = self.opts.runs(n)
        # every command of 5 ms or more is logged: a figure's slowest command is 0 when none was
        self.admin.config_set("slowlog-log-slower-than", SLOWLOG_US)
        self.admin.config_set("slowlog-max-len", 1024)
        for key, label in REDIS_FIGURES:
            res.figures[key] = Figure(key, label)
            res.server_cpu[key] = []
        self.ws.say(f"{n:,} keys: {', '.join(REDIS_LABELS)} {X} {runs}, interleaved")
        for rep in range(runs):
            for key, _ in REDIS_FIGURES:
                fig = res.figures[key]
                if fig.errors:
                    continue
                if rep == 0:
                    fig.load.append(load1())
                self._one(res, key, rep, base, shape, expected)
                if rep == runs - 1 or fig.errors:
                    fig.load.append(load1())
        if self.opts.profile_size == n:
            self._profile(res, base, shape, expected)

    def _plan_args(self, out: Path) -> list[str]:
        return ["plan", "--redis", self.url, "--schemas", str(self.spec), "--out", str(out)]

    def _refresh(self, ratelimits: Path) -> str | None:
        """Write the rate-limit keys again (TTL 60 s): every run sees the whole keyspace."""
        return self._pipe_problem(self._pipe(ratelimits))

    def _one(
        self,
        res: RedisSizeResult,
        key: str,
        rep: int,
        base: Path,
        shape: KeyspaceShape,
        expected: dict[str, dict[str, int]],
    ) -> None:
        fig = res.figures[key]
        problem = self._refresh(base / "ratelimits.resp")
        if problem:
            fig.errors.append(f"refreshing the rate-limit keys: {problem}")
            return
        out = base / f"plan_{rep}"
        argv = {
            "bigkeys": [*self.cli_argv, "--bigkeys"],
            "scan_floor": [sys.executable, "-c", FLOOR_SCRIPT, self.url],
            "plan": [sys.executable, "-m", "reconciler", *self._plan_args(out)],
            "scan_only": [sys.executable, "-c", SCAN_SCRIPT, self.url, str(self.spec)],
        }[key]
        self.admin.config_resetstat()
        self.admin.slowlog_reset()
        cpu0 = self._server_cpu()
        run = self.ws.run(argv)
        commands = self._commands()
        cpu1 = self._server_cpu()
        for entry in self.admin.slowlog_get(1024):
            if entry["duration"] > res.slowest_us.get(key, 0):
                res.slowest_us[key] = entry["duration"]
                words = entry["command"].split()[:2]
                res.slowest_command[key] = " ".join(
                    w.decode(errors="replace") if isinstance(w, bytes) else str(w) for w in words
                )
        res.slowest_us.setdefault(key, 0)
        if not run.ok:
            fig.errors.append(run.failure())
            return
        if key == "bigkeys":
            problem = redis_verify.bigkeys_problem(run.stdout, shape)
        elif key == "scan_floor":
            problem = redis_verify.floor_problem(run.stdout, shape)
        elif key == "scan_only":
            problem = redis_verify.scan_problem(run.stdout, shape)
        else:
            problem = redis_verify.plan_problem(run.stdout, out, shape, expected)
            if problem is None and res.plan_files is None:
                res.plan_files = _file_sizes(out)
            shutil.rmtree(out, ignore_errors=True)
        if problem is not None:
            fig.errors.append(f"wrong result: {problem}")
            return
        fig.add(run)
        res.server_cpu[key].append(cpu1 - cpu0)
        res.commands[key] = commands

    # ---------------------------------------------------------------------------- profile

    def _profile(
        self,
        res: RedisSizeResult,
        base: Path,
        shape: KeyspaceShape,
        expected: dict[str, dict[str, int]],
    ) -> None:
        """One plan under bench.phases (unprofiled wall time per phase), one under cProfile."""
        self.ws.say(f"{res.keys:,} keys: phase timings and cProfile of the plan")
        res.profile = {
            "phases": None,
            "cprofile": None,
            "pyinstrument_available": profiling.has_pyinstrument(),
        }
        phases_json, stats_path = base / "phases_plan.json", base / "plan.prof"
        runs = {
            "phases": [sys.executable, "-m", "bench.phases", str(phases_json), "--"],
            "cprofile": profiling.cprofile_argv(sys.executable, stats_path, []),
        }
        for what, prefix in runs.items():
            out = base / f"{what}_plan"
            run: ProcessRun | None = None
            problem = self._refresh(base / "ratelimits.resp")
            if problem is None:
                run = self.ws.run([*prefix, *self._plan_args(out)])
                problem = (
                    redis_verify.plan_problem(run.stdout, out, shape, expected)
                    if run.ok
                    else run.failure()
                )
            label = "phase timing" if what == "phases" else "cProfile"
            if not self.check(res, f"{label} run of the plan", problem) or run is None:
                continue
            if what == "phases":
                data = json.loads(phases_json.read_text("utf-8"))
                data["process_wall_s"] = round(run.wall_s, 4)
                data["interpreter_start_and_exit_s"] = round(run.wall_s - data["in_process_s"], 4)
            else:
                data = profiling.summarize(stats_path, key_functions=profiling.REDIS_KEY_FUNCTIONS)
                data["process_wall_s"] = round(run.wall_s, 3)
            res.profile[what] = data


def _import_times(stderr: str) -> dict[str, float]:
    """Import time (s) of each package of IMPORT_PACKAGES, its submodules included, and of all
    the script's imports. `-X importtime` lists a module after the modules it imported, one
    level (two spaces) deeper; a module of a package imported from outside that package
    counts for the package."""
    parents: dict[int, str] = {}  # line index → name of the module that imported it
    pending: dict[int, list[int]] = {}  # depth → lines waiting for their importer
    rows: list[tuple[str, int, int]] = []
    for line in stderr.splitlines():
        m = _IMPORT_LINE.match(line)
        if m is None:
            continue
        index, depth, name = len(rows), len(m.group(3)), m.group(4)
        rows.append((name, int(m.group(2)), depth))
        for child in pending.pop(depth + 2, []):  # names are indented two spaces a level
            parents[child] = name
        pending.setdefault(depth, []).append(index)

    def package(module: str) -> str:
        return module.split(".", 1)[0]

    out = dict.fromkeys(IMPORT_PACKAGES, 0.0)
    total = 0
    for index, (name, cumulative, depth) in enumerate(rows):
        if depth == 1:
            total += cumulative
        pkg = package(name)
        parent = parents.get(index)
        if pkg in out and (parent is None or package(parent) != pkg):
            out[pkg] += cumulative / 1e6
    result = {k: round(v, 4) for k, v in out.items()}
    result["all imports"] = round(total / 1e6, 4)
    return result


def _file_sizes(out: Path) -> dict[str, int]:
    """Bytes of each plan file, by kind (plan.json, up, down)."""
    sizes: dict[str, int] = {}
    for path in out.iterdir():
        kind = (
            "plan.json"
            if path.name.endswith(".plan.json")
            else "up.redis"
            if path.name.endswith("_up.redis")
            else "down.redis"
            if path.name.endswith("_down.redis")
            else path.name
        )
        sizes[kind] = path.stat().st_size
    return sizes
