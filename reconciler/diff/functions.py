"""Functions and procedures: created, replaced in place (CREATE OR REPLACE) when the signature
allows it, else dropped and created, and dropped.

Bodies are checked when a function runs (see ops/pg_function.py), so a function only needs
its schema, the extensions and the enum and domain types that its signature may use.
Everything that may call a function (defaults, checks, generated columns, indexes, views)
depends on all of the plan's functions (DiffContext.extension_deps): created after them,
dropped before them.
"""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.model.address import Address
from reconciler.model.compare import only_comment_differs
from reconciler.model.pg_objects import Function
from reconciler.ops.base import Change
from reconciler.ops.pg_function import CreateFunction, DropFunction, ReplaceFunction
from reconciler.ops.pg_objects import SetComment


def compare_functions(ctx: DiffContext) -> list[Change]:
    want, have = ctx.desired.functions, ctx.live.functions
    out: list[Change] = []
    for key, f in want.items():
        old = have.get(key)
        if old is None:
            out.append(CreateFunction(f, _deps(ctx, f)))
        elif old == f:
            continue
        elif only_comment_differs(old, f):
            out.append(SetComment(f.address, old.comment, f.comment))
        elif old.signature_matches(f) and old.kind == f.kind:
            out.append(ReplaceFunction(old, f, _deps(ctx, f)))
        else:
            out.append(DropFunction(old, _deps(ctx, old)))
            out.append(CreateFunction(f, _deps(ctx, f)))
    out += [DropFunction(f, _deps(ctx, f)) for key, f in have.items() if key not in want]
    return out


def _deps(ctx: DiffContext, f: Function) -> frozenset[Address]:
    return frozenset(
        {
            Address.of("pg", "schema", f.schema),
            *ctx.only_extension_deps,
            *ctx.enum_addresses,
            *(d.address for snap in (ctx.desired, ctx.live) for d in snap.domains.values()),
            *(t.address for snap in (ctx.desired, ctx.live) for t in snap.composites.values()),
        }
    )
