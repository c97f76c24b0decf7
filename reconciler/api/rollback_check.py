"""`reconciler rollback-check --prev-ref REF` (the seed's `make rollback_check PREV_REF=…`):
can this release be rolled back to the previous one?

The desired state as it was at REF is taken from git (the same directory, at that commit), a
scratch database on the server of `--pg` is built from it (an empty database, planned and
applied as a first deploy would be), and then the plan to the working tree's desired state is
made there, applied, checked (a second plan finds nothing), and rolled back with its own down
file: the schema must be exactly the one built at REF, by `pg_dump --schema-only`.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from reconciler.api import runs
from reconciler.api.check import Report, dump, pg_steps, run, same_schema, scratch_database
from reconciler.connect import connect_pg
from reconciler.errors import InputError


def rollback_check(pg_url: str, schemas_dir: Path, prev_ref: str) -> Report:
    report = Report()
    with tempfile.TemporaryDirectory(prefix="reconciler-prev-") as tmp:
        previous, commit = _checkout(schemas_dir, prev_ref, Path(tmp))
        report.note("git", f"{prev_ref} is commit {commit[:12]}")
        with scratch_database(pg_url, clone=False) as url:
            _round_trip(report, url, previous, schemas_dir, prev_ref)
    return report


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise InputError("rollback-check needs git on PATH.") from None


def _git_out(cwd: Path, *args: str) -> bytes:
    """The output of a git command that should not fail; its own reason when it does."""
    r = _git(cwd, *args)
    if r.returncode != 0:
        lines = r.stderr.decode(errors="replace").strip().splitlines()
        reason = next((x for x in lines if x.startswith(("fatal:", "error:"))), None)
        reason = (reason or (lines[0] if lines else f"exit status {r.returncode}")).strip()
        raise InputError(f"git {' '.join(args[:2])} failed in {cwd}: {reason.rstrip('.')}.")
    return r.stdout


def _checkout(schemas_dir: Path, ref: str, into: Path) -> tuple[Path, str]:
    """The files of `schemas_dir` as they were at `ref`, written below `into`; the commit."""
    here = schemas_dir.resolve()
    if not here.is_dir():
        raise InputError(f"No desired state directory at {schemas_dir}.")
    found = _git(here, "rev-parse", "--show-toplevel")
    if found.returncode != 0:
        raise InputError(
            f"{schemas_dir} is not in a git repository: rollback-check takes the previous "
            "release from git history."
        )
    top = Path(found.stdout.decode().strip())
    rel = here.relative_to(top.resolve()).as_posix() or "."
    resolved = _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if resolved.returncode != 0 or not resolved.stdout.strip():
        raise InputError(
            f"No commit {ref!r} in the repository at {top} (a branch, tag or commit id; "
            "`git log --oneline` lists them)."
        )
    commit = resolved.stdout.decode().strip()
    archive = _git_out(top, "archive", "--format=tar", commit, "--", rel)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")  # no links out, no devices, no absolute paths
    out = into / rel
    if not out.is_dir():
        raise InputError(f"{rel}/ does not exist at {ref}.")
    return out, commit


def _round_trip(report: Report, url: str, previous: Path, current: Path, ref: str) -> None:

    with connect_pg(url, command="rollback-check") as conn:
        first = runs.plan(url, previous, out_dir=None).plan
        up = pg_steps(first, "up")
        if (error := run(conn, up)) is not None:
            report.failed("previous", f"the desired state at {ref} does not build: {error}")
            return
        report.passed("previous", f"built the schema at {ref} ({len(first.changes)} changes)")
        at_ref = dump(url)
        step = runs.plan(url, current, out_dir=None).plan
        if step.empty:
            report.note("plan", f"no schema change since {ref}")
            return
        up, down = pg_steps(step, "up"), pg_steps(step, "down")
        if (error := run(conn, up)) is not None:
            report.failed("up", f"the plan from {ref} fails: {error}")
            return
        again = runs.plan(url, current, out_dir=None).plan
        if again.empty:
            report.passed("up", f"the plan from {ref} ({len(step.changes)} changes) applies")
        else:
            left = ", ".join(c.address for c in again.changes[:5])
            report.failed("up", f"after the plan from {ref}, changes remain: {left}")
        if (error := run(conn, down)) is not None:
            report.failed("down", f"the rollback to {ref} fails: {error}")
            return
        if same_schema(dump(url), at_ref):
            report.passed("down", f"the rollback gives back exactly the schema at {ref}")
        else:
            report.failed("down", f"the rollback does not give back the schema at {ref}")
