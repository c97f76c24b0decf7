"""Validated file specs → one PgSnapshot: defaults, cross-object checks, reference resolution.

Every problem names the file, the line and the key path. Tables are built one by one
(tables.py); what needs every table at once — foreign keys, whose referenced columns default
to the referenced table's primary key — is resolved afterwards, here.
A name Postgres would truncate (over 63 bytes) is refused, default names included, because
the live name would then never equal the desired one and the plan would never converge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from reconciler.desired.aggregates import build_aggregate
from reconciler.desired.functions import build_function
from reconciler.desired.grants import declare_default_grants, declare_grants
from reconciler.desired.lint import LintIgnore
from reconciler.desired.objects import (
    build_collation,
    build_composite,
    build_domain,
    build_sequence,
    check_owner,
    owned_sequences_apart,
)
from reconciler.desired.spec import (
    TABLE_KEYS,
    EnumSpec,
    FileSpec,
    ForeignKeySpec,
    PrimaryKeySpec,
    TableSpec,
    UniqueSpec,
)
from reconciler.desired.tables import PendingFk, TableBuilder, split_name
from reconciler.desired.views import build_view, report_view_cycles
from reconciler.model.address import Address
from reconciler.model.pg import Check, Enum, Extension, ForeignKey, Index, Schema, Table
from reconciler.model.pg_aggregates import Aggregate
from reconciler.model.pg_objects import (
    Collation,
    CompositeType,
    DefaultGrant,
    Domain,
    Function,
    Grant,
    Policy,
    Sequence,
    Trigger,
    View,
)
from reconciler.model.pg_rules import Rule
from reconciler.model.snapshot import PgSnapshot
from reconciler.project.yamlload import Marks, Where, at
from reconciler.sql import expressions as sqlexpr
from reconciler.sql import fragments as sqltext

# The tool's own schemas and the system ones never hold desired objects.
RESERVED_SCHEMAS = ("reconciler", "reconciler_trash", "information_schema")


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


class Builder:
    """Accumulates model objects and problems over all files (tables.py adds the tables)."""

    def __init__(self, complete: bool) -> None:
        self.complete = complete
        # per declared table: its own column names, its parents (see _family)
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

    # --- shared helpers (also used by tables.py) ---------------------------------------------

    def report(self, where: Where, message: str, *, key: bool = False) -> None:
        line = where.key_line if key else where.line
        self.problems.append((where.display, line, at(where.path, message)))

    def name_ok(self, name: str, where: Where, *, default: bool = False) -> bool:
        problem = sqltext.name_problem(name)
        if problem and default:
            problem = (
                f"the default name '{name}' is {len(name.encode())} bytes, over Postgres' "
                f"{sqltext.NAMEDATALEN}-byte limit (it would be truncated); set `name:`"
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

    def deferrable(self, spec: PrimaryKeySpec | UniqueSpec | ForeignKeySpec, where: Where) -> bool:
        # INITIALLY DEFERRED implies DEFERRABLE (and the catalog then says deferrable).
        explicit_no = "deferrable" in spec.model_fields_set and not spec.deferrable
        if spec.initially_deferred and explicit_no:
            self.report(where.sub("deferrable"), "initially_deferred needs deferrable: true")
        return spec.deferrable or spec.initially_deferred

    # --- the run -----------------------------------------------------------------------------

    def run(self, files: list[SourceFile]) -> Built:
        tables = []
        for f in files:
            root = Where(f.display, f.marks)
            self.collect(f.spec, root)
            if f.spec.table is not None:
                tables.append((f.spec, root))
            else:
                fields = FileSpec.model_fields
                given = {(fields[n].alias or n) for n in f.spec.model_fields_set}
                for key in sorted(given & set(TABLE_KEYS)):
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
        # Unique plain indexes per table, once: a foreign key may reference one as its key.
        self.unique_index_keys: dict[tuple[str, str], list[set[str]]] = {}
        for ix in self.indexes.values():
            if ix.unique and ix.where is None and all(e.column for e in ix.elements):
                cols = {e.column for e in ix.elements}
                self.unique_index_keys.setdefault((ix.schema, ix.table), []).append(cols)
        for fk in self.pending_fks:
            self.foreign_key(fk)
        for key, where in self.pending_partitions:
            self.partition_parent(key, where)
        for key, where in self.pending_owners:
            check_owner(self, key, where)
        owned_sequences_apart(self)
        for tg in self.triggers.values():  # a constraint trigger's FROM: a declared table
            if tg.from_table is not None and tg.from_table not in self.tables:
                shown, _, line = (tg.source or "").rpartition(":")
                message = (
                    f"trigger {tg.name}: from table '{'.'.join(tg.from_table)}' is not declared"
                )
                self.problems.append((shown, int(line) if line.isdigit() else 1, message))
        if self.complete:
            self.checks_valid_on()
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
            elif len(label.encode()) > sqltext.NAMEDATALEN:
                self.report(where.sub("values", j), f"enum value '{label}' is over 63 bytes")
        self.use_schema(schema, where)
        self.enums[(schema, name)] = Enum(schema, name, labels, spec.comment, source=where.source)
        declare_grants(self, "type", schema, name, spec.grants, where)

    # --- foreign keys, once every table is known ---------------------------------------------

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

    def checks_valid_on(self) -> None:
        """A check's `valid_on` names declared partitions or child tables of its table."""
        for key, t in self.tables.items():
            for k in t.checks:
                for below in k.valid_on:
                    if key in self._ancestors(below):
                        continue
                    shown, _, line = (k.source or "").rpartition(":")
                    message = (
                        f"check {k.name}: valid_on: '{'.'.join(below)}' is not a declared "
                        f"partition or child table of {'.'.join(key)}"
                    )
                    self.problems.append((shown, int(line) if line.isdigit() else 1, message))

    def _ancestors(self, key: tuple[str, str]) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        todo = list(self.family.get(key, ((), ()))[1])
        while todo:
            top = todo.pop()
            if top not in out:
                out.add(top)
                todo += self.family.get(top, ((), ()))[1]
        return out

    def partition_chain(self, key: tuple[str, str]) -> list[Table]:
        """The declared table and the tables it is a partition of, all the way up."""
        out: list[Table] = []
        while key in self.tables and all(t is not self.tables[key] for t in out):
            out.append(self.tables[key])
            key = self.tables[key].partition_of or key
        return out

    def partition_parent(self, key: tuple[str, str], where: Where) -> None:
        """A partition's parent must be a declared, partitioned table."""
        parent_key = self.tables[key].partition_of
        assert parent_key is not None
        parent = self.tables.get(parent_key)
        name = ".".join(parent_key)
        if parent is None:
            if self.complete:
                self.report(where, f"table '{name}' is not declared")
        elif parent.partition_by is None:
            self.report(where, f"table '{name}' is not partitioned: give it partition_by")
        elif self.complete:
            columns = self.inherited_columns(key)
            for col in self.tables[key].not_null:
                if col not in columns:
                    self.report(where, f"not_null names no column '{col}' of table '{name}'")
            keys = {k.name for k in parent.constraints() if not isinstance(k, Check | ForeignKey)}
            # a sub-partition attaches to its parent's own copies of the parent's parent's
            keys |= {own for _, own in parent.attached_indexes or ()}
            for index, _ in self.tables[key].attached_indexes or ():
                ix = self.indexes.get((parent_key[0], index))
                if index not in keys and (ix is None or (ix.schema, ix.table) != parent_key):
                    self.report(
                        where, f"attached_indexes names no index or key '{index}' of '{name}'"
                    )

    def foreign_key(self, fk: PendingFk) -> None:
        spec, where, ref = fk.spec, fk.where, fk.spec.references
        ref_schema, ref_table = split_name(ref.table, ref.schema_, fk.table[0])
        rw = where.sub("references")
        if not (self.name_ok(ref_schema, rw) and self.name_ok(ref_table, rw)):
            return
        target = self.tables.get((ref_schema, ref_table))
        ref_cols = tuple(ref.columns or ())
        if target is None and not ref_cols:
            if self.complete:
                self.report(rw, f"referenced table '{ref_schema}.{ref_table}' is not declared")
            return
        # With explicit columns, a table outside the desired state (out of scope) is allowed.
        if target is not None:
            if not ref_cols:
                if target.primary_key is None:
                    self.report(rw, f"'{ref_table}' has no primary key; give references.columns")
                    return
                ref_cols = target.primary_key.columns
            if not self.ref_columns_ok(target, ref_cols, rw):
                return
        if len(ref_cols) != len(spec.columns):
            self.report(
                where.sub("columns"),
                f"{len(spec.columns)} column(s) cannot reference "
                f"{len(ref_cols)} column(s) of '{ref_table}'",
            )
            return
        new = ForeignKey(
            name=fk.name,
            columns=tuple(spec.columns),
            ref_schema=ref_schema,
            ref_table=ref_table,
            ref_columns=ref_cols,
            on_delete=spec.on_delete,
            on_update=spec.on_update,
            match_full=spec.match == "full",
            deferrable=self.deferrable(spec, where),
            initially_deferred=spec.initially_deferred,
            comment=spec.comment,
            source=where.source,
            valid=spec.valid,
        )
        table = self.tables[fk.table]
        self.tables[fk.table] = replace(table, foreign_keys=(*table.foreign_keys, new))

    def ref_columns_ok(self, target: Table, cols: tuple[str, ...], where: Where) -> bool:
        """Postgres requires the referenced columns to be exactly a PK or unique key."""
        key = (target.schema, target.name)
        inherited = self.inherited_columns(key)
        missing = [c for c in cols if target.column(c) is None and c not in inherited]
        if missing:
            self.report(where, f"'{target.name}' has no column '{missing[0]}'")
            return False
        if len(set(cols)) != len(cols):
            self.report(where, "referenced columns must not repeat")
            return False
        keys: list[set[str]] = []
        # a partition has its parents' keys too (each partition holds a copy of them)
        for t in self.partition_chain(key):
            keys += [set(u.columns) for u in t.uniques]
            keys += [set(t.primary_key.columns)] if t.primary_key else []
            keys += self.unique_index_keys.get((t.schema, t.name), [])
        if set(cols) not in keys:
            self.report(
                where,
                f"({', '.join(cols)}) of '{target.name}' is neither its primary key nor "
                "a unique key, so a foreign key cannot reference it",
            )
            return False
        return True
