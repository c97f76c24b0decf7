"""docs/getting-started.md, walked literally in a fresh folder.

The page is read, not copied: its ```sh blocks are the commands run and its ```yaml block is the
table written, so an edit that leaves the page unrunnable fails here. `reconciler dev up` starts
the folder's own dev servers (about 3 s), as a newcomer's would, and `dev down` removes them
afterwards; the `--env staging` block gets its variables pointed at those servers.
"""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli

pytestmark = pytest.mark.servers

PAGE = Path(__file__).resolve().parents[2] / "docs" / "getting-started.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)

# Lines of the page that set up the machine, not the project: the test runs in a set-up checkout.
MACHINE_SETUP = {"make setup", ". .venv/bin/activate"}


def blocks(kind: str) -> list[str]:
    return [body for lang, body in FENCE.findall(PAGE.read_text(encoding="utf-8")) if lang == kind]


def commands(block: str) -> list[str]:
    """The block's command lines, comments stripped."""
    lines = []
    for raw in block.splitlines():
        line = raw.split("  #", 1)[0].strip() if "  #" in raw else raw.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def test_the_page_has_what_the_walk_needs() -> None:
    sh = blocks("sh")
    assert len(sh) == 3, "getting-started: setup, the loop, --env staging"
    assert len(blocks("yaml")) == 1
    assert "schemas/tables/accounts.yaml" in PAGE.read_text(encoding="utf-8")


@pytest.fixture
def fresh_folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty folder the dev servers may live in (as root, the dev PostgreSQL runs as the
    `postgres` user, who cannot enter pytest's 0700 tmp_path), with no server chosen by the
    environment; the dev servers a test started there are stopped and removed afterwards."""
    for var in ("RECONCILER_PG_URL", "DATABASE_URL", "RECONCILER_REDIS_URL", "REDIS_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("RECONCILER_ENV", raising=False)
    base = Path(tempfile.mkdtemp(prefix="docs-getting-started-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        for project in base.iterdir():
            if (project / ".reconciler" / "dev").exists():
                run_cli("dev", "down", cwd=project)
        shutil.rmtree(base, ignore_errors=True)


def _accounts(pg_url: str) -> bool:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        return conn.execute("SELECT to_regclass('public.accounts') IS NOT NULL").fetchone()[0]


def test_getting_started_runs_as_written(
    fresh_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, loop, staging = blocks("sh")
    (table_yaml,) = blocks("yaml")
    text = PAGE.read_text(encoding="utf-8")
    auto = "--auto-approve" if "add `--auto-approve` to `apply` and `rollback`" in text else None
    assert auto, "the page no longer says how scripts confirm; the walk cannot answer prompts"

    cwd = fresh_folder
    # 1. setup: a folder of its own, init, dev up.
    for line in commands(setup):
        if line in MACHINE_SETUP:
            continue
        if m := re.fullmatch(r"mkdir (\S+) && cd \1", line):
            cwd = cwd / m.group(1)
            cwd.mkdir()
            continue
        args = shlex.split(line)
        assert args[0] == "reconciler", f"unexpected setup line on the page: {line!r}"
        r = run_cli(*args[1:], cwd=cwd)
        assert r.code == 0, (line, r.text)
    config = (cwd / "reconciler.yaml").read_text(encoding="utf-8")
    assert "${STAGING_REDIS_URL}" not in config or "STAGING_REDIS_URL" in staging, (
        "init's staging environment names a Redis the page's example does not export"
    )
    status = run_cli("dev", "status", cwd=cwd)
    assert status.code == 0, f"the page's setup left no dev servers running:\n{status.text}"
    urls = dict(re.findall(r"^(postgres|redis):\s+(\S+)$", status.out, re.M))
    assert set(urls) == {"postgres", "redis"}, status.out
    assert (cwd / "schemas" / "tables").is_dir()

    # 2. the table the page describes, in the file it names.
    (cwd / "schemas" / "tables" / "accounts.yaml").write_text(table_yaml, encoding="utf-8")

    # 3. the loop.
    printed = ""
    seen = []
    for line in commands(loop):
        args = shlex.split(line)
        assert args[0] == "reconciler", f"unexpected line in the loop: {line!r}"
        verb = args[1]
        seen.append(verb)
        if any("<version>" in a for a in args):
            found = re.search(r"plans/(\d+)_create_table_accounts\.plan\.json", printed)
            assert found, f"the plan did not print the file the page names:\n{printed}"
            args = [a.replace("<version>", found.group(1)) for a in args]
        if verb in ("apply", "rollback"):
            if "asks to confirm" in line:  # it does: with no one to answer, it refuses
                asked = run_cli(*args[1:], cwd=cwd)
                assert asked.code == 1, asked.text
                assert "Confirmation needed" in asked.err and auto in asked.err, asked.text
            args.append(auto)
        r = run_cli(*args[1:], cwd=cwd)
        printed = r.text
        assert r.code == 0, (line, r.text)
        if verb == "plan" and seen.count("plan") == 1:
            assert re.search(r"Plan: [1-9]\d* to add, 0 to change, 0 to drop", r.text), r.text
            assert list((cwd / "plans").glob("*_up.sql")), "plan wrote no up file"
        if verb == "plan" and seen.count("plan") == 2:
            assert "No changes." in r.text
        if verb == "apply":
            assert _accounts(urls["postgres"]), "apply did not create the table"
    assert seen == ["validate", "plan", "apply", "plan", "drift", "rollback"]
    assert not _accounts(urls["postgres"]), "rollback --last left the table"

    # 4. --env staging, with the variables the page exports pointed at the dev servers.
    for line in commands(staging):
        if m := re.fullmatch(r"export (\w+)=(\S+)", line):
            var = m.group(1)
            assert var.startswith("STAGING_"), line
            monkeypatch.setenv(var, urls["postgres" if var.endswith("PG_URL") else "redis"])
            continue
        args = shlex.split(line)
        assert args[0] == "reconciler", f"unexpected line in the staging example: {line!r}"
        r = run_cli(*args[1:], cwd=cwd)
        assert r.code == 0, (line, r.text)
        assert "accounts" in r.text
