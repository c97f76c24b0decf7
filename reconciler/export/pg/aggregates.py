"""Exported aggregates: one file each under aggregates/, as the YAML that loads back to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.export.pg.yamlfile import Files, file_name
from reconciler.model.pg_aggregates import Aggregate
from reconciler.model.snapshot import PgSnapshot


def write_aggregates(snap: PgSnapshot, out_dir: Path, files: Files) -> None:
    taken: set[str] = set()
    for (schema, name, _), a in sorted(snap.aggregates.items()):
        path = out_dir / "aggregates" / file_name(schema, name, taken)
        files.dump(path, {"aggregates": [aggregate_document(a)]})


def aggregate_document(a: Aggregate) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": a.name, "schema": a.schema, "arguments": a.arguments or "*"}
    for key in (
        "sfunc",
        "stype",
        "sspace",
        "finalfunc",
        "finalfunc_extra",
        "finalfunc_modify",
        "combinefunc",
        "serialfunc",
        "deserialfunc",
        "initcond",
        "msfunc",
        "minvfunc",
        "mstype",
        "msspace",
        "mfinalfunc",
        "mfinalfunc_extra",
        "mfinalfunc_modify",
        "minitcond",
        "sortop",
        "parallel",
        "comment",
    ):
        value = getattr(a, key)
        if value in (None, False, 0, "read_only") or (key == "parallel" and value == "unsafe"):
            continue
        doc[key] = value
    return doc
