"""What every desired-state builder shares: the objects built so far and the problems found.

Owns: `Context` (the model values accumulated over all files, keyed as PgSnapshot keys them,
the problems as (file, line, message), and the checks every kind uses: names, schemas, the
relation namespace, expressions), `split_name` (the `schema.name` shorthand) and `PendingFk`.
Must not: build any kind itself (tables.py, views.py, objects.py ... do, given a Context) or
import a builder: every builder imports this module, and build.py imports every builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.desired.lint_rules import LintIgnore
from reconciler.model.address import Address
from reconciler.model.names import MAX_NAME_BYTES, TOOL_SCHEMAS
from reconciler.model.pg import Enum, Extension, Index, Schema, Table
from reconciler.model.pg_aggregates import Aggregate
from reconciler.model.pg_grants import DefaultGrant, Grant
from reconciler.model.pg_objects import (
    Collation,
    CompositeType,
    Domain,
    Function,
    Policy,
    Sequence,
    Trigger,
    View,
)
from reconciler.model.pg_rules import Rule
from reconciler.project.yamlload import Where, at
from reconciler.sql import expressions as sqlexpr
from reconciler.sql import fragments as sqltext

if TYPE_CHECKING:
    from reconciler.desired.spec_table import ForeignKeySpec, PrimaryKeySpec, UniqueSpec

# The tool's own schemas and the system ones never hold desired objects.
RESERVED_SCHEMAS = (*TOOL_SCHEMAS, "information_schema")


@dataclass(frozen=True, slots=True)
class PendingFk:
    table: tuple[str, str]
    spec: ForeignKeySpec
    where: Where
    name: str


class Context:
    """Accumulates model objects and problems over all files (build.py runs the builders)."""

    def __init__(self, complete: bool) -> None:
        self.complete = complete
        # per declared table: its own column names, its parents (build.py fills it in)
        self.family: dict[tuple[str, str], tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {}
        self.problems: list[tuple[str, int, str]] = []
        self.schemas: dict[str, Schema] = {}
        self.used_schemas: dict[str, str | None] = {"public": None}  # name → first source
        self.extensions: dict[str, Extension] = {}
        self.enums: dict[tuple[str, str], Enum] = {}
        self.tables: dict[tuple[str, str], Table] = {}
        self.indexes: dict[tuple[str, str], Index] = {}
        self.views: dict[tuple[str, str], View] = {}
        self.functions: dict[tuple[str, str, str], Function] = {}
        self.triggers: dict[tuple[str, str, str], Trigger] = {}
        self.rules: dict[tuple[str, str, str], Rule] = {}
        self.aggregates: dict[tuple[str, str, str], Aggregate] = {}
        self.policies: dict[tuple[str, str, str], Policy] = {}
        self.sequences: dict[tuple[str, str], Sequence] = {}
        self.collations: dict[tuple[str, str], Collation] = {}
        self.domains: dict[tuple[str, str], Domain] = {}
        self.composites: dict[tuple[str, str], CompositeType] = {}
        self.grants: dict[tuple[str, str, str, str, str], Grant] = {}
        self.default_grants: dict[tuple[str, str, str, str], DefaultGrant] = {}
        self.relations: dict[tuple[str, str], str] = {}  # (schema, name) → "what at source"
        self.pending_fks: list[PendingFk] = []
        self.pending_partitions: list[tuple[tuple[str, str], Where]] = []
        self.pending_owners: list[tuple[tuple[str, str], Where]] = []  # sequences' owned_by
        self.ignores: dict[Address, tuple[LintIgnore, ...]] = {}
        self.known_schemas: set[str] = set()
        # per table: the column sets of its unique plain indexes (a foreign key may use one)
        self.unique_index_keys: dict[tuple[str, str], list[set[str]]] = {}

    def report(self, where: Where, message: str, *, key: bool = False) -> None:
        line = where.key_line if key else where.line
        self.problems.append((where.display, line, at(where.path, message)))

    def name_ok(self, name: str, where: Where, *, default: bool = False) -> bool:
        problem = sqltext.name_problem(name)
        if problem and default:
            problem = (
                f"the default name '{name}' is {len(name.encode())} bytes, over Postgres' "
                f"{MAX_NAME_BYTES}-byte limit (it would be truncated); set `name:`"
            )
        if problem:
            self.report(where, problem)
        return problem is None

    def use_schema(self, name: str, where: Where) -> None:
        if name in RESERVED_SCHEMAS or name.startswith("pg_"):
            self.report(where, f"schema '{name}' is reserved and cannot hold desired objects")
        self.used_schemas.setdefault(name, where.source)

    def claim_relation(self, schema: str, name: str, what: str, where: Where) -> bool:
        """Tables, indexes and the indexes behind PK/unique constraints share a namespace."""
        if (schema, name) in self.relations:
            first = self.relations[(schema, name)]
            self.report(where, f"{what} name '{name}' is already used in '{schema}' by the {first}")
            return False
        self.relations[(schema, name)] = f"{what} at {where.source}"
        return True

    def enum_resolver(self, table_schema: str) -> Callable[[str], str | None]:
        """Schema of the desired enum a bare type name means: the table's schema, then public."""

        def resolve(name: str) -> str | None:
            for schema in (table_schema, "public"):
                if any((schema, name) in d for d in (self.enums, self.domains, self.composites)):
                    return schema
            return None

        return resolve

    def expression(self, text: str | None, where: Where, what: str) -> str | None:
        if text is None:
            return None
        try:
            return sqlexpr.check_expression(text, what)
        except sqltext.SqlTextError as exc:
            self.report(where, str(exc))
            return None

    def default(self, text: str | None, where: Where) -> str | None:
        """A column's or a domain's default: an expression the server takes as a DEFAULT."""
        checked = self.expression(text, where, "default")
        if checked is not None and (problem := sqlexpr.default_problem(checked)) is not None:
            self.report(where, problem)
            return None
        return checked

    def deferrable(self, spec: PrimaryKeySpec | UniqueSpec | ForeignKeySpec, where: Where) -> bool:
        # INITIALLY DEFERRED implies DEFERRABLE (and the catalog then says deferrable).
        explicit_no = "deferrable" in spec.model_fields_set and not spec.deferrable
        if spec.initially_deferred and explicit_no:
            self.report(where.sub("deferrable"), "initially_deferred needs deferrable: true")
        return spec.deferrable or spec.initially_deferred

    def inherited_columns(self, key: tuple[str, str]) -> set[str]:
        """Names of the columns a table has from its parents (INHERITS, PARTITION OF), all
        the way up, as the specs declare them."""
        found: set[str] = set()
        seen = {key}
        todo = list(self.family.get(key, ((), ()))[1])
        while todo:
            parent = todo.pop()
            if parent in seen or parent not in self.family:
                continue
            seen.add(parent)
            names, parents = self.family[parent]
            found.update(names)
            todo += parents
        return found


def split_name(name: str, schema: str | None, default: str) -> tuple[str, str]:
    """The `schema.name` shorthand: split at the first dot unless `schema:` is given."""
    if schema is not None:
        return schema, name
    if "." in name:
        head, tail = name.split(".", 1)
        return head, tail
    return default, name
