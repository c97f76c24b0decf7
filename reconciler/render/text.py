"""Terminal rendering with rich: `+ create`, `~ change`, `- drop`, hazards highlighted."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape

from reconciler.model.address import Address
from reconciler.model.words import counted
from reconciler.ops.redis.proto import quote
from reconciler.plan import withheld_drops
from reconciler.render.words import yaml_value
from reconciler.sql.layout import indented

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


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with control, bidirectional and zero-width characters written as escapes (a key
    name must not move the cursor, clear the screen or reverse what follows)."""
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def render_findings(findings: list[dict[str, Any]], console: Console) -> None:
    """What a scan found that no change fixes (wrong types, unmatched keys, oversized values)."""
    if not findings:
        return
    console.print("Findings (reported; no data is deleted for them but what a change says):")
    for f in findings:
        examples = ", ".join(f.get("examples", [])[:3])
        console.print(
            f"  [yellow]![/] {escape(printable(f['address']))}: {escape(printable(f['message']))}"
            + (f" [dim](e.g. {escape(examples)})[/]" if examples else ""),
            highlight=False,
        )
    console.print()


def nothing_to_do(findings: Any) -> str:
    """The closing sentence of a plan or apply without changes: that the database matches the
    desired state only when no drop was withheld (shown above, with why)."""
    withheld = len(withheld_drops(findings))
    if not withheld:
        return "No changes. The database matches the desired state."
    return (
        f"No changes can be made, yet the database differs from the desired state: "
        f"{counted(withheld, 'drop')} withheld (above)."
    )


def render_unsupported(items: list[dict[str, str]], console: Console) -> None:
    """Live objects Reconciler cannot express yet: left exactly as they are, never planned,
    and so is what they depend on (diff/unmodeled.py)."""
    if not items:
        return
    console.print(
        f"{counted(len(items), 'object')} in scope that Reconciler does not manage yet "
        "(left as they are, with what they depend on; not compared, not exported):"
    )
    for u in items:
        console.print(
            f"  [yellow]unsupported:[/] {escape(u['kind'])} {escape(u['name'])}", highlight=False
        )
    console.print()


# Kinds that live on a table: their changes are shown under the table's heading.
_ON_TABLE = frozenset({"table", "column", "constraint", "trigger", "policy", "replica_identity"})


def _owner(change: dict[str, Any]) -> str | None:
    """`public.users` for a table and what lives on it (pg.column.public.users.email …; an
    index says its table in `owner`)."""

    if change.get("owner"):
        return str(change["owner"])
    parts = Address.parse(change["address"]).parts
    if len(parts) >= 4 and parts[0] == "pg" and parts[1] in _ON_TABLE:
        return f"{parts[2]}.{parts[3]}"
    return None


def plan_lines(
    plan: dict[str, Any], *, show_sql: bool = False
) -> list[tuple[tuple[str, str], ...]]:
    """The changes as lines of (text, style) parts: grouped by table (a table's own change
    first, then its columns, keys, triggers and policies, in plan order), each with its
    attribute changes (old → new); other objects one block each, in plan order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in plan["changes"]:
        groups.setdefault(_owner(c) or c["address"], []).append(c)
    width = min(max(len(c["address"]) for c in plan["changes"]), 60)
    lines: list[tuple[tuple[str, str], ...]] = []
    alone = False  # the group before was one object of its own
    for key, members in groups.items():
        indent = "  "
        if _owner(members[0]) is not None:
            lines.append((("  ", ""), (f"# table {key}", "bold")))
            indent, alone = "    ", False
        else:
            if alone and lines and lines[-1] == ():
                lines.pop()  # objects of their own follow each other without a blank line
            alone = True
        for c in members:
            style = _STYLE.get(c["action"], "white")
            head = f"{c['symbol']:>2} {c['address']:<{width}}"
            attributes = [
                d for d in c.get("details", ()) if "attribute" in d and ("old" in d or "new" in d)
            ]
            # A change with attributes says them below, one a line; its summary would repeat them.
            what = c["kind"] if attributes else c["description"]
            lines.append(((indent, ""), (head, style), (f"  {what}", "")))
            for d in attributes:
                old, new = yaml_value(d.get("old")), yaml_value(d.get("new"))
                lines.append(
                    (
                        (indent + "      ", ""),
                        (f"{d['attribute']}: ", ""),
                        (old, "red"),
                        (" → ", ""),
                        (new, "green"),
                    )
                )
            if show_sql:  # each line of a statement at the same left edge, laid out as in files
                pad = indent + "      "
                lines += [((pad, ""), (x, "dim")) for s in c["up"] for x in indented(s).split("\n")]
        lines.append(())
    return lines


def hazard_lines(plan: dict[str, Any]) -> list[tuple[tuple[str, str], ...]]:
    pairs = [(c, h) for c in plan["changes"] for h in c["hazards"]]
    width = max((len(h["code"]) for _, h in pairs), default=0)
    out: list[tuple[tuple[str, str], ...]] = []
    for c, h in pairs:
        hstyle = _HAZARD_STYLE.get(h["code"], "yellow")
        code = f"! {h['code']:<{width}}"
        out.append((("  ", ""), (code, hstyle), (f"  {c['address']}: {h['message']}", "")))
    return out


def render_plan(plan: dict[str, Any], console: Console, *, show_sql: bool = False) -> None:
    """Terraform's shape: what will be done, object by object (a table with what lives on it,
    each changed object with its attributes old → new), then every hazard in a block of its
    own with its reason, then one summary line."""
    changes = plan["changes"]
    render_unsupported(plan.get("unsupported", []), console)
    render_findings(plan.get("findings", []), console)
    if not changes:
        console.print(nothing_to_do(plan.get("findings", [])))
        return
    console.print("Reconciler will perform the following actions:\n")
    print_lines(console, plan_lines(plan, show_sql=show_sql))
    hazards = hazard_lines(plan)
    if hazards:
        title = (("Hazards", "bold"), (" (review before applying):", ""))
        print_lines(console, [title, *hazards, ()])
    render_total(plan, console)


def render_total(plan: dict[str, Any], console: Console) -> None:
    """`Plan: 3 to add, 1 to change, 0 to drop.`"""
    n = plan["summary"]
    console.print(
        f"Plan: [green]{n['add']} to add[/], [yellow]{n['change']} to change[/], "
        f"[red]{n['drop']} to drop[/]."
    )


def render_redis_export(result: Any, out: Any, console: Console) -> None:
    """What `export --redis` wrote: each pattern with the keys it covers, and the coverage of
    the whole keyspace (keys not placed listed, up to a bound, and counted)."""

    files = len(result.files)
    console.print(
        f"Exported the Redis keyspace into {counted(files, 'file')} under {escape(str(out))}/."
    )
    rows = [
        (
            pattern,
            counted(summary.count, "key"),
            "/".join(sorted(summary.types, key=lambda t: (-summary.types[t], t))),
        )
        for pattern, summary in result.patterns
    ]
    width = max((len(p) for p, _, _ in rows), default=0)
    count_width = max((len(k) for _, k, _ in rows), default=0)
    for pattern, keys, types in rows:
        line = f"  {pattern.ljust(width)}  {keys.rjust(count_width)}  {types}"
        console.print(escape(line), highlight=False)
    n, total = len(result.patterns), result.keys
    scope = " (a sample: the first keys of a SCAN)" if result.sampled else ""
    noun = "pattern covers" if n == 1 else "patterns cover"
    if result.moved:
        console.print(
            f"[yellow]{result.moved:,} key{'s were' if result.moved != 1 else ' was'} not "
            "read: their slots moved to another node during the scan[/] (export again once "
            "the resharding is over)."
        )
    if result.unplaced == 0:
        every = "the only key" if total == 1 else f"all {total:,} keys"
        console.print(f"{n} {noun} {every}{scope}.")
        return
    console.print(
        f"[yellow]{n} {noun} {result.covered:,} of {total:,} keys{scope}; "
        f"{result.unplaced:,} could not be placed[/] (their patterns are written commented "
        "out, with the reason):"
    )
    for key in result.unplaced_examples:
        console.print(f"  {escape(quote(key))}", highlight=False)
    if result.unplaced > len(result.unplaced_examples):
        console.print(f"  … and {result.unplaced - len(result.unplaced_examples):,} more")
