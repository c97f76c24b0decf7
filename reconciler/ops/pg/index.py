"""Index changes. A changed index is a drop and a create of the same address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.model.address import Address, relation_name
from reconciler.model.pg import Index
from reconciler.ops.base import MAIN, ONLINE, Action, Change, Hazard, Statement, brief_lock
from reconciler.ops.pg.shape import while_shaped
from reconciler.sql.render import dollar_quote, ident, index_def, literal, run_unless

# Hazard code of a change that replaces or drops an index left invalid by a build that never
# finished: said in the plan so that a reviewer knows why an index that "exists" is built.
INVALID_INDEX = "invalid_index"


def drop_index_sql(ix: Index, *, concurrently: bool) -> str:
    """The one way an index is dropped: after a failed online build (Statement.cleanup), before
    rebuilding an invalid one, and as a drop of its own. IF EXISTS: a retry, or a cleanup that
    already ran, finds it gone."""
    how = "CONCURRENTLY " if concurrently else ""
    return f"DROP INDEX {how}IF EXISTS {ident(ix.schema, ix.name)}"


def index_deps(ix: Index, extra: frozenset[Address] = frozenset()) -> frozenset[Address]:
    deps = {ix.table_address, Address.of("pg", "schema", ix.schema)}
    deps |= {Address.of("pg", "column", ix.schema, ix.table, c) for c in ix.columns_used()}
    return frozenset(deps | extra)


@dataclass(frozen=True, slots=True)
class CreateIndex(Change):
    index: Index
    deps: frozenset[Address] = frozenset()
    new_table: bool = False  # on a table created by the same plan: blocks nobody
    # On a table that exists and has rows to index: built CONCURRENTLY once the apply's
    # transaction has committed, so writes go on while it builds.
    online: bool = False
    # The live index of this name is invalid (a build that never finished): it is dropped
    # first, since IF NOT EXISTS would take it for the finished one. Its reverse drops the new
    # index and builds nothing back: the invalid one served no query and held no data.
    replaces_invalid: bool = False
    # On a partitioned table: ON ONLY (none of its partitions' indexes made or attached; the
    # way back of dropping one some partition had not attached)
    only: bool = False
    partitioned: bool = False  # on a partitioned table (its way back: see DropIndex)
    shape: str | None = None  # on a rebuilt table: its way back drops it while so shaped
    on_partition: bool = False  # its way back drops it only while its own (see DropIndex)
    action = Action.CREATE

    @property
    def address(self) -> Address:
        return self.index.address

    def provides(self) -> frozenset[Address]:
        return frozenset({self.address, relation_name(self.index.schema, self.index.name)})

    def statements(self) -> list[Statement]:
        ix = self.index
        drop = drop_index_sql(ix, concurrently=self.online)
        out: list[Statement] = []
        if self.online:
            if self.replaces_invalid:
                out.append(Statement(drop, phase=ONLINE))
            # A build that fails leaves an invalid index behind, which IF NOT EXISTS would
            # then take for the finished one: it is dropped before a retry.
            out.append(Statement(index_def(ix, concurrently=True), phase=ONLINE, cleanup=drop))
        else:
            if self.replaces_invalid:
                out.append(Statement(drop))
            text, plain = index_def(ix), index_def(ix, if_not_exists=False)
            if self.only:
                on = f" ON {ident(ix.schema, ix.table)}"
                text = text.replace(on, f" ON ONLY {ident(ix.schema, ix.table)}", 1)
                plain = plain.replace(on, f" ON ONLY {ident(ix.schema, ix.table)}", 1)
            out.append(Statement(text, plain=plain))
        if ix.comment is not None:
            comment = f"COMMENT ON INDEX {ident(ix.schema, ix.name)} IS {literal(ix.comment)}"
            out.append(Statement(comment, phase=out[0].phase))
        return out

    def reverse(self) -> Change:
        parted = self.only or self.partitioned
        return DropIndex(
            self.index,
            self.deps,
            partitioned=parted,
            shape=self.shape,
            on_partition=self.on_partition,
        )

    def depends_on(self) -> frozenset[Address]:
        return index_deps(self.index, self.deps)

    def hazards(self) -> tuple[Hazard, ...]:
        if self.new_table:
            return ()
        first = (_invalid_hazard("dropped and built again"),) if self.replaces_invalid else ()
        if self.online:
            what = "fails on duplicate rows" if self.index.unique else "cannot fail on data"
            return (
                *first,
                Hazard(
                    "concurrent_build",
                    "built CONCURRENTLY after the transaction commits: writes go on, it takes "
                    f"two table scans and {what}; a failed build is dropped and the plan undone",
                ),
            )
        blocks = Hazard("share_lock", "CREATE INDEX blocks writes to the table while it builds")
        return (*first, blocks)

    def details(self) -> list[dict[str, Any]]:
        if not self.replaces_invalid:
            return []
        return [{"attribute": "valid", "old": False, "new": True}]

    def describe(self) -> str:
        kind = "unique index" if self.index.unique else "index"
        how = " (built concurrently)" if self.online else ""
        again = ", rebuilt: left invalid by an interrupted build" if self.replaces_invalid else ""
        return f"{kind} on {self.index.table}{how}{again}"


@dataclass(frozen=True, slots=True)
class DropIndex(Change):
    index: Index
    deps: frozenset[Address] = frozenset()
    # On a table that stays: dropped CONCURRENTLY after the transaction commits (no lock
    # that blocks reads or writes).
    online: bool = False
    # A key of the same name replaces it: once that key exists, the index of the name is the
    # key's, and a second run of the file leaves it alone.
    keyed: bool = False
    # On a partitioned table: a partition whose index attached to this one is its own key's
    # (which Postgres will not drop along) is detached around the drop and attached again;
    # an invalid one (some partition has none attached) is built again ON ONLY on the way back.
    partitioned: bool = False
    # On a rebuilt table (diff/rebuilds.py): dropped only while its table has the old shape
    # (ops/pg/shape.py); a second run finds the new table's index of that name, which stays.
    shape: str | None = None
    # On a partition: dropped only while it is the partition's own, not attached to an index
    # of its parent's, as a second run of the file finds one of the name (it goes with that).
    on_partition: bool = False
    action = Action.DROP

    @property
    def address(self) -> Address:
        return self.index.address

    def statements(self) -> list[Statement]:
        sql = drop_index_sql(self.index, concurrently=self.online)
        if self.on_partition and not self.online:
            name = literal(ident(self.index.schema, self.index.name))
            held = f"SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = to_regclass({name})"
            sql = run_unless(held, sql)
        if self.keyed:
            name = literal(ident(self.index.schema, self.index.name))
            owned = f"SELECT FROM pg_catalog.pg_constraint WHERE conindid = to_regclass({name})"
            sql = run_unless(owned, sql)
        if self.partitioned and not self.online:
            sql = _drop_partitioned_sql(self.index, sql)
        if self.shape is not None:
            sql = while_shaped([sql], self.shape)
        return [Statement(sql, phase=ONLINE if self.online else MAIN)]

    def hazards(self) -> tuple[Hazard, ...]:
        lock = () if self.online else (brief_lock(self.index.table),)
        if self.index.valid or self.partitioned:
            return lock
        return (_invalid_hazard("dropped; a rollback does not build it"), *lock)

    def reverse(self) -> Change:
        mine = self.on_partition
        if self.partitioned:
            only = not self.index.valid
            return CreateIndex(self.index, self.deps, only=only, shape=self.shape)
        if not self.index.valid:
            return KeepInvalidIndexDropped(self.index, self.deps)
        return CreateIndex(self.index, self.deps, shape=self.shape, on_partition=mine)

    def depends_on(self) -> frozenset[Address]:
        return index_deps(self.index, self.deps)

    def describe(self) -> str:
        how = " (dropped concurrently)" if self.online else ""
        invalid = ", left invalid by an interrupted build" if not self.index.valid else ""
        return f"index on {self.index.table}{how}{invalid}"


def index_on(ix: Index) -> str:
    """A SQL condition true while the index of this name is on its own table."""
    name, table = literal(ident(ix.schema, ix.name)), literal(ident(ix.schema, ix.table))
    return (
        "EXISTS (SELECT FROM pg_catalog.pg_index WHERE indexrelid = "
        f"pg_catalog.to_regclass({name}) AND indrelid = pg_catalog.to_regclass({table}))"
    )


@dataclass(frozen=True, slots=True)
class KeepInvalidIndexDropped(Change):
    """The reverse of dropping an invalid index: nothing. Building it would make a working
    index the database never had (and a unique one may not build at all); the invalid one
    served no query and held no data, so leaving it dropped loses nothing."""

    index: Index
    deps: frozenset[Address] = frozenset()
    action = Action.CREATE

    @property
    def address(self) -> Address:
        return self.index.address

    def statements(self) -> list[Statement]:
        return []

    def reverse(self) -> Change:
        return DropIndex(self.index, self.deps)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def describe(self) -> str:
        return f"index on {self.index.table}: left dropped, it was invalid"


def _invalid_hazard(what: str) -> Hazard:
    # Not `destructive`: an invalid index holds no data and serves no query, so removing it
    # needs no --allow-destructive and never stops a plan.
    return Hazard(
        INVALID_INDEX,
        f"left invalid by an interrupted build (it serves no query and holds no data): {what}",
    )


def _drop_partitioned_sql(ix: Index, drop: str) -> str:
    """`drop` of a partitioned table's index, with each partition whose attached index is its
    own key's detached before and attached again after (Postgres refuses to drop such an index
    along with the parent's, and DETACH leaves it the partition's alone)."""
    index = literal(ident(ix.schema, ix.name))
    body = (
        "DECLARE r record; parts text[] := '{}'; parents text[] := '{}'; bounds text[] := '{}'; "
        "BEGIN "
        "FOR r IN SELECT p.inhparent::regclass::text AS parent, "
        "x.indrelid::regclass::text AS part, "
        "pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound "
        "FROM pg_catalog.pg_inherits AS i "
        "JOIN pg_catalog.pg_index AS x ON x.indexrelid = i.inhrelid "
        "JOIN pg_catalog.pg_constraint AS k ON k.conindid = i.inhrelid AND k.conparentid = 0 "
        "JOIN pg_catalog.pg_inherits AS p ON p.inhrelid = x.indrelid "
        "JOIN pg_catalog.pg_class AS c ON c.oid = x.indrelid "
        f"WHERE i.inhparent = to_regclass({index}) LOOP "
        "EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', r.parent, r.part); "
        "parts := parts || r.part; parents := parents || r.parent; bounds := bounds || r.bound; "
        "END LOOP; "
        f"EXECUTE {literal(drop)}; "
        "FOR n IN 1 .. coalesce(array_length(parts, 1), 0) LOOP "
        "EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s %s', parents[n], parts[n], bounds[n]); "
        "END LOOP; "
        "END"
    )
    return f"DO {dollar_quote(body)}"
