"""Free-standing sequences, collations, domains and composite types.

A collation changes by a drop and a create, refused at plan time while a column, index,
domain or composite type that stays uses it (Postgres drops a collation only once nothing
uses it); anything may name a collation (DiffContext.only_extension_deps).

A sequence's options change in place (ALTER SEQUENCE); a domain's default, NOT NULL, checks
and comment change in place, its base type or collation by a drop and a create (which
Postgres refuses while a column uses it: the apply stops there, nothing half done). Columns
of a domain type depend on the domain (DiffContext.type_deps); defaults that may call
nextval() depend on every sequence, like on every function (DiffContext.extension_deps).
"""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.diff.kinds import Kind, comment_change, walk
from reconciler.diff.owned_sequences import (
    check_defaults,
    owned_sequence_keys,
    owners_of_new_and_gone,
)
from reconciler.errors import NotSupported
from reconciler.model.address import Address
from reconciler.model.names import qualified, quote_ident
from reconciler.model.pg_objects import Collation, CompositeType, Domain
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg.sequence import AlterSequence, CreateSequence, DropSequence
from reconciler.ops.pg.types import (
    AlterComposite,
    AlterDomain,
    CreateCollation,
    CreateComposite,
    CreateDomain,
    DropCollation,
    DropComposite,
    DropDomain,
)


def compare_sequences(ctx: DiffContext) -> list[Change]:
    # a sequence changing owner (a column's ↔ another column's or none) is one change
    moves = ctx.moved_sequences
    check_defaults(ctx.desired, ctx.live)
    _check_rebuilt_owners(ctx)
    out: list[Change] = list(moves.values())
    # an owned one created or dropped: its owner given after, taken before (owned_sequences)
    out += owners_of_new_and_gone(ctx.desired, ctx.live)
    return out + walk(
        ctx.desired.sequences,
        ctx.live.sequences,
        Kind(
            create=lambda q: [CreateSequence(q)],
            comments=True,
            alter=lambda old, q: [AlterSequence(old, q)],
            drop=lambda q: [DropSequence(q)],
            elsewhere=lambda key, _: key in moves,
            left_alone=lambda key, _: key in moves,
        ),
    )


def _check_rebuilt_owners(ctx: DiffContext) -> None:
    """A free-standing sequence the plan keeps, owned by a column of a table the plan drops
    and creates again, would go with the table's drop (Postgres drops the sequences its
    columns own), whoever owns it afterwards: a change of owner runs after the table is
    created again."""
    kept = {*ctx.desired.sequences, *(owned_sequence_keys(ctx.desired))}
    for key, q in ctx.live.sequences.items():
        if q.owned_by is None or key not in kept or (q.schema, q.owned_by[0]) not in ctx.rebuilt:
            continue
        source = ctx.desired.sequences[key].source if key in ctx.desired.sequences else None
        raise NotSupported(
            f"Sequence {qualified(q.schema, q.name)} is owned by column "
            f"{qualified(q.schema, q.owned_by[0])}.{quote_ident(q.owned_by[1])}, and that "
            f"table is rebuilt: {ctx.rebuilt[(q.schema, q.owned_by[0])]}.",
            detail="Dropping the table would drop the sequence with it: give the sequence no "
            "owner (or another one) in one plan, and rebuild the table in the next.",
            source=source,
        )


def compare_collations(ctx: DiffContext) -> list[Change]:
    def replace(old: Collation, new: Collation) -> list[Change]:
        _refuse_in_use(ctx, new)
        return [DropCollation(old), CreateCollation(new)]

    return walk(
        ctx.desired.collations,
        ctx.live.collations,
        Kind(
            create=lambda c: [CreateCollation(c)],
            comments=True,
            replace=replace,
            drop=lambda c: [DropCollation(c)],
        ),
    )


def _refuse_in_use(ctx: DiffContext, c: Collation) -> None:
    """A collation redefined under objects that use it before and after: Postgres would
    refuse the drop (the plan cannot carry them through it yet)."""
    name = qualified(c.schema, c.name)
    users = sorted(_collation_users(ctx.live, name) & _collation_users(ctx.desired, name))
    if users:
        shown = ", ".join(users[:5]) + (" …" if len(users) > 5 else "")
        raise NotSupported(
            f"Collation {c.schema}.{c.name} cannot be redefined while {shown} use(s) it: "
            "Postgres drops a collation only once nothing uses it.",
            detail="Move them to another collation in one plan and redefine it in the next, "
            "or give the new definition a new name.",
            source=c.source,
        )


def _collation_users(snap: PgSnapshot, name: str) -> set[str]:
    """What names collation `name` (as the catalog reads print it), for a message."""
    out = {
        f"column {t.schema}.{t.name}.{col.name}"
        for t in snap.tables.values()
        for col in t.columns
        if col.collation == name
    }
    out |= {
        f"index {ix.schema}.{ix.name}"
        for ix in snap.indexes.values()
        if any(e.collation == name for e in ix.elements)
    }
    out |= {f"domain {d.schema}.{d.name}" for d in snap.domains.values() if d.collation == name}
    out |= {
        f"composite type {t.schema}.{t.name}"
        for t in snap.composites.values()
        if any(a[2] == name for a in t.attributes)
    }
    return out


def compare_domains(ctx: DiffContext) -> list[Change]:
    def alter(old: Domain, new: Domain) -> list[Change] | None:
        if (old.type, old.collation) != (new.type, new.collation):
            return None
        return [AlterDomain(old, new, _deps(ctx, new))]

    return walk(
        ctx.desired.domains,
        ctx.live.domains,
        Kind(
            create=lambda d: [CreateDomain(d, _deps(ctx, d))],
            alter=alter,  # its comment too
            drop=lambda d: [DropDomain(d, _deps(ctx, d))],
        ),
    )


def compare_composites(ctx: DiffContext) -> list[Change]:
    """Attributes that stay in their order, with new ones after them, change in place (ALTER
    TYPE … ATTRIBUTE); any other change drops and creates the type (Postgres refuses the drop
    while a column uses it: the apply stops there, nothing half done)."""

    def alter(old: CompositeType, new: CompositeType) -> list[Change] | None:
        if not _in_place(old, new):
            return None
        return [AlterComposite(old, new, _deps(ctx, new)), *comment_change(old, new)]

    return walk(
        ctx.desired.composites,
        ctx.live.composites,
        Kind(
            create=lambda t: [CreateComposite(t, _deps(ctx, t))],
            comments=True,
            alter=alter,
            drop=lambda t: [DropComposite(t, _deps(ctx, t))],
        ),
    )


def _in_place(old: CompositeType, new: CompositeType) -> bool:
    """The attributes that stay keep their order and come first: ALTER TYPE can get there."""
    names = [a[0] for a in new.attributes]
    kept = [a[0] for a in old.attributes if a[0] in names]
    return names[: len(kept)] == kept


def _deps(ctx: DiffContext, d: Domain | CompositeType) -> frozenset[Address]:
    """Its schema, the extensions, the enum its base type may be, and the routines and
    sequences a domain's checks and default name (`nextval('s')`; a routine's signature
    naming the domain puts it after the domain instead: ctx.function_deps)."""
    deps = {Address.of("pg", "schema", d.schema), *ctx.only_extension_deps, *ctx.enum_addresses}
    if isinstance(d, Domain):
        said = " ".join([d.default or "", *(k.expression for k in d.checks)]).lower()
        deps |= {
            a
            for a in ctx.extension_deps
            if a.kind in ("function", "procedure", "sequence") and a.parts[3].lower() in said
        }
    if isinstance(d, CompositeType):  # its attributes may be of a domain or composite type
        deps |= {ctx.type_address(type_) for _, type_, _ in d.attributes} - {None}
    return frozenset(deps)
