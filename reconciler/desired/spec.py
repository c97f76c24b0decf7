"""The Postgres YAML file format as pydantic models (pydantic_errors.py words their errors).

These models only check *shape* (known keys, value kinds, allowed words, identifier limits).
Everything that needs more than one object (names, references, types resolved against enums)
is checked by the builders (build.py). Shorthands (`- pgcrypto`, `primary_key: [id]`,
`references: users`, an index element given as a bare column) are expanded by `mode="before"`
validators so that the rest of the code sees one shape only. Owns: `FileSpec` and the models of
the objects a file declares besides tables (spec_table.py) and `validate_file`.
Must not: build model values (the builders do).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, Strict, ValidationError

from reconciler.desired.pydantic_errors import describe, validation_problems
from reconciler.desired.spec_base import (
    Expr,
    Flag,
    GrantSpec,
    Ident,
    Integer,
    Name,
    Spec,
    StorageOptions,
    Text,
    non_blank,
    sql_text,
    words,
)
from reconciler.desired.spec_table import (
    IndexSpec,
    RuleSpec,
    TableFields,
    TableSpec,
    TriggerSpec,
)
from reconciler.project.yamlload import Marks


class DefaultPrivilegesSpec(Spec):
    """ALTER DEFAULT PRIVILEGES FOR ROLE for_role [IN SCHEMA schema] … ON <on>."""

    for_role: Name  # the role whose new objects get them
    schema_: Ident | None = Field(None, alias="schema")  # none: anywhere in the database
    on: Annotated[
        Literal["tables", "sequences", "functions", "types", "schemas"], BeforeValidator(words)
    ]
    grants: list[GrantSpec] = ()


class ExtensionSpec(Spec):
    shorthand = "name"
    name: Ident
    schema_: Ident | None = Field(None, alias="schema")
    version: Text | None = None


class SchemaSpec(Spec):
    shorthand = "name"
    name: Ident
    comment: Text | None = None
    grants: list[GrantSpec] = ()
    # exact: every grant on the schema and on what it holds is listed (other roles lose theirs)
    privileges: Annotated[Literal["named", "exact"], BeforeValidator(words)] = "named"


class EnumSpec(Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    values: list[Text]
    comment: Text | None = None
    grants: list[GrantSpec] = ()  # USAGE on the type


class SequenceSpec(Spec):
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
    grants: list[GrantSpec] = ()


class CollationSpec(Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    provider: Annotated[Literal["libc", "icu", "builtin"], BeforeValidator(words)] = "libc"
    locale: Name | None = None
    lc_collate: Name | None = None
    lc_ctype: Name | None = None
    deterministic: Flag = True
    comment: Text | None = None


class DomainCheckSpec(Spec):
    shorthand = "expression"
    expression: Expr
    name: Ident | None = None
    comment: Text | None = None


class DomainSpec(Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    type: Text
    not_null: Flag = False
    default: Expr | None = None
    collation: Name | None = None
    checks: list[DomainCheckSpec] = ()
    comment: Text | None = None
    grants: list[GrantSpec] = ()  # USAGE on the type


class AttributeSpec(Spec):
    name: Ident
    type: Text
    collation: Name | None = None


class CompositeSpec(Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    attributes: Annotated[list[AttributeSpec], Field(min_length=1)]
    comment: Text | None = None
    grants: list[GrantSpec] = ()  # USAGE on the type


class ViewSpec(Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    query: Annotated[str, Strict(), AfterValidator(non_blank)]
    materialized: Flag = False
    comment: Text | None = None
    indexes: list[IndexSpec] = ()  # materialized views only
    grants: list[GrantSpec] = ()
    options: StorageOptions = {}
    column_comments: dict[str, Text] = {}  # column name → comment
    triggers: list[TriggerSpec] = ()  # views only: instead of (row), before/after (statement)
    rules: list[RuleSpec] = ()  # not a materialized view's


class FunctionSpec(Spec):
    name: Name
    schema_: Ident | None = Field(None, alias="schema")
    kind: Annotated[Literal["function", "procedure"], BeforeValidator(words)] = "function"
    arguments: Text = ""  # as in CREATE FUNCTION: "a integer, b text DEFAULT 'x'"
    returns: Text | None = None  # required for a function, absent for a procedure
    language: Ident
    body: Annotated[str, Strict()]
    volatility: Annotated[Literal["immutable", "stable", "volatile"], BeforeValidator(words)] = (
        "volatile"
    )
    strict: Flag = False
    security_definer: Flag = False
    leakproof: Flag = False
    parallel: Annotated[Literal["safe", "restricted", "unsafe"], BeforeValidator(words)] = "unsafe"
    set: dict[Ident, Annotated[str, BeforeValidator(sql_text), Strict()]] = {}
    comment: Text | None = None
    grants: list[GrantSpec] = ()
    cost: Integer | None = None  # the planner's estimate per call (default 100)
    rows: Integer | None = None  # of a set-returning function (default 1000)


Modify = Annotated[Literal["read_only", "shareable", "read_write"], BeforeValidator(words)]


class AggregateSpec(Spec):
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
    parallel: Annotated[Literal["safe", "restricted", "unsafe"], BeforeValidator(words)] = "unsafe"
    comment: Text | None = None


class FileSpec(TableFields):
    """One file: any of the collections, and optionally one table given at the top level."""

    table: Name | None = None
    extensions: list[ExtensionSpec] = ()
    schemas: list[SchemaSpec] = ()
    enums: list[EnumSpec] = ()
    tables: list[TableSpec] = ()
    views: list[ViewSpec] = ()
    functions: list[FunctionSpec] = ()
    aggregates: list[AggregateSpec] = ()
    sequences: list[SequenceSpec] = ()
    collations: list[CollationSpec] = ()
    domains: list[DomainSpec] = ()
    composite_types: list[CompositeSpec] = ()
    default_privileges: list[DefaultPrivilegesSpec] = ()


def validate_file(data: Any, marks: Marks) -> tuple[FileSpec | None, list[tuple[int, str]]]:
    """The file's spec, or None and (line, message) problems naming the key path."""
    if not isinstance(data, dict):
        return None, [(marks.line(()), f"a file must be a mapping of keys, not {describe(data)}")]
    try:
        return FileSpec.model_validate(data), []
    except ValidationError as exc:
        return None, validation_problems(exc, marks, FileSpec)
