"""Every object kind, round-tripped: created from empty, every attribute changed, dropped.

Data-driven: each directory under tests/cases/ is one case:

- `before/`  desired state applied first (no YAML file in it, only a .gitkeep: the empty
             database);
- `after/`   desired state the case plans and applies;
- `after.sql` hand-written SQL building, on an empty database, the schema `after/` describes;
- `rollback.sql` (only for a plan with an `irreversible` step, e.g. a new enum value): the
  hand-written schema the rollback leaves; without it the rollback must restore `before/`;
- `case.yaml` (optional):
    allow_destructive: true      the plan drops something (then it must say `destructive`,
                                 and an apply without --allow-destructive must be refused);
    expect_hazards: [codes]      hazard codes the plan must report;
    expect_changes:              changes the JSON plan must hold; a `rename` also proves
      - {address: ..., action: rename}   that no object of its kind is dropped and that the
                                 address is not created (a rename, not drop + create);
    no_drops: true               the plan drops nothing at all (nor replaces anything);
    xfail: "<diagnosis>"         a known Reconciler bug (strict: the case must fail).

For each case, on the session's real server: apply `before/` to database A and dump it; plan
`after/` (hazards, expected changes); for a destructive plan, check that an apply without
--allow-destructive is refused and changes nothing; apply `after/`; compare `pg_dump
--schema-only` of A with a database R built from `after.sql`; re-plan (no changes, no files);
roll back the last apply and compare with the dump taken before (or with `rollback.sql`).
"""

from __future__ import annotations

import difflib
import json
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

import reconciler.plan
from reconciler.connect.pgclient import client_binary
from reconciler.model.address import Address
from reconciler.plan.files import read_plan, replay_flags
from tests.conftest import TOOL_SCHEMAS, normalize_dump, pg_dump_binary
from tests.helpers import Result, run_cli, write_yaml

CASES = Path(__file__).resolve().parents[1] / "cases"
CASE_KEYS = {
    "allow_destructive",
    "expect_hazards",
    "expect_changes",
    "no_drops",
    "xfail",
}
DESTRUCTIVE = "destructive"
SETUP_VERSION = "20000101000000"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    allow_destructive: bool = False
    expect_hazards: tuple[str, ...] = ()
    expect_changes: tuple[tuple[str, str], ...] = ()
    no_drops: bool = False
    xfail: str | None = None

    @property
    def before(self) -> Path:
        return self.path / "before"

    @property
    def after(self) -> Path:
        return self.path / "after"

    @property
    def before_is_empty(self) -> bool:
        return not any(self.before.rglob("*.y*ml"))

    @property
    def reference_sql(self) -> str:
        return (self.path / "after.sql").read_text(encoding="utf-8")

    @property
    def rollback_sql(self) -> str | None:
        path = self.path / "rollback.sql"
        return path.read_text(encoding="utf-8") if path.exists() else None


def _load_case(path: Path) -> Case:
    meta_path = path / "case.yaml"
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else None
    meta = meta or {}
    unknown = set(meta) - CASE_KEYS
    if unknown:
        raise ValueError(f"{meta_path}: unknown keys {sorted(unknown)}")
    for required in ("after", "after.sql"):
        if not (path / required).exists():
            raise ValueError(f"case {path.name} has no {required}")
    return Case(
        name=path.name,
        path=path,
        allow_destructive=bool(meta.get("allow_destructive", False)),
        expect_hazards=tuple(meta.get("expect_hazards", ())),
        expect_changes=tuple((c["address"], c["action"]) for c in meta.get("expect_changes", ())),
        no_drops=bool(meta.get("no_drops", False)),
        xfail=meta.get("xfail"),
    )


def _all_cases() -> list[Case]:
    return [_load_case(p) for p in sorted(CASES.iterdir()) if p.is_dir()]


ALL_CASES = _all_cases()


def _params(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(
            case,
            id=case.name,
            marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else [],
        )
        for case in cases
    ]


# ------------------------------------------------------------------------------------- helpers


def _cli(tmp: Path, *args: str) -> Result:
    # cwd = the test's own directory, so the logs of an apply (state/logs/) land there.
    return run_cli(*args, cwd=tmp)


def _ok(result: Result, what: str) -> Result:
    assert result.code == 0, f"{what} exited {result.code}:\n{result.text}"
    return result


def _apply(tmp: Path, url: str, schemas: Path, out: Path, *flags: str) -> Result:
    args = ["apply", "--pg", url, "--schemas", str(schemas), "--out", str(out)]
    return _cli(tmp, *args, "--auto-approve", *flags)


def _plan(tmp: Path, url: str, schemas: Path, out: Path, *flags: str) -> Result:
    return _cli(tmp, "plan", "--pg", url, "--schemas", str(schemas), "--out", str(out), *flags)


def _assert_same_schema(actual: str, expected: str, what: str) -> None:
    if actual != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected.splitlines(),
                actual.splitlines(),
                fromfile=f"{what}: expected",
                tofile=f"{what}: actual",
                lineterm="",
            )
        )
        pytest.fail(f"{what} differs:\n{diff}", pytrace=False)


def _build_reference(url: str, sql_text: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute(sql_text.encode())


def _freeze_clock(mp: pytest.MonkeyPatch, version: str) -> None:
    """Plans made now are stamped `version` (only "now" is frozen: later seconds still work)."""
    real = reconciler.plan.new_version
    mp.setattr(reconciler.plan, "new_version", lambda now=None: real(now) if now else version)


def _apply_before(case: Case, url: str, tmp: Path) -> None:
    """Apply `before/`, its plan stamped with an old version.

    Plan versions are wall-clock seconds and two applies within one second used to collide
    (test_two_applies_within_one_second covers that): the setup apply gets a version of its own
    so that a regression there cannot mask what each case is about.
    """
    with pytest.MonkeyPatch.context() as mp:
        _freeze_clock(mp, SETUP_VERSION)
        result = _apply(tmp, url, case.before, tmp / "plans", "--allow-destructive")
    _ok(result, "apply before/")


def _check_plan(case: Case, plan: dict[str, Any]) -> None:
    hazards = set(plan["hazards"])
    missing = [h for h in case.expect_hazards if h not in hazards]
    assert not missing, f"plan lacks hazards {missing}; it has {sorted(hazards)}"
    assert (DESTRUCTIVE in hazards) == case.allow_destructive, (
        f"plan hazards {sorted(hazards)} vs case allow_destructive={case.allow_destructive}"
    )
    changes = plan["changes"]
    # addresses compared as parts: how a part is quoted is the renderer's business
    actions = {(Address.parse(c["address"]), c["action"]) for c in changes}
    for text, action in case.expect_changes:
        address = Address.parse(text)
        assert (address, action) in actions, (
            f"plan has no {action} of {address}; it has {sorted(map(str, actions))}"
        )
        if action == "rename":
            assert (address, "create") not in actions, f"{address} is created, not renamed"
            dropped = [
                c["address"] for c in changes if c["action"] == "drop" and c["kind"] == address.kind
            ]
            assert not dropped, (
                f"a {address.kind} rename must not drop one; the plan drops {dropped}"
            )
    if case.no_drops:
        dropped = [c["address"] for c in changes if c["action"] == "drop"]
        assert not dropped, f"the plan must drop nothing, it drops {dropped}"


class Dump:
    """`pg_dump_schema(url)` (tests/conftest.py) started now and read later.

    The same pg_dump invocation, run as a child process while the CLI works in this one (no
    Python threads: the CLI runs in-process and changes the working directory). Its output goes
    to an unlinked temporary file, so a large dump never blocks on a full pipe.
    test_background_dump_equals_fixture keeps the two invocations the same.
    """

    def __init__(self, url: str) -> None:
        excludes = [f"--exclude-schema={schema}" for schema in TOOL_SCHEMAS]
        argv = [pg_dump_binary(), "--schema-only", "--no-owner", "--no-privileges", *excludes]
        self.url = url
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by result())
        self._proc = subprocess.Popen(
            [*argv, f"--dbname={url}"], stdout=self._out, stderr=subprocess.PIPE
        )

    def result(self) -> str:
        with self._out:
            _, err = self._proc.communicate(timeout=120)
            if self._proc.returncode != 0:
                message = err.decode(errors="replace").strip()
                pytest.fail(f"pg_dump failed for {self.url}: {message}", pytrace=False)
            self._out.seek(0)
            return normalize_dump(self._out.read().decode())


def _reference(make_pg_database: Callable[[], str], sql_text: str) -> Dump:
    """A fresh database built from hand-written SQL, its dump started."""
    url = make_pg_database()
    _build_reference(url, sql_text)
    return Dump(url)


_EMPTY_DUMP: list[str] = []  # the dump of a fresh database, the same for every one


# --------------------------------------------------------------------------------------- tests


def test_cases_are_well_formed() -> None:
    assert len(ALL_CASES) >= 30
    for case in ALL_CASES:
        assert any(case.after.rglob("*.y*ml")), f"{case.name}: after/ holds no YAML"
        if case.rollback_sql is not None:
            assert "irreversible" in case.expect_hazards, case.name


@pytest.mark.parametrize("case", _params(ALL_CASES))
def test_roundtrip(
    case: Case,
    make_pg_database: Callable[[], str],
    pg_dump_schema: Callable[[str], str],
    tmp_path: Path,
) -> None:
    url = make_pg_database()
    plans = tmp_path / "plans"
    # the references are built first and dumped while the CLI works on A
    expected_after = _reference(make_pg_database, case.reference_sql)
    rollback_sql = case.rollback_sql  # what an irreversible step (a new enum value) leaves
    expected_rollback = _reference(make_pg_database, rollback_sql) if rollback_sql else None

    # 1. the starting point (dumped while the plan below reads the catalog)
    before: Dump | None = None
    if not case.before_is_empty:
        _apply_before(case, url, tmp_path)
        before = Dump(url)
    elif not _EMPTY_DUMP:
        _EMPTY_DUMP.append(pg_dump_schema(url))

    # 2. plan (JSON) and apply `after/`; a destructive plan needs --allow-destructive
    planned = _ok(_plan(tmp_path, url, case.after, tmp_path / "plan1", "--json"), "plan after/")
    dump_before = before.result() if before else _EMPTY_DUMP[0]
    plan = json.loads(planned.out)
    assert plan["changes"], "after/ must differ from before/"
    _check_plan(case, plan)
    if case.allow_destructive:
        refused_dir = tmp_path / "refused"
        refused = _apply(tmp_path, url, case.after, refused_dir)
        assert refused.code == 1, f"apply without --allow-destructive exited {refused.code}"
        assert "--allow-destructive" in refused.err
        assert not refused_dir.exists(), "a refused apply must not write plan files"
        _assert_same_schema(Dump(url).result(), dump_before, "schema after the refused apply")
    flags = ["--allow-destructive"] if case.allow_destructive else []
    _ok(_apply(tmp_path, url, case.after, plans, *flags), "apply after/")
    after = Dump(url)  # dumped while the re-plan (step 4) runs
    replan_dir = tmp_path / "plan2"
    replan = _plan(tmp_path, url, case.after, replan_dir, "--detailed-exitcode")

    # 3. the same schema as the hand-written reference
    reference = expected_after.result()
    _assert_same_schema(after.result(), reference, "schema after apply")

    # 4. converged: nothing left to do, and no plan files written
    assert replan.code == 0, f"re-plan is not empty (exit {replan.code}):\n{replan.text}"
    assert "No changes." in replan.out
    assert not replan_dir.exists() or not any(replan_dir.iterdir())

    # 4b. the up file can run again, as psql replays it, and changes nothing
    up_file = sorted(plans.glob("*_up.sql"))[-1]  # the apply of after/
    flags = replay_flags(
        read_plan(up_file.with_name(up_file.name[: -len("_up.sql")] + ".plan.json")), "up"
    )
    psql = [client_binary("psql"), "-X", "-q", *flags, "-v", "ON_ERROR_STOP=1", "-f", str(up_file)]
    rerun = subprocess.run([*psql, url], capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, f"the up file cannot run twice:\n{rerun.stderr}"
    _assert_same_schema(Dump(url).result(), reference, "schema after a second up")

    # 5. the down file restores the starting point (or what an irreversible step leaves)
    rollback = ["rollback", "--pg", url, "--last", "--out", str(plans), "--auto-approve"]
    _ok(_cli(tmp_path, *rollback), "rollback --last")
    expected = expected_rollback.result() if expected_rollback else dump_before
    _assert_same_schema(Dump(url).result(), expected, "schema after rollback")


def test_background_dump_equals_fixture(
    make_pg_database: Callable[[], str], pg_dump_schema: Callable[[str], str]
) -> None:
    """The Dump above runs pg_dump exactly as the pg_dump_schema fixture does."""
    case = _load_case(CASES / "names_mixed_case_unicode")
    url = make_pg_database()
    _build_reference(url, case.reference_sql)
    assert Dump(url).result() == pg_dump_schema(url)


def test_two_applies_within_one_second(make_pg_database: Callable[[], str], tmp_path: Path) -> None:
    """Two consecutive applies to one database (a script, a CI job) must both go through.

    Plan versions are wall-clock seconds; fast applies were refused ('Version 20261125115315 is
    already applied'). The clock is frozen at one second so a loaded machine cannot miss it.
    """
    case = _load_case(CASES / "column_type_widen")
    url = make_pg_database()
    with pytest.MonkeyPatch.context() as mp:
        _freeze_clock(mp, "20300101000000")
        first = _apply(tmp_path, url, case.before, tmp_path / "plans")
        second = _apply(tmp_path, url, case.after, tmp_path / "plans")
    _ok(first, "first apply")
    _ok(second, "second apply, planned within the same second")


def test_failed_apply_changes_nothing(
    make_pg_database: Callable[[], str], pg_dump_schema: Callable[[str], str], tmp_path: Path
) -> None:
    """An apply that fails part-way (here: an operator class that does not exist) is atomic,
    a new enum value included (adding one was briefly moved out of the apply transaction)."""
    enum = "enums:\n  - {name: stage, values: [%s]}\n"
    table = "table: tasks\ncolumns:\n  - {name: s, type: stage}\n  - {name: title, type: text}\n"
    write_yaml(tmp_path, "before/t.yaml", enum % "draft, done" + table)
    bad_index = (
        "indexes:\n  - {name: tasks_title, columns: [{column: title, opclass: no_such_ops}]}\n"
    )
    write_yaml(tmp_path, "after/t.yaml", enum % "draft, todo, done" + table + bad_index)
    url = make_pg_database()
    _ok(_apply(tmp_path, url, tmp_path / "before", tmp_path / "plans"), "apply before/")
    dump_before = pg_dump_schema(url)
    with pytest.MonkeyPatch.context() as mp:  # a version of its own (see above)
        _freeze_clock(mp, "20990101000000")
        failed = _apply(tmp_path, url, tmp_path / "after", tmp_path / "plans")
    assert failed.code == 1, failed.text
    assert "no_such_ops" in failed.err and "nothing was changed" in failed.err
    _assert_same_schema(pg_dump_schema(url), dump_before, "schema after the failed apply")
