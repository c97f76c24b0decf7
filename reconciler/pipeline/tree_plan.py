"""A plan for the files of a desired-state tree, the way `plan` makes it: the files read while
the server reads its catalog, and an unchanged catalog against unchanged files answered from the
local cache.

Owns: the order of the reads of one plan (files, catalog) and the verdict "no changes" kept in
project/cache.py.
Must not: decide anything about the plan itself (planner.make_plan does), or print.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from reconciler.desired import Desired, Tree
from reconciler.desired import load as load_desired
from reconciler.desired.findings import Finding
from reconciler.pipeline import prefetch
from reconciler.pipeline.collector import collector_paused
from reconciler.pipeline.planner import (
    LARGE_ROWS,
    Live,
    Targets,
    build_plan,
    make_plan,
    read_live,
    target_of,
)
from reconciler.plan import Plan
from reconciler.project import cache

if TYPE_CHECKING:
    from reconciler.introspect.pg.catalog_rows import CatalogRows
    from reconciler.project.scope import Scope

NO_CHANGES = "no changes"
# While the files are parsed (all Python, holding the interpreter lock), the catalog thread
# needs the lock back each time the server's rows arrive: at the default 5 ms switch interval
# it waited there more than it read (a 0.2 s read took 0.97 s at 1,000 tables, 0.5 s at 1 ms).
_SWITCH_S = 0.001
_switch: dict[str, Any] = {"users": 0, "saved": 0.0}
_switch_lock = threading.Lock()


@contextmanager
def short_switch() -> Iterator[None]:
    """The switch interval at _SWITCH_S while the block runs, and as it was once the last of
    the blocks that overlap (plans of threads of one process) ends, however they end."""
    entered = False
    try:
        with _switch_lock:
            if not _switch["users"]:
                _switch["saved"] = sys.getswitchinterval()
            _switch["users"] += 1
            entered = True
            sys.setswitchinterval(_SWITCH_S)
        yield
    finally:
        if entered:
            with _switch_lock:
                _switch["users"] -= 1
                if not _switch["users"]:
                    sys.setswitchinterval(_switch["saved"])


def plan_targets(
    t: Targets,
    tree: Tree,
    want: Desired | None = None,
    progress: Callable[[int], None] | None = None,
    drop_mode: str = "auto",
    large_rows: int = LARGE_ROWS,
    only: tuple[str, ...] = (),
    on_lint: Callable[[list[Finding]], None] | None = None,
) -> Plan:
    """make_plan for the files of `tree` (loaded here unless `want` is given); `on_lint` is
    given the files' lint findings (desired/lint.py) once, before the plan is made.

    A Postgres-only plan that comes out empty is remembered (project/cache.py) under the desired
    state's key and a digest of every catalog row it was computed from: the next plan of the
    same files against a catalog that reads back identically answers from that, without
    building either side. The plan is a function of those inputs alone, so the answer is the
    same: the server's spelling probes depend on its version and on objects no other kind
    reads (a table of an excluded schema a view reads), both in the digest (the fingerprint
    kind sums every catalog of the database, and hashes the session's settings, the server's
    date and start), and read literals under settings every connection fixes
    (connect.LITERAL_SETTINGS). A plan during which the catalog changed
    (the probes run after the read) is not remembered. So are the files' findings,
    remembered under their key: such a plan shows them without loading the files either.
    """
    said = False

    def show(want: Desired | None) -> None:
        nonlocal said
        if on_lint is not None and not said:
            said = True
            on_lint(lint_findings(tree, want))

    def loaded(want: Desired | None) -> Desired:
        want = want or load_desired(tree)
        show(want)
        return want

    if t.pg is None or t.redis is not None or tree.key is None:
        with collector_paused():
            want = loaded(want)
        live = read_live(t, want=want, progress=progress)  # a keyspace scan: not paused
        with collector_paused():
            return make_plan(t, want, live, drop_mode, large_rows, only)
    with collector_paused():  # the catalog's rows, the files' values and the plan: bounded
        known = want is None and tree.cached()  # the files were loaded, unchanged, before
        if known and (on_lint is None or cache.exists(_lint_key(tree))):
            show(None)
            rows = _catalog(t)  # an unchanged catalog may settle the plan without the files
        else:
            parse = want is None and not known  # the files' load is the longer of the two
            rows, want = _catalog_and_files(t, lambda: loaded(want), alone=parse)
        verdict = None  # the cache is off: the catalog's digest would serve nothing
        if _verdicts():
            verdict = _verdict_key(tree, rows.digest(), t.scope)
        if verdict is not None and (findings := _remembered(cache.get(verdict))) is not None:
            _mark_seen(tree, t.scope)
            return _no_changes(tree, findings, target_of(t, None), rows.unsupported())
        want = want or loaded(None)
        p = make_plan(t, want, Live(pg=rows.snapshot()), drop_mode, large_rows, only)
        remember = verdict is not None and p.empty and not only
        if remember and _unchanged_since(t, rows):
            cache.put(verdict, (NO_CHANGES, p.findings) if p.findings else NO_CHANGES)
            _mark_seen(tree, t.scope)
        return p


def plan_remembered(
    pg_url: str,
    scope: Scope,
    tree: Tree,
    on_lint: Callable[[list[Finding]], None] | None = None,
) -> Plan | None:
    """The plan of files loaded before against the catalog read ahead (prefetch.py), when
    the cache remembers it as "no changes": made before this process connects at all
    (plan_targets would answer the same from the same digest). None when it cannot be
    answered so: the plan is then made as always, and takes the rows read ahead if they are
    its own."""
    if not (_verdicts() and tree.key is not None and tree.cached()):
        return None
    if on_lint is not None and not cache.exists(_lint_key(tree)):
        return None
    if not cache.exists(_verdicts_seen_key(tree, scope)):
        return None  # never a no-op plan of these files: connect meanwhile, not after the read
    ahead = prefetch.take(pg_url, scope, hashed=True)
    if ahead is not None and ahead.failed:
        ahead.rows()  # raises what it met (a wait the plan is not to make again)
    if ahead is None or ahead.digest is None:
        return None
    findings = _remembered(cache.get(_verdict_key(tree, ahead.digest, scope)))
    if findings is None:
        return None
    prefetch.discard()  # its rows are not needed
    if on_lint is not None:
        on_lint(lint_findings(tree, None))
    return _no_changes(tree, findings, dict(ahead.target), ahead.unsupported)


def _no_changes(
    tree: Tree,
    findings: tuple[dict[str, Any], ...],
    target: dict[str, Any],
    unsupported: tuple[tuple[str, str], ...],
) -> Plan:
    """The empty plan a remembered verdict answers, with the findings remembered with it."""
    return build_plan(
        [],
        desired_hash=tree.digest,
        live_fingerprint="",
        target=target,
        findings=findings,
        unsupported=unsupported,
    )


def _verdict_key(tree: Tree, digest: str, scope: Scope) -> str:
    return cache.key("plan", tree.key or "", digest, repr(scope.excluded))


def _verdicts_seen_key(tree: Tree, scope: Scope) -> str:
    """Key of the mark that a verdict of these files and scope was remembered or used:
    without it, waiting for the catalog read ahead before connecting could only delay the
    plan (a plan of pending changes, run again)."""
    return cache.key("plan-seen", tree.key or "", repr(scope.excluded))


def _mark_seen(tree: Tree, scope: Scope) -> None:
    if not cache.exists(seen := _verdicts_seen_key(tree, scope)):
        cache.put(seen, True)


def _remembered(found: object) -> tuple[dict[str, Any], ...] | None:
    """The findings of a plan remembered as "no changes" (a plan's findings, such as a grant
    to PUBLIC the files do not name, come from the same inputs as its changes), or None
    when nothing is remembered."""
    if found == NO_CHANGES:
        return ()
    if isinstance(found, tuple) and len(found) == 2 and found[0] == NO_CHANGES:
        return tuple(found[1])
    return None


def _unchanged_since(t: Targets, rows: CatalogRows) -> bool:
    """Whether no catalog row of the database changed since `rows` were read. The plan's
    probes ran later, in transactions of their own: DDL committed in between may have gone
    into the plan, which is then true of neither state and not remembered."""
    from reconciler.introspect.pg.catalog import read_fingerprint  # deferred: as in _catalog

    assert t.pg is not None
    return sorted(read_fingerprint(t.pg)) == sorted(rows.rows["fingerprint"])


def _verdicts() -> bool:
    """Whether verdicts are kept (the cache is on): only then is the catalog's digest worked
    out, by the threads that read it."""
    return cache.cache_dir() is not None


def _lint_key(tree: Tree) -> str:
    return cache.key("lint", tree.key or "")


def lint_findings(tree: Tree, want: Desired | None) -> list[Finding]:
    """The lint findings of the files of `tree`: remembered, else worked out from `want` (or
    a load of the files) and remembered."""
    if tree.key is not None and isinstance(found := cache.get(_lint_key(tree)), list):
        return found
    from reconciler.desired.lint import lint  # deferred: start-up: the rules load the model

    findings = lint(want or load_desired(tree))
    if tree.key is not None:
        cache.put(_lint_key(tree), findings)
    return findings


def _catalog(t: Targets) -> CatalogRows:
    if (rows := _read_ahead(t)) is not None:
        return rows
    from reconciler.introspect.pg.catalog import read_catalog  # deferred: start-up: psycopg

    return read_catalog(t.pg, scope=t.scope, sibling=t.pg_sibling, hash_rows=_verdicts())


def _read_ahead(t: Targets) -> CatalogRows | None:
    """The rows read ahead (prefetch.py) when they were read for `t`'s plan, else None."""
    ahead = prefetch.take(t.pg_url, t.scope, _verdicts()) if t.pg_url else None
    rows = ahead.rows() if ahead is not None else None
    if ahead is not None and rows is not None:
        t.pg_target = dict(ahead.target)  # the plan names its target without asking again
    return rows


def _catalog_and_files(
    t: Targets, load: Callable[[], Desired], *, alone: bool
) -> tuple[CatalogRows, Desired]:
    """The catalog read by a thread of its own while this one reads the files: the server
    works on its catalog while Python parses YAML. Nothing else uses the connection meanwhile.
    `alone`: the files are parsed, which takes longer than the catalog's read: it is read on
    one connection (a second one would take the other core from the parse, and save nothing).

    Everything the thread runs is imported here first (a Ctrl-C that stops this thread in the
    middle of an import may leave Python's import lock taken, and a thread importing then
    waits for ever). A mistake in the files is said once the thread is done (first, as when
    they were read before connecting); after a Ctrl-C the thread, a daemon, is not waited
    for: the process ends with the connection's close."""
    if prefetch.running():  # the catalog is being read already: only the files are left
        want = load()
        return _catalog(t), want
    from reconciler.introspect.pg.catalog import read_catalog  # deferred: start-up: psycopg

    box: dict[str, Any] = {}
    hashed = _verdicts()
    sibling = None if alone else t.pg_sibling

    def read() -> None:
        try:
            box["rows"] = read_catalog(t.pg, scope=t.scope, sibling=sibling, hash_rows=hashed)
        except BaseException as exc:  # handed to the main thread, raised there
            box["error"] = exc

    reader = threading.Thread(target=read, name="reconciler-catalog", daemon=True)
    with short_switch():
        reader.start()
        try:
            want = load()
        except Exception:
            reader.join()
            raise
    reader.join()
    if "error" in box:
        raise box["error"]
    return box["rows"], want
