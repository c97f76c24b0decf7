"""cProfile of one CLI run (pyinstrument when the venv has it): the functions that cost most.

cProfile's overhead inflates call-heavy pure-Python code (YAML parsing, deepdiff) more than
C-level work (waiting on the server), so its seconds are read as shares, and bench.phases
gives the unprofiled wall time of each phase.
"""

from __future__ import annotations

import importlib.util
import pstats
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Functions whose cumulative time names a cost a reader cares about: (label, path end, name).
KEY_FUNCTIONS: tuple[tuple[str, str, str], ...] = (
    ("desired files read and hashed", "reconciler/desired/__init__.py", "read_tree"),
    ("desired state load", "reconciler/desired/__init__.py", "load"),
    ("cache lookups", "reconciler/project/cache.py", "get"),
    ("YAML parsing (PyYAML)", "reconciler/project/yamlload.py", "load_bytes"),
    ("model build", "reconciler/desired/build.py", "build"),
    ("catalog queries", "reconciler/introspect/pg/catalog.py", "read_catalog"),
    ("catalog rows to model", "reconciler/introspect/pg/rows.py", "snapshot"),
    ("canonicalization", "reconciler/pipeline/canonical.py", "canonicalize"),
    ("diff", "reconciler/diff/__init__.py", "compare"),
    ("deepdiff attribute comparison", "reconciler/model/compare.py", "attribute_changes"),
    ("dependency order", "reconciler/pipeline/graph.py", "order"),
    ("plan build", "reconciler/plan/__init__.py", "build_plan"),
    ("live fingerprint", "reconciler/model/snapshot.py", "fingerprint"),
)

# The same for `reconciler plan --redis`.
REDIS_KEY_FUNCTIONS: tuple[tuple[str, str, str], ...] = (
    ("desired state load", "reconciler/desired/__init__.py", "load"),
    ("keyspace scan (scan_keyspace)", "reconciler/introspect/redis/keys.py", "scan_keyspace"),
    (
        "per-batch aggregation (_Scan._aggregate)",
        "reconciler/introspect/redis/keys.py",
        "_aggregate",
    ),
    ("reply reading (hiredis)", "reconciler/introspect/redis/wire.py", "read"),
    (
        "pipeline sending (sendall waits while the server is busy)",
        "reconciler/introspect/redis/wire.py",
        "send",
    ),
    ("pipeline packing", "reconciler/introspect/redis/scan.py", "_key_commands"),
    ("config read", "reconciler/introspect/redis/server.py", "read_config"),
    ("ACL read", "reconciler/introspect/redis/server.py", "read_acl"),
    ("diff (compare_redis)", "reconciler/diff/redis.py", "compare_redis"),
    ("plan build", "reconciler/plan/__init__.py", "build_plan"),
    ("argument quoting of plan lines (proto.quote)", "reconciler/ops/redis/proto.py", "quote"),
    ("plan files (write_plan)", "reconciler/plan/files.py", "write_plan"),
    ("terminal rendering", "reconciler/render/text.py", "render_plan"),
)


# Everything up to the package: site-packages/, the frozen code copy, the stdlib directory.
_SHORTEN = re.compile(r".*(?:site-packages/|/code/(?=reconciler/)|/lib/python3\.\d+/)")


def has_pyinstrument() -> bool:
    return importlib.util.find_spec("pyinstrument") is not None


def cprofile_argv(python: str, out: Path, cli_args: Sequence[str]) -> list[str]:
    return [python, "-m", "cProfile", "-o", str(out), "-m", "reconciler", *cli_args]


def _where(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name  # a built-in
    m = _SHORTEN.search(filename)
    if m:
        filename = filename[m.end() :]
    return f"{filename}:{line}({name})"


def summarize(
    stats_path: Path,
    *,
    top: int = 12,
    key_functions: Sequence[tuple[str, str, str]] = KEY_FUNCTIONS,
) -> dict[str, Any]:
    stats = pstats.Stats(str(stats_path))
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = max((ct for (_cc, _nc, _tt, ct, _callers) in table.values()), default=0.0)
    by_tottime = sorted(table.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    found = []
    for label, path_end, name in key_functions:
        matches = [v for k, v in table.items() if k[0].endswith(path_end) and k[2] == name]
        if matches:
            _cc, nc, _tt, ct, _ = max(matches, key=lambda v: v[3])
            found.append({"label": label, "calls": nc, "cumulative_s": round(ct, 3)})
    imports = [v for k, v in table.items() if k[2] == "_find_and_load"]
    return {
        "tool": "cProfile",
        "profiled_total_s": round(total, 3),
        "imports_cumulative_s": round(max((v[3] for v in imports), default=0.0), 3),
        "key_functions": found,
        "top_tottime": [
            {
                "function": _where(k),
                "calls": v[1],
                "tottime_s": round(v[2], 3),
                "cumulative_s": round(v[3], 3),
            }
            for k, v in by_tottime
        ],
    }
