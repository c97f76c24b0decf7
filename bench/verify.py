"""Checks that a measured command gave the right result: a timing of a wrong answer is noise."""

from __future__ import annotations

import re
from pathlib import Path

from bench.schema_gen import SchemaShape
from reconciler.model.words import counted

NO_CHANGES = "No changes."
TOOL_SCHEMAS = ("reconciler", "reconciler_trash")

# Lines that differ between dumps of equal schemas or carry no schema (as in tests/conftest.py).
_DUMP_NOISE = re.compile(r"--|SET |SELECT pg_catalog\.set_config\(|\\(un)?restrict\b")
_PLAN_SUMMARY = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to drop\.")


def normalize_dump(text: str) -> str:
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if _DUMP_NOISE.match(line):
            continue
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def dump_argv(pg_dump: str, url: str) -> list[str]:
    excludes = [f"--exclude-schema={s}" for s in TOOL_SCHEMAS]
    return [pg_dump, "--schema-only", "--no-owner", "--no-privileges", *excludes, f"--dbname={url}"]


def first_difference(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), start=1):
        if x != y:
            return f"line {i}: {x!r} != {y!r}"
    return f"lengths differ ({len(a.splitlines())} vs {len(b.splitlines())} lines)"


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def tree_difference(a: Path, b: Path) -> str | None:
    """None when both directories hold the same files with the same bytes."""
    ta, tb = tree_bytes(a), tree_bytes(b)
    if ta.keys() != tb.keys():
        only = sorted(ta.keys() ^ tb.keys())[:3]
        return f"different files: {', '.join(only)}"
    changed = sorted(k for k in ta if ta[k] != tb[k])
    return f"{len(changed)} files differ, e.g. {changed[0]}" if changed else None


def export_problem(stdout: str, out_dir: Path, shape: SchemaShape) -> str | None:
    tables = len(list((out_dir / "tables").glob("*.yaml")))
    types = len(list((out_dir / "types").glob("*.yaml")))
    if tables != shape.tables or types != shape.enums:
        return (
            f"wrote {tables} table and {types} type files, expected {shape.tables} and "
            f"{shape.enums}"
        )
    first = stdout.strip().splitlines()[0] if stdout.strip() else ""
    for expected in (
        counted(shape.tables, "table"),
        counted(shape.indexes, "index", "indexes"),
        counted(shape.enums, "enum"),
    ):
        if not re.search(rf"(Exported |, ){re.escape(expected)}\b", first):
            return f"output does not say {expected!r}: {first[:200]!r}"
    return None


def full_plan_problem(stdout: str, up_sql: str, shape: SchemaShape) -> str | None:
    """The plan from an empty database creates exactly what the generator made."""
    m = _PLAN_SUMMARY.search(stdout)
    if m is None:
        return f"no plan summary in the output: {stdout.strip()[-200:]!r}"
    if m.group(2) != "0" or m.group(3) != "0":
        return f"a plan from an empty database changes or drops something: {m.group(0)}"
    counts = {
        "CREATE TABLE": (len(re.findall(r"^\s*CREATE TABLE\b", up_sql, re.M)), shape.tables),
        "CREATE INDEX": (len(re.findall(r"^\s*CREATE INDEX\b", up_sql, re.M)), shape.indexes),
        "FOREIGN KEY": (len(re.findall(r"\bFOREIGN KEY\b", up_sql)), shape.foreign_keys),
        "CHECK": (len(re.findall(r"\bCHECK \(", up_sql)), shape.checks),
        "CREATE TYPE": (len(re.findall(r"^\s*CREATE TYPE\b", up_sql, re.M)), shape.enums),
        "COMMENT ON TABLE": (len(re.findall(r"\bCOMMENT ON TABLE\b", up_sql)), shape.tables),
    }
    wrong = [f"{k}: {got} (expected {want})" for k, (got, want) in counts.items() if got != want]
    return "up file " + "; ".join(wrong) if wrong else None


def plan_summary(stdout: str) -> str | None:
    m = _PLAN_SUMMARY.search(stdout)
    return m.group(0) if m else None
