"""`reconciler dev down` is quick whatever the servers were doing (their data is thrown away, so
nothing is saved or waited for), and says what it waits for when a stop takes more than an
instant."""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from reconciler import dev
from tests.helpers import run_cli


@pytest.fixture
def project(server_dir: Path) -> Iterator[Path]:
    root = server_dir / f"devdown-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    (root / "reconciler.yaml").write_text("")
    yield root
    dev.dev_down(root)


def _attach_silent_replica(port: int) -> socket.socket:
    """A replica that takes the full sync and then never acknowledges anything: to the server,
    a lagging replica (what a stalled `redis-cli --replica` or `--rdb` looks like)."""
    client = redis.Redis(port=port)
    client.config_set("repl-diskless-sync", "no")  # online right after the transfer
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"PSYNC ? -1\r\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        info = client.info("replication")
        if info.get("slave0", {}).get("state") == "online":
            break
        with contextlib.suppress(TimeoutError):
            sock.recv(65536)  # drain the RDB
        sock.settimeout(0.05)
    else:
        raise AssertionError("the replica never came online")
    client.set("after-the-sync", "x")  # the server's offset moves on; the replica never acks
    client.close()
    return sock


def test_dev_down_does_not_wait_for_a_lagging_redis_replica(project: Path) -> None:
    status = dev.dev_up(project)
    assert status.redis_url is not None
    port = int(status.redis_url.rsplit(":", 1)[1].split("/")[0])
    replica = _attach_silent_replica(port)
    try:
        started = time.monotonic()
        r = run_cli("dev", "down", cwd=project)
        took = time.monotonic() - started
    finally:
        replica.close()
    assert r.code == 0, r.text
    # SHUTDOWN NOSAVE waits up to shutdown-timeout (10 s) for a lagging replica; NOW does not.
    assert took < 4.0, f"dev down took {took:.1f} s"
    assert not (project / ".reconciler" / "dev").exists()


def test_a_quick_dev_down_says_nothing_on_stderr(project: Path) -> None:
    dev.dev_up(project)
    r = run_cli("dev", "down", cwd=project)
    assert r.code == 0, r.text
    assert r.err == ""
    assert r.out.strip() == "Dev servers stopped and removed."
    again = run_cli("dev", "down", cwd=project)  # nothing runs any more: it says so
    assert again.code == 0, again.text
    assert "stopped" not in again.out and "No dev server was running" in again.out, again.out


def test_a_slow_stop_is_said_once_a_quick_one_not() -> None:
    said: list[str] = []
    with dev._said_if_slow(said.append, "Stopping PostgreSQL on port 5432…"):
        time.sleep(0.6)
    assert said == ["Stopping PostgreSQL on port 5432…"]
    with dev._said_if_slow(said.append, "Stopping Redis on port 6379…"):
        pass
    time.sleep(0.5)
    assert said == ["Stopping PostgreSQL on port 5432…"]
