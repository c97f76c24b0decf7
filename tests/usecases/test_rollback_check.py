"""`reconciler rollback-check --prev-ref REF` on a git repository holding the example project
at two tagged releases, on the session's real server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.ops.pg.column import AddColumn
from reconciler.ops.pg.objects import SetComment
from tests.helpers import run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas"


def _git(repo: Path, *args: str) -> None:
    env_args = ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *env_args, *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """v1: the example project (without its Redis keys); v2: a release later with a new,
    commented column; the working tree is v2."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "schemas", ignore=shutil.ignore_patterns("keys"))
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "v1")
    _git(repo, "tag", "v1")
    users = repo / "schemas" / "tables" / "users.yaml"
    text = users.read_text()
    assert "columns:" in text
    users.write_text(
        text.replace(
            "columns:\n", "columns:\n  - {name: nickname, type: text, comment: Shown.}\n", 1
        )
    )
    _git(repo, "commit", "-q", "-am", "v2")
    _git(repo, "tag", "v2")
    return repo


def _rollback_check(repo: Path, pg_url: str, ref: str):
    return run_cli(
        "rollback-check", "--pg", pg_url, "--schemas", "schemas", "--prev-ref", ref, cwd=repo
    )


def test_two_releases_roll_back_exactly(repo, pg_url):
    r = _rollback_check(repo, pg_url, "v1")
    assert r.code == 0, r.text
    assert "built the schema at v1" in r.out
    assert "the rollback gives back exactly the schema at v1" in r.out


def test_no_change_since_the_ref_passes(repo, pg_url):
    r = _rollback_check(repo, pg_url, "v2")
    assert r.code == 0, r.text
    assert "no schema change since v2" in r.out


def test_an_unknown_ref_is_one_sentence(repo, pg_url):
    r = _rollback_check(repo, pg_url, "v9")
    assert r.code == 1
    assert "No commit 'v9' in the repository at" in r.err and "Traceback" not in r.err


def test_a_bad_down_fails(repo, pg_url, monkeypatch: pytest.MonkeyPatch):
    """A down file that forgets to drop the new column (planted in the change's reverse)."""
    monkeypatch.setattr(AddColumn, "reverse", lambda self: SetComment(self.address, None, None))
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(
        app, ["rollback-check", "--pg", pg_url, "--schemas", "schemas", "--prev-ref", "v1"]
    )
    assert result.exit_code == 1, result.output
    assert "the rollback does not give back the schema at v1" in result.output
