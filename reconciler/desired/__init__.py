"""Desired state: the YAML files under a root directory, loaded, validated and normalized.

Owns: reading `*.yaml`/`*.yml` (line-marked), the file formats (spec.py for Postgres,
keyspec.py for the Redis files below any `keys/` directory), turning them into the shared value
models (build.py, keys.py), SQL text checks (sqltext.py) and the seed's lint rules (lint.py).
Must not: talk to a server (the planner asks the server for canonical expression text).
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
from reconciler.desired.keys import KeysSource, build_redis
from reconciler.desired.keyspec import validate_keys_file
from reconciler.desired.lint import LintIgnore
from reconciler.desired.spec import validate_file
from reconciler.desired.yamlload import MAX_BYTES, YamlError, load_bytes
from reconciler.errors import InputError, Problem
from reconciler.model.address import Address
from reconciler.model.redis import RedisSnapshot
from reconciler.model.snapshot import PgSnapshot

__all__ = ["Desired", "LintIgnore", "display_path", "is_keys_file", "load"]

KEYS_DIR = "keys"  # YAML below a directory of this name (at any depth) is a Redis spec


@dataclass(frozen=True, slots=True)
class Desired:
    pg: PgSnapshot  # normalized
    files: tuple[Path, ...]  # the YAML files read (Postgres and Redis), sorted
    digest: str  # sha256 over (relative path, bytes) of every file read
    # table / key pattern / ACL user address → ignores
    lint_ignores: Mapping[Address, tuple[LintIgnore, ...]]
    redis: RedisSnapshot | None = None  # None: no YAML below any keys/ directory


def load(root: Path) -> Desired:
    """Read every YAML file below `root`; raise InputError listing all problems found."""
    root = Path(root)
    shown_root = display_path(root).rstrip("/") + "/"
    if not root.is_dir():
        raise InputError(f"{shown_root} is not a directory with desired-state YAML files.")
    files = yaml_files(root)
    problems: list[tuple[str, int, str]] = []
    sources: list[SourceFile] = []
    key_sources: list[KeysSource] = []
    has_keys = False
    digest = hashlib.sha256()
    failed = False
    for path in files:
        shown = display_path(path)
        rel = path.relative_to(root).as_posix().encode()
        redis = is_keys_file(path, root)
        has_keys = has_keys or redis
        try:
            if path.stat().st_size > MAX_BYTES:
                raise YamlError(1, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
            raw = path.read_bytes()
            digest.update(b"%d:%s%d:" % (len(rel), rel, len(raw)) + raw)
            loaded = load_bytes(raw)
        except YamlError as exc:
            problems.append((shown, exc.line, exc.message))
            failed = failed or not redis  # Redis files hold nothing Postgres refers to
            continue
        except OSError as exc:
            problems.append((shown, 1, f"cannot read the file: {exc.strerror or exc}"))
            failed = failed or not redis
            continue
        problems += [(shown, line, msg) for line, msg in loaded.problems]
        if loaded.data is None:
            continue  # an empty file (or only comments) declares nothing
        validate = validate_keys_file if redis else validate_file
        try:
            spec, spec_problems = validate(loaded.data, loaded.marks)
        except Exception as exc:  # a bug must still reach the user as a sentence
            spec, spec_problems = None, [(1, f"the file could not be validated: {exc!r}")]
        problems += [(shown, line, msg) for line, msg in spec_problems]
        if spec is None:
            failed = failed or not redis
        elif redis:
            key_sources.append(KeysSource(shown, spec, loaded.marks))
        else:
            sources.append(SourceFile(shown, spec, loaded.marks))
    try:
        built = build(sources, complete=not failed)
        built_redis = build_redis(key_sources) if has_keys else None
    except Exception as exc:  # a bug must still reach the user as a sentence
        raise InputError(f"{shown_root} could not be validated: {exc!r}") from exc
    problems += built.problems
    ignores = dict(built.lint_ignores)
    if built_redis is not None:
        problems += built_redis.problems
        ignores.update(built_redis.lint_ignores)
    if problems:
        order = {display_path(p): i for i, p in enumerate(files)}
        problems = sorted(set(problems), key=lambda p: (order.get(p[0], -1), p[1], p[2]))
        count = f"{len(problems)} error{'s' if len(problems) != 1 else ''}"
        raise InputError(
            f"{shown_root} has {count}.",
            problems=[Problem(msg, source=f"{shown}:{line}") for shown, line, msg in problems],
        )
    return Desired(
        built.snapshot,
        tuple(files),
        digest.hexdigest(),
        ignores,
        built_redis.snapshot if built_redis is not None else None,
    )


def yaml_files(root: Path) -> list[Path]:
    """Every *.yaml / *.yml below root, sorted by relative path."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found += [Path(dirpath, f) for f in filenames if f.endswith((".yaml", ".yml"))]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def is_keys_file(path: Path, root: Path) -> bool:
    """Whether `path` lies below a `keys/` directory under `root` (a Redis spec)."""
    return KEYS_DIR in path.relative_to(root).parts[:-1]


def display_path(path: Path) -> str:
    """`path` relative to the working directory when below it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()
