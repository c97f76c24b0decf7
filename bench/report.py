"""Results: derived ratios and growth, the JSON file, and the terminal table."""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.redis_bench import REDIS_FIGURES, REDIS_LABELS
from bench.runner import FIGURES, LABELS, NA, QUERY_COUNT_LABEL, X

TARGET_NOOP_VS_DUMP = 1.0
# Ratio targets apply from 1,000 tables: below that the fixed cost of a Python process (start,
# imports: ~0.25 s) is most of a plan, against a pg_dump of ~0.1 s. Smaller sizes show them.
TARGET_NOOP_FROM_TABLES = 1000
NO_TARGET = f"no target below {TARGET_NOOP_FROM_TABLES:,} tables"
TARGET_CATALOG_QUERIES = 10
TARGET_HELP_S = 0.4  # `reconciler --help`, whole process
TARGET_NOOP_GROWTH = 5.5  # no-op plan time, 5,000 tables / 1,000 tables
# key, label, numerator figure, denominator figure, "<=" or ">=", {from how many tables: target}
# (the target of a size is the one of the largest threshold at or below it; None: no target).
# "Cache off" is a first run on a fresh checkout (RECONCILER_NO_CACHE=1): nothing is known yet.
PG_RATIO_TARGETS: tuple[tuple[str, str, str, str, str, dict[int, float | None]], ...] = (
    ("noop_plan_vs_pg_dump", "no-op plan / pg_dump", "noop_plan", "pg_dump", "<=",
     {TARGET_NOOP_FROM_TABLES: TARGET_NOOP_VS_DUMP}),
    ("noop_plan_cold_vs_pg_dump", "no-op plan with the cache off / pg_dump", "noop_plan_cold",
     "pg_dump", "<=", {1000: 1.5, 5000: 1.0}),
    ("export_vs_pg_dump", "export / pg_dump", "export", "pg_dump", "<=",
     {TARGET_NOOP_FROM_TABLES: 1.2}),
    ("full_plan_vs_pg_dump", "full plan from empty / pg_dump", "full_plan", "pg_dump", "<=",
     {5000: 1.0}),
    ("apply_vs_psql", "apply / psql -1 -f of the same up file", "apply", "psql_up", "<=",
     {TARGET_NOOP_FROM_TABLES: 1.15}),
    ("migra_vs_noop_plan", "migra no-op diff / no-op plan", "migra", "noop_plan", ">=",
     {TARGET_NOOP_FROM_TABLES: 5.0}),
    ("migra_vs_noop_plan_cold", "migra no-op diff / no-op plan with the cache off", "migra",
     "noop_plan_cold", ">=", {1000: 5.0, 5000: None}),
)  # fmt: skip


def goal_at(goals: dict[int, float | None], n: int) -> float | None:
    """The target of a size of `n` tables (the largest threshold at or below it)."""
    below = [k for k in goals if k <= n]
    return goals[max(below)] if below else None


TARGET_PLAN_VS_BIGKEYS = 0.25  # reconciler plan --redis / redis-cli --bigkeys at 1M keys
TARGET_PLAN_VS_SCAN = 3.0  # reconciler plan --redis / a bare redis-py SCAN loop
TARGET_REDIS_FROM_KEYS = 1_000_000  # both Redis time targets are set at 1M keys
TARGET_SLOWEST_MS = 5.0  # no command of the plan may block the server for 5 ms
TARGET_RSS_GROWTH = 0.10  # peak RSS of the largest keyspace at most 10 % above the smallest's
RSS_TARGET_FIGURES = ("plan", "scan_only")


def target(
    label: str, value: float | None, cmp: str, goal: float | None, unit: str = "\u00d7"
) -> dict[str, Any]:
    """One target verdict: None when not measured or not set for this size."""
    met = None
    if value is not None and goal is not None:
        met = {"<=": value <= goal, ">=": value >= goal, "<": value < goal}[cmp]
    return {"label": label, "value": value, "cmp": cmp, "target": goal, "unit": unit, "met": met}


def describe_target(t: dict[str, Any]) -> str:
    """`no-op plan / pg_dump = 1.1x (target <= 1.0x: met)`, with the signs of the unit."""
    sign = {"<=": "≤", ">=": "≥", "<": "<"}[t["cmp"]]
    value = NA if t["value"] is None else f"{t['value']}{t['unit']}"
    if t["target"] is None:
        return f"{t['label']} = {value} (no target at this size)"
    return f"{t['label']} = {value} (target {sign} {t['target']}{t['unit']}: {verdict(t['met'])})"


def fmt_s(value: float | None) -> str:
    if value is None:
        return NA
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def fmt_mib(value: float | None) -> str:
    return NA if value is None else f"{value:.0f} MiB"


def fmt_n(value: int) -> str:
    return f"{value:,}"


def fmt_pct(part: float | None, whole: float | None) -> str:
    return f"{100 * part / whole:.0f} %" if part is not None and whole else NA


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[met]


def _median(size: dict[str, Any], key: str) -> float | None:
    fig = size["figures"].get(key)
    return fig["median_s"] if fig and fig["ok"] else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def derive(size: dict[str, Any]) -> dict[str, Any]:
    """Ratios and target verdicts of one size (a target miss is reported, never an error)."""
    n = size["tables"]
    qc = size.get("query_count")
    catalog = qc["catalog"] if qc else None
    targets = {}
    for key, label, a, b, cmp, goals in PG_RATIO_TARGETS:
        value = _ratio(_median(size, a), _median(size, b))
        targets[key] = target(label, value, cmp, goal_at(goals, n))
    targets["catalog_queries"] = target(
        "catalog queries of a no-op plan", catalog, "<=", TARGET_CATALOG_QUERIES, unit=""
    )
    if (help_s := _median(size, "help")) is not None:
        targets["help"] = target(
            "`reconciler --help`", round(help_s, 2), "<=", TARGET_HELP_S, unit=" s"
        )
    return {
        "noop_plan_vs_pg_dump": targets["noop_plan_vs_pg_dump"]["value"],
        "noop_plan_cold_vs_pg_dump": _ratio(
            _median(size, "noop_plan_cold"), _median(size, "pg_dump")
        ),
        "apply_vs_psql": targets["apply_vs_psql"]["value"],
        "full_plan_vs_noop_plan": _ratio(_median(size, "full_plan"), _median(size, "noop_plan")),
        "targets": targets,
    }


def growth_targets(growths: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The no-op plan's growth from 1,000 to 5,000 tables."""
    out = []
    for g in growths:
        if (g["from"], g["to"]) == (1000, 5000) and "noop_plan" in g["figures"]:
            label = "no-op plan growth 1,000 → 5,000 tables"
            out.append(target(label, g["figures"]["noop_plan"]["time"], "<=", TARGET_NOOP_GROWTH))
    return out


def growth(
    sizes: list[dict[str, Any]], *, unit: str = "tables", figures: Any = None
) -> list[dict[str, Any]]:
    """Median time and peak RSS factors between consecutive sizes (`unit`: "tables" or
    "keys", the size field of each result)."""
    out = []
    for small, large in itertools.pairwise(sorted(sizes, key=lambda s: s[unit])):
        factors = {}
        for key, _ in figures if figures is not None else FIGURES:
            a, b = small["figures"].get(key), large["figures"].get(key)
            if not (a and b and a["ok"] and b["ok"]):
                continue
            factors[key] = {
                "time": _ratio(b["median_s"], a["median_s"]),
                "peak_rss": _ratio(b["peak_rss_mib"], a["peak_rss_mib"]),
            }
        out.append(
            {
                "from": small[unit],
                "to": large[unit],
                unit: _ratio(large[unit], small[unit]),
                "figures": factors,
            }
        )
    return out


# ------------------------------------------------------------------------------------ redis


def derive_redis(size: dict[str, Any]) -> dict[str, Any]:
    """Ratios of one keyspace size; the plan / bigkeys target."""
    m = functools.partial(_median, size)
    plan_vs_bigkeys = _ratio(m("plan"), m("bigkeys"))
    at = size["keys"] >= TARGET_REDIS_FROM_KEYS
    return {
        "plan_vs_bigkeys": plan_vs_bigkeys,
        "plan_vs_floor": _ratio(m("plan"), m("scan_floor")),
        "bigkeys_vs_floor": _ratio(m("bigkeys"), m("scan_floor")),
        "scan_only_vs_floor": _ratio(m("scan_only"), m("scan_floor")),
        "scan_only_vs_plan": _ratio(m("scan_only"), m("plan")),
        "targets": {
            "plan_vs_bigkeys": target(
                "plan / redis-cli --bigkeys",
                plan_vs_bigkeys,
                "<=",
                TARGET_PLAN_VS_BIGKEYS if at else None,
            ),
            "plan_vs_scan_loop": target(
                "plan / bare SCAN loop",
                _ratio(m("plan"), m("scan_floor")),
                "<=",
                TARGET_PLAN_VS_SCAN if at else None,
            ),
            "plan_slowest_command": target(
                "slowest server command during the plan (SLOWLOG, 0: none of 5 ms or more)",
                _slowest_ms(size, "plan"),
                "<",
                TARGET_SLOWEST_MS,
                unit=" ms",
            ),
        },
    }


def _slowest_ms(size: dict[str, Any], key: str) -> float | None:
    fig = size["figures"].get(key) or {}
    us = fig.get("slowest_command_us")
    return None if us is None else round(us / 1000, 1)


def redis_growth(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median time and peak RSS factors between consecutive keyspace sizes."""
    return growth(sizes, unit="keys", figures=REDIS_FIGURES)


def redis_targets(redis: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS of the largest keyspace against the smallest, per figure; the target (≤ +10 %)
    is judged for the plan and for the scan alone. Bytes per violating key: the RSS added
    divided by the keys added to the plan (those without TTL)."""
    ordered = sorted(redis["sizes"], key=lambda s: s["keys"])
    if len(ordered) < 2:
        return {"rss_growth": None}
    small, large = ordered[0], ordered[-1]
    figures = {}
    for key, _ in REDIS_FIGURES:
        a, b = small["figures"].get(key), large["figures"].get(key)
        if not (a and b and a["ok"] and b["ok"]):
            continue
        factor = _ratio(b["peak_rss_mib"], a["peak_rss_mib"])
        extra_fixes = (large["shape"] or {}).get("without_ttl", 0) - (small["shape"] or {}).get(
            "without_ttl", 0
        )
        added = (b["peak_rss_mib"] - a["peak_rss_mib"]) * 2**20
        figures[key] = {
            "from_mib": a["peak_rss_mib"],
            "to_mib": b["peak_rss_mib"],
            "factor": factor,
            "added_mib": round(b["peak_rss_mib"] - a["peak_rss_mib"], 1),
            "bytes_per_violating_key": round(added / extra_fixes) if extra_fixes else None,
            "target": 1 + TARGET_RSS_GROWTH if key in RSS_TARGET_FIGURES else None,
            "met": (
                None
                if key not in RSS_TARGET_FIGURES or factor is None
                else factor <= 1 + TARGET_RSS_GROWTH
            ),
        }
    return {"rss_growth": {"from": small["keys"], "to": large["keys"], "figures": figures}}


def target_misses(results: dict[str, Any]) -> list[str]:
    misses = []
    for size in results["sizes"]:
        for t in size["derived"]["targets"].values():
            if t["met"] is False:
                misses.append(f"{size['tables']:,} tables: {describe_target(t)}")
    misses += [describe_target(t) for t in results.get("growth_targets", []) if t["met"] is False]
    redis = results.get("redis") or {}
    for size in redis.get("sizes", []):
        for t in size["derived"]["targets"].values():
            if t["met"] is False:
                misses.append(f"{size['keys']:,} keys: {describe_target(t)}")
    rss = (redis.get("targets") or {}).get("rss_growth") or {}
    for key, g in rss.get("figures", {}).items():
        if g["met"] is False:
            misses.append(
                f"peak RSS of {REDIS_LABELS[key]}, {rss['from']:,} → {rss['to']:,} keys: "
                f"{X}{g['factor']} (target ≤ {X}{g['target']:.2f})"
            )
    beyond = (results.get("beyond") or {}).get("derived") or {}
    for t in (beyond.get("targets") or {}).values():
        if t["met"] is False:
            misses.append(f"beyond one server: {describe_target(t)}")
    return misses


def dumps(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"


def write_json(results: dict[str, Any], results_dir: Path, stamp: str) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    text = dumps(results)
    path = results_dir / f"{stamp}.json"
    path.write_text(text, encoding="utf-8")
    (results_dir / "latest.json").write_text(text, encoding="utf-8")
    return path


def print_table(results: dict[str, Any], console: Console) -> None:
    table = Table(title="reconciler benchmark (wall time of whole processes)", show_lines=False)
    for col in ("tables", "figure", "median", "min", "max", "peak RSS", "runs"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for size in results["sizes"]:
        n = f"{size['tables']:,}"
        for key, label in FIGURES:
            fig = size["figures"].get(key)
            if fig is None:
                continue
            status = "" if fig["ok"] else " [red]FAILED[/]"
            table.add_row(
                n,
                label + status,
                fmt_s(fig["median_s"]),
                fmt_s(fig["min_s"]),
                fmt_s(fig["max_s"]),
                fmt_mib(fig["peak_rss_mib"]),
                str(fig["runs"]),
            )
        qc = size.get("query_count")
        if qc:
            table.add_row(
                n, QUERY_COUNT_LABEL, str(qc["catalog"]), "", "", "", f"+{qc['other']} other"
            )
        d = size["derived"]
        for label, key, target, unit in (
            ("no-op plan / pg_dump", "noop_plan_vs_pg_dump", TARGET_NOOP_VS_DUMP, X),
            ("catalog queries target", "catalog_queries", TARGET_CATALOG_QUERIES, ""),
        ):
            t = d["targets"][key]
            verdict = {True: "[green]met[/]", False: "[red]MISSED[/]", None: NA}[t["met"]]
            if t["target"] is None:
                verdict = NO_TARGET
            value = NA if t["value"] is None else f"{t['value']}{unit}"
            table.add_row(n, f"{label} (≤ {target}{unit})", value, verdict, "", "", "")
        table.add_section()
    console.print(table)
    for g in results["growth"]:
        parts = [
            f"{LABELS[k]} {X}{v['time']}" for k, v in g["figures"].items() if v["time"] is not None
        ]
        console.print(
            f"growth {g['from']:,} → {g['to']:,} tables ({X}{g['tables']}): " + ", ".join(parts),
            highlight=False,
        )


def print_redis_table(results: dict[str, Any], console: Console) -> None:
    redis = results["redis"]
    table = Table(title="reconciler bench, Redis (wall time of whole processes)")
    for col in ("keys", "figure", "median", "min", "max", "peak RSS", "CPU", "server CPU", "runs"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for size in redis["sizes"]:
        n = f"{size['keys']:,}"
        for key, label in REDIS_FIGURES:
            fig = size["figures"].get(key)
            if fig is None:
                continue
            status = "" if fig["ok"] else " [red]FAILED[/]"
            table.add_row(
                n,
                label + status,
                fmt_s(fig["median_s"]),
                fmt_s(fig["min_s"]),
                fmt_s(fig["max_s"]),
                fmt_mib(fig["peak_rss_mib"]),
                fmt_s(fig["median_cpu_s"]),
                fmt_s(fig["median_server_cpu_s"]),
                str(fig["runs"]),
            )
        t = size["derived"]["targets"]["plan_vs_bigkeys"]
        verdict = {True: "[green]met[/]", False: "[red]MISSED[/]", None: NA}[t["met"]]
        value = NA if t["value"] is None else f"{t['value']}{X}"
        label = f"plan / --bigkeys (≤ {TARGET_PLAN_VS_BIGKEYS}{X})"
        table.add_row(n, label, value, verdict, "", "", "", "", "")
        table.add_section()
    console.print(table)
    rss = (redis.get("targets") or {}).get("rss_growth")
    if rss:
        for key, g in rss["figures"].items():
            verdict = "" if g["met"] is None else " (met)" if g["met"] else " (MISSED)"
            console.print(
                f"peak RSS {rss['from']:,} → {rss['to']:,} keys, {REDIS_LABELS[key]}: "
                f"{fmt_mib(g['from_mib'])} → {fmt_mib(g['to_mib'])} = {X}{g['factor']}{verdict}",
                highlight=False,
            )
