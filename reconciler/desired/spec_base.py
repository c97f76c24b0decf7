"""What both YAML file formats are made of: the value kinds and the base model.

Owns: the value kinds a key may hold (`Text`, `Name`, `Ident`, `Flag`, `Expr`, ... — as the
loader gives them: text kept as written, YAML 1.1 booleans, no NUL) with what editors are told
about them (JSON Schema), `Spec` (strict, frozen, unknown keys refused, shorthands expanded),
`GrantSpec` and the `lint:` entries both formats share.
Must not: define a file format (spec.py, spec_table.py and keyspec.py do).
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
    WithJsonSchema,
    model_validator,
)

from reconciler.desired.spec_values import (
    ident,
    int_text,
    lower,
    no_nul,
    non_blank,
    sql_text,
    words,
    yaml_bool,
)
from reconciler.model.pg import FK_ACTIONS

# What editors are told (JSON Schema): the loader keeps every plain scalar as the text it was
# written with, so `default: 1` or `name: 2024` is text here though YAML calls it a number; and
# it reads YAML 1.1 booleans (yes/no/on/off), which editors speaking YAML 1.2 call strings.
_SCALAR_TEXT = WithJsonSchema({"type": ["string", "number", "boolean"]})
_YAML_BOOL = WithJsonSchema(
    {"anyOf": [{"type": "boolean"}, {"enum": ["yes", "no", "on", "off", "y", "n"]}]}
)
Text = Annotated[str, Strict(), AfterValidator(no_nul), _SCALAR_TEXT]
Name = Annotated[str, Strict(), AfterValidator(no_nul), AfterValidator(non_blank), _SCALAR_TEXT]
Ident = Annotated[str, Strict(), AfterValidator(ident), _SCALAR_TEXT]  # ident refuses NUL
Flag = Annotated[bool, BeforeValidator(yaml_bool), Strict(), _YAML_BOOL]
Expr = Annotated[str, BeforeValidator(sql_text), Strict(), AfterValidator(no_nul), _SCALAR_TEXT]
Identity = Annotated[Literal["always", "by default"], BeforeValidator(words)]
FkAction = Annotated[Literal[FK_ACTIONS], BeforeValidator(words)]  # type: ignore[valid-type]
Match = Annotated[Literal["simple", "full"], BeforeValidator(words)]
Order = Annotated[Literal["asc", "desc"], BeforeValidator(words)]
Nulls = Annotated[Literal["first", "last"], BeforeValidator(words)]
Columns = Annotated[list[Ident], Field(min_length=1)]
# Storage parameters (WITH (…)) of a table, a view, an index or a key's index: plain names and
# values, checked and spelled by desired/table_scope.py TableScope.options
StorageOptions = dict[str, Annotated[str, Strict()] | Flag | Annotated[int, Strict()]]


class Spec(BaseModel):
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


class GrantSpec(Spec):
    role: Name  # a role name, or public
    privileges: list[Annotated[str, Strict(), AfterValidator(lower)]]  # [] = none at all
    columns: list[Ident] = ()  # tables and views: the privileges on these columns only
    # true: every privilege listed; a list: those of them only
    with_grant_option: Flag | list[Annotated[str, Strict(), AfterValidator(lower)]] = False


Integer = Annotated[str, BeforeValidator(int_text), Strict()]


class LintIgnoreSpec(Spec):
    rule: Name
    reason: Annotated[str, Strict(), AfterValidator(non_blank)]


class LintSpec(Spec):
    ignore: list[LintIgnoreSpec] = ()
