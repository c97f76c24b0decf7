"""A table in the YAML file format: its columns, keys, indexes, triggers, rules, exclusions
and policies, as pydantic models (shape only; tables.py builds them).

Owns: `TableFields` (every key a table takes, at the top of a file or in a `tables:` entry),
`TableSpec` and the models of its parts.
Must not: define a file's other collections (spec.py does).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, Strict, model_validator

from reconciler.desired.spec_base import (
    Columns,
    Expr,
    FkAction,
    Flag,
    GrantSpec,
    Ident,
    Identity,
    Integer,
    LintSpec,
    Match,
    Name,
    Nulls,
    Order,
    Spec,
    StorageOptions,
    Text,
    non_blank,
    words,
)
from reconciler.desired.spec_values import lower, one_target


class SequenceOptionsSpec(Spec):
    """An identity column's sequence options (each default: Postgres' for the column type)."""

    type: Text | None = None  # a serial column's sequence only: its type, when not the column's
    start: Integer | None = None
    increment: Integer = "1"
    min: Integer | None = None
    max: Integer | None = None
    cache: Integer = "1"
    cycle: Flag = False


class ColumnSpec(Spec):
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
    sequence_grants: list[GrantSpec] = ()  # privileges on the owned sequence (`sequence:`)
    using: Expr | None = None  # a type change's conversion of the values (ALTER … USING)
    sequence_comment: Text | None = None  # the comment on the owned sequence


class PrimaryKeySpec(Spec):
    shorthand = "columns"
    shorthand_list = True
    columns: Columns
    name: Ident | None = None
    comment: Text | None = None
    deferrable: Flag = False
    initially_deferred: Flag = False
    options: StorageOptions = {}  # its index's storage parameters, as an index's


class UniqueSpec(Spec):
    columns: Columns
    name: Ident | None = None
    deferrable: Flag = False
    initially_deferred: Flag = False
    nulls_not_distinct: Flag = False
    comment: Text | None = None
    options: StorageOptions = {}  # its index's storage parameters, as an index's


class CheckSpec(Spec):
    shorthand = "expression"
    expression: Expr
    name: Ident | None = None
    comment: Text | None = None
    valid: Flag = True  # false: NOT VALID
    no_inherit: Flag = False  # true: NO INHERIT (not copied to child tables)
    # NOT VALID here, validated on these partitions or child tables ([schema.]table)
    valid_on: list[ReferenceSpec] = ()


class ReferenceSpec(Spec):
    shorthand = "table"
    table: Name
    schema_: Ident | None = Field(None, alias="schema")
    columns: Columns | None = None


class ForeignKeySpec(Spec):
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


class IndexElementSpec(Spec):
    shorthand = "column"
    column: Ident | None = None
    expression: Expr | None = None
    order: Order = "asc"
    nulls: Nulls | None = None
    opclass: Name | None = None
    collation: Name | None = None

    @model_validator(mode="after")
    def _one_target(self) -> IndexElementSpec:
        one_target(self)
        return self


class IndexSpec(Spec):
    columns: Annotated[list[IndexElementSpec], Field(min_length=1)]
    name: Ident | None = None
    unique: Flag = False
    method: Annotated[Name, AfterValidator(lower)] = "btree"
    where: Expr | None = None
    include: list[Ident] = ()
    nulls_not_distinct: Flag = False
    comment: Text | None = None
    options: StorageOptions = {}


TriggerEvent = Annotated[Literal["insert", "update", "delete", "truncate"], BeforeValidator(words)]


class TriggerSpec(Spec):
    name: Ident
    timing: Annotated[Literal["before", "after", "instead of"], BeforeValidator(words)]
    events: Annotated[list[TriggerEvent], Field(min_length=1)]
    function: Name  # [schema.]name of a function returning trigger
    for_each: Annotated[Literal["row", "statement"], BeforeValidator(words)] = "row"
    columns: list[Ident] = ()  # UPDATE OF these columns
    when: Expr | None = None
    arguments: list[Text] = ()
    comment: Text | None = None
    constraint: Flag = False  # CONSTRAINT TRIGGER: after, for each row, may be deferred
    deferrable: Flag = False
    initially_deferred: Flag = False
    from_: Name | None = Field(None, alias="from")  # a constraint trigger's FROM [schema.]table
    old_table: Ident | None = None  # REFERENCING OLD TABLE AS
    new_table: Ident | None = None  # REFERENCING NEW TABLE AS
    fires: Annotated[Literal["origin", "replica", "always", "never"], BeforeValidator(words)] = (
        "origin"  # ENABLE [REPLICA | ALWAYS] or DISABLE TRIGGER
    )


RuleEvent = Annotated[Literal["insert", "update", "delete"], BeforeValidator(words)]


class RuleSpec(Spec):
    name: Ident
    event: RuleEvent
    instead: Flag = False  # DO INSTEAD (else DO ALSO)
    where: Expr | None = None
    do: Expr | list[Expr] = ()  # one command or several; none: DO NOTHING
    fires: Annotated[Literal["origin", "replica", "always", "never"], BeforeValidator(words)] = (
        "origin"  # ENABLE [REPLICA | ALWAYS] or DISABLE RULE (tables only)
    )
    comment: Text | None = None


class ExclusionSpec(Spec):
    name: Ident
    definition: Annotated[str, Strict(), AfterValidator(non_blank)]  # EXCLUDE USING … (…)
    comment: Text | None = None


class PolicySpec(Spec):
    name: Ident
    command: Annotated[
        Literal["all", "select", "insert", "update", "delete"], BeforeValidator(words)
    ] = "all"
    permissive: Flag = True  # false: RESTRICTIVE
    roles: Annotated[list[Name], Field(min_length=1)] = ["public"]
    using: Expr | None = None
    check: Expr | None = None  # WITH CHECK
    comment: Text | None = None


class TableFields(Spec):
    schema_: Ident | None = Field(None, alias="schema")
    comment: Text | None = None
    renamed_from: Ident | None = None
    lint: LintSpec | None = None
    columns: list[ColumnSpec] = ()
    primary_key: PrimaryKeySpec | None = None
    unique: list[UniqueSpec] = ()
    checks: list[CheckSpec] = ()
    foreign_keys: list[ForeignKeySpec] = ()
    indexes: list[IndexSpec] = ()
    triggers: list[TriggerSpec] = ()
    rules: list[RuleSpec] = ()
    row_security: Annotated[Literal["off", "on", "forced"], BeforeValidator(words)] = "off"
    force_row_security: Flag | None = None  # FORCE on its own (row_security: forced is on + it)
    replica_identity: Annotated[Literal["default", "full", "nothing"], BeforeValidator(words)] = (
        "default"
    )
    replica_identity_index: Ident | None = None  # REPLICA IDENTITY USING INDEX this one
    unlogged: Flag = False  # CREATE UNLOGGED TABLE
    options: StorageOptions = {}
    exclusions: list[ExclusionSpec] = ()
    grants: list[GrantSpec] = ()
    inherits: list[ReferenceSpec] = ()  # parent tables, in order ([schema.]table or a mapping)
    policies: list[PolicySpec] = ()
    partition_by: Text | None = None  # RANGE (at) | LIST (kind) | HASH (id)
    partition_of: ReferenceSpec | None = None  # the partitioned table this one is a partition of
    bound: Text | None = None  # a partition's FOR VALUES … or DEFAULT
    # a partition's own names of its indexes attached to its parent's: {parent's: its own}
    attached_indexes: dict[Ident, Ident] | None = None
    not_null: list[Ident] = ()  # a partition's columns NOT NULL where its parent's are not
    # true: type changes and renames of its columns go through expand/backfill/contract plans;
    # false: never; unset: when the table has --large-rows rows or more (pg_class estimate)
    large: Flag | None = None


class TableSpec(TableFields):
    table: Name
