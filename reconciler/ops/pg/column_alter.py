"""Column attribute changes: type, collation, default, nullability, identity, generation.

SET NOT NULL on a table with rows goes through a check validated online (see AlterColumn);
a generation expression that changes re-adds the column (SetGenerated, generated.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg import Column
from reconciler.model.sequence_options import alter_sequence_clauses, set_clauses
from reconciler.ops.base import (
    AFTER,
    DESTRUCTIVE,
    IRREVERSIBLE,
    MAY_FAIL,
    ONLINE,
    TABLE_REWRITE,
    Action,
    Change,
    Hazard,
    Statement,
    brief_lock,
)
from reconciler.ops.pg.column import (
    describe_details,
    on_table,
    type_change_rewrites,
)
from reconciler.ops.pg.sequence_owner import carry_counter, drop_unless_identity, note_counter
from reconciler.sql.render import (
    dollar_quote,
    guarded,
    ident,
    identity_clause,
    identity_sequence_address,
    literal,
    owned_sequence,
    owned_sequence_address,
    owned_sequence_comment,
    run_unless,
)


@dataclass(frozen=True, slots=True)
class AlterColumn(Change):
    """Type, collation, default, nullability and identity of one column (comment: SetComment)."""

    schema: str
    table: str
    old: Column
    new: Column
    deps: frozenset[Address] = frozenset()
    # Enum types cast to nothing but text: converting from one goes through text.
    old_is_enum: bool = False
    new_is_enum: bool = False
    # On a table with rows, SET NOT NULL goes through a check constraint validated after the
    # transaction commits (writes go on), which lets SET NOT NULL skip its scan.
    online: bool = False
    # The reverse of an online SET NOT NULL also drops that check, should it still be there.
    drops_check: str | None = None
    # What converting the live values to the new type does to them, found by the planner on
    # the rows (pipeline/lossy.py): None when not checked, "" when every value converts back
    # unchanged, else how they change, which makes the change destructive.
    value_change: str | None = None
    # No cast between the types, and the column held no value when planned (pipeline/lossy.py): the
    # values are made NULL, after checking under the table's lock that there still are none.
    no_cast: bool = False
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.new.name)

    def changed(self) -> list[str]:
        return [d["attribute"] for d in self.details()]

    def retypes(self) -> bool:
        """Whether the values are converted (binary-coercible widenings keep them as they are)."""
        return "type" in self.changed() and type_change_rewrites(self.old.type, self.new.type)

    def _not_null_online(self) -> bool:
        o, n = self.old, self.new
        changed = self.changed()
        return (
            self.online
            and "nullable" in changed
            and not n.nullable
            and "type" not in changed
            and "collation" not in changed
            and not (n.identity and not o.identity)
        )

    def _not_null_check(self) -> str:
        key = f"{self.schema}.{self.table}.{self.new.name}".encode()
        return f"reconciler_nn_{hashlib.sha256(key).hexdigest()[:16]}"

    def _online_not_null_statements(self, table: str) -> list[Statement]:
        name = ident(self._not_null_check())
        check = (
            f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({ident(self.new.name)} IS NOT NULL)"
        )
        return [
            Statement(guarded(f"{check} NOT VALID", "duplicate_object")),
            Statement(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}", phase=ONLINE),
            Statement(
                f"ALTER TABLE {table} ALTER COLUMN {ident(self.new.name)} SET NOT NULL", phase=AFTER
            ),
            Statement(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}", phase=AFTER),
        ]

    def statements(self) -> list[Statement]:
        o, n = self.old, self.new
        col = ident(n.name)
        acts: list[str] = []
        changed = self.changed()
        # A default of the old type may not cast to the new one: drop it first, set it after.
        type_change = "type" in changed or "collation" in changed
        if o.default is not None and ("default" in changed or type_change):
            acts.append(f"ALTER COLUMN {col} DROP DEFAULT")
        if o.identity and not n.identity:
            acts.append(f"ALTER COLUMN {col} DROP IDENTITY IF EXISTS")
        if type_change:
            collate = f" COLLATE {n.collation}" if n.collation else ""
            via = "::text" if self.old_is_enum else ""
            using = f"{col}{via}::{n.type}"
            if n.using is not None:
                using = f"({n.using})"
            elif self.no_cast:
                using = f"NULL::{n.type}"
            acts.append(f"ALTER COLUMN {col} TYPE {n.type}{collate} USING {using}")
        if n.default is not None and ("default" in changed or type_change):
            acts.append(f"ALTER COLUMN {col} SET DEFAULT {n.default}")
        online_not_null = self._not_null_online()
        if "nullable" in changed and not online_not_null:
            acts.append(f"ALTER COLUMN {col} {'DROP' if n.nullable else 'SET'} NOT NULL")
        if n.identity and not o.identity:
            acts.append(
                f"ALTER COLUMN {col} ADD GENERATED {n.identity.upper()} AS IDENTITY"
                + identity_clause(n)
            )
        elif n.identity and o.identity:
            sets = []
            if n.identity != o.identity:
                sets.append(f"SET GENERATED {n.identity.upper()}")
            if n.sequence_options != o.sequence_options:
                sets += set_clauses(n.type, o.sequence_options, n.sequence_options)
            if sets:
                acts.append(f"ALTER COLUMN {col} {' '.join(sets)}")
        table = ident(self.schema, self.table)
        becomes_identity = n.identity is not None and o.identity is None
        # A sequence the column comes to own (integer → serial) exists before the default
        # that calls it (after an identity it replaces, which may have its name) and is owned
        # after; one it stops owning goes after its default (before an identity replacing it,
        # which would otherwise be named around it). A handover carries the counter.
        gains = n.sequence is not None and n.sequence != o.sequence
        owned_sql = owned_sequence(self.schema, self.table, n) if gains else None
        before_default = [Statement(owned_sql[0])] if owned_sql else []
        drop = [self._drop_sequence()] if self._loses_sequence() else []
        handover = self._hands_over()
        out = [note_counter(self.schema, self.table, n.name)] if handover else []
        for a in acts:
            if a.startswith(f"ALTER COLUMN {col} SET DEFAULT "):
                out, before_default = out + before_default, []
            if a.startswith(f"ALTER COLUMN {col} ADD GENERATED "):
                out, drop = out + drop, []
            out.append(Statement(self._rerunnable(table, a, becomes_identity)))
        out += before_default
        if owned_sql:
            out.append(Statement(owned_sql[1]))
            out += [Statement(text) for text in owned_sequence_comment(n)]
        elif n.sequence is not None and o.sequence_comment != n.sequence_comment:
            value = "NULL" if n.sequence_comment is None else literal(n.sequence_comment)
            out.append(Statement(f"COMMENT ON SEQUENCE {n.sequence} IS {value}"))
        out += drop
        if handover:
            out.append(carry_counter(self.schema, self.table, n.name))
        if self.no_cast and type_change and n.using is None:
            held = f"SELECT FROM {table} WHERE {col} IS NOT NULL"
            refuse = (
                f"RAISE EXCEPTION '%', {literal(f'column {o.name} now holds values, which do not')}"
                f" || {literal(f' convert from {o.type} to {n.type} (no cast): write using:')}"
            )
            out[:0] = [
                Statement(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"),
                Statement(
                    f"DO {dollar_quote(f'BEGIN IF EXISTS ({held}) THEN {refuse}; END IF; END')}"
                ),
            ]
        owned = o.sequence is not None and o.sequence == n.sequence and not n.identity
        # a serial column's sequence keeps its own type when the column is retyped: it follows
        # (integer → bigint: AS bigint, as a bigserial has) unless the options name another
        clauses = alter_sequence_clauses(o.type, o.sequence_options, n.type, n.sequence_options)
        if owned and clauses:
            out.append(Statement(f"ALTER SEQUENCE {n.sequence} {' '.join(clauses)}"))
        if online_not_null:
            out += self._online_not_null_statements(table)
        if self.drops_check:
            drop = f"DROP CONSTRAINT IF EXISTS {ident(self.drops_check)}"
            out.append(Statement(f"ALTER TABLE IF EXISTS {table} {drop}"))
        return out

    def _loses_sequence(self) -> bool:
        return self.old.sequence is not None and self.old.sequence != self.new.sequence

    def _hands_over(self) -> bool:
        """The column goes from one sequence to another (serial ↔ identity, or another
        owned sequence): the new one goes on counting from the old one."""
        o, n = self.old, self.new
        if not ((o.sequence or o.identity) and (n.sequence or n.identity)):
            return False
        return o.sequence != n.sequence or (o.identity is None) != (n.identity is None)

    def _drop_sequence(self) -> Statement:
        if self.new.identity:
            return drop_unless_identity(self.old.sequence or "")
        return Statement(f"DROP SEQUENCE IF EXISTS {self.old.sequence} RESTRICT")

    def provides(self) -> frozenset[Address]:
        seqs = identity_sequence_address(self.schema, self.table, self.new)
        return frozenset({self.address}) | owned_sequence_address(self.new) | seqs

    def _rerunnable(self, table: str, act: str, becomes_identity: bool) -> str:
        """The statement of one action, so that a second run of the file passes: once the
        column is an identity, neither ADD GENERATED nor DROP DEFAULT applies to it again."""
        text = f"ALTER TABLE {table} {act}"
        if f" TYPE {self.new.type}" in act and self.old.collation == self.new.collation:
            # A second run finds the type in place, perhaps under a view the file made since
            # (which Postgres would refuse the change for): it leaves the column as it is. The
            # type is read as introspection spells it, with an empty search_path.
            name = literal(self.new.name)
            found = (
                "SELECT pg_catalog.format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute "
                f"WHERE attrelid = {literal(table)}::regclass AND attname = {name}"
            )
            body = (
                "DECLARE path text := pg_catalog.current_setting('search_path'); done boolean;\n"
                "BEGIN\nPERFORM pg_catalog.set_config('search_path', '', true);\n"
                f"done := ({found}) = {literal(self.new.type)};\n"
                "PERFORM pg_catalog.set_config('search_path', path, true);\n"
                f"IF NOT done THEN {text}; END IF;\nEND"
            )
            return f"DO {dollar_quote(body)}"
        if act.endswith(" DROP NOT NULL"):
            # a second run may find a partition's key on the column now (the plan added it),
            # which a parent's DROP NOT NULL would reach: nothing to drop, nothing done
            held = (
                "SELECT FROM pg_catalog.pg_attribute WHERE attrelid = "
                f"{literal(table)}::regclass AND attname = {literal(self.new.name)} "
                "AND attnotnull"
            )
            return f"DO {dollar_quote(f'BEGIN IF EXISTS ({held}) THEN {text}; END IF; END')}"
        if not becomes_identity:
            return text
        if " ADD GENERATED " in f" {act}":
            return guarded(text, "object_not_in_prerequisite_state")
        if act.endswith(" DROP DEFAULT"):
            check = (
                "SELECT FROM pg_catalog.pg_attribute WHERE attrelid = "
                f"{literal(table)}::regclass AND attname = {literal(self.new.name)} "
                "AND attidentity <> ''"
            )
            return run_unless(check, text)
        return text

    def reverse(self) -> Change:
        return AlterColumn(
            self.schema,
            self.table,
            self.new,
            self.old,
            self.deps,
            old_is_enum=self.new_is_enum,
            new_is_enum=self.old_is_enum,
            drops_check=self._not_null_check() if self._not_null_online() else None,
            no_cast=self.no_cast,  # nor back: the rollback too finds the column empty or stops
        )

    def depends_on(self) -> frozenset[Address]:
        return on_table(self.schema, self.table, self.deps)

    def hazards(self) -> tuple[Hazard, ...]:
        out = []
        changed = self.changed()
        if self.retypes():
            what = f"type {self.old.type} → {self.new.type}"
            out.append(
                Hazard(
                    TABLE_REWRITE,
                    f"{what} rewrites the table under an ACCESS EXCLUSIVE lock{self._values()}",
                )
            )
            if self.value_change:
                out.append(Hazard(DESTRUCTIVE, f"{what} {self.value_change}"))
            if self.new.using is not None:  # no way back is written: a plain cast, if any
                back = f"{self.new.type} to {self.old.type}"
                out.append(
                    Hazard(
                        IRREVERSIBLE,
                        f"computed by using:; the rollback converts back by a plain cast from "
                        f"{back}, which may not exist: it then stops and changes nothing",
                    )
                )
        if self._not_null_online():
            out.append(
                Hazard(
                    MAY_FAIL,
                    "NOT NULL is proved by a check validated after the transaction commits (a "
                    "scan that lets writes go on); NULLs fail it and the plan is undone",
                )
            )
        elif "nullable" in changed and not self.new.nullable:
            out.append(
                Hazard(
                    MAY_FAIL,
                    "SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock and fails on "
                    "NULLs",
                )
            )
        if self._loses_sequence() and not self._hands_over():
            out.append(
                Hazard(
                    DESTRUCTIVE,
                    f"drops sequence {self.old.sequence}: its current value is lost (a rollback "
                    "starts it again from its start value)",
                )
            )
        if not any(h.code in (TABLE_REWRITE, MAY_FAIL) for h in out) and changed != [
            "sequence_comment"  # a comment on the sequence alone does not lock the table
        ]:
            out.append(brief_lock(self.table))
        return tuple(out)

    def _values(self) -> str:
        if self.value_change is None:
            # Unchecked: the cast the plan runs (USING col::type) truncates and rounds where it
            # can, and fails only where it cannot.
            return (
                "; a value that does not convert fails it, and one the cast can truncate or "
                "round is changed"
            )
        return (
            "" if self.value_change else "; every value the table holds now converts back unchanged"
        )

    def details(self) -> list[dict]:
        # name: renames are their own change; comment, generated: handled by other changes.
        return attribute_changes(self.old, self.new, exclude=("name", "comment", "generated"))

    def describe(self) -> str:
        return describe_details(self.details())
