"""FileState: recorded state as JSON documents in a local directory (default `state/`).

Used when only Redis is targeted: Redis has no place for state rows that could commit together
with a change, so the record lives next to the project, like the plans. Same record types and
the same semantics as PgState, except for transactions (below); passes the conformance suite in
tests/state/test_state.py.

Owns: the layout below, the record documents (applies, attempts, events) and the inventory, with
their semantics (ids, a version applied at most once, what a rollback rewrites, which inventory
entries keep their version). The store under them (atomic writes, the journal of a change of
several documents, flock, meta.json) is JsonStore in filestore.py; when an attempt's process
is gone ('interrupted') is judged in liveness.py.

Layout (format version 1; ids are 12 zero-padded digits, one sequence per kind, from 1):

    meta.json                            {"format_version": 1}
    applies/<id>-<version>-<up|down>.json   one ApplyRecord each (a rollback rewrites the 'up'
                                            document's status)
    attempts/<id>.json                   one Attempt each, plus the process identity
    events/<id>.json                     one Event each
    inventory.json                       address -> {kind, definition, version, updated_at}
    .lock                                the flock target (empty)
    .journal.json                        only while a change of several documents is written

Transactions: there are none to share. Redis changes cannot commit together with a file, so
every write here (record_apply, mark_rolled_back, finish_attempt, record_event) commits when it
returns, whatever the caller has open. Hence the order an executor must keep: begin_attempt
first, before the first change (a run killed mid-way then leaves a 'running' attempt that reads
'interrupted'), then the changes, then record_apply / mark_rolled_back and
finish_attempt(..., "succeeded"). A crash between the last change and record_apply leaves an
interrupted attempt and no apply row; the next plan compares against the live keyspace anyway.

db_user: there is no database user; records that leave it None get `db_user` given to the
constructor (e.g. the Redis ACL user), else the OS user.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from reconciler import errors
from reconciler.model.address import kind_of
from reconciler.state.base import (
    Actor,
    ApplyRecord,
    Attempt,
    Direction,
    Event,
    Inventory,
    InventoryEntry,
    StateBackend,
    inventory_value,
)
from reconciler.state.filestore import JsonStore
from reconciler.state.liveness import process_gone, process_identity

FORMAT_VERSION = 1  # the newest state format this code knows
DEFAULT_ROOT = Path("state")

_APPLY_FIELDS = tuple(f.name for f in fields(ApplyRecord))
_DATETIMES = ("started_at", "finished_at", "at", "updated_at")
_ID_WIDTH = 12
_APPLY_NAME = re.compile(r"^(\d{12})-(\d{14})-(up|down)\.json$")
_PLAIN_NAME = re.compile(r"^(\d{12})\.json$")


def _now() -> datetime:
    return datetime.now(UTC)


def _json_value(value: Any) -> Any:
    """As it reads back from JSON (tuples become lists...), for comparing definitions."""
    return json.loads(json.dumps(value))


def _encode(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    for name in _DATETIMES:
        if isinstance(out.get(name), datetime):
            out[name] = out[name].isoformat()
    return out


def _decode(doc: dict[str, Any]) -> dict[str, Any]:
    for name in _DATETIMES:
        if isinstance(doc.get(name), str):
            doc[name] = datetime.fromisoformat(doc[name])
    return doc


# --- the backend --------------------------------------------------------------------------------


class FileState(JsonStore, StateBackend):
    """State as JSON documents under `root`; see the module documentation for the layout."""

    format_version = FORMAT_VERSION
    directories = ("applies", "attempts", "events")

    def __init__(self, root: Path = DEFAULT_ROOT, *, db_user: str | None = None) -> None:
        super().__init__(root)
        self.db_user = db_user

    def exists(self) -> bool:
        if not self._meta.exists():
            return False
        with self._locked(exclusive=False):
            return self._stored_version(refuse_newer=False) > 0

    def ensure(self) -> None:
        with self._writing():
            pass

    # --- ids and listings ---------------------------------------------------------------------

    def _names(self, sub: str, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
        """(id, file name) of the documents in `sub`, newest (highest id) first."""
        try:
            entries = os.listdir(self.root / sub)
        except FileNotFoundError:
            return []
        found = [(int(m.group(1)), name) for name in entries if (m := pattern.match(name))]
        found.sort(reverse=True)
        return found

    def _next_id(self, sub: str, pattern: re.Pattern[str]) -> int:
        names = self._names(sub, pattern)
        return names[0][0] + 1 if names else 1

    def _actor_fields(self) -> dict[str, Any]:
        actor = Actor.current()
        return {
            "os_user": actor.user,
            "host": actor.host,
            "os_pid": actor.pid,
            "db_user": self.db_user or actor.user,
        }

    # --- attempts -----------------------------------------------------------------------------

    def begin_attempt(self, version: str, *, direction: Direction = "up") -> int:
        if direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down', got {direction!r}")
        with self._writing():
            attempt_id = self._next_id("attempts", _PLAIN_NAME)
            doc = {
                "id": attempt_id,
                "version": version,
                "direction": direction,
                "status": "running",
                "started_at": _now(),
                "finished_at": None,
                "error": None,
                **self._actor_fields(),
                "backend_pid": None,
                **process_identity(),
            }
            self._commit({self._attempt_path(attempt_id): _encode(doc)})
        return attempt_id

    def _attempt_path(self, attempt_id: int) -> Path:
        return self.root / "attempts" / f"{attempt_id:0{_ID_WIDTH}d}.json"

    def finish_attempt(
        self,
        attempt_id: int,
        status: Literal["succeeded", "failed"],
        error: str | None = None,
    ) -> None:
        if status not in ("succeeded", "failed"):
            raise ValueError(f"an attempt finishes 'succeeded' or 'failed', not {status!r}")
        with self._writing():
            path = self._attempt_path(attempt_id)
            doc = self._read(path)
            if doc is None:
                return  # as PgState: finishing an unknown attempt changes nothing
            doc.update(status=status, error=error, finished_at=_now().isoformat())
            self._commit({path: doc})

    def attempts(self, limit: int | None = None) -> list[Attempt]:
        out: list[Attempt] = []
        with self._reading() as present:
            if not present:
                return []
            for _, name in self._names("attempts", _PLAIN_NAME)[:limit]:
                doc = self._read(self.root / "attempts" / name)
                if doc is None:
                    continue
                if doc.get("status") == "running" and process_gone(doc):
                    doc["status"] = "interrupted"
                doc.pop("proc_start", None)
                doc.pop("boot_id", None)
                out.append(Attempt(**_decode(doc)))
        return out

    # --- applies ------------------------------------------------------------------------------

    def _apply_path(self, apply_id: int, version: str, direction: str) -> Path:
        return self.root / "applies" / f"{apply_id:0{_ID_WIDTH}d}-{version}-{direction}.json"

    def _apply_doc(self, rec: ApplyRecord, apply_id: int) -> dict[str, Any]:
        doc = {name: getattr(rec, name) for name in _APPLY_FIELDS}
        doc["id"] = apply_id
        doc["plan"] = _json_value(dict(rec.plan))
        if doc["db_user"] is None:
            doc["db_user"] = self.db_user or Actor.current().user
        return _encode(doc)

    def _applies(
        self, *, version: str | None = None, direction: str | None = None
    ) -> Iterator[tuple[Path, dict[str, Any]]]:
        """(path, raw document) of apply rows, newest first, filtered by file name."""
        for _, name in self._names("applies", _APPLY_NAME):
            m = _APPLY_NAME.match(name)
            assert m is not None
            if version is not None and m.group(2) != version:
                continue
            if direction is not None and m.group(3) != direction:
                continue
            path = self.root / "applies" / name
            doc = self._read(path)
            if doc is not None:
                yield path, doc

    def _live(self, version: str) -> tuple[Path, dict[str, Any]] | None:
        for path, doc in self._applies(version=version, direction="up"):
            if doc.get("status") == "applied":
                return path, doc
        return None

    def _inventory_doc(self) -> dict[str, Any]:
        doc = self._read(self.root / "inventory.json")
        return doc if isinstance(doc, dict) else {}

    def _replaced_inventory(self, version: str, inventory: Inventory) -> dict[str, Any]:
        # An object whose definition did not change keeps the version and time of the apply
        # that last changed it.
        inventory = inventory_value(inventory)
        old = self._inventory_doc()
        now = _now().isoformat()
        new: dict[str, Any] = {}
        for address in sorted(inventory):
            kind = kind_of(address)
            definition = _json_value(dict(inventory[address]))
            before = old.get(address)
            if (
                isinstance(before, dict)
                and before.get("kind") == kind
                and before.get("definition") == definition
            ):
                new[address] = before
            else:
                new[address] = {
                    "kind": kind,
                    "definition": definition,
                    "version": version,
                    "updated_at": now,
                }
        return new

    def record_apply(self, rec: ApplyRecord, inventory: Inventory) -> None:
        if rec.direction != "up" or rec.status != "applied":
            raise ValueError("record_apply takes an 'up' record with status 'applied'")
        with self._writing():
            live = self._live(rec.version)
            if live is not None and live[1].get("plan", {}).get("partial"):
                # The record of the batches committed so far: the same row, grown.
                apply_id = int(live[1]["id"])
                self._commit(
                    {
                        live[0]: self._apply_doc(rec, apply_id),
                        self.root / "inventory.json": self._replaced_inventory(
                            rec.version, inventory
                        ),
                    }
                )
                return
            if live is not None:
                found = ApplyRecord(**_decode(live[1]))
                stamp = found.finished_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                raise errors.Refused(
                    f"Version {rec.version} is already applied (recorded {stamp} by "
                    f"{found.os_user}@{found.host}).",
                    detail="Roll it back first to apply it again.",
                )
            apply_id = self._next_id("applies", _APPLY_NAME)
            self._commit(
                {
                    self._apply_path(apply_id, rec.version, "up"): self._apply_doc(rec, apply_id),
                    self.root / "inventory.json": self._replaced_inventory(rec.version, inventory),
                }
            )

    def mark_rolled_back(self, version: str, down_rec: ApplyRecord, inventory: Inventory) -> None:
        if down_rec.direction != "down" or down_rec.version != version:
            raise ValueError(f"mark_rolled_back takes a 'down' record of version {version}")
        with self._writing():
            live = self._live(version)
            if live is None:
                raise errors.Refused(
                    f"Version {version} is not applied, so it cannot be rolled back.",
                    detail="`reconciler state history` lists what is applied.",
                )
            up_path, up_doc = live
            up_doc["status"] = "rolled_back"
            apply_id = self._next_id("applies", _APPLY_NAME)
            self._commit(
                {
                    up_path: up_doc,
                    self._apply_path(apply_id, version, "down"): self._apply_doc(
                        down_rec, apply_id
                    ),
                    self.root / "inventory.json": self._replaced_inventory(version, inventory),
                }
            )

    def get(self, version: str) -> ApplyRecord | None:
        with self._reading() as present:
            if not present:
                return None
            for _, doc in self._applies(version=version, direction="up"):
                return ApplyRecord(**_decode(doc))
        return None

    def last_applied(self) -> ApplyRecord | None:
        with self._reading() as present:
            if not present:
                return None
            for _, doc in self._applies(direction="up"):
                if doc.get("status") == "applied":
                    return ApplyRecord(**_decode(doc))
        return None

    def history(self, limit: int | None = None) -> list[ApplyRecord]:
        out: list[ApplyRecord] = []
        with self._reading() as present:
            if not present:
                return []
            for _, doc in self._applies():
                if limit is not None and len(out) >= limit:
                    break
                out.append(ApplyRecord(**_decode(doc)))
        return out

    # --- inventory ----------------------------------------------------------------------------

    def inventory_entries(self) -> list[InventoryEntry]:
        with self._reading() as present:
            if not present:
                return []
            doc = self._inventory_doc()
        return [
            InventoryEntry(address=address, **_decode(dict(entry)))
            for address, entry in sorted(doc.items())
        ]

    def inventory(self) -> dict[str, dict[str, Any]]:
        return {e.address: dict(e.definition) for e in self.inventory_entries()}

    # --- events -------------------------------------------------------------------------------

    def record_event(
        self, kind: str, version: str | None, detail: Mapping[str, Any] | None = None
    ) -> None:
        with self._writing():
            event_id = self._next_id("events", _PLAIN_NAME)
            doc = {
                "id": event_id,
                "at": _now(),
                "kind": kind,
                "version": version,
                "detail": _json_value(dict(detail or {})),
                **self._actor_fields(),
            }
            path = self.root / "events" / f"{event_id:0{_ID_WIDTH}d}.json"
            self._commit({path: _encode(doc)})

    def events(self, limit: int | None = None) -> list[Event]:
        out: list[Event] = []
        with self._reading() as present:
            if not present:
                return []
            for _, name in self._names("events", _PLAIN_NAME)[:limit]:
                doc = self._read(self.root / "events" / name)
                if doc is not None:
                    out.append(Event(**_decode(doc)))
        return out
