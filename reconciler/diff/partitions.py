"""A partition's own part: the names of its indexes attached to its parent's, and NOT NULL on
columns its parent leaves nullable (the rest of a partition is its parent's)."""

from __future__ import annotations

from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.errors import NotSupported
from reconciler.model.address import Address
from reconciler.model.pg import Exclusion, Index, PrimaryKey, Table, Unique
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg.parents import AdoptIndex, AttachTable
from reconciler.ops.pg.partition import AttachIndex, SetPartitionNotNull, unattach_sql
from reconciler.sql.render import (
    constraint_def,
    deferral,
    dollar_quote,
    guarded,
    ident,
    index_def,
    literal,
)

ParentIndex = Index | PrimaryKey | Unique | Exclusion


def parent_index(snap: PgSnapshot, parent: tuple[str, str], name: str) -> ParentIndex | None:
    """The parent's index of this name: a plain index, or a key's (named as the key)."""
    ix = snap.indexes.get((parent[0], name))
    if ix is not None and (ix.schema, ix.table) == parent:
        return ix
    t = snap.tables.get(parent)
    for k in t.constraints() if t is not None else ():
        if k.name == name and isinstance(k, PrimaryKey | Unique | Exclusion):
            return k
    return None


def attached_names(snap: PgSnapshot) -> set[tuple[str, str, str]]:
    """(schema, partition, index name) of every index a partition has attached by name."""
    return {
        (t.schema, t.name, own) for t in snap.tables.values() for _, own in t.attached_indexes or ()
    }


def attached_keys(ctx: DiffContext, ix: Index) -> frozenset[Address]:
    """The partitions' own keys attached (before or after) to a partitioned table's index: it
    is created after them and dropped before them (Postgres refuses the other orders)."""
    if ctx.attached is None:  # every partition read once, not once per index
        found: dict[tuple[str, str, str], set[Address]] = {}
        for snap in (ctx.desired, ctx.live):
            for t in snap.tables.values():
                if t.partition_of is None:
                    continue
                for parent, own in t.attached_indexes or ():
                    address = Address.of("pg", "constraint", t.schema, t.name, own)
                    found.setdefault((*t.partition_of, parent), set()).add(address)
        ctx.attached = {k: frozenset(v) for k, v in found.items()}
    return ctx.attached.get((ix.schema, ix.table, ix.name), frozenset())


def _create_sql(part: Table, name: str, of: ParentIndex) -> str:
    if isinstance(of, Index):
        return index_def(replace(of, schema=part.schema, table=part.name, name=name))
    key = constraint_def(replace(of, name=name))
    return f"ALTER TABLE {ident(part.schema, part.name)} ADD {key}"


def _same(a: ParentIndex | None, b: ParentIndex | None) -> bool:
    if a is None or b is None:
        return False
    return type(a) is type(b) and replace(a, comment=None) == replace(b, comment=None)


def compare_partitions(ctx: DiffContext) -> list[Change]:
    out: list[Change] = []
    want, have = ctx.desired.tables, ctx.live.tables
    for key in sorted({*want, *have}):
        new, old = want.get(key), have.get(key)
        if new is not None and new.partition_of is None:
            new = None
        if old is not None and old.partition_of is None:
            old = None
        if new is None and old is None:
            continue
        if key in ctx.rebuilt:  # dropped with its old parent, created with its new one
            out += _attachments(ctx, old, None) if old is not None else []
            out += _attachments(ctx, None, new) if new is not None else []
            continue
        out += _attachments(ctx, old, new)
        if new is not None and old is not None and new.partition_of == old.partition_of:
            out += _not_null(ctx, old, new)
    return out


def _attachments(ctx: DiffContext, old: Table | None, new: Table | None) -> list[Change]:
    if new is not None and new.attached_indexes is None:
        return []  # the YAML leaves the names to Postgres
    was = dict(old.attached_indexes or ()) if old is not None else {}
    now = dict(new.attached_indexes or ()) if new is not None else {}
    part = new or old
    assert part is not None and part.partition_of is not None
    moved = old is None or new is None
    moved = moved or (old.partition_of, old.bound) != (new.partition_of, new.bound)  # type: ignore[union-attr]
    out: list[Change] = []
    for index in sorted({*was, *now}):
        a, b = was.get(index), now.get(index)
        live_of = parent_index(ctx.live, old.partition_of, index) if old else None
        want_of = parent_index(ctx.desired, new.partition_of, index) if new else None
        # neither side holds the parent's index when it is the parent's own copy of its
        # parent's (a sub-partition's): that one is compared where it is declared
        unknown = live_of is None and want_of is None
        fresh = moved or not (unknown or _same(live_of, want_of))
        if a == b and not fresh:
            continue
        if b is None and not fresh and want_of is not None:
            raise NotSupported(
                f"Table {part.schema}.{part.name}: its index {a} cannot stop being attached "
                f"to {index} in place.",
                detail="Postgres cannot detach one partition's index; drop and create the "
                "parent's index, or list the attachment.",
                source=part.source,
            )
        if fresh and a is not None:
            # The parent's index (or the partition) is built again: a change of no SQL that
            # goes first, whose way back names the rebuilt index as it was, once the rollback
            # has built the old parent's index again.
            out.append(_attach(ctx, old or part, index, None, a, live_of, fresh).reverse())
        if fresh and b is not None and old is not None:
            adopted = _adopted(ctx, old, b)
            if adopted:
                out.append(AdoptIndex(part.schema, part.name, b, adopted))
        if b is not None:
            a_now = None if fresh else a
            out.append(_attach(ctx, new or part, index, a_now, b, want_of, fresh))
    return out


def _attach(
    ctx: DiffContext,
    part: Table,
    index: str,
    a: str | None,
    b: str,
    of: ParentIndex | None,
    fresh: bool,
) -> AttachIndex:
    """The change that makes the partition's index attached to `index` named `b`."""
    assert part.partition_of is not None
    create = _create_sql(part, b, of) if of is not None else ""
    key_sql = ""
    if isinstance(of, PrimaryKey | Unique):
        kind = "PRIMARY KEY" if isinstance(of, PrimaryKey) else "UNIQUE"
        t, own = ident(part.schema, part.name), ident(b)
        key_sql = f"ALTER TABLE {t} ADD CONSTRAINT {own} {kind} USING INDEX {own}" + deferral(
            of.deferrable, of.initially_deferred
        )
    undo = ""
    if a is None and not fresh and of is not None:
        old = ctx.live.tables.get((part.schema, part.name))
        before = _built_before(ctx, old, b) if old is not None else ""
        undo = unattach_sql(part.partition_of[0], index, part.schema, b, before)
    return AttachIndex(
        part.schema,
        part.name,
        part.partition_of,
        index,
        old=a,
        new=b,
        bound=part.bound or "",
        create_sql=create,
        key_sql=key_sql,
        fresh=fresh,
        parent_is_key=of is not None and not isinstance(of, Index),
        unattach_sql=undo,
        keep=_own_names(ctx.desired, part) if part is not None else (),
    )


def _adopted(ctx: DiffContext, old: Table, name: str) -> str:
    """SQL that builds again the partition's own index or key `name` (before the plan) that the
    parent's new index takes over: a rollback drops that with the parent's."""
    sql = _built_before(ctx, old, name)
    if not sql:
        return ""
    key = next((k for k in old.constraints() if k.name == name), None)
    if isinstance(key, PrimaryKey | Unique):
        # the parent's index built again first made a plain index of the name on the
        # partition: that one becomes the key (what the partition had before)
        t, own = ident(old.schema, old.name), ident(name)
        kind = "PRIMARY KEY" if isinstance(key, PrimaryKey) else "UNIQUE"
        using = f"ALTER TABLE {t} ADD CONSTRAINT {own} {kind} USING INDEX {own}" + deferral(
            key.deferrable, key.initially_deferred
        )
        ix = literal(ident(old.schema, name))
        body = (
            f"DECLARE ix regclass := pg_catalog.to_regclass({ix}); BEGIN "
            "IF ix IS NULL THEN "
            f"{sql}; "
            "ELSIF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conindid = ix) "
            f"AND (SELECT indrelid FROM pg_catalog.pg_index WHERE indexrelid = ix) = {literal(t)}"
            f"::regclass THEN {using}; END IF; END"
        )
        return f"DO {dollar_quote(body)}"
    return guarded(sql, "duplicate_table", "invalid_table_definition")


def _built_before(ctx: DiffContext, old: Table, name: str) -> str:
    """SQL that builds the table's key or index `name` as it is before the plan, with its
    comment; "" when the table has none of that name."""
    t = ident(old.schema, old.name)
    for k in old.constraints():
        if k.name == name and isinstance(k, PrimaryKey | Unique | Exclusion):
            sql = f"ALTER TABLE {t} ADD {constraint_def(k)}"
            if k.comment is not None:
                sql += f";\nCOMMENT ON CONSTRAINT {ident(name)} ON {t} IS {literal(k.comment)}"
            return sql
    ix = ctx.live.indexes.get((old.schema, name))
    if ix is not None and (ix.schema, ix.table) == (old.schema, old.name):
        sql = index_def(ix)
        if ix.comment is not None:
            sql += f";\nCOMMENT ON INDEX {ident(ix.schema, name)} IS {literal(ix.comment)}"
        return sql
    return ""


def _own_names(snap: PgSnapshot, t: Table) -> tuple[str, ...]:
    """The partition's own indexes and keys (not attached to its parent's), by name."""
    names = {k.name for k in t.constraints()}
    names |= {
        ix.name for ix in snap.indexes.values() if (ix.schema, ix.table) == (t.schema, t.name)
    }
    return tuple(sorted(names - {own for _, own in t.attached_indexes or ()}))


def _not_null(ctx: DiffContext, old: Table, new: Table) -> list[Change]:
    parent = ctx.desired.tables.get(new.partition_of)  # type: ignore[arg-type]
    implied = {c.name for c in parent.columns if not c.nullable} if parent else set()
    set_cols = tuple(c for c in new.not_null if c not in old.not_null)
    drop_cols = tuple(c for c in old.not_null if c not in new.not_null and c not in implied)
    if not set_cols and not drop_cols:
        return []
    assert new.partition_of is not None
    return [SetPartitionNotNull(new.schema, new.name, new.partition_of, set_cols, drop_cols)]


def attach_table(ctx: DiffContext, old: Table, new: Table, columns: frozenset[Address]) -> Change:
    """A table becoming a partition: ATTACH PARTITION, after the changes that give `columns`
    (its own) their parent's form; its way back drops what attaching made (everything of the
    table not its own before)."""
    assert new.partition_of is not None
    own = {k.name for k in old.constraints()}
    own |= {
        ix.name
        for ix in ctx.live.indexes.values()
        if (ix.schema, ix.table) == (old.schema, old.name)
    }
    return AttachTable(
        new.schema,
        new.name,
        new.partition_of,
        new.bound or "",
        keep=tuple(sorted(own)),
        deps=columns,
    )
