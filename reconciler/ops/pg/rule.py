"""Changes of rules: create and drop (a changed rule is a drop and a create), and when one
fires, changed in place. A rule runs inside the statements on its table, so its drop and
create take that table's ACCESS EXCLUSIVE lock, briefly."""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.model.address import Address
from reconciler.model.pg_rules import Rule
from reconciler.ops.base import Action, Change, Hazard, Statement, brief_lock
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import guarded, ident, literal


def rule_sql(r: Rule, *, schema: str | None = None, table: str | None = None) -> str:
    """CREATE RULE; `schema` and `table`: on another relation (the planner's probe). The texts
    were checked at load (one condition, commands without `;`) or are the server's own."""
    text = f"CREATE RULE {ident(r.name)} AS ON {r.event.upper()}"
    text += f" TO {ident(schema or r.schema, table or r.table)}"
    if r.where is not None:
        text += f"\nWHERE (\n{r.where}\n)"
    text += " DO INSTEAD" if r.instead else " DO ALSO"
    if not r.actions:
        return text + " NOTHING"
    if len(r.actions) == 1:
        return text + f"\n{r.actions[0]}"
    return text + " (\n" + ";\n".join(r.actions) + "\n)"


_FIRES = {
    "origin": "ENABLE",
    "replica": "ENABLE REPLICA",
    "always": "ENABLE ALWAYS",
    "never": "DISABLE",
}


def _fires_sql(r: Rule, fires: str) -> str:
    return f"ALTER TABLE {ident(r.schema, r.table)} {_FIRES[fires]} RULE {ident(r.name)}"


@dataclass(frozen=True, slots=True)
class CreateRule(CreateWhole):
    rule: Rule
    deps: frozenset[Address] = frozenset()

    def statements(self) -> list[Statement]:
        r = self.rule
        out = [Statement(guarded(rule_sql(r), "duplicate_object"))]
        if r.fires != "origin":  # set after CREATE, which makes it fire as `origin`
            out.append(Statement(_fires_sql(r, r.fires)))
        if r.comment is not None:
            target = f"RULE {ident(r.name)} ON {ident(r.schema, r.table)}"
            out.append(Statement(f"COMMENT ON {target} IS {literal(r.comment)}"))
        return out

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(self.rule.table),)

    def describe(self) -> str:
        r = self.rule
        return f"on {r.event} to {r.table} do {'instead' if r.instead else 'also'}"


@twin_of(CreateRule)
@dataclass(frozen=True, slots=True)
class DropRule(DropWhole):
    rule: Rule
    deps: frozenset[Address] = frozenset()

    def statements(self) -> list[Statement]:
        r = self.rule
        return [Statement(f"DROP RULE IF EXISTS {ident(r.name)} ON {ident(r.schema, r.table)}")]

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(self.rule.table),)

    def describe(self) -> str:
        return f"rule on {self.rule.table}"


@dataclass(frozen=True, slots=True)
class SetRuleFires(Change):
    """When a table's rule fires, changed in place (ALTER TABLE … ENABLE [REPLICA | ALWAYS] /
    DISABLE RULE)."""

    rule: Rule  # as it is before
    new: str
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.rule.address

    def statements(self) -> list[Statement]:
        return [Statement(_fires_sql(self.rule, self.new))]

    def reverse(self) -> Change:
        return SetRuleFires(replace(self.rule, fires=self.new), self.rule.fires)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        return frozenset({self.rule.address})

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(self.rule.table),)

    def details(self) -> list[dict]:
        return [{"attribute": "fires", "old": self.rule.fires, "new": self.new}]

    def describe(self) -> str:
        return f"fires {self.rule.fires} → {self.new}"
