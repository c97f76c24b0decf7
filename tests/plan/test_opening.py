"""pipeline/opening.py: a PostgreSQL-only plan's connection opened while its files wait. When
the server answers at once nothing changes; when it does not, the files are read meanwhile and
a mistake in them is raised at once; a connection that arrives after that is closed, never
left open; and a failure to connect is raised as itself."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from reconciler.errors import InputError
from reconciler.pipeline.opening import open_or_read

ROOT = Path(__file__).resolve().parents[2]


class _Server:
    """What open_targets stands for: entered after `delay` seconds, its exit recorded."""

    def __init__(self, delay: float = 0.0, fails: bool = False) -> None:
        self.delay, self.fails = delay, fails
        self.closed = threading.Event()

    @contextmanager
    def opening(self):
        time.sleep(self.delay)
        if self.fails:
            raise ConnectionError("the server refused")
        try:
            yield "targets"
        finally:
            self.closed.set()


def test_a_server_that_answers_at_once_leaves_the_files_to_the_plan():
    server, read = _Server(), []
    with ExitStack() as stack:
        t, files = open_or_read(stack, server.opening, lambda: read.append(1) or "files")
        assert (t, files, read) == ("targets", None, [])
        assert not server.closed.is_set()
    assert server.closed.is_set()


def test_a_slow_server_has_the_files_read_meanwhile():
    server = _Server(delay=0.3)
    with ExitStack() as stack:
        t, files = open_or_read(stack, server.opening, lambda: "files", grace_s=0.05)
        assert (t, files) == ("targets", "files")
    assert server.closed.is_set()


def test_a_mistake_in_the_files_is_raised_before_the_server_answers_and_nothing_stays_open():
    server = _Server(delay=0.5)

    def read():
        raise InputError("schemas/ has 1 error.")

    started = time.monotonic()
    with pytest.raises(InputError), ExitStack() as stack:
        open_or_read(stack, server.opening, read, grace_s=0.05)
    assert time.monotonic() - started < 0.4, "the mistake waited for the server"
    assert server.closed.wait(5), "the connection that arrived later was left open"


def test_a_failure_to_connect_is_raised_as_itself():
    with pytest.raises(ConnectionError), ExitStack() as stack:
        open_or_read(stack, _Server(fails=True).opening, lambda: "files")


def test_plan_says_a_yaml_mistake_at_once_when_the_server_never_answers(tmp_path: Path):
    # a listener that takes connections and never says a word (a tunnel whose far end is gone)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    taken: list[socket.socket] = []
    threading.Thread(target=lambda: taken.append(listener.accept()[0]), daemon=True).start()
    port = listener.getsockname()[1]
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "users.yaml").write_text(
        "table: users\ncolumns:\n  - {name: id, type: bigint\n", encoding="utf-8"
    )
    argv = [
        sys.executable,
        "-m",
        "reconciler",
        "plan",
        "--pg",
        f"postgresql://u@127.0.0.1:{port}/db",
    ]
    started = time.monotonic()
    try:
        out = subprocess.run(
            [*argv, "--redis", ""],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        listener.close()
        for s in taken:
            s.close()
    assert out.returncode == 1, out.stderr
    assert "users.yaml:4: invalid YAML" in out.stderr
    assert "Cannot connect" not in out.stderr
    assert time.monotonic() - started < 8, "the YAML error waited for the connect timeout (10 s)"
