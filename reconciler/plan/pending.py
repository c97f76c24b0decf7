"""A plan identical to one already pending in its folder is not written again.

Owns: `save_plan` (write the plan, or name the pending one it is identical to) and what makes
a saved plan identical: its .plan.json and its files are, byte for byte, what writing this
plan under the saved plan's version would give. Both sides are hashed as they are read and
rendered, never held whole: a second plan of a keyspace with a million keys to fix reads the
saved one in constant memory (reading it whole cost more than the plan itself).
Must not: write a file that already exists (write_plan moves to a free version) or decide
what a plan holds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from reconciler.plan import Plan
from reconciler.plan.files import plan_files, write_plan

# Where its changes start, in the layout of json.dumps(indent=2)
_CHANGES = '\n  "changes": '
# A head (findings and unsupported objects included) past this is not read, nor its plan reused.
_HEAD_MAX = 16 << 20
_BLOCK = 1 << 16


def save_plan(
    plan: Plan, out_dir: Path, recorded: Callable[[str], bool]
) -> tuple[Plan, Path, bool]:
    """write_plan, unless out_dir already holds a not-yet-applied plan identical to `plan`
    but for its version (`recorded`: whether the state records a version): then that plan
    and its path, and False for "not written". Planning twice without a change in between
    leaves one plan, not two."""
    if out_dir.is_dir() and (same := identical_pending(plan, out_dir, recorded)) is not None:
        return same[0], same[1], False
    return (*write_plan(plan, out_dir), True)


def identical_pending(
    plan: Plan, out_dir: Path, recorded: Callable[[str], bool]
) -> tuple[Plan, Path] | None:
    """The newest plan in out_dir that is `plan` under its own version, files included, with
    that version unknown to the state (`recorded`: applied or rolled back); None when none
    is, or when a newer pending plan made from the same live state differs (it supersedes
    the older ones, so a new plan is written to supersede it in turn). A saved plan laid out
    otherwise than this version writes plans (edited by hand, say) is not taken as the same.
    """
    made_from, mine = plan.made_from(), _head_fields(plan)
    for path in sorted(out_dir.glob("*.plan.json"), reverse=True):
        head = _head(path)
        if head is None:
            continue  # not a plan this version can read
        if recorded(head["version"]):
            break  # older ones were made before an apply: against another live state
        if {k: v for k, v in head.items() if k != "version"} == mine:  # else not rendered
            same = _same_as_saved(plan, path, head["version"])
            if same is not None:
                return same, path
        if Plan.made_from_fields(head["target"], *_fingerprints(head)) == made_from:
            break  # a newer plan from this state supersedes any older one: not ours
    return None


def _fingerprints(head: dict[str, Any]) -> tuple[str, str]:
    return head["live_fingerprint"], head["redis_fingerprint"]


def _head_fields(plan: Plan) -> dict[str, Any]:
    """What _head() reads of `plan` once saved, but its version: as JSON gives it back."""
    d = plan.to_dict(lazy=True)
    names = list(d)[: list(d).index("changes")]
    return json.loads(json.dumps({k: d[k] for k in names if k != "version"}))


def _head(path: Path) -> dict[str, Any] | None:
    """The fields a saved .plan.json holds before its changes (version, target, fingerprints),
    read without the rest; None when it is laid out otherwise or cannot be read."""
    try:
        with _opened(path) as f:
            if f is None:
                return None
            text = _text_before(io.TextIOWrapper(f, encoding="utf-8"), _CHANGES)
        head = json.loads(text.rstrip().removesuffix(",") + "\n}") if text is not None else None
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    wanted = {"version": str, "target": dict, "live_fingerprint": str, "redis_fingerprint": str}
    if not isinstance(head, dict) or any(
        not isinstance(head.get(key), kind) for key, kind in wanted.items()
    ):
        return None
    return head


def _text_before(f: io.TextIOBase, mark: str) -> str | None:
    """The text of `f` before the first `mark`, read a block at a time; None when there is
    none within _HEAD_MAX characters."""
    parts: list[str] = []
    size, tail = 0, ""
    while chunk := f.read(_BLOCK):
        at = (tail + chunk).find(mark)
        if at != -1:
            return ("".join(parts) + chunk)[: size - len(tail) + at]
        parts.append(chunk)
        size += len(chunk)
        if size > _HEAD_MAX:
            return None
        tail = (tail + chunk)[-len(mark) :]
    return None


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[BinaryIO | None]:
    """`path` open for reading when it is a regular file (a FIFO would block the read for
    ever, a device never end), else None."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except BaseException:
        os.close(fd)
        raise
    if not regular:
        os.close(fd)
        yield None
        return
    with os.fdopen(fd, "rb") as f:
        yield f


def _same_as_saved(plan: Plan, json_path: Path, version: str) -> Plan | None:
    """`plan` under `version`, with the checksums of its files, when the saved plan at
    `json_path` and its files hold exactly the bytes writing it would give; else None."""
    mine = dataclasses.replace(plan, version=version)
    if json_path.name != f"{mine.name}.plan.json":
        return None
    files: dict[str, dict[str, str]] = {}
    for key, name, pieces in plan_files(mine):
        digest = _digest(pieces)
        if _file_digest(json_path.parent / name) != digest:
            return None
        files[key] = {"name": name, "sha256": digest}
    mine = dataclasses.replace(mine, files=files)
    return mine if _file_digest(json_path) == _digest(mine.json_chunks()) else None


def _digest(pieces: Iterator[str]) -> str:
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece.encode())
    return digest.hexdigest()


def _file_digest(path: Path) -> str | None:
    try:
        with _opened(path) as f:
            return hashlib.file_digest(f, "sha256").hexdigest() if f is not None else None
    except OSError:
        return None
