"""Desired state: the YAML files under a root directory, loaded, validated and normalized.

Owns: reading `*.yaml`/`*.yml` (line-marked), the file format (spec.py), turning it into the
shared value model (build.py), SQL text checks (sqltext.py) and the seed's lint rules (lint.py).
Must not: talk to a server (the planner asks the server for canonical expression text) or
read `keys/` directories (Redis key specs belong to another loader).
Every problem in every file is collected before one InputError is raised; no exception of
yaml, pydantic or pglast escapes load().
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.desired.build import SourceFile, build
from reconciler.desired.lint import LintIgnore
from reconciler.desired.spec import validate_file
from reconciler.desired.yamlload import MAX_BYTES, YamlError, load_bytes
from reconciler.errors import InputError, Problem
from reconciler.model.address import Address
from reconciler.model.snapshot import PgSnapshot

__all__ = ["Desired", "LintIgnore", "display_path", "load"]

SKIPPED_DIRS = frozenset({"keys"})  # Redis key specs, loaded elsewhere


@dataclass(frozen=True, slots=True)
class Desired:
    pg: PgSnapshot  # normalized
    files: tuple[Path, ...]  # the YAML files read, sorted
    digest: str  # sha256 over (relative path, bytes) of every file read
    lint_ignores: Mapping[Address, tuple[LintIgnore, ...]]  # table address → ignores


def load(root: Path) -> Desired:
    """Read every YAML file below `root`; raise InputError listing all problems found."""
    root = Path(root)
    shown_root = display_path(root).rstrip("/") + "/"
    if not root.is_dir():
        raise InputError(f"{shown_root} is not a directory with desired-state YAML files.")
    files = yaml_files(root)
    problems: list[tuple[str, int, str]] = []
    sources: list[SourceFile] = []
    digest = hashlib.sha256()
    failed = False
    for path in files:
        shown = display_path(path)
        rel = path.relative_to(root).as_posix().encode()
        try:
            if path.stat().st_size > MAX_BYTES:
                raise YamlError(1, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
            raw = path.read_bytes()
            digest.update(b"%d:%s%d:" % (len(rel), rel, len(raw)) + raw)
            loaded = load_bytes(raw)
        except YamlError as exc:
            problems.append((shown, exc.line, exc.message))
            failed = True
            continue
        except OSError as exc:
            problems.append((shown, 1, f"cannot read the file: {exc.strerror or exc}"))
            failed = True
            continue
        problems += [(shown, line, msg) for line, msg in loaded.problems]
        if loaded.data is None:
            continue  # an empty file (or only comments) declares nothing
        try:
            spec, spec_problems = validate_file(loaded.data, loaded.marks)
        except Exception as exc:  # a bug must still reach the user as a sentence
            spec, spec_problems = None, [(1, f"the file could not be validated: {exc!r}")]
        problems += [(shown, line, msg) for line, msg in spec_problems]
        if spec is None:
            failed = True
        else:
            sources.append(SourceFile(shown, spec, loaded.marks))
    try:
        built = build(sources, complete=not failed)
    except Exception as exc:  # a bug must still reach the user as a sentence
        raise InputError(f"{shown_root} could not be validated: {exc!r}") from exc
    problems += built.problems
    if problems:
        order = {display_path(p): i for i, p in enumerate(files)}
        problems = sorted(set(problems), key=lambda p: (order.get(p[0], -1), p[1], p[2]))
        count = f"{len(problems)} error{'s' if len(problems) != 1 else ''}"
        raise InputError(
            f"{shown_root} has {count}.",
            problems=[Problem(msg, source=f"{shown}:{line}") for shown, line, msg in problems],
        )
    return Desired(built.snapshot, tuple(files), digest.hexdigest(), built.lint_ignores)


def yaml_files(root: Path) -> list[Path]:
    """Every *.yaml / *.yml below root, sorted by relative path, skipping keys/ directories."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        found += [Path(dirpath, f) for f in filenames if f.endswith((".yaml", ".yml"))]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def display_path(path: Path) -> str:
    """`path` relative to the working directory when below it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()
