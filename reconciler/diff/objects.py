"""Schemas, extensions and enum types."""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.errors import NotSupported
from reconciler.ops.base import Change
from reconciler.ops.pg_objects import (
    AddEnumValues,
    AlterExtensionVersion,
    CreateEnum,
    CreateExtension,
    CreateSchema,
    DropEnum,
    DropExtension,
    DropSchema,
    SetComment,
)

# Present in every database; never created or dropped by a plan.
BUILTIN_SCHEMAS = frozenset({"public"})


def compare_schemas(ctx: DiffContext) -> list[Change]:
    out: list[Change] = []
    want, have = ctx.desired.schemas, ctx.live.schemas
    for name, s in want.items():
        if name not in have:
            out.append(CreateSchema(s))
        elif name in BUILTIN_SCHEMAS and s.comment is None:
            continue  # an undeclared built-in schema: its stock comment is not ours to manage
        elif have[name].comment != s.comment:
            out.append(SetComment(s.address, have[name].comment, s.comment))
    out += [DropSchema(s) for n, s in have.items() if n not in want and n not in BUILTIN_SCHEMAS]
    return out


def compare_extensions(ctx: DiffContext) -> list[Change]:
    out: list[Change] = []
    want, have = ctx.desired.extensions, ctx.live.extensions
    for name, e in want.items():
        if name not in have:
            out.append(CreateExtension(e))
        elif e.version is not None and e.version != have[name].version:
            out.append(AlterExtensionVersion(have[name], e))
    out += [DropExtension(e) for n, e in have.items() if n not in want]
    return out


def compare_enums(ctx: DiffContext) -> list[Change]:
    out: list[Change] = []
    want, have = ctx.desired.enums, ctx.live.enums
    for key, e in want.items():
        old = have.get(key)
        if old is None:
            out.append(CreateEnum(e))
            continue
        if old.labels != e.labels:
            if not _is_insertion(old.labels, e.labels):
                raise NotSupported(
                    f"Enum {key[0]}.{key[1]}: removing or reordering values "
                    f"({', '.join(old.labels)} → {', '.join(e.labels)}) is not supported.",
                    detail="Only adding values is; keep the existing values in their order.",
                    source=e.source,
                )
            out.append(AddEnumValues(old, e))
        if old.comment != e.comment:
            out.append(SetComment(e.address, old.comment, e.comment))
    out += [DropEnum(e) for k, e in have.items() if k not in want]
    return out


def _is_insertion(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    """True when `new` keeps every old label in the same relative order (only additions)."""
    it = iter(new)
    return all(label in it for label in old)
