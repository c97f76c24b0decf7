"""Plan files: `<version>_<slug>_up.sql`, `_down.sql`, `_up.redis`, `_down.redis`, `.plan.json`.

Each engine's files exist only when the plan changes that engine. The files are rendered
from the plan value, and apply executes the statements of the plan value only after checking
that the files on disk are byte-identical to that rendering and to the recorded sha256: what
was reviewed is exactly what runs. A plan identical to a pending one already saved (the
same content but for its version) is not written again (pending.py).
Files are written piece by piece (a Redis change over many keys renders its lines as they are
written, and the .plan.json is made by plan/jsontext.py), so that a plan over
a million keys to fix never holds its text: the bytes are those render() and json.dumps give.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from reconciler.errors import InputError, StalePlan
from reconciler.ops.base import AFTER, MAIN, ONLINE
from reconciler.ops.redis.proto import render as render_command
from reconciler.plan import Plan, PlannedChange, next_version
from reconciler.sql.layout import indented

ENGINES = ("pg", "redis")  # file order inside a combined document
_EXT = {"pg": "sql", "redis": "redis"}


def file_key(engine: str, direction: str) -> str:
    """Key of Plan.files: `up`/`down` for SQL (the first engine), `redis_up`/`redis_down`."""
    return direction if engine == "pg" else f"{engine}_{direction}"


def _sql_header(plan: Plan, direction: str, phased: bool = False) -> list[str]:
    c = plan.counts()
    head = [
        f"-- reconciler plan {plan.slug} ({direction}); the version is in the file name",
        f"-- desired state sha256: {plan.desired_hash}",
        f"-- live fingerprint before: {plan.live_fingerprint}",
        f"-- {c['add']} to add, {c['change']} to change, {c['drop']} to drop",
    ]
    if not phased:
        return [
            *head,
            "-- Statements run in one transaction when applied by reconciler; replayable with",
            "-- `psql -1 -v ON_ERROR_STOP=1 -f FILE`.",
        ]
    return [
        *head,
        "-- Online-safe: a first transaction, then statements that must run on their own while",
        "-- writes go on (indexes built concurrently, constraints validated), then a last",
        "-- transaction. Replayable with `psql -v ON_ERROR_STOP=1 -f FILE` (without -1).",
    ]


def _settings() -> list[str]:
    """SET of what the apply runs every statement under, for a replay by psql: the settings
    literals are read under (a timestamptz default `'2024-01-01 00:00'`, a date in a check)
    and the search_path bare names in desired text resolve in. A session's own (PGTZ, an
    ALTER ROLE … SET search_path) would otherwise make the replay another schema."""
    from reconciler.connect import APPLY_SEARCH_PATH, LITERAL_SETTINGS  # deferred: start-up
    from reconciler.sql.render import literal  # deferred: start-up

    pinned = {**LITERAL_SETTINGS, "client_encoding": "UTF8", "search_path": APPLY_SEARCH_PATH}
    return [
        "",
        "-- The settings reconciler runs the statements under (literals and names read alike).",
        *(f"SET {name} = {literal(value)};" for name, value in pinned.items()),
    ]


def replay_flags(plan: Plan, direction: str) -> list[str]:
    """psql flags that replay one SQL file of the plan the way reconciler runs it."""
    return [] if direction == "up" and plan.phased() else ["-1"]


def _sql_lines(statements: tuple[str, ...], legacy: bool = False) -> list[str]:
    """Each statement ended by `;`, its continuation lines indented (sql/layout.py: only
    where SQL ignores the spaces); `legacy`: as they are, as files were written before."""
    shown = statements if legacy else tuple(indented(s) for s in statements)
    return [f"{s};" if not s.startswith("--") else s for s in shown]


def _sql_block(
    change: PlannedChange,
    statements: tuple[str, ...],
    symbol: str,
    transactional: bool = True,
    legacy: bool = False,
) -> list[str]:
    lines = ["", f"-- {symbol} {change.address}: {change.description}"]
    lines += [f"--   hazard {h['code']}: {h['message']}" for h in change.hazards]
    if not transactional:
        lines.append("--   runs before, outside the transaction (reconciler does this itself)")
    return lines + _sql_lines(statements, legacy)


_PHASE_NOTES = {
    MAIN: ["", "BEGIN;"],
    ONLINE: ["", "COMMIT;", "", "-- Each statement below on its own, after the commit."],
    AFTER: ["", "BEGIN;"],
}


def _phased_sql(changes: list[PlannedChange], legacy: bool = False) -> list[str]:
    """The up file of a phased plan: each phase's statements, change by change."""
    lines: list[str] = []
    shown: set[str] = set()
    for phase in (MAIN, ONLINE, AFTER):
        lines += _PHASE_NOTES[phase]
        for c in changes:
            statements = tuple(s for s, p in zip(c.up, c.up_phases(), strict=True) if p == phase)
            if not statements:
                continue
            if c.address in shown:
                lines += ["", f"-- {c.symbol} {c.address} (continued)"]
                lines += _sql_lines(statements, legacy)
            else:
                lines += _sql_block(c, statements, c.symbol, c.transactional, legacy)
            shown.add(c.address)
    return [*lines, "", "COMMIT;"]


def _redis_note(text: str, legacy: bool = False) -> str:
    # redis-cli has no comments; ECHO is harmless and prints the note when a file is replayed.
    return render_command("ECHO", text, escape_text=legacy)


def render(plan: Plan, engine: str, direction: str, *, legacy: bool = False) -> str:
    """The text of one plan file; empty when the plan has no change for that engine.

    A plan written by an earlier version of reconciler, whose recorded checksum is that of
    its files as that version laid them out, is rendered that way: its files, and the copies
    its applies recorded, stay its own. Two layouts came before: SQL files without the
    settings (_settings), and before those (`legacy`) continuation lines of SQL statements
    not indented, UTF-8 escaped byte by byte in the Redis files.
    """
    text = _render(plan, engine, direction, legacy, settings=not legacy)
    meta = plan.files.get(file_key(engine, direction))
    if text and not legacy and meta and sha256(text) != meta.get("sha256"):
        earlier = [(True, False)] if engine != "pg" else [(False, False), (True, False)]
        for old, settings in earlier:
            before = _render(plan, engine, direction, old, settings=settings)
            if sha256(before) == meta.get("sha256"):
                return before
    return text


def _render(plan: Plan, engine: str, direction: str, legacy: bool, *, settings: bool) -> str:
    if not any(c.engine == engine for c in plan.changes):
        return ""
    return "".join(f"{line}\n" for line in _lines(plan, engine, direction, legacy, settings))


def _lines(plan: Plan, engine: str, direction: str, legacy: bool, settings: bool) -> Iterator[str]:
    """The lines of one plan file, each without its line break; a Redis file's are made as
    they are read (a change over many keys renders its commands from the keys)."""
    changes = [c for c in plan.changes if c.engine == engine]
    if direction == "down":
        changes = list(reversed(changes))
    lines: list[str] = []
    pinned = _settings() if settings else []
    if engine == "pg" and direction == "up" and plan.phased():
        lines = _sql_header(plan, "up", phased=True) + pinned + _phased_sql(changes, legacy)
    elif engine == "pg":
        lines = _sql_header(plan, "up" if direction == "up" else "down: reverts the up file")
        lines += pinned
        for c in changes:
            if direction == "up":
                lines += _sql_block(c, c.up, c.symbol, c.transactional, legacy)
            else:
                lines += _sql_block(c, c.down, "revert", c.down_transactional, legacy)
    else:
        return _redis_lines(plan, changes, direction, legacy)
    return iter(lines)


def _redis_lines(
    plan: Plan, changes: list[PlannedChange], direction: str, legacy: bool
) -> Iterator[str]:
    yield _redis_note(f"reconciler plan {plan.slug} ({direction})", legacy)
    for c in changes:
        symbol = c.symbol if direction == "up" else "revert"
        yield _redis_note(f"{symbol} {c.address}: {c.description}", legacy)
        for command in c.up if direction == "up" else c.down:
            if legacy:
                yield command
            else:
                yield from _unreplayable_secret(command)


# A password rule `>${NAME}` is filled in by apply from the environment; written as it is, a
# replay of the file by redis-cli would set the literal text `${NAME}` as the password.
_PASSWORD_RULE = re.compile(r'">\$\{([A-Za-z_][A-Za-z0-9_]*)\}"')
_KEPT_RULE = '"#${reconciler:'


def _unreplayable_secret(command: str) -> list[str]:
    """`command`, or — when it holds a password only apply can fill in — a note saying so
    and the command with that rule written as `"password-from-env:NAME"`: a modifier ACL
    SETUSER refuses, so that a replay by redis-cli fails that whole command (Redis applies
    none of its rules) instead of setting a password anyone reading the file could guess."""
    if _KEPT_RULE in command:  # a kept hash: not 64 hex digits, refused by Redis as it is
        return [
            _redis_note(
                "the next command gives back passwords Redis keeps; only "
                "reconciler rollback can: replayed here, Redis refuses it"
            ),
            command,
        ]
    if not _PASSWORD_RULE.search(command):
        return [command]
    names = ", ".join(f"${m}" for m in _PASSWORD_RULE.findall(command))
    note = _redis_note(
        f"the next command sets the password from {names}: only reconciler apply can; "
        "replayed here, Redis refuses it"
    )
    return [note, _PASSWORD_RULE.sub(r'"password-from-env:\1"', command)]


def document(plan: Plan, direction: str) -> str:
    """Every engine's file of one direction, concatenated: what the state keeps as text."""
    return "".join(render(plan, engine, direction) for engine in ENGINES)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write_plan(plan: Plan, out_dir: Path) -> tuple[Plan, Path]:
    """Write the plan's files; returns the plan with its file checksums and the json path.

    A version already used in out_dir (two plans within one second) moves to the next free
    second, so no plan file is ever overwritten. A folder that cannot be written is an
    InputError (nothing has been applied: apply writes its plan before it starts).
    """
    try:
        return _write_plan(plan, out_dir)
    except OSError as exc:
        raise InputError(
            f"The plan could not be written to {out_dir}/: {exc.strerror or exc}.",
            detail="Pass --out with a folder this user may write.",
        ) from None


# A plan's file is written under a hidden temporary name, renamed once whole. One not written
# to for this long belongs to a run that was killed: no run writes a file that slowly.
_ABANDONED_S = 3600


def _write_plan(plan: Plan, out_dir: Path) -> tuple[Plan, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(out_dir)
    while any(out_dir.glob(f"{plan.version}_*")):
        plan = dataclasses.replace(plan, version=next_version(plan.version))
    files: dict[str, dict[str, str]] = {}
    written: list[tuple[Path, Path]] = []
    try:
        for key, name, pieces in plan_files(plan):
            tmp = out_dir / f".{name}.tmp"
            written.append((tmp, out_dir / name))
            files[key] = {"name": name, "sha256": _stream(tmp, pieces)}
        plan = dataclasses.replace(plan, files=files)
        json_path = out_dir / f"{plan.name}.plan.json"
        json_tmp = out_dir / f".{json_path.name}.tmp"
        written.append((json_tmp, json_path))
        _stream(json_tmp, plan.json_chunks())
    except BaseException:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, path in written:  # the .plan.json last, as before: a plan is whole once it is there
        os.replace(tmp, path)
    return plan, json_path


def _remove_abandoned(out_dir: Path) -> None:
    """Remove the temporary files of plans whose run was killed while writing them."""
    now = time.time()
    for tmp in out_dir.glob(".*.tmp"):
        try:
            if tmp.is_file() and now - tmp.stat().st_mtime > _ABANDONED_S:
                tmp.unlink()
        except OSError:
            continue  # gone meanwhile, or not ours to remove: the plan is written all the same


def plan_files(plan: Plan) -> Iterator[tuple[str, str, Iterator[str]]]:
    """Each file the plan is written as, but its .plan.json: (its key in Plan.files, its name,
    its text piece by piece), in the order the files are written and recorded."""
    for engine in ENGINES:
        if any(c.engine == engine for c in plan.changes):
            for direction in ("up", "down"):
                name = f"{plan.name}_{direction}.{_EXT[engine]}"
                yield file_key(engine, direction), name, _file_pieces(plan, engine, direction)


def _file_pieces(plan: Plan, engine: str, direction: str) -> Iterator[str]:
    """What render() gives, piece by piece; a plan already carrying the checksums of its
    files (saved by an earlier version) is rendered whole, as render() chooses its layout."""
    if plan.files.get(file_key(engine, direction)):
        yield render(plan, engine, direction)
        return
    for line in _lines(plan, engine, direction, False, True):
        yield f"{line}\n"


def _stream(path: Path, pieces: Iterator[str]) -> str:
    """Write `pieces` to `path` as UTF-8 (as Path.write_text does); their sha256."""
    digest = hashlib.sha256()
    with open(path, "w", encoding="utf-8") as out:
        for piece in pieces:
            out.write(piece)
            digest.update(piece.encode())
    return digest.hexdigest()


def find_plan(version: str, plans_dir: Path) -> Path:
    """The .plan.json of a saved plan's version in `plans_dir`."""
    matches = sorted(plans_dir.glob(f"{version}_*.plan.json"))
    if not matches:
        raise InputError(f"No saved plan with version {version} in {plans_dir}/.")
    return matches[0]


def read_plan(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"No plan file at {path}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"The plan file cannot be read: {exc}.", source=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("The plan file is not a JSON object.", source=str(path))
    return Plan.from_dict(data, source=str(path))


def verify_files(plan: Plan, plan_dir: Path, *, direction: str = "up") -> str:
    """Prove every file of one direction is unedited; StalePlan otherwise. Returns what was
    proved: the direction's `document` (so that a caller need not render it again)."""
    texts = []
    for engine in ENGINES:
        expected = render(plan, engine, direction)
        texts.append(expected)
        meta = plan.files.get(file_key(engine, direction))
        if not expected and not meta:
            continue
        if not meta:
            raise StalePlan(f"The plan records no {direction} file for {engine}; it cannot be run.")
        path = plan_dir / meta["name"]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            raise StalePlan(f"The plan's {direction} file {path} is missing.") from None
        if sha256(text) != meta["sha256"]:
            raise StalePlan(
                f"The {direction} file {path} was edited after planning (checksum mismatch).",
                detail="Make a new plan instead of editing generated files.",
            )
        if text != expected:  # the file is as written: the plan's statements are not
            raise StalePlan(
                f"The .plan.json was edited after planning: its {direction} statements are "
                f"not those of its {direction} file {path}.",
                detail="Make a new plan instead of editing generated files.",
            )
    return "".join(texts)
