"""`reconciler drift` as text: per object, what drifted and in which direction, in words a
person acts on ("in the database, not in the YAML"), values as the YAML writes them.

Owns: `drift_lines(report)`, the lines of (text, style) parts for a drift report's dict
(api/drift.py `DriftReport.to_dict`).

Must not: read a target or decide what drifted (api/drift.py does).
"""

from __future__ import annotations

from typing import Any

from reconciler.model.words import counted
from reconciler.render.words import yaml_value

Line = tuple[tuple[str, str], ...]

# What each action of a plan means about the database, seen from the YAML.
_DESIRED = {
    "create": ("+", "green", "in the YAML, missing from the database"),
    "drop": ("-", "red", "in the database, not in the YAML"),
    "change": ("~", "yellow", "differs"),
    "rename": ("~", "yellow", "named otherwise in the YAML"),
}
_RECORDED = {
    "added": ("+", "yellow", "added in the database since the last apply (not by Reconciler)"),
    "removed": ("-", "red", "removed from the database since the last apply (not by Reconciler)"),
    "changed": ("~", "yellow", "changed in the database since the last apply (not by Reconciler)"),
    "invalid": ("!", "red", "left invalid by an interrupted or failed build"),
    "unfinished": (
        "!",
        "yellow",
        "left by the interrupted apply of that version (`reconciler plan` shows what is left)",
    ),
}


def _difference(d: dict[str, Any]) -> str:
    yaml, database = yaml_value(d["yaml"]), yaml_value(d["database"])
    return f"{d['attribute']}: {yaml} (YAML) vs {database} (database)"


def drift_lines(report: dict[str, Any]) -> list[Line]:
    """Two blocks: the database against the YAML (what a plan would change), then against what
    the last apply recorded (changes made without Reconciler); nothing when there is no drift."""
    lines: list[Line] = []
    desired, recorded = report.get("desired", []), report.get("recorded", [])
    if desired:
        width = min(max(len(d["address"]) for d in desired), 60)
        n = counted(len(desired), "object")
        lines.append(((f"The database differs from the YAML ({n}):", "bold"),))
        for d in desired:
            symbol, style, words = _DESIRED.get(d["action"], ("?", "", d["action"]))
            differences = d.get("differences") or []
            head = ((f"  {symbol} ", style), (f"{d['address']:<{width}}", style))
            if d["action"] == "change" and len(differences) == 1:
                lines.append((*head, (f"  differs: {_difference(differences[0])}", "")))
                differences = []
            else:
                if d.get("withheld"):
                    words = "in the database, not in the YAML, withheld"
                changed = d["action"] == "change" and differences
                what = words if changed else f"{words}: {d['description']}"
                lines.append((*head, (f"  {what}", "")))
            if d.get("refused"):
                lines.append((("      " + d["refused"], ""),))
            lines += [(("      " + _difference(x), ""),) for x in differences]
        lines.append(())
    if recorded:
        last = (report.get("last_apply") or {}).get("version")
        since = f" (version {last})" if last else ""
        n = counted(len(recorded), "object")
        lines.append(((f"Changed since the last apply{since} ({n}):", "bold"),))
        width = min(max(len(d["address"]) for d in recorded), 60)
        for d in recorded:
            symbol, style, words = _RECORDED.get(d["change"], ("?", "", d["change"]))
            lines.append(
                ((f"  {symbol} ", style), (f"{d['address']:<{width}}", style), (f"  {words}", ""))
            )
        lines.append(())
    return lines


def drift_advice(report: dict[str, Any]) -> list[str]:
    """What is to be done, after drift_lines: a sentence for each kind of difference the
    report holds (one a plan changes, one it refuses, a drop it withholds), or that there is
    no drift."""
    desired = report.get("desired", [])
    out = []
    refused = [d for d in desired if d.get("refused")]
    if refused:  # a plan of these files refuses as a whole, its other changes too
        out.append(
            "`reconciler plan` refuses these files until each change refused (above) is "
            "resolved: what depends on it changed by hand, or the YAML keeping the object as it "
            "is. A change refused stays drift until then."
        )
    elif [d for d in desired if not d.get("withheld")]:
        out.append("`reconciler plan` shows the changes that make the database match the YAML.")
    if [d for d in desired if d.get("withheld")]:
        out.append(
            "A drop withheld stays drift until what depends on it is dropped or changed "
            "(or the object is put back in the YAML)."
        )
    if not report.get("drift"):
        out.append("No drift: live matches the desired state and the last recorded apply.")
    return out
