"""What a partition holds of its own beyond its parent's columns: the names of its indexes
attached to the parent's indexes, and NOT NULL on columns its parent leaves nullable.

Postgres makes a partition's index for each of its parent's indexes itself (CREATE INDEX on
the parent, CREATE TABLE … PARTITION OF, ATTACH PARTITION), attaching a matching index the
partition has, or building one under a generated name. AttachIndex makes the outcome the one
asked for: the index of that name attached, whatever Postgres did before it.

A table becoming a partition, or moving to another parent, is parents.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.model.address import Address
from reconciler.ops.base import (
    ACCESS_EXCLUSIVE,
    IRREVERSIBLE,
    Action,
    Change,
    Hazard,
    Statement,
    brief_lock,
)
from reconciler.ops.pg.parents import attachment
from reconciler.sql.render import dollar_quote, ident, literal


def _attach_body(c: AttachIndex) -> str:
    """PL/pgSQL: find the partition's index attached to the parent's; rename it, or attach the
    named one (built first when missing). Each branch leaves the state the next run skips."""
    assert c.new is not None
    part, parent = ident(c.schema, c.table), ident(*c.parent)
    index = ident(c.parent[0], c.index)
    want = literal(ident(c.schema, c.new))
    create = f"{c.create_sql}; " if c.create_sql else ""
    promote = (
        "IF want IS NOT NULL AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint "
        f"WHERE conindid = want) THEN {c.key_sql}; END IF; "
        if c.key_sql
        else ""
    )
    # Postgres attached an index of its own while the named one exists too (built for a new
    # partition before its own key was): the partition is detached, that index dropped, and
    # the partition attached again, which attaches the named index.
    swap = (
        f"EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', {literal(parent)}, "
        f"{literal(part)}); "
        "SELECT conname INTO con FROM pg_catalog.pg_constraint "
        f"WHERE conindid = cur AND conrelid = {literal(part)}::regclass; "
        "IF con IS NOT NULL THEN "
        f"EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', {literal(part)}, con); "
        "ELSE EXECUTE format('DROP INDEX %s', cur); END IF; "
        f"EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s %s', {literal(parent)}, "
        f"{literal(part)}, {literal(c.bound)}); "
    )
    # Postgres attached an index the partition keeps as its own (one of `keep`): the names
    # move instead, the attached index taking the asked name and the kept name going to the
    # named index, or to a copy of the attached one's definition when there is none.
    keep = ", ".join(literal(n) for n in c.keep) or "NULL"
    trade = (
        "IF cur IS NOT NULL AND (SELECT relname FROM "
        f"pg_catalog.pg_class WHERE oid = cur) = ANY (ARRAY[{keep}]::name[]) THEN "
        "SELECT relname, pg_catalog.pg_get_indexdef(cur) INTO kept, def "
        "FROM pg_catalog.pg_class WHERE oid = cur; "
        "IF want IS NOT NULL THEN "
        "EXECUTE format('ALTER INDEX %s RENAME TO %I', want, 'reconciler_trade_' || kept); "
        "END IF; "
        f"EXECUTE format('ALTER INDEX %s RENAME TO %I', cur, {literal(c.new)}); "
        "IF want IS NOT NULL THEN "
        "EXECUTE format('ALTER INDEX %s RENAME TO %I', want, kept); "
        "ELSE EXECUTE def; END IF; RETURN; END IF; "
    )
    return (
        "DECLARE cur regclass; con name; kept name; def text; "
        f"want regclass := to_regclass({want}); "
        "BEGIN "
        "SELECT x.indexrelid::regclass INTO cur FROM pg_catalog.pg_index AS x "
        "JOIN pg_catalog.pg_inherits AS i ON i.inhrelid = x.indexrelid "
        f"WHERE x.indrelid = {literal(part)}::regclass "
        f"AND i.inhparent = {literal(index)}::regclass; "
        "IF cur IS NOT NULL AND cur = want THEN RETURN; END IF; "
        f"{trade}"
        "IF cur IS NOT NULL AND want IS NULL THEN "
        f"EXECUTE format('ALTER INDEX %s RENAME TO %I', cur, {literal(c.new)}); RETURN; "
        "END IF; "
        "IF cur IS NOT NULL THEN "
        f"{swap}RETURN; "
        "END IF; "
        f"IF want IS NULL THEN {create}END IF; "
        f"{promote}"
        f"ALTER INDEX {index} ATTACH PARTITION {ident(c.schema, c.new)}; "
        "END"
    )


@dataclass(frozen=True, slots=True)
class AttachIndex(Change):
    """The partition's index attached to its parent's index `index` is named `new` (None:
    nothing asked of it; the reverse of a change that had no name before)."""

    schema: str
    table: str
    parent: tuple[str, str]
    index: str  # the parent's index (a key's index is named as the key)
    old: str | None
    new: str | None
    bound: str = ""  # the partition's bound, to attach it again (see _attach_body)
    create_sql: str = ""  # builds `new` on the partition when it is missing
    # The parent's index is a key's: the partition's must be a key's too. A plain unique
    # index of the name is made the key first (ADD CONSTRAINT … USING INDEX).
    key_sql: str = ""
    # The parent's index or the partition is (re)built in the same plan: nothing was attached
    # before it, and the drop that undoes it takes the attached index along.
    fresh: bool = False
    parent_is_key: bool = False  # the parent's index is a key's (its address is the key's)
    keep: tuple[str, ...] = ()  # the partition's indexes and keys that stay its own
    # The reverse of attaching: what builds the parent's index again without this partition's
    # (Postgres cannot detach one index); "" when that cannot be done
    unattach_sql: str = ""

    @property
    def action(self) -> Action:  # type: ignore[override]
        # nothing asked (a name kept for the way back): goes first, as drops do
        return Action.ALTER if self.new is not None else Action.DROP

    @property
    def address(self) -> Address:
        return Address.of("pg", "index", self.schema, self.new or self.old or self.index)

    def statements(self) -> list[Statement]:
        if self.new is None:
            return [Statement(self.unattach_sql)] if self.unattach_sql else []
        return [Statement(f"DO {dollar_quote(_attach_body(self))}")]

    def reverse(self) -> Change:
        return replace(self, old=self.new, new=self.old)

    def hazards(self) -> tuple[Hazard, ...]:
        if self.new is None:
            return ()
        out = [brief_lock(self.table)]
        if self.old is None and not self.fresh and self.unattach_sql:
            note = (
                f"Postgres cannot detach index {self.new} from {self.index}: a rollback builds "
                f"{self.index} and its partitions' indexes again"
            )
            out.append(Hazard(ACCESS_EXCLUSIVE, note))
        elif self.old is None and not self.fresh:
            note = (
                f"Postgres cannot detach index {self.new} from {self.index}: a rollback "
                "leaves it attached"
            )
            out.append(Hazard(IRREVERSIBLE, note))
        return tuple(out)

    def provides(self) -> frozenset[Address]:
        return frozenset({self.address})

    def depends_on(self) -> frozenset[Address]:
        parent_schema, parent_table = self.parent
        own = [n for n in (self.old, self.new) if n is not None]
        return frozenset(
            {
                Address.of("pg", "table", self.schema, self.table),
                attachment(self.schema, self.table),
                Address.of("pg", "table", parent_schema, parent_table),
                Address.of("pg", "constraint", parent_schema, parent_table, self.index)
                if self.parent_is_key
                else Address.of("pg", "index", parent_schema, self.index),
                *(Address.of("pg", "constraint", self.schema, self.table, n) for n in own),
            }
        )

    def details(self) -> list[dict]:
        return [{"attribute": f"index of {self.index}", "old": self.old, "new": self.new}]

    def describe(self) -> str:
        if self.new is None:
            return f"index of {self.table} attached to {self.index}: left to its parent's fate"
        return f"index of {self.table} attached to {self.index}"


@dataclass(frozen=True, slots=True)
class SetPartitionNotNull(Change):
    """NOT NULL on a partition's columns beyond its parent's: SET NOT NULL (scans the
    partition) and DROP NOT NULL (the parent's own NOT NULL stays the parent's)."""

    schema: str
    table: str
    parent: tuple[str, str]
    set_cols: tuple[str, ...]
    drop_cols: tuple[str, ...]
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)

    def statements(self) -> list[Statement]:
        t = ident(self.schema, self.table)
        parent = literal(ident(*self.parent))
        out = []
        for c in self.drop_cols:
            # only while the partition has it NOT NULL and its parent does not: a second run
            # of the file finds the parent's own NOT NULL back (the partition must keep it),
            # or the column gone
            attr = "SELECT FROM pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass("
            mine = f"{attr}{literal(t)}) AND attname = {literal(c)} AND attnotnull"
            held = f"{attr}{parent}) AND attname = {literal(c)} AND attnotnull"
            drop = f"ALTER TABLE {t} ALTER COLUMN {ident(c)} DROP NOT NULL"
            body = f"BEGIN IF EXISTS ({mine}) AND NOT EXISTS ({held}) THEN {drop}; END IF; END"
            out.append(f"DO {dollar_quote(body)}")
        out += [f"ALTER TABLE {t} ALTER COLUMN {ident(c)} SET NOT NULL" for c in self.set_cols]
        return [Statement(s) for s in out]

    def reverse(self) -> Change:
        return replace(self, set_cols=self.drop_cols, drop_cols=self.set_cols)

    def hazards(self) -> tuple[Hazard, ...]:
        if not self.set_cols:
            return (brief_lock(self.table),)
        return (
            Hazard(
                ACCESS_EXCLUSIVE,
                "SET NOT NULL scans the partition under a lock that blocks reads and writes, "
                "and fails on a NULL",
            ),
        )

    def provides(self) -> frozenset[Address]:
        # the partition's columns: a key dropped from them goes first (DROP NOT NULL of a key
        # column fails), a key added to them comes after
        cols = (*self.set_cols, *self.drop_cols)
        return frozenset(Address.of("pg", "column", self.schema, self.table, c) for c in cols)

    def depends_on(self) -> frozenset[Address]:
        cols = (*self.set_cols, *self.drop_cols)
        return frozenset(
            {
                self.address,
                Address.of("pg", "table", *self.parent),
                *(Address.of("pg", "column", *self.parent, c) for c in cols),
            }
        )

    def details(self) -> list[dict]:
        out = [{"attribute": f"{c}.nullable", "old": True, "new": False} for c in self.set_cols]
        out += [{"attribute": f"{c}.nullable", "old": False, "new": True} for c in self.drop_cols]
        return out

    def describe(self) -> str:
        return "NOT NULL of partition columns"


def unattach_sql(schema: str, index: str, own_schema: str, own: str, before: str) -> str:
    """The way back from attaching `own` to the parent's index `index`, which Postgres has no
    command for: the parent's index (or the key it backs) is dropped, its partitions' indexes
    and keys with it, and built again ON ONLY; `own` is built as it was before (`before`, SQL;
    "" when it did not exist), and every other partition's index or key is built and attached
    again, each from its definition and comment read just before. Refused, naming why, when a
    sub-partition's index is among them or a foreign key references one; a second run finds
    nothing to undo."""
    parent, mine = literal(ident(schema, index)), literal(ident(own_schema, own))
    kid_con = (
        "SELECT oid, conrelid::regclass::text AS tab, conname, "
        "pg_catalog.pg_get_constraintdef(oid) AS def FROM pg_catalog.pg_constraint "
        "WHERE conindid = {} AND contype IN ('p', 'u', 'x')"
    )
    body = (
        "DECLARE parent regclass := to_regclass("
        f"{parent}); own regclass := to_regclass({mine}); "
        "kids text[] := '{}'; defs text[] := '{}'; notes text[] := '{}'; "
        "pdef text; pnote text; k regclass; c record; "
        "BEGIN "
        "IF parent IS NULL OR own IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_inherits "
        "WHERE inhrelid = own AND inhparent = parent) THEN RETURN; END IF; "
        "IF EXISTS (SELECT FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_inherits AS j "
        "ON j.inhparent = i.inhrelid WHERE i.inhparent = parent) THEN "
        "RAISE EXCEPTION 'index % cannot be detached from %: a sub-partition''s index is "
        "attached to it', own, parent; END IF; "
        "IF EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE contype = 'f' AND conindid IN "
        "(SELECT parent UNION ALL SELECT inhrelid FROM pg_catalog.pg_inherits "
        "WHERE inhparent = parent)) THEN "
        "RAISE EXCEPTION 'index % cannot be detached from %: a foreign key references it', "
        "own, parent; END IF; "
        f"{kid_con.format('parent')} INTO c; "
        "IF c.oid IS NOT NULL THEN "
        "pdef := format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s', c.tab, c.conname, c.def); "
        "pnote := format('COMMENT ON CONSTRAINT %I ON %s IS %L', c.conname, c.tab, "
        "pg_catalog.obj_description(c.oid, 'pg_constraint')); "
        "ELSE pdef := pg_catalog.pg_get_indexdef(parent); "
        "pnote := format('COMMENT ON INDEX %s IS %L', parent, "
        "pg_catalog.obj_description(parent, 'pg_class')); END IF; "
        "FOR k IN SELECT inhrelid::regclass FROM pg_catalog.pg_inherits "
        "WHERE inhparent = parent AND inhrelid <> own ORDER BY inhrelid LOOP "
        f"{kid_con.format('k')} INTO c; kids := kids || k::text; "
        "IF c.oid IS NOT NULL THEN "
        "defs := defs || format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s', c.tab, c.conname, "
        "c.def); notes := notes || format('COMMENT ON CONSTRAINT %I ON %s IS %L', c.conname, "
        "c.tab, pg_catalog.obj_description(c.oid, 'pg_constraint')); "
        "ELSE defs := defs || pg_catalog.pg_get_indexdef(k); "
        "notes := notes || format('COMMENT ON INDEX %s IS %L', k, "
        "pg_catalog.obj_description(k, 'pg_class')); END IF; "
        "END LOOP; "
        f"{kid_con.format('parent')} INTO c; "
        "IF c.oid IS NOT NULL THEN "
        "EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tab, c.conname); "
        "ELSE EXECUTE format('DROP INDEX %s', parent); END IF; "
        f"EXECUTE pdef; EXECUTE pnote; {'EXECUTE ' + literal(before) + '; ' if before else ''}"
        "FOR n IN 1 .. coalesce(array_length(kids, 1), 0) LOOP "
        "EXECUTE defs[n]; EXECUTE notes[n]; "
        f"EXECUTE format('ALTER INDEX %s ATTACH PARTITION %s', {parent}, kids[n]); "
        "END LOOP; "
        "END"
    )
    return f"DO {dollar_quote(body)}"
