"""The rows of a rebuilt table (diff/rebuilds.py), carried from the old table to the new one.

SaveRows copies the table's own rows (FROM ONLY: each row is carried once, by the table that
holds it) into a table of the trash schema before the old table is dropped; LoadRows inserts
them into the new table once it and the partitions under it exist — into the top of its tree
when it is a partition, so that each row lands in the partition its bound now says — and drops
the copy. Both run in the apply's transaction: a row no partition takes fails the apply, and
nothing is changed. Each is the other's way back, so a rollback carries the rows back the
same way, those written since the apply included.

A second run of either file carries nothing twice: the copy is made only while the table has
the shape it is copied from, and loaded only while it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.ops.base import DESTRUCTIVE, TABLE_REWRITE, Action, Change, Hazard, Statement
from reconciler.ops.pg.trash import TRASH_SCHEMA, create_trash_schema, drop_trash_schema_if_empty
from reconciler.sql.render import dollar_quote, ident, idents, literal

Key = tuple[str, str]


# a column of the user's named like a variable of these blocks is the column
_USE_COLUMN = "#variable_conflict use_column\n"


def _sequence(into: str, col: str) -> str:
    """The sequence behind column `col` of the table `into` (a quoted literal), as regclass."""
    return f"pg_catalog.pg_get_serial_sequence({into}, {literal(col)})::regclass"


def _escaped(text: str) -> str:
    """`text` inside a single-quoted SQL string."""
    return text.replace("'", "''")


def rows_address(schema: str, table: str) -> Address:
    """What carrying a rebuilt table's rows provides: its triggers and foreign keys on the new
    side come after the rows are in (and on the old side go before they are copied)."""
    return Address.of("pg", "rows", schema, table)


@dataclass(frozen=True, slots=True)
class Carry:
    """One direction of the carry: from `source` (ONLY) as shaped by `shape` into `into`."""

    source: Key
    shape: str  # the source's shape: copied only while it has it
    into: Key  # the table the rows are inserted into (a partition's: the top of its tree)
    tree: frozenset[Address]  # the tables (and attachments) that must exist to take them
    sequences: tuple[str, ...] = ()  # columns of `into` behind a sequence, moved past the rows


@dataclass(frozen=True, slots=True)
class SaveRows(Change):
    trash: str  # the copy's name in the trash schema
    columns: tuple[str, ...]
    there: Carry  # where the rows come from now
    back: Carry  # the way back (LoadRows' reverse, SaveRows of the new table)
    loses: tuple[str, ...] = ()  # what carrying the rows there → back loses (LoadRows)
    loses_back: tuple[str, ...] = ()  # and back → there
    action = Action.DROP

    @property
    def address(self) -> Address:
        return rows_address(*self.there.source)

    def statements(self) -> list[Statement]:
        copy, source = ident(TRASH_SCHEMA, self.trash), ident(*self.there.source)
        into = literal(ident(*self.there.into))
        # the sequences' states go with the rows, in the copy's comment, so that the new
        # ones go on from where the old ones were (never back to the carried maximum)
        states = " || ".join(
            f"pg_catalog.jsonb_build_object({literal(col)}, "
            f"pg_catalog.pg_sequence_last_value({_sequence(into, col)}))"
            for col in self.there.sequences
        )
        steps = [
            # nobody writes to it from here on: a row committed after the copy would be lost
            f"LOCK TABLE {source} IN ACCESS EXCLUSIVE MODE;",
            # FORCE ROW LEVEL SECURITY would hide rows from the copy (the owner is subject)
            f"IF (SELECT relforcerowsecurity FROM pg_catalog.pg_class WHERE oid = "
            f"{literal(source)}::regclass) THEN "
            f"ALTER TABLE {source} NO FORCE ROW LEVEL SECURITY; END IF;",
            f"DROP TABLE IF EXISTS {copy};",
            f"CREATE TABLE {copy} AS SELECT {idents(self.columns)} FROM ONLY {source};",
        ]
        if states:
            steps.append(
                f"EXECUTE format('COMMENT ON TABLE {_escaped(copy)} IS %L', ({states})::text);"
            )
        body = f"BEGIN\nIF {self.there.shape} THEN\n" + "\n".join(steps) + "\nEND IF;\nEND"
        return [create_trash_schema(), Statement(f"DO {dollar_quote(_USE_COLUMN + body)}")]

    def reverse(self) -> Change:
        # the way back: the rows the new table's drop saved go into the old table's side
        return LoadRows(
            self.trash, self.columns, self.back, self.there, self.loses_back, self.loses
        )

    def depends_on(self) -> frozenset[Address]:
        return frozenset({Address.of("pg", "table", *self.there.source)})

    def describe(self) -> str:
        return f"rows of {'.'.join(self.there.source)} copied aside to be carried over"


@dataclass(frozen=True, slots=True)
class LoadRows(Change):
    trash: str
    columns: tuple[str, ...]
    there: Carry  # as saved (the old table's side)
    back: Carry  # where the rows go (the new table's side)
    loses: tuple[str, ...] = ()  # what carrying them loses: columns the new shape lacks, casts
    loses_back: tuple[str, ...] = ()
    action = Action.CREATE

    @property
    def address(self) -> Address:
        return rows_address(*self.there.source)

    def provides(self) -> frozenset[Address]:
        return frozenset({self.address})

    def statements(self) -> list[Statement]:
        copy = ident(TRASH_SCHEMA, self.trash)
        into = ident(*self.back.into)
        cols = idents(self.columns)
        top = f"{literal(into)}::regclass"  # a plain table is a tree of one
        tree = (
            f"(SELECT relid, level FROM pg_catalog.pg_partition_tree({top}) UNION SELECT {top}, 0)"
        )
        steps = [
            # no trigger fires on rows carried over (each is put back as it was), and no
            # FORCE ROW LEVEL SECURITY filters them out; foreign keys are checked
            "FOR r IN SELECT t.tgrelid::regclass AS rel, t.tgname, t.tgenabled "
            f"FROM pg_catalog.pg_trigger AS t JOIN {tree} AS p ON p.relid = t.tgrelid "
            "WHERE NOT t.tgisinternal ORDER BY p.level LOOP",
            "rels := rels || r.rel::text; names := names || r.tgname::text; "
            "states := states || r.tgenabled::text;",
            "EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', r.rel, r.tgname);",
            "END LOOP;",
            "FOR r IN SELECT p.relid::regclass AS rel FROM "
            f"{tree} AS p JOIN pg_catalog.pg_class AS c ON c.oid = p.relid "
            "WHERE c.relforcerowsecurity LOOP",
            "forced := forced || r.rel::text;",
            "EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', r.rel);",
            "END LOOP;",
            f"INSERT INTO {into} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} FROM {copy};",
            "FOR n IN 1 .. coalesce(array_length(forced, 1), 0) LOOP",
            "EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', forced[n]);",
            "END LOOP;",
            "FOR n IN 1 .. coalesce(array_length(rels, 1), 0) LOOP",
            "EXECUTE format('ALTER TABLE %s %s TRIGGER %I', rels[n], CASE states[n] "
            "WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA' "
            "WHEN 'A' THEN 'ENABLE ALWAYS' ELSE 'ENABLE' END, names[n]);",
            "END LOOP;",
        ]
        state = (
            "pg_catalog.obj_description(pg_catalog.to_regclass("
            f"{literal(copy)}), 'pg_class')::jsonb"
        )
        for col in self.back.sequences:  # on from the old sequence, and past every row
            seq = _sequence(literal(into), col)
            steps.append(
                f"PERFORM pg_catalog.setval({seq}, greatest(m, ({state} ->> {literal(col)})"
                f"::bigint, pg_catalog.pg_sequence_last_value({seq}))) FROM (SELECT "
                f"max({ident(col)}) AS m FROM {into}) AS x "
                f"WHERE coalesce(m, ({state} ->> {literal(col)})::bigint) IS NOT NULL;"
            )
        steps.append(f"DROP TABLE {copy};")
        kept = f"pg_catalog.to_regclass({literal(copy)}) IS NOT NULL"
        body = (
            "DECLARE r record; rels text[] := '{}'; names text[] := '{}'; "
            "states text[] := '{}'; forced text[] := '{}';\n"
            f"BEGIN\nIF {kept} THEN\n" + "\n".join(steps) + "\nEND IF;\nEND"
        )
        body = _USE_COLUMN + body
        return [Statement(f"DO {dollar_quote(body)}"), drop_trash_schema_if_empty()]

    def reverse(self) -> Change:
        # the way back: the new table's rows saved before it is dropped, loaded into the old
        return SaveRows(
            self.trash, self.columns, self.back, self.there, self.loses_back, self.loses
        )

    def depends_on(self) -> frozenset[Address]:
        return self.back.tree | {Address.of("pg", "table", *self.back.into)}

    def hazards(self) -> tuple[Hazard, ...]:
        into = ".".join(self.back.into)
        return (
            *(Hazard(DESTRUCTIVE, loss) for loss in self.loses),
            Hazard(
                TABLE_REWRITE,
                f"copies every row of {'.'.join(self.there.source)} into {into} in the "
                "apply's transaction (the table is locked meanwhile); a row that no partition "
                "takes fails the apply and changes nothing",
            ),
        )

    def describe(self) -> str:
        return f"rows carried into {'.'.join(self.back.into)}"
