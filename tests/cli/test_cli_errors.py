"""Errors a newcomer meets first: each one sentence that keeps the reason (host, port, the
commit asked for), exit code 1, and never a password."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_cli

REFUSED = "postgresql://bob:s3cret-pw@127.0.0.1:1/shop"  # nothing listens on port 1


def test_refused_connection_names_host_port_and_reason() -> None:
    r = run_cli("state", "list", "--pg", REFUSED)
    assert r.code == 1, r.text
    first = r.err.splitlines()[0]
    assert 'connection to server at "127.0.0.1", port 1 failed: Connection refused' in first
    assert "s3cret-pw" not in r.text
    assert "postgresql://bob:***@127.0.0.1:1/shop" in first


def _git(cwd: Path, *args: str) -> None:
    conf = ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *conf, *args], cwd=cwd, check=True, capture_output=True)


def test_rollback_check_unknown_ref_says_which_commit_and_where(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "a.yaml").write_text("tables: []\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "one")
    r = run_cli(
        "rollback-check", "--pg", REFUSED, "--schemas", "schemas", "--prev-ref", "nonexistent",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.code == 1, r.text
    assert f"No commit 'nonexistent' in the repository at {tmp_path.resolve()}" in r.err
    assert "rev-parse" not in r.err
    assert "s3cret-pw" not in r.text


def test_rollback_check_outside_git_says_so(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    r = run_cli(
        "rollback-check", "--pg", REFUSED, "--schemas", "schemas", "--prev-ref", "v1",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.code == 1, r.text
    assert "schemas is not in a git repository" in r.err
    assert "rev-parse" not in r.err


def test_force_unlock_without_a_flag_says_which_to_give(tmp_path, monkeypatch):
    """With both engines configured (here by the environment) and neither flag given, the
    sentence asks to choose one; it does not blame flags the user never gave."""
    monkeypatch.setenv("RECONCILER_PG_URL", "postgresql://127.0.0.1:1/x")
    monkeypatch.setenv("RECONCILER_REDIS_URL", "redis://127.0.0.1:1/0")
    r = run_cli("lock", "force-unlock", "999999", cwd=tmp_path)
    assert r.code == 1, r.text
    assert "not both" not in r.err and "with --pg or --redis" in r.err, r.err


def test_running_out_of_memory_is_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A MemoryError's message is empty: the sentence says what happened instead."""
    from reconciler.api import project as api_project

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(api_project, "validate", exhausted)
    r = run_cli("validate", "--schemas", str(tmp_path))
    assert r.code == 1
    assert r.err.strip() == (
        "Error: reconciler ran out of memory (the process's limit, `ulimit -v`, or the "
        "machine's) (run with --debug for the traceback)."
    ), r.err


@pytest.mark.parametrize("closed", [">&-", "2>&-"])
def test_a_command_started_with_a_closed_stream_still_runs(closed, tmp_path):
    """`>&-` leaves Python's sys.stdout None: what the command prints goes nowhere, and its
    outcome is still its exit code and the sentence on the stream that is open."""
    import sys

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "nothing.yaml").write_text("")  # a desired state of nothing: the plan connects
    script = (
        f"{sys.executable} -m reconciler --help {closed}; echo help=$?; "
        f"{sys.executable} -m reconciler plan --pg postgresql://nobody@127.0.0.1:1/none "
        f"--schemas . {closed}; echo plan=$?"
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert "help=0" in done.stdout and "plan=1" in done.stdout, done
    assert "Traceback" not in done.stderr and "NoneType" not in done.stderr, done.stderr
    if closed == ">&-":
        assert "Cannot connect to PostgreSQL" in done.stderr, done.stderr


@pytest.fixture
def silent_port():
    """A port that takes connections and never answers (a stalled server, a dead tunnel)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    taken: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                taken.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for s in taken:
        s.close()


@pytest.mark.parametrize("given", ["url", "variable"])
def test_a_connect_timeout_the_user_gives_is_the_one_waited(silent_port, monkeypatch, given):
    """libpq's `connect_timeout` (in the URL, or PGCONNECT_TIMEOUT) bounds the wait; 10 s only
    when neither gives one."""
    import time

    url = f"postgresql://bob@127.0.0.1:{silent_port}/shop"
    if given == "url":
        url += "?connect_timeout=2"
    else:
        monkeypatch.setenv("PGCONNECT_TIMEOUT", "2")
    started = time.monotonic()
    r = run_cli("state", "list", "--pg", url)
    waited = time.monotonic() - started
    assert r.code == 1, r.text
    assert "Cannot connect to PostgreSQL" in r.err and "timeout" in r.err, r.err
    assert waited < 6, f"waited {waited:.1f} s, not the 2 s asked for"


def test_a_bad_connect_timeout_variable_is_named(monkeypatch):
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "xyz")
    r = run_cli("state", "list", "--pg", REFUSED)
    assert r.code == 1, r.text
    assert "PGCONNECT_TIMEOUT is 'xyz'" in r.err, r.err
    assert "s3cret-pw" not in r.text


def test_debug_after_the_command_is_the_root_option(tmp_path: Path):
    """`reconciler validate … --debug` means `reconciler --debug validate …`: the error comes
    with its traceback (here, raised), not "No such option: --debug"."""
    from reconciler.errors import ReconcilerError

    missing = str(tmp_path / "missing")
    plain = run_cli("validate", "--schemas", missing)
    assert plain.code == 1 and "Traceback" not in plain.err, plain.text
    with pytest.raises(ReconcilerError):
        run_cli("validate", "--schemas", missing, "--debug")
    with pytest.raises(ReconcilerError):
        run_cli("--debug", "validate", "--schemas", missing)
    after_dashes = run_cli("validate", "--", "--debug")  # an argument, not the option
    assert after_dashes.code != 0 and "No such option" not in after_dashes.err
