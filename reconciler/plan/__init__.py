"""Plan: the versioned, serializable value of one ordered set of changes.

A plan records what it was computed from (the desired-state hash and the live fingerprint)
so that apply can refuse it when the database moved, and the sha256 of its up/down files so
that an edited file is refused. Everything a renderer shows is drawn from to_dict(), so text
and JSON output cannot disagree. A plan holds no timestamps besides its version: the same
inputs give byte-identical files but for the version. A Redis change over many keys carries
its lines as `Lines` (ops/redis/lines.py), rendered from the scan's keys when read, not held.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.errors import InputError
from reconciler.ops.base import IRREVERSIBLE, MAIN, PHASES, Action, Change
from reconciler.ops.redis.lines import Lines
from reconciler.plan import jsontext

FORMAT_VERSION = 1


def _owner(c: Change) -> str:
    index = getattr(c, "index", None)
    table = getattr(index, "table", None)
    return f"{index.schema}.{table}" if table else ""  # type: ignore[union-attr]


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """A change flattened to data: what the plan files, the state and renderers carry."""

    address: str
    action: str  # Action verb: create | change | rename | drop
    symbol: str
    kind: str
    description: str
    hazards: tuple[dict[str, str], ...]
    details: tuple[dict[str, Any], ...]
    up: tuple[str, ...]
    down: tuple[str, ...]
    transactional: bool = True  # False: its up statements must run outside the transaction
    down_transactional: bool = True
    # Per up statement, when it runs (ops.base.PHASES) and, for online ones, what to run
    # before a retry; both empty when every statement runs in the apply's transaction.
    phases: tuple[str, ...] = ()
    cleanups: tuple[str, ...] = ()
    # "schema.table" of the table an index is on (its address does not say): renderers show
    # it with its table. Other objects on a table carry the table in their address.
    owner: str = ""

    @classmethod
    def from_change(cls, c: Change) -> PlannedChange:
        lines: dict[str, Any]
        if isinstance(streamed := getattr(c, "command_lines", None), Callable):
            # A change over many keys (ops/redis TTL changes): its lines stay Lines, rendered
            # from the keys when read; every one runs in the main phase, in the transaction.
            lines = {"up": streamed(), "down": c.reverse().command_lines()}  # type: ignore[attr-defined]
        else:
            up, down = c.statements(), c.reverse().statements()
            phased = any(s.phase != MAIN for s in up)
            lines = {
                "up": tuple(s.sql for s in up),
                "down": tuple(s.sql for s in down),
                "transactional": all(s.transactional for s in up),
                "down_transactional": all(s.transactional for s in down),
                "phases": tuple(s.phase for s in up) if phased else (),
                "cleanups": tuple(s.cleanup or "" for s in up) if phased else (),
            }
        return cls(
            address=str(c.address),
            action=c.action.verb,
            symbol=c.action.symbol,
            kind=c.kind,
            description=c.describe(),
            hazards=tuple(h.to_dict() for h in c.hazards()),
            details=tuple(c.details()),
            owner=_owner(c),
            **lines,
        )

    def to_dict(self, *, lazy: bool = False) -> dict[str, Any]:
        """`lazy`: the lines of a change over many keys stay Lines (jsontext.py writes them;
        json.dumps refuses them), so that the dict of a large plan holds no line."""
        return {
            "address": self.address,
            "action": self.action,
            "symbol": self.symbol,
            "kind": self.kind,
            "description": self.description,
            "hazards": list(self.hazards),
            "details": list(self.details),
            "up": _listed(self.up, lazy),
            "down": _listed(self.down, lazy),
            "transactional": self.transactional,
            "down_transactional": self.down_transactional,
            **self._phase_fields(),
            **({"owner": self.owner} if self.owner else {}),
        }

    def _phase_fields(self) -> dict[str, list[str]]:
        if not self.phases:
            return {}
        return {"phases": list(self.phases), "cleanups": list(self.cleanups)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlannedChange:
        phases, up = d.get("phases", ()), d["up"]
        if phases and (len(phases) != len(up) or not set(phases) <= set(PHASES)):
            raise TypeError(f"phases {phases!r} do not match the up statements")
        return cls(
            address=d["address"],
            action=d["action"],
            symbol=d["symbol"],
            kind=d["kind"],
            description=d["description"],
            hazards=tuple(d["hazards"]),
            details=tuple(d["details"]),
            up=tuple(d["up"]),
            down=tuple(d["down"]),
            transactional=d.get("transactional", True),
            down_transactional=d.get("down_transactional", True),
            phases=tuple(d.get("phases", ())),
            cleanups=tuple(d.get("cleanups", ())),
            owner=d.get("owner", ""),
        )

    def hazard_codes(self) -> set[str]:
        return {h["code"] for h in self.hazards}

    @property
    def engine(self) -> str:
        return self.address.split(".", 1)[0]

    def up_phases(self) -> tuple[str, ...]:
        return self.phases or (MAIN,) * len(self.up)

    def up_steps(self) -> list[Step]:
        cleanups = self.cleanups or ("",) * len(self.up)
        return [
            Step(self, sql, self.transactional, phase, cleanup or None)
            for sql, phase, cleanup in zip(self.up, self.up_phases(), cleanups, strict=True)
        ]

    def down_steps(self) -> list[Step]:
        return [Step(self, sql, self.down_transactional) for sql in self.down]


def _listed(lines: tuple[str, ...] | Lines, lazy: bool) -> list[str] | Lines:
    return lines if lazy and isinstance(lines, Lines) else list(lines)


@dataclass(frozen=True, slots=True)
class Step:
    """One statement to execute, with the change it belongs to and when it runs."""

    change: PlannedChange
    sql: str
    transactional: bool = True
    phase: str = MAIN
    cleanup: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    version: str  # UTC YYYYMMDDHHMMSS
    slug: str
    desired_hash: str
    live_fingerprint: str
    target: dict[str, Any]
    changes: tuple[PlannedChange, ...]
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # up/down → name, sha256
    redis_fingerprint: str = ""  # config + ACL users as planned ("" when Redis is not a target)
    findings: tuple[dict[str, Any], ...] = ()  # what a Redis scan found that no change fixes
    # live objects the model cannot express yet: {"kind", "name"}; never planned, always shown
    unsupported: tuple[dict[str, str], ...] = ()
    format_version: int = FORMAT_VERSION
    # address → digest of each live object the plan was made against (plan/moved.py): says
    # what changed when the plan is refused as stale; {} in plans made before it was recorded
    live_objects: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def name(self) -> str:
        return f"{self.version}_{self.slug}"

    def counts(self) -> dict[str, int]:
        out = {"add": 0, "change": 0, "drop": 0}
        for c in self.changes:
            out[{"create": "add", "drop": "drop"}.get(c.action, "change")] += 1
        return out

    def hazard_codes(self) -> set[str]:
        return {code for c in self.changes for code in c.hazard_codes()}

    def irreversible(self) -> list[PlannedChange]:
        return [c for c in self.changes if IRREVERSIBLE in c.hazard_codes()]

    def up_statements(self) -> list[Step]:
        return [s for c in self.changes for s in c.up_steps()]

    def down_statements(self) -> list[Step]:
        return [s for c in reversed(self.changes) for s in c.down_steps()]

    def phased(self) -> bool:
        """Whether its up runs in more than one transaction (online-safe changes)."""
        return any(c.phases for c in self.changes)

    def made_from(self) -> tuple[object, ...]:
        """Where and from what the plan was made: its server and database and the live
        fingerprints. Two pending plans made from the same are alternatives: once one is
        applied, apply refuses the other as stale."""
        return self.made_from_fields(self.target, self.live_fingerprint, self.redis_fingerprint)

    @staticmethod
    def made_from_fields(target: dict[str, Any], live: str, redis: str) -> tuple[object, ...]:
        """made_from() of a plan with this target and these fingerprints."""
        return (target.get("server"), target.get("database"), live, redis)

    def to_json(self) -> str:
        """The plan as its .plan.json holds it and `plan --json` prints it: indented, but the
        live objects' digests (one per live object, thousands) on one line at the end, so
        that a reviewer's diff of the file is its changes."""
        return "".join(self.json_chunks())

    def json_chunks(self) -> Iterator[str]:
        """to_json() piece by piece: a plan's lines are rendered as they are written. A plan
        without lines rendered on demand (every PostgreSQL plan) is written by json.dumps in
        one piece: the same text, several times faster than the piecewise writer. Text that is
        not valid Unicode (a Redis key's name that is not UTF-8) is written escaped."""
        return jsontext.utf8_pieces(self._json_pieces())

    def _json_pieces(self) -> Iterator[str]:
        streamed = any(isinstance(c.up, Lines) or isinstance(c.down, Lines) for c in self.changes)
        d = self.to_dict(lazy=streamed)
        objects = json.dumps(d.pop("live_objects"), ensure_ascii=False, separators=(",", ":"))
        if not streamed:
            text = jsontext.indented(d)
            yield f'{text[:-2]},\n  "live_objects": {objects}\n}}\n'
            return
        pieces = jsontext.chunks(d, 2)
        held = next(pieces)
        for piece in pieces:
            yield held
            held = piece
        assert held == "\n}", held  # the dict's closing: the live objects go before it
        yield f',\n  "live_objects": {objects}\n}}\n'

    def to_dict(self, *, lazy: bool = False) -> dict[str, Any]:
        """The plan as data; `lazy`: see PlannedChange.to_dict."""
        return {
            "format_version": self.format_version,
            "version": self.version,
            "slug": self.slug,
            "desired_hash": self.desired_hash,
            "live_fingerprint": self.live_fingerprint,
            "redis_fingerprint": self.redis_fingerprint,
            "target": self.target,
            "summary": self.counts(),
            "findings": list(self.findings),
            "unsupported": list(self.unsupported),
            "hazards": sorted(self.hazard_codes()),
            "changes": [c.to_dict(lazy=lazy) for c in self.changes],
            "files": self.files,
            "live_objects": self.live_objects,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str | None = None) -> Plan:
        try:
            if d.get("format_version") != FORMAT_VERSION:
                raise InputError(
                    f"Plan format {d.get('format_version')!r} is not supported "
                    f"(this version of reconciler reads format {FORMAT_VERSION}).",
                    source=source,
                )
            return cls(
                version=d["version"],
                slug=d["slug"],
                desired_hash=d["desired_hash"],
                live_fingerprint=d["live_fingerprint"],
                target=d["target"],
                changes=tuple(PlannedChange.from_dict(c) for c in d["changes"]),
                files=d.get("files", {}),
                redis_fingerprint=d.get("redis_fingerprint", ""),
                findings=tuple(d.get("findings", ())),
                unsupported=tuple(d.get("unsupported", ())),
                live_objects=dict(d.get("live_objects", {})),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(
                f"The plan file is missing or has a malformed field ({exc}).", source=source
            ) from None


_VERSION_FORMAT = "%Y%m%d%H%M%S"


def withheld_drops(findings: Any) -> list[dict[str, Any]]:
    """The findings that are drops the desired state implies and unmodelled objects forbid
    (diff/unmodeled.py): the database differs from the YAML, and no plan can change that."""
    return [f for f in findings if f.get("kind") == "withheld"]


def new_version(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime(_VERSION_FORMAT)


def next_version(version: str) -> str:
    """The version one second later (versions stay unique and ordered by time)."""
    at = datetime.strptime(version, _VERSION_FORMAT).replace(tzinfo=UTC)
    return new_version(at + timedelta(seconds=1))


def slug_for(changes: list[Change]) -> str:
    """A short file-name slug that says what the plan mostly does, e.g. `create_users`."""
    if not changes:
        return "no_changes"
    first = changes[0]
    name = first.address.parts[-1]
    verb = {Action.CREATE: "create", Action.DROP: "drop"}.get(first.action, "alter")
    text = f"{verb}_{first.kind}_{name}"
    if len(changes) > 1:
        text += f"_and_{len(changes) - 1}_more"
    text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return text[:60].rstrip("_") or "plan"


def build_plan(
    ordered: list[Change],
    *,
    desired_hash: str,
    live_fingerprint: str,
    target: dict[str, Any],
    version: str | None = None,
    redis_fingerprint: str = "",
    findings: tuple[dict[str, Any], ...] = (),
    unsupported: tuple[tuple[str, str], ...] = (),
    live_objects: dict[str, str] | None = None,
) -> Plan:
    return Plan(
        version=version or new_version(),
        slug=slug_for(ordered),
        desired_hash=desired_hash,
        live_fingerprint=live_fingerprint,
        target=target,
        changes=tuple(PlannedChange.from_change(c) for c in ordered),
        redis_fingerprint=redis_fingerprint,
        findings=findings,
        unsupported=tuple({"kind": kind, "name": name} for kind, name in unsupported),
        live_objects=live_objects or {},
    )
