"""Validated file specs → one PgSnapshot: every kind's builder run over all files, in order.

Owns: the order of the run (schemas, extensions and enums first; then what may name them:
collations, domains, composite types, sequences, aggregates; tables one by one (tables.py);
views and functions; what needs every table at once — foreign keys, partition parents —
last (references.py)) and the PgSnapshot it ends in. Every problem names the file, the line
and the key path. A name Postgres would truncate (over 63 bytes) is refused, default names
included, because the live name would then never equal the desired one and the plan would
never converge. Must not: hold a kind's own rules (each kind's module does, given the Context).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.desired import fastspec
from reconciler.desired.aggregates import build_aggregate
from reconciler.desired.context import Context, split_name
from reconciler.desired.functions import build_function
from reconciler.desired.grants import declare_default_grants, declare_grants
from reconciler.desired.lint_rules import LintIgnore
from reconciler.desired.objects import (
    build_collation,
    build_composite,
    build_domain,
    build_sequence,
    check_owner,
    owned_sequences_apart,
)
from reconciler.desired.references import checks_valid_on, resolve_keys, trigger_sources
from reconciler.desired.tables import TableBuilder
from reconciler.desired.views import build_view, report_view_cycles
from reconciler.model.address import Address
from reconciler.model.names import MAX_NAME_BYTES
from reconciler.model.pg import Enum, Extension, Schema
from reconciler.model.snapshot import PgSnapshot
from reconciler.project.yamlload import Marks, Where

if TYPE_CHECKING:
    from reconciler.desired.spec import EnumSpec, FileSpec
    from reconciler.desired.spec_table import TableSpec


@dataclass(frozen=True, slots=True)
class SourceFile:
    display: str  # the path as shown to the user
    spec: FileSpec
    marks: Marks


@dataclass(slots=True)
class Built:
    snapshot: PgSnapshot
    lint_ignores: dict[Address, tuple[LintIgnore, ...]]
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, message)


def _family(
    tables: list[tuple[TableSpec | FileSpec, Where]],
) -> dict[tuple[str, str], tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]:
    """Per declared table: its own column names and its parents (inherited, partition of)."""
    out = {}
    for spec, _ in tables:
        schema, name = split_name(spec.table or "", spec.schema_, "public")
        parents = [split_name(p.table, p.schema_, schema) for p in spec.inherits]
        if spec.partition_of is not None:
            parents.append(split_name(spec.partition_of.table, spec.partition_of.schema_, schema))
        out[(schema, name)] = (tuple(c.name for c in spec.columns), tuple(parents))
    return out


def build(files: list[SourceFile], *, complete: bool) -> Built:
    """`complete` is False when some file failed to load: a reference to a missing table is
    then not reported, since the table may be declared in that file."""
    return Builder(complete).run(files)


# The keys of a table, which a file without `table:` may not give (they would be ignored).
_TABLE_KEYS = frozenset(fastspec.keys("TableSpec").values()) - {"table"}


class Builder(Context):
    """Runs every kind's builder over all files, in the order their references need."""

    # --- the run -----------------------------------------------------------------------------

    def run(self, files: list[SourceFile]) -> Built:
        tables = []
        for f in files:
            root = Where(f.display, f.marks)
            self.collect(f.spec, root)
            if f.spec.table is not None:
                tables.append((f.spec, root))
            else:
                keys = fastspec.keys("FileSpec")
                given = {keys[n] for n in f.spec.model_fields_set}
                for key in sorted(given & _TABLE_KEYS):
                    message = (
                        f"'{key}' belongs to a table: add `table: <name>` to this file "
                        "or move it into a `tables:` entry"
                    )
                    self.report(root.sub(key), message, key=True)
            tables += [(t, root.sub("tables", i)) for i, t in enumerate(f.spec.tables)]
        # Every schema named anywhere, so that `schema.collation` can be told from `en_US.utf8`.
        self.known_schemas = {*self.used_schemas, *self.schemas}
        self.known_schemas |= {split_name(s.table or "", s.schema_, "public")[0] for s, _ in tables}
        for f in files:
            self.collect_late(f.spec, Where(f.display, f.marks))
        self.family = _family(tables)
        for spec, where in tables:
            TableBuilder(self, spec, where).build()
        for f in files:
            root = Where(f.display, f.marks)
            for i, v in enumerate(f.spec.views):
                build_view(self, v, root.sub("views", i))
            for i, fn in enumerate(f.spec.functions):
                build_function(self, fn, root.sub("functions", i))
        report_view_cycles(self)
        resolve_keys(self)
        for key, where in self.pending_owners:
            check_owner(self, key, where)
        owned_sequences_apart(self)
        trigger_sources(self)
        if self.complete:
            checks_valid_on(self)
        for name, source in self.used_schemas.items():
            self.schemas.setdefault(name, Schema(name, source=source))
        snapshot = PgSnapshot(
            schemas=self.schemas,
            extensions=self.extensions,
            enums=self.enums,
            tables=self.tables,
            indexes=self.indexes,
            views=self.views,
            functions=self.functions,
            triggers=self.triggers,
            policies=self.policies,
            sequences=self.sequences,
            collations=self.collations,
            domains=self.domains,
            composites=self.composites,
            grants=self.grants,
            default_grants=self.default_grants,
            rules=self.rules,
            aggregates=self.aggregates,
        )
        return Built(snapshot.normalize(), self.ignores, self.problems)

    def collect(self, spec: FileSpec, root: Where) -> None:
        for i, s in enumerate(spec.schemas):
            where = root.sub("schemas", i)
            if s.name in self.schemas:
                first = self.schemas[s.name].source
                self.report(where, f"schema '{s.name}' is declared twice (first at {first})")
                continue
            self.use_schema(s.name, where)
            self.schemas[s.name] = Schema(s.name, s.comment, where.source, s.privileges)
            declare_grants(self, "schema", "", s.name, s.grants, where)
        for i, e in enumerate(spec.extensions):
            where = root.sub("extensions", i)
            if e.name in self.extensions:
                first = self.extensions[e.name].source
                self.report(where, f"extension '{e.name}' is declared twice (first at {first})")
                continue
            if e.schema_ is not None:
                self.use_schema(e.schema_, where)
            self.extensions[e.name] = Extension(e.name, e.schema_, e.version, source=where.source)
        for i, e in enumerate(spec.enums):
            self.enum(e, root.sub("enums", i))
        for i, d in enumerate(spec.default_privileges):
            declare_default_grants(self, d, root.sub("default_privileges", i))

    def collect_late(self, spec: FileSpec, root: Where) -> None:
        """Objects that may name enums or schemas declared in any file."""
        for i, c in enumerate(spec.collations):
            build_collation(self, c, root.sub("collations", i))
        for i, d in enumerate(spec.domains):
            build_domain(self, d, root.sub("domains", i))
        for i, c in enumerate(spec.composite_types):
            build_composite(self, c, root.sub("composite_types", i))
        for i, q in enumerate(spec.sequences):
            build_sequence(self, q, root.sub("sequences", i))
        for i, a in enumerate(spec.aggregates):
            build_aggregate(self, a, root.sub("aggregates", i))

    def enum(self, spec: EnumSpec, where: Where) -> None:
        schema, name = split_name(spec.name, spec.schema_, "public")
        name_at = where.sub("name")
        if not (self.name_ok(schema, name_at) and self.name_ok(name, name_at)):
            return
        if (schema, name) in self.enums:
            first = self.enums[(schema, name)].source
            self.report(name_at, f"enum '{schema}.{name}' is declared twice (first at {first})")
            return
        labels = tuple(spec.values)
        if not labels:
            self.report(where.sub("values"), f"enum '{name}' needs at least one value")
        for j, label in enumerate(labels):
            if labels.index(label) != j:
                self.report(where.sub("values", j), f"enum value '{label}' is given twice")
            elif len(label.encode()) > MAX_NAME_BYTES:
                self.report(where.sub("values", j), f"enum value '{label}' is over 63 bytes")
        self.use_schema(schema, where)
        self.enums[(schema, name)] = Enum(schema, name, labels, spec.comment, source=where.source)
        declare_grants(self, "type", schema, name, spec.grants, where)
