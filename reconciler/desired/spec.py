"""The YAML file format as pydantic models (pydantic_errors.py words their errors).

These models only check *shape* (known keys, value kinds, allowed words, identifier limits).
Everything that needs more than one object (names, references, types resolved against enums)
is checked in build.py. Shorthands (`- pgcrypto`, `primary_key: [id]`, `references: users`,
an index element given as a bare column) are expanded by `mode="before"` validators so that
the rest of the code sees one shape only.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from reconciler.desired.pydantic_errors import describe, validation_problems
from reconciler.model.pg import FK_ACTIONS
from reconciler.project.yamlload import BoolText, Marks
from reconciler.sql.fragments import name_problem


def _ident(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _yaml_bool(value: Any) -> Any:
    return value.value if isinstance(value, BoolText) else value


def _sql_text(value: Any) -> Any:
    """YAML booleans in SQL positions become SQL booleans (`yes` → true)."""
    if isinstance(value, BoolText):
        return "true" if value.value else "false"
    return value


def _words(value: Any) -> Any:
    """'SET  NULL' → 'set null': keywords are case- and spacing-insensitive."""
    return " ".join(value.lower().split()) if isinstance(value, str) else value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("holds a NUL character (\\0), which PostgreSQL text cannot store")
    return value


# What editors are told (JSON Schema): the loader keeps every plain scalar as the text it was
# written with, so `default: 1` or `name: 2024` is text here though YAML calls it a number; and
# it reads YAML 1.1 booleans (yes/no/on/off), which editors speaking YAML 1.2 call strings.
_SCALAR_TEXT = WithJsonSchema({"type": ["string", "number", "boolean"]})
_YAML_BOOL = WithJsonSchema(
    {"anyOf": [{"type": "boolean"}, {"enum": ["yes", "no", "on", "off", "y", "n"]}]}
)
Text = Annotated[str, Strict(), AfterValidator(_no_nul), _SCALAR_TEXT]
Name = Annotated[str, Strict(), AfterValidator(_no_nul), AfterValidator(_non_blank), _SCALAR_TEXT]
Ident = Annotated[str, Strict(), AfterValidator(_ident), _SCALAR_TEXT]  # _ident refuses NUL
Flag = Annotated[bool, BeforeValidator(_yaml_bool), Strict(), _YAML_BOOL]
Expr = Annotated[str, BeforeValidator(_sql_text), Strict(), AfterValidator(_no_nul), _SCALAR_TEXT]
Identity = Annotated[Literal["always", "by default"], BeforeValidator(_words)]
FkAction = Annotated[Literal[FK_ACTIONS], BeforeValidator(_words)]  # type: ignore[valid-type]
Match = Annotated[Literal["simple", "full"], BeforeValidator(_words)]
Order = Annotated[Literal["asc", "desc"], BeforeValidator(_words)]
Nulls = Annotated[Literal["first", "last"], BeforeValidator(_words)]
Columns = Annotated[list[Ident], Field(min_length=1)]
# Storage parameters (WITH (…)) of a table, a view, an index or a key's index: plain names and
# values, checked and spelled by desired/tables.py TableBuilder.options
StorageOptions = dict[str, Annotated[str, Strict()] | Flag | Annotated[int, Strict()]]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    # Key that a bare string (or, for primary_key, a bare list) stands for.
    shorthand: ClassVar[str | None] = None
    shorthand_list: ClassVar[bool] = False

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        # What editors see: the shorthand (a bare string, or a bare list) is valid too.
        schema = handler(core_schema)
        if not cls.shorthand:
            return schema
        short: dict[str, Any] = {"type": "string"}
        if cls.shorthand_list:
            short = {"anyOf": [short, {"type": "array", "items": {"type": "string"}}]}
        return {"anyOf": [short, handler.resolve_ref_schema(schema)]}

    @model_validator(mode="before")
    @classmethod
    def _expand(cls, value: Any) -> Any:
        if cls.shorthand and isinstance(value, str):
            return {cls.shorthand: value}
        if cls.shorthand and cls.shorthand_list and isinstance(value, list):
            return {cls.shorthand: value}
        return value


class GrantSpec(_Spec):
    role: Name  # a role name, or public
    privileges: list[Annotated[str, Strict(), AfterValidator(str.lower)]]  # [] = none at all
    columns: list[Ident] = []  # tables and views: the privileges on these columns only
    # true: every privilege listed; a list: those of them only
    with_grant_option: Flag | list[Annotated[str, Strict(), AfterValidator(str.lower)]] = False


class DefaultPrivilegesSpec(_Spec):
    """ALTER DEFAULT PRIVILEGES FOR ROLE for_role [IN SCHEMA schema] … ON <on>."""

    for_role: Name  # the role whose new objects get them
    schema_: Ident | None = Field(None, alias="schema")  # none: anywhere in the database
    on: Annotated[
        Literal["tables", "sequences", "functions", "types", "schemas"], BeforeValidator(_words)
    ]
    grants: list[GrantSpec] = []


class ExtensionSpec(_Spec):
    shorthand = "name"
    name: Ident
    schema_: Ident | None = Field(None, alias="schema")
    version: Text | None = None


class SchemaSpec(_Spec):
    shorthand = "name"
    name: Ident
    comment: Text | None = None
    grants: list[GrantSpec] = []
    # exact: every grant on the schema and on what it holds is listed (other roles lose theirs)
    privileges: Annotated[Literal["named", "exact"], BeforeValidator(_words)] = "named"


class EnumSpec(_Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    values: list[Text]
    comment: Text | None = None
    grants: list[GrantSpec] = []  # USAGE on the type


Integer = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v), Strict()]


class SequenceSpec(_Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    type: Text = "bigint"
    start: Integer | None = None
    increment: Integer = "1"
    min: Integer | None = None
    max: Integer | None = None
    cache: Integer = "1"
    cycle: Flag = False
    owned_by: Text | None = None  # `table.column` in the sequence's schema (OWNED BY)
    comment: Text | None = None
    grants: list[GrantSpec] = []


class CollationSpec(_Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    provider: Annotated[Literal["libc", "icu", "builtin"], BeforeValidator(_words)] = "libc"
    locale: Name | None = None
    lc_collate: Name | None = None
    lc_ctype: Name | None = None
    deterministic: Flag = True
    comment: Text | None = None


class DomainCheckSpec(_Spec):
    shorthand = "expression"
    expression: Expr
    name: Ident | None = None
    comment: Text | None = None


class DomainSpec(_Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    type: Text
    not_null: Flag = False
    default: Expr | None = None
    collation: Name | None = None
    checks: list[DomainCheckSpec] = []
    comment: Text | None = None
    grants: list[GrantSpec] = []  # USAGE on the type


class AttributeSpec(_Spec):
    name: Ident
    type: Text
    collation: Name | None = None


class CompositeSpec(_Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    attributes: Annotated[list[AttributeSpec], Field(min_length=1)]
    comment: Text | None = None
    grants: list[GrantSpec] = []  # USAGE on the type


class SequenceOptionsSpec(_Spec):
    """An identity column's sequence options (each default: Postgres' for the column type)."""

    type: Text | None = None  # a serial column's sequence only: its type, when not the column's
    start: Integer | None = None
    increment: Integer = "1"
    min: Integer | None = None
    max: Integer | None = None
    cache: Integer = "1"
    cycle: Flag = False


class ColumnSpec(_Spec):
    name: Ident
    type: Text
    nullable: Flag = True
    default: Expr | None = None
    identity: Identity | None = None
    generated: Expr | None = None
    collation: Name | None = None
    comment: Text | None = None
    renamed_from: Ident | None = None
    sequence: Text | None = None  # an owned sequence (serial columns), schema-qualified
    sequence_options: SequenceOptionsSpec | None = None
    sequence_grants: list[GrantSpec] = []  # privileges on the owned sequence (`sequence:`)
    using: Expr | None = None  # a type change's conversion of the values (ALTER … USING)
    sequence_comment: Text | None = None  # the comment on the owned sequence


class PrimaryKeySpec(_Spec):
    shorthand = "columns"
    shorthand_list = True
    columns: Columns
    name: Ident | None = None
    comment: Text | None = None
    deferrable: Flag = False
    initially_deferred: Flag = False
    options: StorageOptions = {}  # its index's storage parameters, as an index's


class UniqueSpec(_Spec):
    columns: Columns
    name: Ident | None = None
    deferrable: Flag = False
    initially_deferred: Flag = False
    nulls_not_distinct: Flag = False
    comment: Text | None = None
    options: StorageOptions = {}  # its index's storage parameters, as an index's


class CheckSpec(_Spec):
    shorthand = "expression"
    expression: Expr
    name: Ident | None = None
    comment: Text | None = None
    valid: Flag = True  # false: NOT VALID
    no_inherit: Flag = False  # true: NO INHERIT (not copied to child tables)
    # NOT VALID here, validated on these partitions or child tables ([schema.]table)
    valid_on: list[ReferenceSpec] = []


class ReferenceSpec(_Spec):
    shorthand = "table"
    table: Name
    schema_: Ident | None = Field(None, alias="schema")
    columns: Columns | None = None


class ForeignKeySpec(_Spec):
    columns: Columns
    references: ReferenceSpec
    on_delete: FkAction = "no action"
    on_update: FkAction = "no action"
    match: Match = "simple"
    deferrable: Flag = False
    initially_deferred: Flag = False
    name: Ident | None = None
    comment: Text | None = None
    valid: Flag = True  # false: NOT VALID


class IndexElementSpec(_Spec):
    shorthand = "column"
    column: Ident | None = None
    expression: Expr | None = None
    order: Order = "asc"
    nulls: Nulls | None = None
    opclass: Name | None = None
    collation: Name | None = None

    @model_validator(mode="after")
    def _one_target(self) -> IndexElementSpec:
        if (self.column is None) == (self.expression is None):
            raise ValueError("give exactly one of 'column' or 'expression'")
        return self


class IndexSpec(_Spec):
    columns: Annotated[list[IndexElementSpec], Field(min_length=1)]
    name: Ident | None = None
    unique: Flag = False
    method: Annotated[Name, AfterValidator(str.lower)] = "btree"
    where: Expr | None = None
    include: list[Ident] = []
    nulls_not_distinct: Flag = False
    comment: Text | None = None
    options: StorageOptions = {}


class ViewSpec(_Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    query: Annotated[str, Strict(), AfterValidator(_non_blank)]
    materialized: Flag = False
    comment: Text | None = None
    indexes: list[IndexSpec] = []  # materialized views only
    grants: list[GrantSpec] = []
    options: StorageOptions = {}
    column_comments: dict[str, Text] = {}  # column name → comment
    triggers: list[TriggerSpec] = []  # views only: instead of (row), before/after (statement)
    rules: list[RuleSpec] = []  # not a materialized view's


class FunctionSpec(_Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    kind: Annotated[Literal["function", "procedure"], BeforeValidator(_words)] = "function"
    arguments: Text = ""  # as in CREATE FUNCTION: "a integer, b text DEFAULT 'x'"
    returns: Text | None = None  # required for a function, absent for a procedure
    language: Ident
    body: Annotated[str, Strict()]
    volatility: Annotated[Literal["immutable", "stable", "volatile"], BeforeValidator(_words)] = (
        "volatile"
    )
    strict: Flag = False
    security_definer: Flag = False
    leakproof: Flag = False
    parallel: Annotated[Literal["safe", "restricted", "unsafe"], BeforeValidator(_words)] = "unsafe"
    set: dict[Ident, Annotated[str, BeforeValidator(_sql_text), Strict()]] = {}
    comment: Text | None = None
    grants: list[GrantSpec] = []
    cost: Integer | None = None  # the planner's estimate per call (default 100)
    rows: Integer | None = None  # of a set-returning function (default 1000)


TriggerEvent = Annotated[Literal["insert", "update", "delete", "truncate"], BeforeValidator(_words)]


class TriggerSpec(_Spec):
    name: Ident
    timing: Annotated[Literal["before", "after", "instead of"], BeforeValidator(_words)]
    events: Annotated[list[TriggerEvent], Field(min_length=1)]
    function: Name  # [schema.]name of a function returning trigger
    for_each: Annotated[Literal["row", "statement"], BeforeValidator(_words)] = "row"
    columns: list[Ident] = []  # UPDATE OF these columns
    when: Expr | None = None
    arguments: list[Text] = []
    comment: Text | None = None
    constraint: Flag = False  # CONSTRAINT TRIGGER: after, for each row, may be deferred
    deferrable: Flag = False
    initially_deferred: Flag = False
    from_: Name | None = Field(None, alias="from")  # a constraint trigger's FROM [schema.]table
    old_table: Ident | None = None  # REFERENCING OLD TABLE AS
    new_table: Ident | None = None  # REFERENCING NEW TABLE AS
    fires: Annotated[Literal["origin", "replica", "always", "never"], BeforeValidator(_words)] = (
        "origin"  # ENABLE [REPLICA | ALWAYS] or DISABLE TRIGGER
    )


Modify = Annotated[Literal["read_only", "shareable", "read_write"], BeforeValidator(_words)]


class AggregateSpec(_Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    arguments: Text  # as in CREATE AGGREGATE: "integer", "x numeric, y numeric"
    sfunc: Name  # [schema.]name of the state transition function
    stype: Text  # the state's type
    sspace: Integer | None = None
    finalfunc: Name | None = None
    finalfunc_extra: Flag = False
    finalfunc_modify: Modify = "read_only"
    combinefunc: Name | None = None
    serialfunc: Name | None = None
    deserialfunc: Name | None = None
    initcond: Text | None = None
    msfunc: Name | None = None  # moving-aggregate mode: msfunc, minvfunc and mstype together
    minvfunc: Name | None = None
    mstype: Text | None = None
    msspace: Integer | None = None
    mfinalfunc: Name | None = None
    mfinalfunc_extra: Flag = False
    mfinalfunc_modify: Modify = "read_only"
    minitcond: Text | None = None
    sortop: Text | None = None  # an operator: `>` or `pg_catalog.>`
    parallel: Annotated[Literal["safe", "restricted", "unsafe"], BeforeValidator(_words)] = "unsafe"
    comment: Text | None = None


RuleEvent = Annotated[Literal["insert", "update", "delete"], BeforeValidator(_words)]


class RuleSpec(_Spec):
    name: Ident
    event: RuleEvent
    instead: Flag = False  # DO INSTEAD (else DO ALSO)
    where: Expr | None = None
    do: Expr | list[Expr] = []  # one command or several; none: DO NOTHING
    fires: Annotated[Literal["origin", "replica", "always", "never"], BeforeValidator(_words)] = (
        "origin"  # ENABLE [REPLICA | ALWAYS] or DISABLE RULE (tables only)
    )
    comment: Text | None = None


class ExclusionSpec(_Spec):
    name: Ident
    definition: Annotated[str, Strict(), AfterValidator(_non_blank)]  # EXCLUDE USING … (…)
    comment: Text | None = None


class PolicySpec(_Spec):
    name: Ident
    command: Annotated[
        Literal["all", "select", "insert", "update", "delete"], BeforeValidator(_words)
    ] = "all"
    permissive: Flag = True  # false: RESTRICTIVE
    roles: Annotated[list[Name], Field(min_length=1)] = ["public"]
    using: Expr | None = None
    check: Expr | None = None  # WITH CHECK
    comment: Text | None = None


class LintIgnoreSpec(_Spec):
    rule: Name
    reason: Annotated[str, Strict(), AfterValidator(_non_blank)]


class LintSpec(_Spec):
    ignore: list[LintIgnoreSpec] = []


class _TableFields(_Spec):
    schema_: Ident | None = Field(None, alias="schema")
    comment: Text | None = None
    renamed_from: Ident | None = None
    lint: LintSpec | None = None
    columns: list[ColumnSpec] = []
    primary_key: PrimaryKeySpec | None = None
    unique: list[UniqueSpec] = []
    checks: list[CheckSpec] = []
    foreign_keys: list[ForeignKeySpec] = []
    indexes: list[IndexSpec] = []
    triggers: list[TriggerSpec] = []
    rules: list[RuleSpec] = []
    row_security: Annotated[Literal["off", "on", "forced"], BeforeValidator(_words)] = "off"
    force_row_security: Flag | None = None  # FORCE on its own (row_security: forced is on + it)
    replica_identity: Annotated[Literal["default", "full", "nothing"], BeforeValidator(_words)] = (
        "default"
    )
    replica_identity_index: Ident | None = None  # REPLICA IDENTITY USING INDEX this one
    unlogged: Flag = False  # CREATE UNLOGGED TABLE
    options: StorageOptions = {}
    exclusions: list[ExclusionSpec] = []
    grants: list[GrantSpec] = []
    inherits: list[ReferenceSpec] = []  # parent tables, in order ([schema.]table or a mapping)
    policies: list[PolicySpec] = []
    partition_by: Text | None = None  # RANGE (at) | LIST (kind) | HASH (id)
    partition_of: ReferenceSpec | None = None  # the partitioned table this one is a partition of
    bound: Text | None = None  # a partition's FOR VALUES … or DEFAULT
    # a partition's own names of its indexes attached to its parent's: {parent's: its own}
    attached_indexes: dict[Ident, Ident] | None = None
    not_null: list[Ident] = []  # a partition's columns NOT NULL where its parent's are not
    # true: type changes and renames of its columns go through expand/backfill/contract plans;
    # false: never; unset: when the table has --large-rows rows or more (pg_class estimate)
    large: Flag | None = None


class TableSpec(_TableFields):
    table: Name


class FileSpec(_TableFields):
    """One file: any of the collections, and optionally one table given at the top level."""

    table: Name | None = None
    extensions: list[ExtensionSpec] = []
    schemas: list[SchemaSpec] = []
    enums: list[EnumSpec] = []
    tables: list[TableSpec] = []
    views: list[ViewSpec] = []
    functions: list[FunctionSpec] = []
    aggregates: list[AggregateSpec] = []
    sequences: list[SequenceSpec] = []
    collations: list[CollationSpec] = []
    domains: list[DomainSpec] = []
    composite_types: list[CompositeSpec] = []
    default_privileges: list[DefaultPrivilegesSpec] = []


TABLE_KEYS = tuple((f.alias or name) for name, f in _TableFields.model_fields.items())


def validate_file(data: Any, marks: Marks) -> tuple[FileSpec | None, list[tuple[int, str]]]:
    """The file's spec, or None and (line, message) problems naming the key path."""
    if not isinstance(data, dict):
        return None, [(marks.line(()), f"a file must be a mapping of keys, not {describe(data)}")]
    try:
        return FileSpec.model_validate(data), []
    except ValidationError as exc:
        return None, validation_problems(exc, marks, FileSpec)
