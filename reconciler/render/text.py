"""Terminal rendering with rich: `+ create`, `~ change`, `- drop`, hazards highlighted."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

_STYLE = {"create": "green", "change": "yellow", "rename": "yellow", "drop": "red"}
_HAZARD_STYLE = {"destructive": "bold red", "irreversible": "bold red"}


def print_lines(console: Console, lines: list[tuple[tuple[str, str], ...]]) -> None:
    """Print lines of (text, style) parts at once. Without colour (not a terminal, NO_COLOR)
    the text is written as it is: rich's markup pass costs ~60 µs a line, 0.25 s for a
    4,000-change plan, for nothing when there is no colour to show."""
    if console.color_system is None or console.no_color:
        console.file.write("".join("".join(t for t, _ in parts) + "\n" for parts in lines))
        return
    markup = (
        "".join(f"[{st}]{escape(t)}[/]" if st else escape(t) for t, st in parts) for parts in lines
    )
    console.print("\n".join(markup), highlight=False)


def render_findings(findings: list[dict[str, Any]], console: Console) -> None:
    """What a scan found that no change fixes (wrong types, unmatched keys, oversized values)."""
    if not findings:
        return
    console.print("Findings (reported, never fixed by deleting data):")
    for f in findings:
        examples = ", ".join(f.get("examples", [])[:3])
        console.print(
            f"  [yellow]![/] {escape(f['address'])}: {escape(f['message'])}"
            + (f" [dim](e.g. {escape(examples)})[/]" if examples else ""),
            highlight=False,
        )
    console.print()


def render_unsupported(items: list[dict[str, str]], console: Console) -> None:
    """Live objects Reconciler cannot express yet: left exactly as they are, never planned."""
    if not items:
        return
    console.print(
        f"{len(items)} object(s) in scope that Reconciler does not manage yet "
        "(left as they are; not compared, not exported):"
    )
    for u in items:
        console.print(
            f"  [yellow]unsupported:[/] {escape(u['kind'])} {escape(u['name'])}", highlight=False
        )
    console.print()


def render_plan(plan: dict[str, Any], console: Console, *, show_sql: bool = False) -> None:
    changes = plan["changes"]
    render_unsupported(plan.get("unsupported", []), console)
    render_findings(plan.get("findings", []), console)
    if not changes:
        console.print("No changes. The database matches the desired state.")
        return
    console.print("Reconciler will perform the following actions:\n")
    width = min(max(len(c["address"]) for c in changes), 60)
    lines: list[tuple[tuple[str, str], ...]] = []
    for c in changes:
        style = _STYLE.get(c["action"], "white")
        head = f"{c['symbol']:>2} {c['address']:<{width}}"
        lines.append((("  ", ""), (head, style), (f"  {c['description']}", "")))
        for h in c["hazards"]:
            hstyle = _HAZARD_STYLE.get(h["code"], "yellow")
            lines.append((("      ", ""), (f"! {h['code']}", hstyle), (f": {h['message']}", "")))
        if show_sql:
            lines += [(("      ", ""), (s, "dim")) for s in c["up"]]
    print_lines(console, lines)
    n = plan["summary"]
    console.print(
        f"\nPlan: [green]{n['add']} to add[/], [yellow]{n['change']} to change[/], "
        f"[red]{n['drop']} to drop[/]."
    )
