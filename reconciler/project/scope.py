"""The schemas a project leaves out of scope (reconciler.yaml `scope.exclude_schemas`).

What is out of scope is neither read from the catalog nor planned: never dropped, never
compared, never exported. Set once per run by the CLI from reconciler.yaml; a pattern is a
schema name or a glob (`*`, `?`), matched case-sensitively as PostgreSQL stores names.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

_EXCLUDED: list[str] = []


def exclude(patterns: list[str] | tuple[str, ...]) -> None:
    _EXCLUDED[:] = list(patterns)


def excluded() -> tuple[str, ...]:
    return tuple(_EXCLUDED)


def is_excluded(schema: str) -> bool:
    return any(fnmatchcase(schema, p) for p in _EXCLUDED)


def like_patterns() -> list[str]:
    """The patterns as SQL LIKE patterns (`_`, `%` and `\\` escaped; `*` → `%`, `?` → `_`)."""
    out = []
    for p in _EXCLUDED:
        escaped = p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        out.append(escaped.replace("*", "%").replace("?", "_"))
    return out


def check_desired(pg: Any) -> None:
    """Refuse a desired state that declares objects in a schema out of scope: they would be
    created and then never seen again, planned anew on every run."""
    if not _EXCLUDED:
        return
    kinds = ("schemas", "tables", "enums", "views", "functions", "sequences", "domains")
    kinds += ("collations", "aggregates")
    found = sorted(
        {
            f"{obj.schema}.{obj.name}" if kind != "schemas" else obj.name
            for kind in kinds
            for obj in getattr(pg, kind, {}).values()
            if is_excluded(obj.name if kind == "schemas" else obj.schema)
        }
    )
    if found:
        from reconciler.errors import InputError

        shown = ", ".join(found[:5]) + (" …" if len(found) > 5 else "")
        raise InputError(
            f"The desired state declares {len(found)} object(s) in schemas reconciler.yaml "
            f"leaves out of scope: {shown}.",
            detail="Remove them from the YAML, or the schema from scope.exclude_schemas.",
        )
