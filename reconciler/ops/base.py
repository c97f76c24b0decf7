"""Change: one typed operation of a plan, with its SQL, its inverse, hazards and dependencies.

Every change can build its reverse(); the down file of a plan is the reverses in reverse order,
so "down reverts up" holds by construction. A change that cannot be reversed says so at plan
time through an `irreversible` hazard rather than emitting a down step that lies.

Dependency vocabulary, read by order() of pipeline/graph.py:
- provides(): addresses this change brings into existence (create, rename) or reshapes (alter);
- depends_on(): addresses the object of this change needs (its table, columns, types …).

A create and a drop that carry one object whole, each the other's reverse, share their
address, reverse and dependencies through WholeChange (whole.py).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from reconciler.model.address import Address


class Action(Enum):
    """What a change does to its object. The symbol and verb live here for every renderer."""

    CREATE = ("+", "create")
    ALTER = ("~", "change")
    RENAME = ("~", "rename")
    DROP = ("-", "drop")

    def __init__(self, symbol: str, verb: str) -> None:
        self.symbol = symbol
        self.verb = verb

    @property
    def rank(self) -> int:
        """Tie-break between unordered changes: free names first (drops), then the rest."""
        return {"drop": 0, "rename": 1, "create": 2, "change": 3}[self.verb]


@dataclass(frozen=True, slots=True)
class Hazard:
    """A named risk of a change, shown in the plan and gated by flags at apply time."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


# Hazard codes. `destructive` changes need --allow-destructive.
DESTRUCTIVE = "destructive"
TABLE_REWRITE = "table_rewrite"
ACCESS_EXCLUSIVE = "access_exclusive_lock"
IRREVERSIBLE = "irreversible"
MAY_FAIL = "may_fail_on_existing_data"
COLUMN_ORDER = "column_order"  # the table's columns end in another order than the YAML's


# When a statement of an apply runs (online-safe changes on existing tables span three):
MAIN = "main"  # in the apply's transaction
ONLINE = "online"  # after it commits, on its own (CREATE INDEX CONCURRENTLY, VALIDATE)
AFTER = "after"  # in a last short transaction, which also records the state
PHASES = (MAIN, ONLINE, AFTER)


def brief_lock(table: str, level: str = "ACCESS EXCLUSIVE") -> Hazard:
    """The warning of a change that locks a table only for a moment (no scan, no rewrite)."""
    exclusive = level == "ACCESS EXCLUSIVE"
    blocked = "reads and writes" if exclusive else "writes"
    article = "an" if level[0] in "AEIOU" else "a"
    return Hazard(
        ACCESS_EXCLUSIVE if exclusive else "share_lock",
        f"takes {article} {level} lock on {table} for a moment (no scan, no rewrite); {blocked} "
        "queue behind it, at most lock_timeout",
    )


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    # False: a main-phase statement Postgres may refuse to combine with later ones in one
    # transaction (a new enum value); apply then runs it first, on its own.
    transactional: bool = True
    phase: str = MAIN
    # ONLINE only: what to run before trying the statement again (an invalid index left by
    # a CREATE INDEX CONCURRENTLY that timed out).
    cleanup: str | None = None
    # The statement as a person writes it, without what makes `sql` safe to run twice (IF NOT
    # EXISTS, a DO block passing "already there"): the draft of `gen-ddl`. None: `sql` is so.
    plain: str | None = None

    @property
    def draft(self) -> str:
        return self.sql if self.plain is None else self.plain


class Change:
    """Base of every operation. Subclasses are frozen dataclasses holding whole model values.

    Not an abc.ABC: a plan tests its changes' classes millions of times at 5,000 tables, and
    ABCMeta's isinstance costs several times a plain class's. That every change class holds
    the abstract methods below is a test's to check (tests/ops/test_change_classes.py)."""

    action: Action
    # Runs before the creates and alters that may use what it makes (uses_what_it_makes) and
    # do not provide what it needs (pipeline/graph.py): an enum value added.
    early: ClassVar[bool] = False

    @property
    @abstractmethod
    def address(self) -> Address: ...

    @abstractmethod
    def statements(self) -> list[Statement]: ...

    @abstractmethod
    def reverse(self) -> Change: ...

    @abstractmethod
    def describe(self) -> str:
        """One line for humans: what changes, e.g. `type integer → bigint`."""

    def hazards(self) -> tuple[Hazard, ...]:
        return ()

    def provides(self) -> frozenset[Address]:
        return frozenset() if self.action is Action.DROP else frozenset({self.address})

    def depends_on(self) -> frozenset[Address]:
        return frozenset()

    def uses_what_it_makes(self, other: Change) -> bool:
        """For an `early` change: whether `other` may use what this one makes."""
        return True

    def details(self) -> list[dict[str, Any]]:
        """Attribute-level old → new pairs, for plan output and JSON."""
        return []

    @property
    def kind(self) -> str:
        return self.address.kind

    def sort_key(self) -> tuple[int, str, str]:
        return (self.action.rank, str(self.address), type(self).__name__)

    def node_id(self) -> str:
        return f"{self.action.verb}:{type(self).__name__}:{self.address}"
