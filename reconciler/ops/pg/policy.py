"""Row-level security: a table's ENABLE / FORCE state, and its policies (create, drop; a
changed policy is a drop and a create)."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg import Table
from reconciler.model.pg_objects import Policy
from reconciler.ops.base import (
    ACCESS_EXCLUSIVE,
    DESTRUCTIVE,
    Action,
    Change,
    Hazard,
    Statement,
    brief_lock,
)
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import guarded, ident, literal

# A table's ENABLE and FORCE, in one word each way: FORCE is kept while disabled, and then
# takes effect (for the owner too) whenever row-level security is enabled.
_STATES = {("off", False): "off", ("on", False): "on", ("on", True): "forced"}


def row_security_state(t: Table) -> str:
    """off | on | forced (on, the owner too) | off, forced (FORCE kept while off)."""
    return _STATES.get((t.row_security, t.force_row_security), "off, forced")


def row_security_sql(schema: str, table: str, state: str) -> list[Statement]:
    """Statements that put a table in `state` (row_security_state's words) from any other."""
    t = ident(schema, table)
    enable = "ENABLE" if state in ("on", "forced") else "DISABLE"
    force = "FORCE" if "forced" in state else "NO FORCE"
    return [
        Statement(f"ALTER TABLE {t} {enable} ROW LEVEL SECURITY"),
        Statement(f"ALTER TABLE {t} {force} ROW LEVEL SECURITY"),
    ]


def policy_sql(p: Policy, *, schema: str | None = None, table: str | None = None) -> str:
    roles = ", ".join("PUBLIC" if r == "public" else ident(r) for r in p.roles)
    text = (
        f"CREATE POLICY {ident(p.name)} ON {ident(schema or p.schema, table or p.table)}"
        f"\nAS {'PERMISSIVE' if p.permissive else 'RESTRICTIVE'} FOR {p.command.upper()}"
        f"\nTO {roles}"
    )
    if p.using is not None:
        text += f"\nUSING (\n{p.using}\n)"
    if p.check is not None:
        text += f"\nWITH CHECK (\n{p.check}\n)"
    return text


@dataclass(frozen=True, slots=True)
class SetRowSecurity(Change):
    schema: str
    table: str
    old: str
    new: str
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)

    def statements(self) -> list[Statement]:
        return row_security_sql(self.schema, self.table, self.new)

    def reverse(self) -> Change:
        return SetRowSecurity(self.schema, self.table, self.new, self.old)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        return frozenset({self.address})

    def hazards(self) -> tuple[Hazard, ...]:
        # What widens which rows roles see is gated as a drop of data is.
        if self.new.startswith("off") and not self.old.startswith("off"):
            return (
                Hazard(
                    DESTRUCTIVE,
                    "row-level security off: every role granted the table sees every row, "
                    "whatever its policies say",
                ),
            )
        if self.old == "forced" and self.new == "on":
            return (
                Hazard(
                    DESTRUCTIVE,
                    "row-level security no longer forced: the table's owner sees every row, "
                    "whatever its policies say",
                ),
            )
        if self.new not in ("on", "forced") or not self.old.startswith("off"):
            return ()
        return (
            Hazard(
                ACCESS_EXCLUSIVE,
                "with row-level security on, a role sees only the rows a policy grants it "
                "(none without a policy)",
            ),
        )

    def details(self) -> list[dict]:
        return [{"attribute": "row_security", "old": self.old, "new": self.new}]

    def describe(self) -> str:
        return f"row-level security {self.old} → {self.new}"


@dataclass(frozen=True, slots=True)
class CreatePolicy(CreateWhole):
    policy: Policy
    deps: frozenset[Address] = frozenset()

    def statements(self) -> list[Statement]:
        p = self.policy
        out = [Statement(guarded(policy_sql(p), "duplicate_object"))]
        if p.comment is not None:
            target = f"POLICY {ident(p.name)} ON {ident(p.schema, p.table)}"
            out.append(Statement(f"COMMENT ON {target} IS {literal(p.comment)}"))
        return out

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(self.policy.table),)

    def describe(self) -> str:
        p = self.policy
        return f"policy for {p.command} to {', '.join(p.roles)}"


@twin_of(CreatePolicy)
@dataclass(frozen=True, slots=True)
class DropPolicy(DropWhole):
    policy: Policy
    deps: frozenset[Address] = frozenset()

    def statements(self) -> list[Statement]:
        p = self.policy
        return [Statement(f"DROP POLICY IF EXISTS {ident(p.name)} ON {ident(p.schema, p.table)}")]

    def hazards(self) -> tuple[Hazard, ...]:
        p = self.policy
        if p.permissive:
            return (brief_lock(p.table),)
        # A restrictive policy hides rows whatever the permissive ones grant: dropping it
        # widens what roles see, gated as a drop of data is (pipeline/hazards.py lifts it
        # when the plan creates the policy again).
        return (
            brief_lock(p.table),
            Hazard(
                DESTRUCTIVE,
                f"drops restrictive policy {p.name}: rows it hid from "
                f"{', '.join(p.roles)} become visible to them",
            ),
        )

    def describe(self) -> str:
        return "policy"
