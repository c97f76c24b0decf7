"""A big plan in a screenful: how many changes of each kind and action, how many hazards of
each code, then every hazard on a line of its own (a summary never hides one).

Owns: `render_summary(plan, console)`, the view of `plan --summary`; `show_plan`, which shows a
plan whole or as its summary: asked for, or a plan of more than SUMMARY_OVER changes on a
terminal (saying so in one line, with the flag that shows every change).

Must not: leave out a hazard.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console

from reconciler.model.words import counted
from reconciler.render.text import (
    hazard_lines,
    print_lines,
    render_findings,
    render_plan,
    render_total,
    render_unsupported,
)

SUMMARY_OVER = 200  # changes above which a plan on a terminal is shown as a summary
_ACTIONS = (
    ("create", "add", "green"),
    ("change", "change", "yellow"),
    ("rename", "rename", "yellow"),
    ("drop", "drop", "red"),
)

Line = tuple[tuple[str, str], ...]


def summary_lines(plan: dict[str, Any]) -> list[Line]:
    """The counts per kind and action, and per hazard code, as lines of (text, style) parts."""
    changes = plan["changes"]
    per_kind = Counter((c["kind"], c["action"]) for c in changes)
    kinds = sorted({k for k, _ in per_kind})
    actions = [a for a in _ACTIONS if any(per_kind[(k, a[0])] for k in kinds)]
    width = max(len(k) for k in kinds)
    lines: list[Line] = [(("Changes by kind:", "bold"),)]
    head = "".join(f"  {label:>7}" for _, label, _ in actions)
    lines.append(((f"  {'kind':<{width}}", ""), (head, "dim")))
    for k in kinds:
        cells = [
            (f"  {per_kind[(k, a)]:>7,}", style if per_kind[(k, a)] else "dim")
            for a, _, style in actions
        ]
        lines.append(((f"  {k:<{width}}", ""), *cells))
    lines.append(())
    codes = Counter(h["code"] for c in changes for h in c["hazards"])
    if codes:
        lines.append(((f"Hazards by code ({counted(sum(codes.values()), 'hazard')}):", "bold"),))
        code_width = max(len(c) for c in codes)
        for code, n in sorted(codes.items(), key=lambda x: (-x[1], x[0])):
            lines.append(((f"  {code:<{code_width}}  {n:>7,}", ""),))
        lines.append(())
    return lines


def render_summary(plan: dict[str, Any], console: Console) -> None:
    """The summary, every hazard with its address and reason, and the plan's one-line total."""
    render_unsupported(plan.get("unsupported", []), console)
    render_findings(plan.get("findings", []), console)
    print_lines(console, summary_lines(plan))
    hazards = hazard_lines(plan)
    if hazards:
        title = (("Hazards", "bold"), (" (every one; review before applying):", ""))
        print_lines(console, [title, *hazards, ()])
    render_total(plan, console)


def show_plan(
    plan: dict[str, Any],
    con: Console,
    *,
    summary: bool = False,
    full: bool = False,
    show_sql: bool = False,
    every: str = "--full for every change",
) -> None:
    """Every change (`full`, `show_sql`), or the summary: asked for, or for a plan too long to
    read on a terminal (`every` says where to see every change: apply's and rollback's prompts
    have no --full)."""
    many = len(plan["changes"])
    if not (summary or full or show_sql) and many > SUMMARY_OVER and con.is_terminal:
        con.print(f"{many:,} changes: showing a summary; {every}.\n")
        summary = True
    if summary and plan["changes"]:
        render_summary(plan, con)
    else:
        render_plan(plan, con, show_sql=show_sql)
