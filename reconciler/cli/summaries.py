"""The counts in the one-line summaries of validate and export: `3 indexes`, `1 index`, and
export's files by folder.

Owns: how a count and its noun, and a list of written files, are put into words. Must not:
load, connect or decide what is counted (api/counts.py kind_counts does).
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from reconciler.cli.root import out_console
from reconciler.model.words import counted


def count(n: int, plural: str) -> str:
    """`3 indexes`, `1 index`: a count and its noun, singular for one."""
    special = {"indexes": "index", "policies": "policy"}
    return counted(n, special.get(plural, plural.removesuffix("s")), plural)


def print_files_by_kind(files: list[Path], out: Path) -> None:
    """One line per folder (tables/, views/ …) or top-level file export wrote: how many files,
    and their names (the first 5, then how many more)."""
    groups: dict[str, list[str]] = {}
    for path in files:
        rel = path.relative_to(out)
        part = f"{rel.parts[0]}/" if len(rel.parts) > 1 else str(rel)
        groups.setdefault(part, []).append("/".join(rel.parts[1:]))
    for part, names in groups.items():
        if not part.endswith("/"):
            out_console().print(f"  {escape(part)}", highlight=False)
            continue
        shown = ", ".join(names[:5]) + (f" … and {len(names) - 5} more" if len(names) > 5 else "")
        line = f"  {part} {count(len(names), 'files')}: {shown}"
        out_console().print(escape(line), highlight=False)
