"""The schema-pair corpus: for every tests/corpus/<case>/{a.sql,b.sql}, written by hand, a real
round trip through the whole tool.

Per case, on the session's server: load A from a.sql and B from b.sql into fresh databases;
`export` B (nothing in it may be unsupported); `apply` the export to A; A must then equal B by
`pg_dump --schema-only`; a second `plan` must find no changes; the applied up file, run once
more with psql, must succeed and change nothing; `rollback --last` must give A back exactly
as a.sql built it. Each step's outcome goes into the corpus report that
`make corpus` prints (conftest.py) and docs/coverage.md summarises.

`case.yaml` (optional): `xfail: "<what is missing>"` marks a case that needs a capability the
model does not have yet (strict: the case must fail, so a gap closed is noticed).

`CORPUS_DIR=DIR` runs the same round trip over another folder of pairs (`make corpus
CORPUS_DIR=DIR`); other files in a case's folder (a peer's meta.json) are not read. A pair of
such a folder whose SQL does not load on this server (syntax of a newer server, an extension
not installed, invalid by design) is excluded, its reason the server's error.

Application histories: tests/histories/<app>/<NN>_<what>.sql are the versions of one
application's schema, in order. Every consecutive pair (version N-1 live, N desired) and every
version built from empty runs the same round trip, in `make test` (not with CORPUS_DIR);
`<app>/xfail.yaml` maps a step (`04_x->05_y`, `empty->05_y`) to a known gap, as case.yaml does.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from reconciler.connect.pgclient import client_binary
from reconciler.plan.files import read_plan, replay_flags
from tests.helpers import Result, run_cli

# CORPUS_DIR (`make corpus CORPUS_DIR=DIR`): another folder of <case>/{a.sql,b.sql} pairs, such
# as a peer's acceptance cases materialized at run time; never copied into the repository.
TESTS = Path(__file__).resolve().parents[1]
EXTERNAL = bool(os.environ.get("CORPUS_DIR"))
CORPUS = Path(os.environ.get("CORPUS_DIR") or TESTS / "corpus")
HISTORIES = TESTS / "histories"
STEPS = ("load", "export", "apply", "equal", "replan", "rerun", "rollback")


@dataclass(frozen=True)
class Case:
    """Live side `a` (None: an empty database) and desired side `b`, each a SQL file."""

    name: str
    a: Path | None
    b: Path
    xfail: str | None = None

    def sql(self, side: str) -> str:
        path = self.a if side == "a" else self.b
        return path.read_text(encoding="utf-8") if path is not None else ""


def _pairs() -> list[Case]:
    out = []
    for path in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        meta: dict[str, Any] = {}
        if (path / "case.yaml").is_file():
            meta = yaml.safe_load((path / "case.yaml").read_text(encoding="utf-8")) or {}
        unknown = set(meta) - {"xfail"}
        assert not unknown, f"{path.name}/case.yaml: unknown keys {sorted(unknown)}"
        out.append(Case(path.name, path / "a.sql", path / "b.sql", meta.get("xfail")))
    return out


def _histories() -> list[Case]:
    """Per application: each version from the one before it, and each version from empty."""
    out = []
    for app in sorted(p for p in HISTORIES.iterdir() if p.is_dir()):
        # xfail.yaml (optional): {"<before>-><version>": "<what is missing>"} for a known gap
        gaps: dict[str, str] = {}
        if (app / "xfail.yaml").is_file():
            gaps = yaml.safe_load((app / "xfail.yaml").read_text(encoding="utf-8")) or {}
        versions = sorted(app.glob("*.sql"))
        steps = [*itertools.pairwise(versions), *((None, v) for v in versions)]
        for before, version in steps:
            step = f"{before.stem if before else 'empty'}->{version.stem}"
            out.append(Case(f"{app.name}:{step}", before, version, gaps.pop(step, None)))
        assert not gaps, f"{app.name}/xfail.yaml names no such step: {sorted(gaps)}"
    return out


CASES = _pairs() + ([] if EXTERNAL or not HISTORIES.is_dir() else _histories())


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=case.name, marks=marks)


class _Steps:
    """Records each step's outcome for the report; the first failure fails the test."""

    def __init__(self, report: dict[str, dict[str, str]], case: Case) -> None:
        self.row = report.setdefault(case.name, {})
        if case.xfail:
            self.row["note"] = f"known gap: {case.xfail}"

    def ok(self, step: str) -> None:
        self.row[step] = "pass"

    def exclude(self, why: str) -> None:
        self.row["note"] = f"excluded: {why}"
        pytest.skip(f"excluded: {why}")

    def fail(self, step: str, why: str) -> None:
        self.row[step] = "FAIL"
        self.row["why"] = why
        pytest.fail(f"{step}: {why}", pytrace=False)


def _load(url: str, text: str) -> None:
    if not text.strip():
        return
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute(text.encode())


# Every ACL in the same terms (NULL is the owner's default), extension members left out.
_ACLS = """
WITH acls (name, acl, member) AS (
    SELECT 'relation ' || c.oid::regclass::text,
        coalesce(c.relacl, acldefault(
            (CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner
        )),
        ('pg_class'::regclass::oid, c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'reconciler')
    UNION ALL
    SELECT 'column ' || a.attrelid::regclass::text || '.' || a.attname, a.attacl,
        ('pg_class'::regclass::oid, c.oid)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE cardinality(a.attacl) > 0 AND NOT a.attisdropped AND n.nspname NOT LIKE 'pg\\_%'
      AND n.nspname <> 'information_schema'
    UNION ALL
    SELECT 'schema ' || nspname, coalesce(nspacl, acldefault('n', nspowner)),
        ('pg_namespace'::regclass::oid, oid)
    FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'reconciler')
    UNION ALL
    SELECT 'type ' || t.oid::regtype::text, coalesce(t.typacl, acldefault('T', t.typowner)),
        ('pg_type'::regclass::oid, t.oid)
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'reconciler')
    UNION ALL
    SELECT 'default privileges for ' || pg_get_userbyid(d.defaclrole) || ' in '
        || coalesce(n.nspname, '*') || ' on ' || d.defaclobjtype::text, d.defaclacl,
        ('pg_default_acl'::regclass::oid, d.oid)
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
    UNION ALL
    SELECT 'routine ' || p.oid::regprocedure::text, coalesce(p.proacl, acldefault('f', p.proowner)),
        ('pg_proc'::regclass::oid, p.oid)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
)
SELECT name, ARRAY(SELECT x::text FROM unnest(acl) AS x ORDER BY 1)::text
FROM acls
WHERE NOT EXISTS (
    SELECT FROM pg_depend d
    WHERE (d.classid, d.objid) = member AND d.deptype = 'e'
)
ORDER BY 1
"""


def _schema(url: str, dump: Any) -> str:
    """pg_dump --schema-only (which the suite runs without privileges) and every ACL."""
    with psycopg.connect(url, autocommit=True) as conn:
        acls = "\n".join(f"-- acl {name}: {acl}" for name, acl in conn.execute(_ACLS))
    return dump(url) + acls + "\n"


def _diff(expected: str, actual: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "expected", "actual", lineterm=""
    )
    return "\n".join(list(lines)[:60])


# The one difference PostgreSQL imposes, accepted only where the plan says so: a new column is
# appended (hazard column_order), and a dropped one comes back at the end on rollback.
_TABLE = re.compile(r"(CREATE (?:UNLOGGED )?TABLE [^\n]* \(\n)(.*?)(\n\)[^;]*;)", re.S)


def _reordered(expected: str, actual: str) -> bool:
    """Whether the two dumps differ only in the order of some tables' columns."""

    def columns_sorted(m: re.Match[str]) -> str:
        lines = sorted(line.rstrip(",") for line in m.group(2).split("\n"))
        return m.group(1) + "\n".join(lines) + m.group(3)

    def normal(dump: str) -> str:
        # pg_dump writes a table's column comments in column order: those move along
        lines = _TABLE.sub(columns_sorted, dump).split("\n")
        at = [i for i, line in enumerate(lines) if line.startswith("COMMENT ON COLUMN ")]
        for i, line in zip(at, sorted(lines[i] for i in at), strict=True):
            lines[i] = line
        return "\n".join(lines)

    return normal(expected) == normal(actual)


def _applied(tmp: Path) -> Any:
    """The plan the apply wrote (None: nothing was applied)."""
    found = sorted((tmp / "plans").glob("*.plan.json"))
    return read_plan(found[-1]) if found else None


def _hazards(plan: Any) -> set[str]:
    """The plan's hazard codes, and the kinds of its findings."""
    return {code for c in plan.changes for code in c.hazard_codes()} | {
        f.get("kind", "") for f in plan.findings
    }


def _said(tmp: Path, plan: Any, plan_args: tuple[str, ...]) -> set[str]:
    """What the applied plan and a new one say (hazard codes, finding kinds)."""
    r = run_cli("plan", *plan_args, "--json", cwd=tmp)
    found = {f.get("kind", "") for f in json.loads(r.out).get("findings", [])} if r.out else set()
    return found | (_hazards(plan) if plan is not None else set())


def _cli(step: str, steps: _Steps, tmp: Path, *args: str) -> Result:
    r = run_cli(*args, cwd=tmp)
    if r.code != 0:
        steps.fail(step, f"exit {r.code}: {r.text.strip()[-2000:]}")
    return r


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_corpus_case(case: Case, make_pg_database, pg_dump_schema, corpus_report, tmp_path):
    steps = _Steps(corpus_report, case)
    a_url, b_url = make_pg_database(), make_pg_database()
    try:
        _load(a_url, case.sql("a"))
        _load(b_url, case.sql("b"))
    except psycopg.Error as exc:
        if EXTERNAL:  # the written rule for a folder of someone else's pairs
            steps.exclude(f"does not load on this server: {str(exc).splitlines()[0]}")
        steps.fail("load", f"the case's SQL does not load: {exc}")
    steps.ok("load")
    a_before, b_dump = _schema(a_url, pg_dump_schema), _schema(b_url, pg_dump_schema)

    r = _cli("export", steps, tmp_path, "export", "--pg", b_url, "--out", "desired")
    unsupported = [line.strip() for line in r.err.splitlines() if "unsupported:" in line]
    if unsupported:
        steps.fail("export", "B holds objects the model cannot express: " + "; ".join(unsupported))
    steps.ok("export")

    plan_args = ("--pg", a_url, "--schemas", "desired", "--out", "plans")
    _cli("apply", steps, tmp_path, "apply", *plan_args, "--auto-approve", "--allow-destructive")
    steps.ok("apply")

    a_after = _schema(a_url, pg_dump_schema)
    plan = _applied(tmp_path)
    if a_after != b_dump and not (
        _reordered(b_dump, a_after) and "column_order" in _said(tmp_path, plan, plan_args)
    ):
        steps.fail("equal", "A after apply differs from B:\n" + _diff(b_dump, a_after))
    steps.ok("equal")

    r = _cli("replan", steps, tmp_path, "plan", *plan_args)
    if "No changes." not in r.out:
        steps.fail("replan", f"a second plan is not empty:\n{r.out}")
    steps.ok("replan")

    ups = sorted((tmp_path / "plans").glob("*_up.sql"))
    if not ups:  # A already was B (a no-op pair): nothing was applied, nothing to roll back
        steps.ok("rerun")
        steps.ok("rollback")
        return
    # the applied up file runs a second time, as psql replays it, and changes nothing
    up_file = ups[-1]
    flags = replay_flags(
        read_plan(up_file.with_name(up_file.name[: -len("_up.sql")] + ".plan.json")), "up"
    )
    psql = [client_binary("psql"), "-X", "-q", *flags, "-v", "ON_ERROR_STOP=1", "-f", str(up_file)]
    rerun = subprocess.run([*psql, a_url], capture_output=True, text=True, check=False)
    if rerun.returncode != 0:
        steps.fail("rerun", f"the up file cannot run twice:\n{rerun.stderr}")
    if (a_again := _schema(a_url, pg_dump_schema)) != a_after:
        steps.fail("rerun", "a second run of the up file changed A:\n" + _diff(a_after, a_again))
    steps.ok("rerun")

    # As the apply: a rollback that drops a restrictive policy or turns row-level security
    # off is gated like a drop of data (tests/safety/test_access_widened.py says it).
    back = ("rollback", "--pg", a_url, "--last", "--auto-approve", "--allow-destructive")
    _cli("rollback", steps, tmp_path, *back)
    a_back = _schema(a_url, pg_dump_schema)
    dropped = plan is not None and (
        "column_order" in _hazards(plan)
        or any(c.action == "drop" and c.address.startswith("pg.column.") for c in plan.changes)
    )  # a column dropped from the middle comes back at the end, as its hazard says
    if a_back != a_before and not (dropped and _reordered(a_before, a_back)):
        steps.fail("rollback", "A after rollback differs from a.sql:\n" + _diff(a_before, a_back))
    # the down file, run again as psql replays it, finds nothing left to undo
    down = up_file.with_name(up_file.name[: -len("_up.sql")] + "_down.sql")
    flags = replay_flags(
        read_plan(up_file.with_name(up_file.name[: -len("_up.sql")] + ".plan.json")), "down"
    )
    psql = [client_binary("psql"), "-X", "-q", *flags, "-v", "ON_ERROR_STOP=1", "-f", str(down)]
    again = subprocess.run([*psql, a_url], capture_output=True, text=True, check=False)
    if again.returncode != 0:
        steps.fail("rollback", f"the down file cannot run a second time:\n{again.stderr}")
    if (a_twice := _schema(a_url, pg_dump_schema)) != a_back:
        steps.fail(
            "rollback", "a second run of the down file changed A:\n" + _diff(a_back, a_twice)
        )
    steps.ok("rollback")
