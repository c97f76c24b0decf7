"""Plan files: `<version>_<slug>_up.sql`, `_down.sql` and `.plan.json`.

The SQL files are rendered from the plan value, and apply executes the statements of the plan
value only after checking that the files on disk are byte-identical to that rendering and to
the recorded sha256: what was reviewed is exactly what runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from reconciler.errors import InputError, StalePlan
from reconciler.plan import Plan, PlannedChange


def _header(plan: Plan, direction: str) -> list[str]:
    c = plan.counts()
    return [
        f"-- reconciler plan {plan.slug} ({direction}); the version is in the file name",
        f"-- desired state sha256: {plan.desired_hash}",
        f"-- live fingerprint before: {plan.live_fingerprint}",
        f"-- {c['add']} to add, {c['change']} to change, {c['drop']} to drop",
        "-- Statements run in one transaction when applied by reconciler; replayable with",
        "-- `psql -1 -v ON_ERROR_STOP=1 -f FILE`.",
    ]


def _block(
    change: PlannedChange, statements: tuple[str, ...], symbol: str, transactional: bool = True
) -> list[str]:
    lines = ["", f"-- {symbol} {change.address}: {change.description}"]
    lines += [f"--   hazard {h['code']}: {h['message']}" for h in change.hazards]
    if not transactional:
        lines.append("--   runs before, outside the transaction (reconciler does this itself)")
    lines += [f"{s};" if not s.startswith("--") else s for s in statements]
    return lines


def render_up(plan: Plan) -> str:
    lines = _header(plan, "up")
    for c in plan.changes:
        lines += _block(c, c.up, c.symbol, c.transactional)
    return "\n".join(lines) + "\n"


def render_down(plan: Plan) -> str:
    lines = _header(plan, "down: reverts the up file")
    for c in reversed(plan.changes):
        lines += _block(c, c.down, "revert", c.down_transactional)
    return "\n".join(lines) + "\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_plan(plan: Plan, out_dir: Path) -> tuple[Plan, Path]:
    """Write the three files; returns the plan with its file checksums and the json path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    up, down = render_up(plan), render_down(plan)
    up_name, down_name = f"{plan.name}_up.sql", f"{plan.name}_down.sql"
    plan = dataclasses.replace(
        plan,
        files={
            "up": {"name": up_name, "sha256": sha256(up)},
            "down": {"name": down_name, "sha256": sha256(down)},
        },
    )
    _atomic_write(out_dir / up_name, up)
    _atomic_write(out_dir / down_name, down)
    json_path = out_dir / f"{plan.name}.plan.json"
    _atomic_write(json_path, json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return plan, json_path


def read_plan(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"No plan file at {path}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"The plan file cannot be read: {exc}.", source=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("The plan file is not a JSON object.", source=str(path))
    return Plan.from_dict(data, source=str(path))


def verify_files(plan: Plan, plan_dir: Path, *, direction: str = "up") -> str:
    """The file's text, after proving it is unedited; StalePlan otherwise."""
    meta = plan.files.get(direction)
    if not meta:
        raise StalePlan(f"The plan records no {direction} file; it cannot be verified.")
    path = plan_dir / meta["name"]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise StalePlan(f"The plan's {direction} file {path} is missing.") from None
    expected = render_up(plan) if direction == "up" else render_down(plan)
    if sha256(text) != meta["sha256"] or text != expected:
        raise StalePlan(
            f"The {direction} file {path} was edited after planning (checksum mismatch).",
            detail="Make a new plan instead of editing generated files.",
        )
    return text
