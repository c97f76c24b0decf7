"""Free-standing sequences, domains and composite types.

A sequence's options change in place (ALTER SEQUENCE); a domain's default, NOT NULL, checks
and comment change in place, its base type or collation by a drop and a create (which
Postgres refuses while a column uses it: the apply stops there, nothing half done). Columns
of a domain type depend on the domain (DiffContext.type_deps); defaults that may call
nextval() depend on every sequence, like on every function (DiffContext.extension_deps).
"""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.diff.owned_sequences import check_defaults
from reconciler.model.address import Address
from reconciler.model.compare import only_comment_differs
from reconciler.model.pg_objects import CompositeType, Domain
from reconciler.ops.base import Change
from reconciler.ops.pg_objects import SetComment
from reconciler.ops.pg_types import (
    AlterComposite,
    AlterDomain,
    AlterSequence,
    CreateComposite,
    CreateDomain,
    CreateSequence,
    DropComposite,
    DropDomain,
    DropSequence,
)


def compare_sequences(ctx: DiffContext) -> list[Change]:
    want, have = ctx.desired.sequences, ctx.live.sequences
    # a sequence changing owner (a column's ↔ another column's or none) is one change
    moves = ctx.moved_sequences
    check_defaults(ctx.desired, ctx.live)
    out: list[Change] = list(moves.values())
    for key, q in want.items():
        old = have.get(key)
        if key in moves:
            continue
        if old is None:
            out.append(CreateSequence(q))
        elif old == q:
            continue
        elif only_comment_differs(old, q):
            out.append(SetComment(q.address, old.comment, q.comment))
        else:
            out.append(AlterSequence(old, q))
    out += [DropSequence(q) for key, q in have.items() if key not in want and key not in moves]
    return out


def compare_domains(ctx: DiffContext) -> list[Change]:
    want, have = ctx.desired.domains, ctx.live.domains
    out: list[Change] = []
    for key, d in want.items():
        old = have.get(key)
        if old is None:
            out.append(CreateDomain(d, _deps(ctx, d)))
        elif old == d:
            continue
        elif (old.type, old.collation) == (d.type, d.collation):
            out.append(AlterDomain(old, d, _deps(ctx, d)))
        else:
            out.append(DropDomain(old, _deps(ctx, old)))
            out.append(CreateDomain(d, _deps(ctx, d)))
    out += [DropDomain(d, _deps(ctx, d)) for key, d in have.items() if key not in want]
    return out


def compare_composites(ctx: DiffContext) -> list[Change]:
    """Attributes that stay in their order, with new ones after them, change in place (ALTER
    TYPE … ATTRIBUTE); any other change drops and creates the type (Postgres refuses the drop
    while a column uses it: the apply stops there, nothing half done)."""
    want, have = ctx.desired.composites, ctx.live.composites
    out: list[Change] = []
    for key, t in want.items():
        old = have.get(key)
        if old is None:
            out.append(CreateComposite(t, _deps(ctx, t)))
        elif old == t:
            continue
        elif only_comment_differs(old, t):
            out.append(SetComment(t.address, old.comment, t.comment))
        elif _in_place(old, t):
            out.append(AlterComposite(old, t, _deps(ctx, t)))
            if old.comment != t.comment:
                out.append(SetComment(t.address, old.comment, t.comment))
        else:
            out.append(DropComposite(old, _deps(ctx, old)))
            out.append(CreateComposite(t, _deps(ctx, t)))
    out += [DropComposite(t, _deps(ctx, t)) for key, t in have.items() if key not in want]
    return out


def _in_place(old: CompositeType, new: CompositeType) -> bool:
    """The attributes that stay keep their order and come first: ALTER TYPE can get there."""
    names = [a[0] for a in new.attributes]
    kept = [a[0] for a in old.attributes if a[0] in names]
    return names[: len(kept)] == kept


def _deps(ctx: DiffContext, d: Domain | CompositeType) -> frozenset[Address]:
    """Its schema, the extensions and the enum its base type may be. Not the plan's own
    functions: those may take or return the domain, so they come after it (a domain check
    calling a function of the same plan is the one order this cannot give)."""
    deps = {Address.of("pg", "schema", d.schema), *ctx.only_extension_deps, *ctx.enum_addresses}
    if isinstance(d, CompositeType):  # its attributes may be of a domain or composite type
        deps |= {ctx.type_address(type_) for _, type_, _ in d.attributes} - {None}
    return frozenset(deps)
