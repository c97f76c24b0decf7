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
from typing import TYPE_CHECKING, Any

from reconciler import desired as desired_mod
from reconciler.model.address import Address
from reconciler.pipeline.planner import inventory_of, make_plan, open_targets, read_live, state_for
from reconciler.plan import withheld_drops
from reconciler.project.config import resolve_scope
from reconciler.project.scope import Scope

if TYPE_CHECKING:
    from reconciler.model.snapshot import PgSnapshot

JSON_FORMAT = 1


@dataclass
class DriftReport:
    # what a plan would change, and the drops it withholds ("withheld": True)
    desired: list[dict[str, Any]] = field(default_factory=list)
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


def drift(
    pg_url: str | None,
    redis_url: str | None,
    schemas_dir: Path,
    *,
    want: Any = None,
    scope: Scope | None = None,
) -> DriftReport:
    """`want`: the desired state already loaded from `schemas_dir` (a fleet loads it once);
    `scope`: the schemas left out (None: those of the project holding `schemas_dir`)."""
    if want is None:
        want = desired_mod.load(schemas_dir)
    report = DriftReport()
    scope = resolve_scope(scope, schemas_dir)
    with open_targets(pg_url, redis_url, command="drift", scope=scope) as t:
        live = read_live(t, want=want)
        p = make_plan(t, want, live, drop_mode="drop", to_apply=False)  # reports drops
        report.desired = [
            {
                "address": c.address,
                "engine": c.engine,
                "kind": c.kind,
                "action": c.action,
                "description": c.description,
                # Each attribute that differs, as the YAML says it and as the database has it.
                "differences": [
                    {"attribute": d["attribute"], "yaml": d.get("new"), "database": d.get("old")}
                    for d in c.details
                    if "attribute" in d and ("old" in d or "new" in d)
                ],
            }
            for c in p.changes
        ]
        # A change a plan refuses (an unmodelled object depends on what it changes) is drift
        # too: said with the refusal, so that cron hears of it as drift, not as a failure.
        refused = {f["address"]: f["message"] for f in p.findings if f.get("kind") == "refused"}
        for entry in report.desired:
            if entry["address"] in refused:
                entry["refused"] = refused[entry["address"]]
        report.findings = list(p.findings)
        # A drop withheld (an unmodelled object depends on what the YAML leaves out) is drift
        # no plan can fix: the database still differs from the YAML, and cron must hear of it.
        for f in withheld_drops(p.findings):
            a = Address.parse(f["address"])
            report.desired.append(
                {"address": f["address"], "engine": a.engine, "kind": a.kind, "action": "drop",
                 "description": f["message"], "differences": [], "withheld": True}
            )  # fmt: skip
        state = state_for(t)
        if state.exists():
            history = state.history(1)
            begun: frozenset[str] = frozenset()
            if history:
                report.last_version = history[0].version
                report.last_apply = history[0].finished_at.timestamp()
                begun = _begun(history[0])
            invalid = _invalid_indexes(live.pg) if live.pg is not None else frozenset()
            report.recorded = _out_of_band(state.inventory(), inventory_of(live), invalid, begun)
    return report


def _invalid_indexes(snap: PgSnapshot) -> frozenset[str]:
    """Addresses of the live indexes whose build never finished (an interrupted CREATE INDEX
    CONCURRENTLY): whatever the last apply recorded, such an index is not the one it made."""
    return frozenset(str(ix.address) for ix in snap.indexes.values() if not ix.valid)


def _begun(last: Any) -> frozenset[str]:
    """The objects of the last apply when it is recorded as partial (a run killed, or whose
    undo failed): it records each change before its online step runs, so what the server
    went on to finish, or left half done, is that run's, not a change made without it."""
    if last.direction != "up" or last.status != "applied" or not last.plan.get("partial"):
        return frozenset()
    return frozenset(str(c["address"]) for c in last.plan.get("changes", ()))


def _out_of_band(
    recorded: dict[str, Any],
    now: dict[str, Any],
    invalid: frozenset[str] = frozenset(),
    begun: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    out = []
    for address in sorted(set(recorded) | set(now)):
        before, after = recorded.get(address), now.get(address)
        if before == after and address not in invalid:
            continue
        # An invalid index is said as such, not as "added" (it was never made to work) nor
        # hidden behind an equal definition; an object of an interrupted apply's change, as
        # that apply's.
        what = "added" if before is None else "removed" if after is None else "changed"
        what = "unfinished" if address in begun else what
        what = "invalid" if address in invalid else what
        parsed = Address.parse(address)
        out.append({"address": address, "engine": parsed.engine, "kind": parsed.kind,
                    "change": what})  # fmt: skip
    return out


_FAMILIES = {
    "reconciler_drift_check_success": "1 when the last drift check ran to the end.",
    "reconciler_drift_objects": "Objects that differ: from the desired state "
    '(against="desired") or from what the last apply recorded (against="recorded").',
    "reconciler_last_apply_timestamp_seconds": "When the last apply or rollback finished.",
}


def metrics_text(
    report: DriftReport | None, *, fleet: list[tuple[str, DriftReport | None]] | None = None
) -> str:
    """Prometheus textfile exposition; a report of `None`: the check itself failed. A fleet's
    reports are one file, each sample labelled with its `database` (the target's name)."""
    checks = fleet if fleet is not None else [("", report)]
    samples: dict[str, list[str]] = {name: [] for name in _FAMILIES}
    for database, one in checks:
        base = f'database="{database}"' if fleet is not None else ""
        sep = "," if base else ""
        labels = f"{{{base}}}" if base else ""
        samples["reconciler_drift_check_success"].append(
            f"reconciler_drift_check_success{labels} {0 if one is None else 1}"
        )
        if one is None:
            continue
        counts: Counter[tuple[str, str, str]] = Counter()
        for d in one.desired:
            counts[("desired", d["engine"], d["kind"])] += 1
        for d in one.recorded:
            counts[("recorded", d["engine"], d["kind"])] += 1
        for (against, engine, kind), n in sorted(counts.items()):
            samples["reconciler_drift_objects"].append(
                f'reconciler_drift_objects{{{base}{sep}target="{engine}",kind="{kind}",'
                f'against="{against}"}} {n}'
            )
        if one.last_apply is not None:
            samples["reconciler_last_apply_timestamp_seconds"].append(
                f"reconciler_last_apply_timestamp_seconds{labels} {one.last_apply:.3f}"
            )
    lines: list[str] = []
    for name, text in _FAMILIES.items():
        if samples[name]:
            lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge", *samples[name]]
    return "\n".join(lines) + "\n"


def write_metrics(
    path: Path,
    report: DriftReport | None,
    *,
    fleet: list[tuple[str, DriftReport | None]] | None = None,
) -> None:
    """Atomically (temp file + rename), so a scraper never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(metrics_text(report, fleet=fleet), encoding="utf-8")
    os.replace(tmp, path)
