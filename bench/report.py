"""Results: derived ratios and growth, the JSON file, and the terminal table."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.runner import FIGURES, LABELS, NA, QUERY_COUNT_LABEL, X

TARGET_NOOP_VS_DUMP = 1.5
TARGET_CATALOG_QUERIES = 10


def fmt_s(value: float | None) -> str:
    if value is None:
        return NA
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def fmt_mib(value: float | None) -> str:
    return NA if value is None else f"{value:.0f} MiB"


def _median(size: dict[str, Any], key: str) -> float | None:
    fig = size["figures"].get(key)
    return fig["median_s"] if fig and fig["ok"] else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def derive(size: dict[str, Any]) -> dict[str, Any]:
    """Ratios and target verdicts of one size (a target miss is reported, never an error)."""
    noop_vs_dump = _ratio(_median(size, "noop_plan"), _median(size, "pg_dump"))
    qc = size.get("query_count")
    catalog = qc["catalog"] if qc else None
    return {
        "noop_plan_vs_pg_dump": noop_vs_dump,
        "apply_vs_psql": _ratio(_median(size, "apply"), _median(size, "psql_up")),
        "full_plan_vs_noop_plan": _ratio(_median(size, "full_plan"), _median(size, "noop_plan")),
        "targets": {
            "noop_plan_vs_pg_dump": {
                "value": noop_vs_dump,
                "target": TARGET_NOOP_VS_DUMP,
                "met": None if noop_vs_dump is None else noop_vs_dump <= TARGET_NOOP_VS_DUMP,
            },
            "catalog_queries": {
                "value": catalog,
                "target": TARGET_CATALOG_QUERIES,
                "met": None if catalog is None else catalog <= TARGET_CATALOG_QUERIES,
            },
        },
    }


def growth(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median time and peak RSS factors between consecutive sizes."""
    out = []
    ordered = sorted(sizes, key=lambda s: s["tables"])
    for small, large in itertools.pairwise(ordered):
        figures = {}
        for key, _ in FIGURES:
            a, b = small["figures"].get(key), large["figures"].get(key)
            if not (a and b and a["ok"] and b["ok"]):
                continue
            figures[key] = {
                "time": _ratio(b["median_s"], a["median_s"]),
                "peak_rss": _ratio(b["peak_rss_mib"], a["peak_rss_mib"]),
            }
        out.append(
            {
                "from": small["tables"],
                "to": large["tables"],
                "tables": _ratio(large["tables"], small["tables"]),
                "figures": figures,
            }
        )
    return out


def target_misses(results: dict[str, Any]) -> list[str]:
    misses = []
    for size in results["sizes"]:
        for name, t in size["derived"]["targets"].items():
            if t["met"] is False:
                what = (
                    "no-op plan / pg_dump" if name == "noop_plan_vs_pg_dump" else "catalog queries"
                )
                unit = X if name == "noop_plan_vs_pg_dump" else ""
                misses.append(
                    f"{size['tables']} tables: {what} = {t['value']}{unit} "
                    f"(target ≤ {t['target']}{unit})"
                )
    return misses


def write_json(results: dict[str, Any], results_dir: Path, stamp: str) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2, ensure_ascii=False) + "\n"
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
