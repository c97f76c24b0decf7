"""Desired state: the YAML files under a root directory, loaded, validated and normalized.

Owns: reading `*.yaml`/`*.yml` (line-marked), the file formats (spec.py for Postgres,
keyspec.py for the Redis files below any `keys/` directory), turning them into the shared value
models (build.py and the per-kind builders it runs over a context.py Context; keys.py) and
the seed's lint rules (lint.py). SQL text is checked by reconciler.sql.
Must not: talk to a server (the planner asks the server for canonical expression text).
Every problem in every file is collected before one InputError is raised; no exception of
yaml, pydantic or pglast escapes load(), but any other one out of a validator is a bug and is
raised as itself (a builder's is chained to the InputError). A tree loaded before, unchanged,
comes from project/cache.py; the parsing and validation modules are imported only when it does not.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import InputError, Problem
from reconciler.project import MAX_BYTES, cache

if TYPE_CHECKING:  # the model is loaded by whoever builds or reads a Desired, not by Tree's users
    from reconciler.desired.lint_rules import LintIgnore
    from reconciler.model.address import Address
    from reconciler.model.redis import RedisSnapshot
    from reconciler.model.snapshot import PgSnapshot

__all__ = ["Desired", "Tree", "display_path", "is_keys_file", "load", "read_tree"]

KEYS_DIR = "keys"  # YAML below a directory of this name (at any depth) is a Redis spec


@dataclass(frozen=True, slots=True)
class Desired:
    pg: PgSnapshot  # normalized
    files: tuple[Path, ...]  # the YAML files read (Postgres and Redis), sorted
    digest: str  # sha256 over (relative path, bytes) of every file read
    # table / key pattern / ACL user address → ignores
    lint_ignores: Mapping[Address, tuple[LintIgnore, ...]]
    redis: RedisSnapshot | None = None  # None: no YAML below any keys/ directory


@dataclass(frozen=True, slots=True)
class Tree:
    """A desired-state tree's files as read (not parsed), and what identifies them."""

    root: Path
    files: tuple[Path, ...]
    raws: tuple[bytes | None, ...]  # None: unreadable or too large (see `unread`)
    unread: tuple[tuple[str, int, str], ...]  # (shown path, line, message)
    digest: str  # sha256 over (relative path, bytes) of every file read

    @property
    def key(self) -> str | None:
        """Cache key of its load: the bytes, the root as given, and the working directory
        (messages show paths relative to it). None when a file could not be read."""
        if self.unread:
            return None
        return cache.key("desired", os.path.abspath(self.root), os.getcwd(), self.digest)

    def cached(self) -> bool:
        """Whether a load of exactly these files succeeded before (they are valid)."""
        return self.key is not None and cache.exists(self.key)


def read_tree(root: Path) -> Tree:
    """Every *.yaml / *.yml below `root`, read but not parsed; InputError when no directory."""
    root = Path(root)
    shown_root = display_path(root).rstrip("/") + "/"
    if not root.is_dir():
        raise InputError(f"{shown_root} is not a directory with desired-state YAML files.")
    found = _yaml_files(root)
    if not found:
        raise InputError(
            f"{shown_root} holds no YAML file: a desired state of nothing would drop "
            "everything in scope.",
            detail="Check the path (--schemas). To drop everything on purpose, put an empty "
            "YAML file there (a desired state that declares nothing).",
        )
    files = [path for _, path in found]
    raws: list[bytes | None] = []
    unread: list[tuple[str, int, str]] = []
    digest = hashlib.sha256()
    for relative, path in found:
        rel = relative.encode("utf-8", "surrogateescape")
        try:
            raw = _read_file(path)
        except OSError as exc:
            raw = f"cannot read the file: {exc.strerror or exc}"
        if isinstance(raw, str):
            unread.append((display_path(path), 1, raw))
            raws.append(None)
            continue
        digest.update(b"%d:%s%d:" % (len(rel), rel, len(raw)) + raw)
        raws.append(raw)
    return Tree(root, tuple(files), tuple(raws), tuple(unread), digest.hexdigest())


_NOT_REGULAR = "not a regular file (a FIFO, socket or device holds no desired state)"
_TOO_LARGE = f"file is larger than {MAX_BYTES // 2**20} MiB"


def _read_file(path: Path) -> bytes | str:
    """The bytes of the file at `path`, or the reason they are not read. Four system calls
    (open, fstat, read, close), half of what a Python file object makes: a tree of a thousand
    tables is read on every plan. A FIFO is opened without waiting for a writer and, like a
    socket or a device, never read: a plan must not hang on one, nor read without end."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno != errno.ENXIO:  # what opening a socket says
            raise
        return _NOT_REGULAR
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return _NOT_REGULAR
        if st.st_size > MAX_BYTES:
            return _TOO_LARGE  # refused unread
        chunks, size, want = [], 0, st.st_size + 1  # one read, and one more to see the end
        while size <= MAX_BYTES and (chunk := os.read(fd, min(want, MAX_BYTES + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
            want = 1 << 16  # the file grew since its size was read
    finally:
        os.close(fd)
    if size > MAX_BYTES:  # it grew while it was read
        return _TOO_LARGE
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def load(root: Path | Tree) -> Desired:
    """Read every YAML file below `root` (or use a Tree read already); raise InputError
    listing all problems found."""
    tree = root if isinstance(root, Tree) else read_tree(root)
    entry = tree.key
    found = cache.get(entry) if entry else None
    if isinstance(found, Desired):
        return replace(found, files=tree.files)  # the key covers them; Paths unpickle slowly
    desired = _parse(tree)
    if entry:
        cache.put(entry, replace(desired, files=()))
    return desired


def _parse(tree: Tree) -> Desired:
    # deferred (all three): pglast and yaml load only when the cache cannot answer; pydantic
    # (spec.py, keyspec.py, keys.py) only for a file fastspec.py does not read, or Redis files
    from reconciler.desired.build import SourceFile, build  # deferred: see above
    from reconciler.desired.fastspec import read_file  # deferred: see above
    from reconciler.project.yamlload import YamlError, load_bytes  # deferred: see above

    root, files, digest = tree.root, tree.files, tree.digest
    shown_root = display_path(root).rstrip("/") + "/"
    problems: list[tuple[str, int, str]] = list(tree.unread)
    sources: list[SourceFile] = []
    key_sources: list[KeysSource] = []
    has_keys = False
    failed = False
    for path, raw in zip(files, tree.raws, strict=True):
        shown = display_path(path)
        redis = is_keys_file(path, root)
        has_keys = has_keys or redis
        if raw is None:
            failed = failed or not redis  # Redis files hold nothing Postgres refers to
            continue
        try:
            loaded = load_bytes(raw)
        except YamlError as exc:
            problems.append((shown, exc.line, exc.message))
            failed = failed or not redis
            continue
        problems += [(shown, line, msg) for line, msg in loaded.problems]
        if loaded.data is None:
            continue  # an empty file (or only comments) declares nothing
        # Validation errors come back as (line, message) problems; any other exception out of
        # a validator is a bug and is raised as itself (--debug shows where it came from).
        if redis:
            from reconciler.desired.keys import KeysSource  # deferred: pydantic, as above
            from reconciler.desired.keyspec import validate_keys_file  # deferred: as above

            spec, spec_problems = validate_keys_file(loaded.data, loaded.marks)
        elif (spec := read_file(loaded.data)) is not None:
            spec_problems = []  # valid, read without pydantic
        else:
            from reconciler.desired.spec import validate_file  # deferred: pydantic, as above

            spec, spec_problems = validate_file(loaded.data, loaded.marks)
        problems += [(shown, line, msg) for line, msg in spec_problems]
        if spec is None:
            failed = failed or not redis
        elif redis:
            key_sources.append(KeysSource(shown, spec, loaded.marks))
        else:
            sources.append(SourceFile(shown, spec, loaded.marks))
    # An exception other than a ReconcilerError here is a bug: it reaches the CLI as itself
    # ("unexpected …", its traceback under --debug), never dressed as a mistake in the YAML.
    built = build(sources, complete=not failed)
    built_redis = None
    if has_keys:
        from reconciler.desired.keys import build_redis  # deferred: pydantic, as above

        built_redis = build_redis(key_sources)
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
        digest,
        ignores,
        built_redis.snapshot if built_redis is not None else None,
    )


def yaml_files(root: Path) -> list[Path]:
    """Every *.yaml / *.yml below root, sorted by relative path; hidden ones (a name starting
    with a dot, or below a folder named so) left out."""
    return [path for _, path in _yaml_files(Path(root))]


def _yaml_files(root: Path) -> list[tuple[str, Path]]:
    """(relative path with `/`, path) of every *.yaml / *.yml below root, sorted by the
    relative path, which is worked out as text while walking (one Path made per file).

    Hidden names are left out, files and folders: what editors and tools keep beside the
    files (Emacs's lock `.#users.yaml`, a link to nowhere while the file is being edited;
    `.git/`; a folder set aside as `.old/`) is not desired state. A linked folder is followed
    like a linked file (skipping it would leave its tables out: planned as drops), each real
    folder once, so a link back up the tree ends the walk there."""
    top = os.fspath(root)
    found: list[tuple[str, str]] = []
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen:
            dirnames.clear()  # reached again through a link: walked already
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        below = os.path.relpath(dirpath, top)
        prefix = "" if below == os.curdir else below.replace(os.sep, "/") + "/"
        found += [
            (prefix + f, os.path.join(dirpath, f))
            for f in filenames
            if f.endswith((".yaml", ".yml")) and not f.startswith(".")
        ]
    found.sort()
    return [(rel, Path(path)) for rel, path in found]


def is_keys_file(path: Path, root: Path) -> bool:
    """Whether `path` lies below a `keys/` directory under `root` (a Redis spec)."""
    return KEYS_DIR in os.path.relpath(path, root).split(os.sep)[:-1]


def display_path(path: Path) -> str:
    """`path` relative to the working directory when below it, else absolute."""
    absolute, cwd = os.path.abspath(path), os.getcwd()
    if absolute == cwd:
        return "."
    below = cwd if cwd.endswith(os.sep) else cwd + os.sep  # "/" is its own parent's end
    return absolute[len(below) :] if absolute.startswith(below) else absolute
