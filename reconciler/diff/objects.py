"""Schemas and extensions (enum types: enums.py)."""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.diff.kinds import Kind, comment_change, walk
from reconciler.model.pg import Extension, Schema
from reconciler.ops.base import Change
from reconciler.ops.pg.objects import (
    AlterExtensionVersion,
    CreateExtension,
    CreateSchema,
    DropExtension,
    DropSchema,
)

# Present in every database; never created or dropped by a plan.
BUILTIN_SCHEMAS = frozenset({"public"})


def compare_schemas(ctx: DiffContext) -> list[Change]:
    return walk(
        ctx.desired.schemas,
        ctx.live.schemas,
        Kind(
            create=lambda s: [CreateSchema(s)],
            alter=_schema_comment,
            drop=lambda s: [DropSchema(s)],
            left_alone=lambda name, _: name in BUILTIN_SCHEMAS,
        ),
    )


def _schema_comment(old: Schema, new: Schema) -> list[Change]:
    """Only a schema's comment changes in place; an undeclared built-in schema's stock comment
    is not ours to manage."""
    if new.name in BUILTIN_SCHEMAS and new.comment is None:
        return []
    return comment_change(old, new)


def compare_extensions(ctx: DiffContext) -> list[Change]:
    return walk(
        ctx.desired.extensions,
        ctx.live.extensions,
        Kind(
            create=lambda e: [CreateExtension(e)],
            alter=_extension_version,
            drop=lambda e: [DropExtension(e)],
        ),
    )


def _extension_version(old: Extension, new: Extension) -> list[Change]:
    """A version the desired state names, when it is not the live one (none: any will do)."""
    if new.version is None or new.version == old.version:
        return []
    return [AlterExtensionVersion(old, new)]
