"""Changes of triggers: create and drop (a changed trigger is a drop and a create), and when
one fires, changed in place."""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.model.address import Address
from reconciler.model.pg_objects import Trigger
from reconciler.ops.base import Action, Change, Hazard, Statement, brief_lock
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import guarded, ident, idents, literal, run_unless


def trigger_sql(t: Trigger, *, schema: str | None = None) -> str:
    events = []
    for e in t.events:
        events.append(
            f"UPDATE OF {idents(t.columns)}" if e == "update" and t.columns else e.upper()
        )
    kind = "CONSTRAINT TRIGGER" if t.constraint else "TRIGGER"
    deferral = ""
    if t.deferrable:
        deferral = " DEFERRABLE INITIALLY " + ("DEFERRED" if t.initially_deferred else "IMMEDIATE")
    source = f" FROM {ident(*t.from_table)}" if t.from_table is not None else ""
    referencing = "".join(
        f" {which} TABLE AS {ident(name)}"
        for which, name in (("OLD", t.old_table), ("NEW", t.new_table))
        if name is not None
    )
    if referencing:
        referencing = "\nREFERENCING" + referencing
    text = (
        f"CREATE {kind} {ident(t.name)} {t.timing.upper()} {' OR '.join(events)}"
        f"\nON {ident(schema or t.schema, t.table)}{source}{deferral}{referencing}"
        f" FOR EACH {t.level.upper()}"
    )
    if t.when is not None:
        text += f"\nWHEN (\n{t.when}\n)"
    args = ", ".join(literal(a) for a in t.arguments)
    # t.function is already quoted (format('%I.%I') spelling), checked at load
    return text + f"\nEXECUTE FUNCTION {t.function}({args})"


_FIRES = {
    "origin": "ENABLE",
    "replica": "ENABLE REPLICA",
    "always": "ENABLE ALWAYS",
    "never": "DISABLE",
}


def fires_sql(t: Trigger) -> str | None:
    """When a trigger fires other than as created (ENABLE TRIGGER): set after CREATE, which
    always makes it so (a second run of the statement sets it to the same again)."""
    return None if t.fires == "origin" else _fires_sql(t, t.fires)


def _fires_sql(t: Trigger, fires: str) -> str:
    return f"ALTER TABLE {ident(t.schema, t.table)} {_FIRES[fires]} TRIGGER {ident(t.name)}"


@dataclass(frozen=True, slots=True)
class CreateTrigger(CreateWhole):
    trigger: Trigger
    deps: frozenset[Address] = frozenset()
    on_partition: bool = False  # its way back drops it only while its own (see DropTrigger)

    def statements(self) -> list[Statement]:
        t = self.trigger
        out = [Statement(guarded(trigger_sql(t), "duplicate_object"))]
        if (fires := fires_sql(t)) is not None:
            out.append(Statement(fires))
        if t.comment is not None:
            target = f"TRIGGER {ident(t.name)} ON {ident(t.schema, t.table)}"
            out.append(Statement(f"COMMENT ON {target} IS {literal(t.comment)}"))
        return out

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(self.trigger.table, "SHARE ROW EXCLUSIVE"),)

    def describe(self) -> str:
        t = self.trigger
        return f"{t.timing} {' or '.join(t.events)} on {t.table}"


@twin_of(CreateTrigger)
@dataclass(frozen=True, slots=True)
class DropTrigger(DropWhole):
    trigger: Trigger
    deps: frozenset[Address] = frozenset()
    # on a partition: dropped only while it is the partition's own, not the clone of its
    # parent's trigger of the name that a second run of the file finds (dropped with that one)
    on_partition: bool = False

    def statements(self) -> list[Statement]:
        t = self.trigger
        drop = f"DROP TRIGGER IF EXISTS {ident(t.name)} ON {ident(t.schema, t.table)}"
        if self.on_partition:
            clone = (
                "SELECT FROM pg_catalog.pg_trigger WHERE tgrelid = pg_catalog.to_regclass("
                f"{literal(ident(t.schema, t.table))}) AND tgname = {literal(t.name)} "
                "AND tgparentid <> 0"
            )
            drop = run_unless(clone, drop)
        return [Statement(drop)]

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(self.trigger.table),)

    def describe(self) -> str:
        return f"trigger on {self.trigger.table}"


@dataclass(frozen=True, slots=True)
class SetTriggerFires(Change):
    """When a trigger fires, changed in place (ALTER TABLE … ENABLE [REPLICA | ALWAYS] /
    DISABLE TRIGGER): a weaker lock than the drop and create of a changed trigger."""

    trigger: Trigger  # as it is before
    new: str
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.trigger.address

    def statements(self) -> list[Statement]:
        return [Statement(_fires_sql(self.trigger, self.new))]

    def reverse(self) -> Change:
        return SetTriggerFires(replace(self.trigger, fires=self.new), self.trigger.fires)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        return frozenset({self.trigger.address})

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(self.trigger.table, "SHARE ROW EXCLUSIVE"),)

    def details(self) -> list[dict]:
        return [{"attribute": "fires", "old": self.trigger.fires, "new": self.new}]

    def describe(self) -> str:
        return f"fires {self.trigger.fires} → {self.new}"
