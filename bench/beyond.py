"""The third part of a bench run, "beyond one server": what fleets and clusters buy.

Two measurements, each of whole processes started from the run's frozen copy of `reconciler`:

- fleet drift (bench/beyond_fleet.py): `reconciler drift` over a fleet of databases of one
  cluster, from a reconciler.yaml environment, at --parallel 1, 4 and 8, against the same
  databases checked by one `drift --pg URL` process each, one after the other;
- cluster scan (bench/beyond_cluster.py): scan_keyspace alone (`python -c`, the Redis part's
  figure) over one keyspace held by a single redis-server and by a local Redis Cluster of three
  primaries (one replica each).

This module owns what both share: the options, a measured part (figures, checks, setup times,
facts), their interleaved repetitions, the derived ratios and the fleet target, and the
terminal table. It must not start servers (the two measuring modules do) nor write the page
(docgen_beyond does).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.measure import Figure, ProcessRun
from bench.redis_bench import SMOKE_KEYS
from bench.report import fmt_s, target
from bench.runner import NA, Workspace, X, load1

FLEET = "fleet drift"  # the failure prefix of each part, and its name in the page
CLUSTER = "cluster scan"
FLEET_PARALLEL = (4, 1, 8)  # measured in this order after the baseline; 4 is the target's
TARGET_FLEET_VS_SEQUENTIAL = 0.4  # fleet drift --parallel 4 / the sequential single runs
TARGET_FLEET_FROM_DATABASES = 20  # the target is set for a fleet of 20 databases
SMOKE_DATABASES, SMOKE_TABLES = 4, 20

Measured = Callable[[int], tuple[ProcessRun, str | None]]


@dataclass(frozen=True, slots=True)
class BeyondOptions:
    databases: int = 20
    tables: int = 100
    keys: int = 1_000_000
    runs: int = 3
    smoke: bool = False

    @classmethod
    def for_run(cls, *, smoke: bool) -> BeyondOptions:
        if smoke:
            return cls(SMOKE_DATABASES, SMOKE_TABLES, SMOKE_KEYS, runs=1, smoke=True)
        return cls()

    def to_dict(self) -> dict[str, Any]:
        return {
            "databases": self.databases,
            "tables": self.tables,
            "parallel": list(FLEET_PARALLEL),
            "keys": self.keys,
            "runs": self.runs,
        }


@dataclass
class Part:
    """One measurement of this part: its figures, the checks of its setup and results."""

    name: str
    figures: dict[str, Figure] = field(default_factory=dict)
    server_cpu: dict[str, list[float]] = field(default_factory=dict)  # per figure, per run
    checks: list[dict[str, Any]] = field(default_factory=list)
    setup: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # facts of the setup and the runs

    def check(self, name: str, problem: str | None) -> bool:
        self.checks.append({"name": name, "ok": problem is None, "detail": problem or "ok"})
        return problem is None

    @property
    def failures(self) -> list[str]:
        out = [f"{self.name}, {c['name']}: {c['detail']}" for c in self.checks if not c["ok"]]
        for f in self.figures.values():
            out += [f"{self.name}, {f.label}: {e}" for e in f.errors]
        return out

    def to_dict(self) -> dict[str, Any]:
        figures = {}
        for key, fig in self.figures.items():
            d = fig.to_dict()
            if key in self.server_cpu:
                cpu = self.server_cpu[key]
                d["server_cpu_s_runs"] = [round(c, 3) for c in cpu]
                d["median_server_cpu_s"] = round(statistics.median(cpu), 3) if cpu else None
            figures[key] = d
        return {
            "figures": figures,
            "checks": self.checks,
            "setup_s": {k: round(v, 3) for k, v in self.setup.items()},
            **self.info,
        }


def interleave(
    ws: Workspace, part: Part, runs: int, figures: list[tuple[str, str, Measured]]
) -> None:
    """Run each figure's `one(rep)` `runs` times, alternating (a, b, c, a, b, c, …), so figures
    compared with one another see the same machine. `one` returns the run and what is wrong
    with its result; a figure stops at its first failure."""
    for key, label, _ in figures:
        part.figures[key] = Figure(key, label)
        part.figures[key].load.append(load1())
    labels = ", ".join(label for _, label, _ in figures)
    ws.say(f"{part.name}: {labels} {X} {runs}, interleaved")
    for rep in range(runs):
        for key, _, one in figures:
            fig = part.figures[key]
            if fig.errors:
                continue
            fig.record(*one(rep))
    for key, _, _ in figures:
        part.figures[key].load.append(load1())


# ------------------------------------------------------------------------------- derived


def _median(part: dict[str, Any] | None, key: str) -> float | None:
    fig = ((part or {}).get("figures") or {}).get(key)
    return fig["median_s"] if fig and fig["ok"] else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def fleet_key(parallel: int) -> str:
    return f"fleet_p{parallel}"


def derive(beyond: dict[str, Any]) -> dict[str, Any]:
    """Ratios of both measurements and the fleet target (a miss is reported, not an error)."""
    fleet, scan = beyond.get("fleet_drift"), beyond.get("cluster_scan")
    sequential = _median(fleet, "sequential")
    ratios = {
        f"{fleet_key(p)}_vs_sequential": _ratio(_median(fleet, fleet_key(p)), sequential)
        for p in FLEET_PARALLEL
    }
    n = (fleet or {}).get("databases") or beyond["options"]["databases"]
    goal = TARGET_FLEET_VS_SEQUENTIAL if n >= TARGET_FLEET_FROM_DATABASES else None
    label = f"fleet drift of {n} databases (--parallel 4) / {n} sequential drift runs"
    single, cluster = _median(scan, "single"), _median(scan, "cluster")
    return {
        **ratios,
        "sequential_per_database_s": round(sequential / n, 4) if sequential and n else None,
        "cluster_vs_single": _ratio(cluster, single),
        "targets": {
            "fleet_drift_vs_sequential": target(
                label, ratios[f"{fleet_key(4)}_vs_sequential"], "<=", goal
            )
        },
    }


def failures(beyond: dict[str, Any] | None) -> list[str]:
    return list((beyond or {}).get("failures") or [])


# ------------------------------------------------------------------------------- terminal


def print_table(beyond: dict[str, Any], console: Console) -> None:
    table = Table(title="reconciler bench, beyond one server (wall time of whole processes)")
    for col in ("measurement", "figure", "median", "min", "max", "CPU", "server CPU", "runs"):
        table.add_column(col, justify="left" if col in ("measurement", "figure") else "right")
    for name, key in ((FLEET, "fleet_drift"), (CLUSTER, "cluster_scan")):
        part = beyond.get(key)
        if not part:
            continue
        for fig in part["figures"].values():
            status = "" if fig["ok"] else " [red]FAILED[/]"
            table.add_row(
                name,
                fig["label"] + status,
                fmt_s(fig["median_s"]),
                fmt_s(fig["min_s"]),
                fmt_s(fig["max_s"]),
                fmt_s(fig["median_cpu_s"]),
                fmt_s(fig.get("median_server_cpu_s")),
                str(fig["runs"]),
            )
        table.add_section()
    console.print(table)
    d = beyond["derived"]
    t = d["targets"]["fleet_drift_vs_sequential"]
    verdict = {True: "[green]met[/]", False: "[red]MISSED[/]", None: "no target at this size"}
    value = NA if t["value"] is None else f"{t['value']}{X}"
    console.print(
        f"{t['label']} = {value} (≤ {TARGET_FLEET_VS_SEQUENTIAL}{X}: {verdict[t['met']]}); "
        f"cluster scan / single-server scan = {_or_na(d['cluster_vs_single'], X)}",
        highlight=False,
    )


def _or_na(value: Any, unit: str = "") -> str:
    return NA if value is None else f"{value}{unit}"
