"""State record types and the StateBackend protocol every backend implements.

Owns: the shape of what is recorded (ApplyRecord, Attempt, Event, InventoryEntry) and the
contract of a backend, including which calls share the caller's transaction.

Must not: know how or where a backend stores anything.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from reconciler.state.actor import Actor, os_user

__all__ = ["Actor", "ApplyRecord", "Attempt", "Event", "InventoryEntry", "StateBackend"]

Direction = Literal["up", "down"]
ApplyStatus = Literal["applied", "rolled_back"]
# 'interrupted' is never stored: readers report it for a 'running' row whose process is gone.
AttemptStatus = Literal["running", "succeeded", "failed", "interrupted"]

_VERSION = re.compile(r"^[0-9]{14}$")  # YYYYMMDDHHMMSS, UTC

# What the inventory holds after a change (address → definition), or a function that works it
# out, called once by the backend while it writes the change's record: PgState has the server
# store the apply's row meanwhile, so that the client's work and the server's overlap.
Inventory = Mapping[str, Mapping[str, Any]] | Callable[[], Mapping[str, Mapping[str, Any]]]


def inventory_value(inventory: Inventory) -> Mapping[str, Mapping[str, Any]]:
    """The address → definition mapping an Inventory stands for."""
    return inventory() if callable(inventory) else inventory


def _check_version(version: str) -> None:
    if not _VERSION.match(version):
        raise ValueError(f"plan version must be YYYYMMDDHHMMSS, got {version!r}")


def _check_aware(name: str, value: datetime | None) -> None:
    # A naive datetime would be read in the server's TimeZone setting: a silent skew.
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyRecord:
    """One successful apply ('up') or rollback ('down') of a plan version.

    up_sql and down_sql hold the full text of both plan files, so a rollback works after the
    plans folder is gone. An 'up' row's status turns 'rolled_back' when its down ran; 'down'
    rows stay 'applied'. duration_ms defaults to finished_at - started_at; who (os_user, host,
    os_pid) defaults to the current process; db_user left None is filled by the backend.
    """

    version: str
    slug: str = ""
    direction: Direction = "up"
    status: ApplyStatus = "applied"
    started_at: datetime
    finished_at: datetime
    duration_ms: int | None = None
    os_user: str = field(default_factory=os_user)
    host: str = field(default_factory=socket.gethostname)
    os_pid: int = field(default_factory=os.getpid)
    db_user: str | None = None
    up_sha256: str | None = None
    down_sha256: str | None = None
    up_sql: str = ""
    down_sql: str = ""
    plan: Mapping[str, Any] = field(default_factory=dict)
    desired_hash: str | None = None
    fingerprint_before: str | None = None
    fingerprint_after: str | None = None
    change_count: int = 0
    log_path: str | None = None
    id: int | None = None  # assigned by the backend; ordering key of history()

    def __post_init__(self) -> None:
        _check_version(self.version)
        if self.direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down', got {self.direction!r}")
        if self.status not in ("applied", "rolled_back"):
            raise ValueError(f"status must be 'applied' or 'rolled_back', got {self.status!r}")
        _check_aware("started_at", self.started_at)
        _check_aware("finished_at", self.finished_at)
        if self.duration_ms is None:
            elapsed = self.finished_at - self.started_at
            # frozen: the derived default is set once, here
            object.__setattr__(self, "duration_ms", round(elapsed.total_seconds() * 1000))


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One try to apply or roll back a version, recorded before its transaction starts."""

    id: int
    version: str
    direction: Direction
    status: AttemptStatus
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    os_user: str | None = None
    host: str | None = None
    os_pid: int | None = None
    db_user: str | None = None
    backend_pid: int | None = None  # the server process that ran it (Postgres backend)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One line of the append-only audit log ('apply', 'rollback', 'failed', 'force-unlock')."""

    id: int
    at: datetime
    kind: str
    version: str | None
    detail: Mapping[str, Any]
    os_user: str | None = None
    host: str | None = None
    os_pid: int | None = None
    db_user: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryEntry:
    """One managed object after the last apply/rollback; `version` is the apply or rollback
    that last changed its definition (an unchanged object keeps its earlier version)."""

    address: str
    kind: str  # "<engine>.<kind>" of the address, e.g. "pg.table"
    definition: Mapping[str, Any]
    version: str
    updated_at: datetime


@runtime_checkable
class StateBackend(Protocol):
    """Where recorded state lives.

    Transactions: record_apply, mark_rolled_back, finish_attempt(..., "succeeded") and
    record_event write inside the caller's open transaction when there is one, so they commit
    or roll back with the change they describe. begin_attempt and finish_attempt(..., "failed")
    must be called outside any transaction: their rows have to survive the failure or crash of
    the apply transaction. Reads work either way. Writes create the state on first use.
    """

    def ensure(self) -> None:
        """Create or upgrade the state storage (idempotent); refuse a newer format."""
        ...

    def exists(self) -> bool: ...

    def begin_attempt(self, version: str, *, direction: Direction = "up") -> int:
        """Record a 'running' attempt, committed at once; returns its id."""
        ...

    def finish_attempt(
        self,
        attempt_id: int,
        status: Literal["succeeded", "failed"],
        error: str | None = None,
    ) -> None: ...

    def record_apply(self, rec: ApplyRecord, inventory: Inventory) -> None:
        """Record an 'up' apply and replace the inventory with `inventory` (address → def).
        A still-applied row of the version whose plan says 'partial' (the batches of an
        apply committed so far) is replaced by `rec`; any other applied row refuses it."""
        ...

    def mark_rolled_back(self, version: str, down_rec: ApplyRecord, inventory: Inventory) -> None:
        """Flip the applied 'up' row of `version` to 'rolled_back', record the 'down' row and
        replace the inventory. Refuses a version that is not applied."""
        ...

    def get(self, version: str) -> ApplyRecord | None:
        """The newest 'up' row of `version`, whatever its status."""
        ...

    def last_applied(self) -> ApplyRecord | None:
        """The most recently recorded 'up' row still 'applied'."""
        ...

    def history(self, limit: int | None = None) -> list[ApplyRecord]:
        """Up and down rows, newest first."""
        ...

    def attempts(self, limit: int | None = None) -> list[Attempt]:
        """Attempts newest first; a 'running' one whose process is gone reads 'interrupted'."""
        ...

    def inventory(self) -> dict[str, dict[str, Any]]:
        """address → definition after the last apply/rollback."""
        ...

    def inventory_entries(self) -> list[InventoryEntry]: ...

    def record_event(
        self, kind: str, version: str | None, detail: Mapping[str, Any] | None = None
    ) -> None: ...

    def events(self, limit: int | None = None) -> list[Event]:
        """Audit events newest first."""
        ...
