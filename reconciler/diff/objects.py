"""Schemas and extensions (enum types: enums.py)."""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.ops.base import Change
from reconciler.ops.pg.objects import (
    AlterExtensionVersion,
    CreateExtension,
    CreateSchema,
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
