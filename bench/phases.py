"""Where one CLI run spends its wall time, phase by phase, without a profiler's overhead.

Run as `python -m bench.phases OUT.json -- plan --pg URL --schemas DIR ...`: it imports the
CLI (timed), wraps the library functions the CLI goes through with timers, runs the command
exactly as `python -m reconciler` would, and writes the timings as JSON. Times are exclusive:
an introspection inside an apply's state recording counts as introspection, not as apply.
A function this version of the code does not have is skipped (listed under "missing").
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# (phase name, module, attribute): every place a phase's function is looked up by the caller.
# The planner (reconciler/pipeline/planner.py) holds the engine-neutral steps; older code had
# them in reconciler.api (now api/runs.py), still listed so that older benches time them too.
HOOKS: tuple[tuple[str, str, str], ...] = (
    # functions imported at call time are looked up in their own modules
    ("connect", "reconciler.connect", "connect_pg"),
    ("read desired files", "reconciler.desired", "read_tree"),
    ("cache lookups", "reconciler.project.cache", "get"),
    ("cache writes", "reconciler.project.cache", "put"),
    ("yaml parsing", "reconciler.project.yamlload", "load_bytes"),
    ("yaml validation", "reconciler.desired.fastspec", "read_file"),
    ("yaml validation", "reconciler.desired.spec", "validate_file"),
    ("yaml validation", "reconciler.desired.keyspec", "validate_keys_file"),
    ("model build", "reconciler.desired.build", "build"),
    ("model build", "reconciler.desired.keys", "build_redis"),
    ("introspection", "reconciler.introspect.pg.catalog", "read_catalog"),
    # the catalog read ahead by the process the command forks as it starts: its time here is
    # the command's wait for it, not the read (which overlaps the command's start)
    ("waiting for the catalog read ahead", "reconciler.pipeline.prefetch", "take"),
    ("waiting for the catalog read ahead", "reconciler.pipeline.prefetch", "Ahead.rows"),
    ("catalog rows to model", "reconciler.introspect.pg.catalog", "CatalogRows.snapshot"),
    ("catalog digest", "reconciler.introspect.pg.catalog", "CatalogRows.digest"),
    ("canonicalization", "reconciler.pipeline.canonical", "canonicalize"),
    ("diff", "reconciler.diff", "compare"),
    ("connect", "reconciler.pipeline.planner", "connect_pg"),
    ("connect", "reconciler.api.runs", "connect_pg"),
    ("connect", "reconciler.cli.commands", "connect_pg"),
    ("yaml parsing", "reconciler.desired", "load_bytes"),
    ("yaml validation", "reconciler.desired", "validate_file"),
    ("yaml validation", "reconciler.desired", "validate_keys_file"),
    ("model build", "reconciler.desired", "build"),
    ("model build", "reconciler.desired", "build_redis"),
    ("desired load (rest)", "reconciler.desired", "load"),
    ("desired load (rest)", "reconciler.pipeline.tree_plan", "load_desired"),
    ("lint", "reconciler.pipeline.tree_plan", "lint"),
    ("introspection", "reconciler.pipeline.planner", "introspect"),
    ("introspection", "reconciler.api.runs", "introspect"),
    ("introspection", "reconciler.cli.commands", "introspect"),
    ("canonicalization", "reconciler.pipeline.planner", "canonicalize"),
    ("canonicalization", "reconciler.api.runs", "canonicalize"),
    ("diff", "reconciler.pipeline.planner", "compare"),
    ("diff", "reconciler.api.runs", "compare"),
    ("dependency order", "reconciler.pipeline.planner", "order"),
    ("dependency order", "reconciler.api.runs", "order"),
    ("plan build", "reconciler.pipeline.planner", "build_plan"),
    ("plan build", "reconciler.api.runs", "build_plan"),
    ("live fingerprint", "reconciler.model.snapshot", "PgSnapshot.fingerprint"),
    ("target info", "reconciler.pipeline.planner", "target_info"),
    ("target info", "reconciler.api.runs", "target_info"),
    ("plan files", "reconciler.api.runs", "write_plan"),
    ("lock", "reconciler.pipeline.planner", "PgLock"),
    ("lock", "reconciler.api.runs", "PgLock"),
    ("execute statements", "reconciler.api.runs", "run_statements"),
    ("execute statements", "reconciler.apply.pg.executor", "run_statements"),
    ("lock table check", "reconciler.apply.pg.lock_table", "lock_budget"),
    ("plan files checked", "reconciler.api.runs", "verify_files"),
    ("plan files checked", "reconciler.api.runs", "read_plan"),
    ("apply log file", "reconciler.api.runs", "_ApplyLog.__call__"),
    ("apply log file", "reconciler.api.runs", "_RunLog.__call__"),
    ("state recording", "reconciler.state.postgres", "PgState.ensure"),
    ("state recording", "reconciler.state.postgres", "PgState.begin_attempt"),
    ("state recording", "reconciler.state.postgres", "PgState.record_apply"),
    ("state recording", "reconciler.state.postgres", "PgState.finish_attempt"),
    ("inventory", "reconciler.pipeline.planner", "inventory"),
    ("inventory", "reconciler.api.runs", "inventory"),
    ("render", "reconciler.cli.commands", "render_plan"),
    ("yaml export", "reconciler.export.pg.write", "export"),
    # Redis (the planner imports these lazily, from their modules, at each call)
    ("redis connect", "reconciler.introspect.redis", "connect_redis"),
    ("redis config and ACL", "reconciler.introspect.redis", "read_config"),
    ("redis config and ACL", "reconciler.introspect.redis", "read_acl"),
    ("keyspace scan", "reconciler.introspect.redis", "scan_keyspace"),
    ("redis diff", "reconciler.diff.redis", "compare_redis"),
)


ALONGSIDE = "(in a thread, alongside)"
# The hooks' own cost: installing them imports every hooked module (pydantic, pglast …), which
# the command itself may never import; shown apart so that it is not read as the command's.
INSTRUMENTATION = "instrumentation (installing the timers; not in an uninstrumented run)"


class _Timers:
    """Exclusive times per phase. A phase timed in another thread than the main one (a plan
    reads the catalog in a thread while it parses the YAML) is kept apart, named "… (in a
    thread, alongside)": its time overlaps the main thread's and is not part of their sum."""

    def __init__(self) -> None:
        self.exclusive: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._local = threading.local()  # .stack per thread: per active call, [child time]

    @property
    def _stack(self) -> list[list[float]]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        if isinstance(fn, type):
            return self._wrap_class(phase, fn)

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append([0.0])
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._done(phase, time.perf_counter() - start)

        return timed

    def _wrap_class(self, phase: str, cls: type) -> type:
        # A context manager (the apply lock): time its __enter__ and __exit__, once per class
        # (the same class may be listed under several modules).
        if cls.__dict__.get("_bench_timed"):
            return cls
        cls._bench_timed = True  # type: ignore[attr-defined]
        timers = self
        enter, exit_ = cls.__enter__, cls.__exit__  # type: ignore[attr-defined]
        cls.__enter__ = timers.wrap(phase, enter)  # type: ignore[attr-defined]
        cls.__exit__ = timers.wrap(phase, exit_)  # type: ignore[attr-defined]
        return cls

    def _done(self, phase: str, elapsed: float) -> None:
        if threading.current_thread() is not threading.main_thread():
            phase = f"{phase} {ALONGSIDE}"
        child = self._stack.pop()[0]
        self.exclusive[phase] = self.exclusive.get(phase, 0.0) + elapsed - child
        self.calls[phase] = self.calls.get(phase, 0) + 1
        if self._stack:
            self._stack[-1][0] += elapsed


def _install(timers: _Timers) -> list[str]:
    missing = []
    for phase, module_name, dotted in HOOKS:
        *owners, attr = dotted.split(".")
        try:
            owner: Any = importlib.import_module(module_name)
            for name in owners:  # a method: Class.method
                owner = getattr(owner, name)
            fn = getattr(owner, attr)
        except (ImportError, AttributeError):
            missing.append(f"{module_name}.{dotted}")
            continue
        if isinstance(fn, type):
            timers.wrap(phase, fn)  # patched in place, once per class
        else:
            setattr(owner, attr, timers.wrap(phase, fn))
    return missing


def main(argv: list[str]) -> int:
    start = time.perf_counter()
    out_path = Path(argv[0])
    cli_args = argv[2:] if len(argv) > 1 and argv[1] == "--" else argv[1:]
    if cli_args[:1] in (["plan"], ["export"]):  # as reconciler/__main__.py starts it
        try:
            from reconciler.pipeline import prefetch
        except ImportError:  # code from before the read ahead
            pass
        else:
            prefetch.start(cli_args)
    import reconciler.cli as cli
    from reconciler.cli import commands, dev_cmds, state_cmds  # noqa: F401 (what main imports)

    imports = time.perf_counter() - start
    timers = _Timers()
    hooked = time.perf_counter()
    missing = _install(timers)  # imports every hooked module, needed by the command or not
    instrumentation = time.perf_counter() - hooked
    sys.argv = ["reconciler", *cli_args]
    code = 0
    run_start = time.perf_counter()
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    run = time.perf_counter() - run_start
    phases = {"imports": imports, INSTRUMENTATION: instrumentation, **timers.exclusive}
    main_thread = sum(v for k, v in timers.exclusive.items() if not k.endswith(ALONGSIDE))
    phases["other (CLI parsing, output, exit)"] = run - main_thread
    result = {
        "argv": cli_args,
        "exit_code": code,
        "in_process_s": time.perf_counter() - start,
        "phases_s": {k: round(v, 4) for k, v in phases.items()},
        "calls": timers.calls,
        "missing_hooks": missing,
    }
    out_path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return code


if __name__ == "__main__":
    # Leave as the command line does (cli/__init__.py run): without freeing every object one by
    # one. A normal exit here took ~0.19 s at 1,000 tables, which the phases then showed as
    # "interpreter start and exit", a cost the real command never pays.
    status = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status if isinstance(status, int) else 1)
