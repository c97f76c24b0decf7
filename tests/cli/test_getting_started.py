"""docs/getting-started.md, walked literally in a fresh folder.

The page is read, not copied: its ```sh blocks are the commands run and its ```yaml block is the
table written, so an edit that leaves the page unrunnable fails here. The servers are the test
session's (RECONCILER_PG_URL / RECONCILER_REDIS_URL stand in for `reconciler dev up`, which would
start a second pair); the `--env staging` block gets its variables pointed at the same servers.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

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


def test_getting_started_runs_as_written(
    tmp_path: Path, pg_url: str, private_redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, loop, staging = blocks("sh")
    (table_yaml,) = blocks("yaml")
    text = PAGE.read_text(encoding="utf-8")
    auto = "--auto-approve" if "add `--auto-approve` to `apply` and `rollback`" in text else None
    assert auto, "the page no longer says how scripts confirm; the walk cannot answer prompts"
    redis_url = private_redis.url()
    monkeypatch.setenv("RECONCILER_PG_URL", pg_url)
    monkeypatch.setenv("RECONCILER_REDIS_URL", redis_url)

    cwd = tmp_path
    # 1. setup: a folder of its own, init, dev up (the session's servers stand in).
    for line in commands(setup):
        if line in MACHINE_SETUP:
            continue
        if m := re.fullmatch(r"mkdir (\S+) && cd \1", line):
            cwd = cwd / m.group(1)
            cwd.mkdir()
            continue
        if line == "reconciler dev up":
            continue
        args = shlex.split(line)
        assert args[0] == "reconciler", f"unexpected setup line on the page: {line!r}"
        r = run_cli(*args[1:], cwd=cwd)
        assert r.code == 0, (line, r.text)
    assert (cwd / "reconciler.yaml").is_file()
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
            args.append(auto)
        r = run_cli(*args[1:], cwd=cwd)
        printed = r.text
        assert r.code == 0, (line, r.text)
        if verb == "plan" and seen.count("plan") == 1:
            assert "create table accounts" in r.text.lower() or "accounts" in r.text
            assert list((cwd / "plans").glob("*_up.sql")), "plan wrote no up file"
        if verb == "plan" and seen.count("plan") == 2:
            assert "No changes." in r.text
    assert seen == ["validate", "plan", "apply", "plan", "drift", "rollback"]

    # The database after rollback --last: the table is gone again.
    r = run_cli("plan", cwd=cwd)
    assert r.code == 0 and "No changes." not in r.text, r.text

    # 4. --env staging, with its variables exported as the page says (and pointed at the
    # session's servers); the flags' environment variables would win, so they go.
    monkeypatch.delenv("RECONCILER_PG_URL")
    monkeypatch.delenv("RECONCILER_REDIS_URL")
    for line in commands(staging):
        if m := re.fullmatch(r"export (\w+)=(\S+)", line):
            var = m.group(1)
            assert var.startswith("STAGING_"), line
            monkeypatch.setenv(var, pg_url if var.endswith("PG_URL") else redis_url)
            continue
        args = shlex.split(line)
        assert args[0] == "reconciler", f"unexpected line in the staging example: {line!r}"
        r = run_cli(*args[1:], cwd=cwd)
        assert r.code == 0, (line, r.text)
        assert "accounts" in r.text
