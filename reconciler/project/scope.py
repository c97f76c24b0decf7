"""The schemas a project leaves out of scope (reconciler.yaml `scope.exclude_schemas`).

Owns: `Scope`, the value every stage that reads or plans PostgreSQL schemas is given. What is out
of scope is neither read from the catalog nor planned: never dropped, never compared, never
exported. A pattern is a schema name or a glob (`*`, `?`), matched case-sensitively as PostgreSQL
stores names. `project.config.project_scope()` reads a project's Scope from its reconciler.yaml;
the library API (reconciler.api) does so when its caller passes none.

Must not: be held in a module global. A run's scope travels with its targets
(pipeline/planner.py `Targets.scope`), so two runs in one process never see each other's.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from reconciler.errors import InputError
from reconciler.model.words import counted


@dataclass(frozen=True, slots=True)
class Scope:
    """The schema patterns left out; an empty Scope reads every non-system schema."""

    excluded: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.excluded, str):
            raise TypeError("Scope.excluded is a sequence of patterns, not one string")
        object.__setattr__(self, "excluded", tuple(str(p) for p in self.excluded))

    def is_excluded(self, schema: str) -> bool:
        return any(fnmatchcase(schema, p) for p in self.excluded)

    def like_patterns(self) -> list[str]:
        """The patterns as SQL LIKE patterns (`_`, `%` and `\\` escaped; `*` → `%`, `?` → `_`)."""
        out = []
        for p in self.excluded:
            escaped = p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            out.append(escaped.replace("*", "%").replace("?", "_"))
        return out

    def check_desired(self, pg: Any) -> None:
        """Refuse a desired state that declares objects in a schema out of scope: they would be
        created and then never seen again, planned anew on every run."""
        if not self.excluded or pg is None:
            return
        kinds = ("schemas", "tables", "enums", "views", "functions", "sequences", "domains")
        kinds += ("collations", "aggregates")
        found = sorted(
            {
                f"{obj.schema}.{obj.name}" if kind != "schemas" else obj.name
                for kind in kinds
                for obj in getattr(pg, kind, {}).values()
                if self.is_excluded(obj.name if kind == "schemas" else obj.schema)
            }
        )
        if found:
            shown = ", ".join(found[:5]) + (" …" if len(found) > 5 else "")
            raise InputError(
                f"The desired state declares {counted(len(found), 'object')} in schemas left "
                f"out of scope: {shown}.",
                detail="Remove them from the YAML, or the schema from scope.exclude_schemas.",
            )


EVERY_SCHEMA = Scope()  # nothing left out (scratch databases, probes, a project without a scope)
