"""drift: is the live target still what the YAML says, and what changed out of band?

Two comparisons, both read-only:
- live vs desired: what a plan would change right now (one entry per change of the plan);
- live vs recorded: the inventory the last apply/rollback recorded, object by object — an
  object added, removed or altered since then without Reconciler.
For cron: a documented JSON document, and a Prometheus textfile written atomically.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import desired as desired_mod
from reconciler.model.address import Address
from reconciler.planner import inventory_of, make_plan, open_targets, read_live, state_for

JSON_FORMAT = 1


@dataclass
class DriftReport:
    desired: list[dict[str, Any]] = field(default_factory=list)  # what a plan would change
    recorded: list[dict[str, Any]] = field(default_factory=list)  # out of band since last apply
    findings: list[dict[str, Any]] = field(default_factory=list)
    last_apply: float | None = None  # unix seconds of the last recorded apply or rollback
    last_version: str | None = None

    @property
    def drifted(self) -> bool:
        return bool(self.desired or self.recorded)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": JSON_FORMAT,
            "drift": self.drifted,
            "desired": self.desired,
            "recorded": self.recorded,
            "findings": self.findings,
            "last_apply": {"version": self.last_version, "timestamp": self.last_apply},
        }


def check(pg_url: str | None, redis_url: str | None, schemas_dir: Path) -> DriftReport:
    want = desired_mod.load(schemas_dir)
    report = DriftReport()
    with open_targets(pg_url, redis_url, command="drift") as t:
        live = read_live(t, want=want)
        p = make_plan(t, want, live, drop_mode="drop")  # reports drops; reads no table
        report.desired = [
            {
                "address": c.address,
                "engine": c.engine,
                "kind": c.kind,
                "action": c.action,
                "description": c.description,
            }
            for c in p.changes
        ]
        report.findings = list(p.findings)
        state = state_for(t)
        if state.exists():
            history = state.history(1)
            if history:
                report.last_version = history[0].version
                report.last_apply = history[0].finished_at.timestamp()
            report.recorded = _out_of_band(state.inventory(), inventory_of(live))
    return report


def _out_of_band(recorded: dict[str, Any], now: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for address in sorted(set(recorded) | set(now)):
        before, after = recorded.get(address), now.get(address)
        if before == after:
            continue
        what = "added" if before is None else "removed" if after is None else "changed"
        parsed = Address.parse(address)
        out.append({"address": address, "engine": parsed.engine, "kind": parsed.kind,
                    "change": what})  # fmt: skip
    return out


def metrics_text(report: DriftReport | None) -> str:
    """Prometheus textfile exposition; `None`: the check itself failed."""
    lines = [
        "# HELP reconciler_drift_check_success 1 when the last drift check ran to the end.",
        "# TYPE reconciler_drift_check_success gauge",
        f"reconciler_drift_check_success {0 if report is None else 1}",
    ]
    if report is None:
        return "\n".join(lines) + "\n"
    counts: Counter[tuple[str, str, str]] = Counter()
    for d in report.desired:
        counts[("desired", d["engine"], d["kind"])] += 1
    for d in report.recorded:
        counts[("recorded", d["engine"], d["kind"])] += 1
    lines += [
        "# HELP reconciler_drift_objects Objects that differ: from the desired state "
        '(against="desired") or from what the last apply recorded (against="recorded").',
        "# TYPE reconciler_drift_objects gauge",
    ]
    for (against, engine, kind), n in sorted(counts.items()):
        lines.append(
            f'reconciler_drift_objects{{target="{engine}",kind="{kind}",against="{against}"}} {n}'
        )
    if report.last_apply is not None:
        lines += [
            "# HELP reconciler_last_apply_timestamp_seconds When the last apply or rollback "
            "finished.",
            "# TYPE reconciler_last_apply_timestamp_seconds gauge",
            f"reconciler_last_apply_timestamp_seconds {report.last_apply:.3f}",
        ]
    return "\n".join(lines) + "\n"


def write_metrics(path: Path, report: DriftReport | None) -> None:
    """Atomically (temp file + rename), so a scraper never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(metrics_text(report), encoding="utf-8")
    os.replace(tmp, path)
