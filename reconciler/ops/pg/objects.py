"""Changes of database-level objects: schemas, extensions, enum types, and comments on anything."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg import Enum, Extension, Schema
from reconciler.ops.base import DESTRUCTIVE, IRREVERSIBLE, Action, Change, Hazard, Statement
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import guarded, ident, literal


@dataclass(frozen=True, slots=True)
class CreateSchema(CreateWhole):
    schema: Schema

    def statements(self) -> list[Statement]:
        out = [Statement(f"CREATE SCHEMA IF NOT EXISTS {ident(self.schema.name)}")]
        if self.schema.comment is not None:
            out.append(
                Statement(
                    f"COMMENT ON SCHEMA {ident(self.schema.name)} IS {literal(self.schema.comment)}"
                )
            )
        return out

    def describe(self) -> str:
        return "schema"


@twin_of(CreateSchema)
@dataclass(frozen=True, slots=True)
class DropSchema(DropWhole):
    schema: Schema

    def statements(self) -> list[Statement]:
        # RESTRICT: every object inside was dropped by its own change before this one.
        return [Statement(f"DROP SCHEMA IF EXISTS {ident(self.schema.name)} RESTRICT")]

    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard(DESTRUCTIVE, f"drops schema {self.schema.name}"),)

    def describe(self) -> str:
        return "schema"


@dataclass(frozen=True, slots=True)
class CreateExtension(CreateWhole):
    ext: Extension
    in_schema = True  # where it names one

    def statements(self) -> list[Statement]:
        text = f"CREATE EXTENSION IF NOT EXISTS {ident(self.ext.name)}"
        if self.ext.schema:
            text += f" SCHEMA {ident(self.ext.schema)}"
        if self.ext.version:
            text += f" VERSION {literal(self.ext.version)}"
        return [Statement(text)]

    def describe(self) -> str:
        return f"extension {self.ext.version or ''}".rstrip()


@twin_of(CreateExtension)
@dataclass(frozen=True, slots=True)
class DropExtension(DropWhole):
    ext: Extension
    in_schema = True

    def statements(self) -> list[Statement]:
        return [Statement(f"DROP EXTENSION IF EXISTS {ident(self.ext.name)} RESTRICT")]

    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard(DESTRUCTIVE, f"drops extension {self.ext.name}"),)

    def describe(self) -> str:
        return "extension"


@dataclass(frozen=True, slots=True)
class AlterExtensionVersion(Change):
    old: Extension
    new: Extension
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        return [
            Statement(
                f"ALTER EXTENSION {ident(self.new.name)} UPDATE TO {literal(self.new.version)}"
            )
        ]

    def reverse(self) -> Change:
        return KeepExtensionVersion(self.new, self.old)

    def hazards(self) -> tuple[Hazard, ...]:
        return (
            Hazard(
                IRREVERSIBLE,
                "extension downgrades work only where the extension ships a downgrade script",
            ),
        )

    def details(self) -> list[dict]:
        return [{"attribute": "version", "old": self.old.version, "new": self.new.version}]

    def describe(self) -> str:
        return f"version {self.old.version} → {self.new.version}"


@dataclass(frozen=True, slots=True)
class KeepExtensionVersion(Change):
    """The reverse of a version update: extensions rarely ship downgrade scripts, so the down
    file keeps the new version and says so (the plan flagged the update irreversible)."""

    old: Extension
    new: Extension
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        return [
            Statement(
                f"-- irreversible: extension {self.new.name} stays at version {self.old.version}"
                f" (no downgrade to {self.new.version})"
            )
        ]

    def reverse(self) -> Change:
        return AlterExtensionVersion(self.new, self.old)

    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard(IRREVERSIBLE, "extension versions are not downgraded"),)

    def describe(self) -> str:
        return f"keep version {self.old.version}"


@dataclass(frozen=True, slots=True)
class CreateEnum(CreateWhole):
    enum: Enum
    in_schema = True

    def statements(self) -> list[Statement]:
        labels = ", ".join(literal(v) for v in self.enum.labels)
        create = f"CREATE TYPE {ident(self.enum.schema, self.enum.name)} AS ENUM ({labels})"
        out = [Statement(guarded(create, "duplicate_object"))]
        if self.enum.comment is not None:
            out.append(
                Statement(
                    f"COMMENT ON TYPE {ident(self.enum.schema, self.enum.name)} IS "
                    f"{literal(self.enum.comment)}"
                )
            )
        return out

    def describe(self) -> str:
        return f"enum ({', '.join(self.enum.labels)})"


@twin_of(CreateEnum)
@dataclass(frozen=True, slots=True)
class DropEnum(DropWhole):
    enum: Enum
    in_schema = True

    def statements(self) -> list[Statement]:
        return [Statement(f"DROP TYPE IF EXISTS {ident(self.enum.schema, self.enum.name)}")]

    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard(DESTRUCTIVE, f"drops enum type {self.enum.name}"),)

    def describe(self) -> str:
        return "enum"


_COMMENT_TARGETS = {
    "schema": "SCHEMA",
    "table": "TABLE",
    "column": "COLUMN",
    "index": "INDEX",
    "enum": "TYPE",
    "view": "VIEW",
    "sequence": "SEQUENCE",
    "domain": "DOMAIN",
    "collation": "COLLATION",
    "composite_type": "TYPE",
    "materialized_view": "MATERIALIZED VIEW",
}


@dataclass(frozen=True, slots=True)
class SetComment(Change):
    """COMMENT ON any object; address is the object's own. `None` removes the comment."""

    target: Address
    old: str | None
    new: str | None
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.target

    def _object_sql(self) -> str:
        kind, parts = self.target.kind, self.target.parts[2:]
        if kind == "constraint":
            schema, table, name = parts
            return f"CONSTRAINT {ident(name)} ON {ident(schema, table)}"
        if kind in ("trigger", "policy", "rule"):
            schema, table, name = parts
            return f"{kind.upper()} {ident(name)} ON {ident(schema, table)}"
        if kind in ("function", "procedure", "aggregate"):
            schema, name, types = parts
            return f"{kind.upper()} {ident(schema, name)}({types})"
        return f"{_COMMENT_TARGETS[kind]} {ident(*parts)}"

    def statements(self) -> list[Statement]:
        value = "NULL" if self.new is None else literal(self.new)
        return [Statement(f"COMMENT ON {self._object_sql()} IS {value}")]

    def reverse(self) -> Change:
        return SetComment(self.target, self.new, self.old)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        return frozenset({self.target})

    def details(self) -> list[dict]:
        return [{"attribute": "comment", "old": self.old, "new": self.new}]

    def describe(self) -> str:
        return "comment"
