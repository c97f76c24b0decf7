"""The catalog of a plan read ahead by a forked process (pipeline/prefetch.py): its rows are the
plan's only when read for the very URL, scope and digest the plan reads, a plan answered from it
still sees every change, and no read of it outlives the command, however it ends."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reconciler.connect.appname import parse_application_name
from reconciler.introspect.pg.catalog import read_catalog
from reconciler.pipeline import prefetch
from reconciler.project import cache
from reconciler.project.scope import Scope
from tests.helpers import write_yaml

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parents[2]
USERS = """\
table: users
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: email, type: text}
primary_key: [id]
"""


@pytest.fixture(autouse=True)
def _nothing_left_ahead():
    yield
    prefetch.discard()


def _sorted(rows: dict[str, list]) -> dict[str, list]:
    return {kind: sorted(map(repr, values)) for kind, values in rows.items()}


def _plan_sessions(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'reconciler/plan%' "
        "AND datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchone()
    assert row is not None
    return row[0]


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # reaped
    return False


def _reconciler(*args: str, cwd: Path, **env: str) -> subprocess.Popen:
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    environ.pop("RECONCILER_NO_PREFETCH", None)  # read ahead, unless the test says otherwise
    environ.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--pg", "postgresql://h/d"], ("postgresql://h/d", "schemas")),
        (["--pg=postgresql://h/d", "--schemas=s", "--json"], ("postgresql://h/d", "s")),
        (["--schemas", "db", "--detailed-exitcode"], (None, "db")),
        (["--pg", "postgresql://h/d", "--redis", "redis://h"], None),
        (["--redis=redis://h"], None),
        (["--help"], None),
        (["--pg"], None),
    ],
)
def test_only_a_plan_that_reads_a_catalog_alone_is_read_ahead(argv, expected):
    assert prefetch._plan_args(["plan", *argv]) == expected


def test_the_rows_read_ahead_are_the_rows_the_plan_reads(pg_url, pg_conn, tmp_path, monkeypatch):
    pg_conn.execute("CREATE TABLE public.users (id uuid PRIMARY KEY, email text DEFAULT 'x')")
    pg_conn.execute("CREATE INDEX users_email ON public.users (email)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(prefetch.OFF_VARIABLE, raising=False)
    prefetch.start(["plan", "--pg", pg_url])
    hashed = cache.cache_dir() is not None
    ahead = prefetch.take(pg_url, Scope(), hashed)
    assert ahead is not None and ahead.pg_url == pg_url and ahead.hashed is hashed
    rows = ahead.rows()
    assert rows is not None
    here = read_catalog(pg_conn, hash_rows=hashed)
    assert _sorted(rows.rows) == _sorted(here.rows)
    assert rows.rows["columns"], "the table's columns were read"
    assert rows.digest() == here.digest() == (ahead.digest if hashed else here.digest())
    assert ahead.target["database"] == pg_conn.info.dbname
    assert _gone(ahead.pid) and not prefetch.running()


def test_a_second_connection_reads_ahead_only_when_the_cache_may_answer(
    pg_url, pg_conn, tmp_path, monkeypatch
):
    """With nothing in the cache (a fresh checkout's, or the cache off) the plan parses every
    file while the catalog is read ahead, and one connection reads it: a second would take the
    other core from the parse. With entries the digest may settle the plan at once: two."""
    pg_conn.execute("CREATE TABLE public.users (id uuid PRIMARY KEY, email text)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(prefetch.OFF_VARIABLE, raising=False)
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))

    def readers(hashed: bool) -> tuple[int, bool]:
        prefetch.start(["plan", "--pg", pg_url])
        ahead = prefetch.take(pg_url, Scope(), hashed)
        rows = ahead.rows() if ahead is not None else None
        assert rows is not None
        return rows.readers, ahead.digest is not None

    assert readers(True) == (1, True)  # a fresh checkout: the digest is still kept for later
    cache.put(cache.key("an earlier run"), 1)
    assert readers(True) == (2, True)
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    assert readers(False) == (1, False)


def test_a_read_made_for_another_url_or_scope_is_dropped(pg_url, tmp_path, monkeypatch):
    write_yaml(tmp_path, "reconciler.yaml", "scope:\n  exclude_schemas: [audit]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(prefetch.OFF_VARIABLE, raising=False)
    hashed = cache.cache_dir() is not None

    prefetch.start(["plan", "--pg", pg_url, "--schemas", "schemas"])
    ahead = prefetch.take(pg_url, Scope(("audit",)), hashed)  # the project's scope: its own
    assert ahead is not None and ahead.excluded == ("audit",)
    assert prefetch.take(pg_url, Scope(), hashed) is None  # a caller's own scope: not its
    assert _gone(ahead.pid) and not prefetch.running()

    prefetch.start(["plan", "--pg", pg_url])
    assert prefetch.take(pg_url + "?application_name=x", Scope(("audit",)), hashed) is None
    assert not prefetch.running()

    prefetch.start(["plan", "--pg", pg_url])
    assert prefetch.take(pg_url, Scope(("audit",)), not hashed) is None  # digest or not
    assert not prefetch.running()


def test_a_read_that_cannot_connect_is_dropped_without_a_word(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(prefetch.OFF_VARIABLE, raising=False)
    url = "postgresql://nobody@127.0.0.1:1/none"
    prefetch.start(["plan", "--pg", url])
    assert prefetch.take(url, Scope(), cache.cache_dir() is not None) is None
    assert capfd.readouterr() == ("", "")  # the plan's own connection says what went wrong


def test_a_plan_answered_ahead_still_sees_every_change_and_leaves_no_read(pg_url, tmp_path):
    write_yaml(tmp_path, "schemas/tables/users.yaml", USERS)
    apply = _reconciler("apply", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert apply.wait(timeout=120) == 0, apply.communicate()
    for _ in range(2):  # the second is answered from the verdict the first left
        out, err = _reconciler("plan", "--pg", pg_url, cwd=tmp_path).communicate(timeout=120)
        assert "No changes." in out, err
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE public.users ADD COLUMN nickname text")  # out of band
        out, err = _reconciler("plan", "--pg", pg_url, cwd=tmp_path).communicate(timeout=120)
        assert "nickname" in out, err
        deadline = time.monotonic() + 10
        while _plan_sessions(conn):  # the read ahead closed its sessions, or ended
            assert time.monotonic() < deadline, "a read ahead outlived its plan"
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie nobody reaped has ended all the same


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
@pytest.mark.parametrize("cache_entries", [True, False], ids=["two-readers", "fresh-checkout"])
def test_ctrl_c_while_the_read_ahead_waits_ends_it_too(
    pg_url, tmp_path, monkeypatch, how, cache_entries
):
    """However the command ends while the read ahead waits behind a lock, the read and its
    server sessions end with it: on a fresh checkout too, where one connection holds every
    query of the read (the server reads no more of them while it waits, and an ordinary close
    of the connection would queue behind them until the read's lock timeout)."""
    write_yaml(tmp_path, "schemas/tables/users.yaml", USERS)
    env = {"RECONCILER_CACHE_DIR": str(tmp_path / "cache")}
    if cache_entries:  # an entry of an earlier run: the read ahead takes two connections
        monkeypatch.setenv("RECONCILER_CACHE_DIR", env["RECONCILER_CACHE_DIR"])
        cache.put(cache.key("an earlier run"), 1)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.held (id int DEFAULT 1)")
        holder = psycopg.connect(pg_url)
        try:
            # The catalog read prints the table's default, which takes a share lock on it.
            holder.execute("LOCK TABLE public.held IN ACCESS EXCLUSIVE MODE")
            proc = _reconciler("plan", "--pg", pg_url, cwd=tmp_path, **env)
            deadline = time.monotonic() + 60
            while not (
                waiting := conn.execute(
                    "SELECT application_name FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND application_name LIKE 'reconciler/plan%'"
                ).fetchall()
            ):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the read ahead never waited for the lock"
                time.sleep(0.02)
            reader = int(parse_application_name(waiting[0][0])["pid"] or 0)
            assert reader != proc.pid, "the catalog was read by the command itself"
            time.sleep(0.3)  # the command is past its imports, waiting for the read
            proc.send_signal(how)
            _, err = proc.communicate(timeout=30)
            if how == signal.SIGINT:
                assert proc.returncode == 130, err
                assert "Interrupted; no apply or rollback was running" in err
                assert "Traceback" not in err
            deadline = time.monotonic() + 10
            while _alive(reader):  # with the lock still held: it ended, it did not finish
                assert time.monotonic() < deadline, "the read ahead outlived the plan"
                time.sleep(0.05)
            # and its server sessions, which look for their client while they wait (PG 14 on),
            # do not stay queued behind the lock until the read's lock_timeout
            if conn.info.server_version >= 140000:
                while conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s",
                    [f"% pid={reader} %"],
                ).fetchone()[0]:
                    assert time.monotonic() < deadline, "its sessions stayed behind the lock"
                    time.sleep(0.05)
        finally:
            holder.rollback()
            holder.close()


def test_a_role_limited_to_one_connection_still_plans(pg_url, pg_conn, tmp_path):
    """The read ahead's sessions count against the role's CONNECTION LIMIT: when the command's
    own connection is refused for it, the read ahead is stopped and the command connects."""
    role = f"one_conn_{os.getpid()}"
    database = pg_conn.info.dbname
    pg_conn.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1")
    try:
        pg_conn.execute(f"GRANT CREATE ON DATABASE {database} TO {role}")
        pg_conn.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {role}")
        url = pg_url.replace("postgres@", f"{role}@", 1)
        assert url != pg_url, "the test URL names the postgres role"
        write_yaml(tmp_path, "schemas/tables/users.yaml", USERS)
        for _ in range(3):  # whichever of the two connects first, the plan is made
            proc = _reconciler("plan", "--pg", url, cwd=tmp_path)
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert "users" in out and "create" in out.lower(), out
    finally:
        pg_conn.execute(f"REASSIGN OWNED BY {role} TO CURRENT_USER")
        pg_conn.execute(f"DROP OWNED BY {role}")
        pg_conn.execute(f"DROP ROLE {role}")


def test_a_lock_wait_of_the_read_ahead_is_not_waited_again(pg_url, pg_conn, tmp_path, monkeypatch):
    """Behind a table held exclusively, the read ahead waits READ_LOCK_TIMEOUT (lowered here,
    for both processes: the fork copies it) and the plan says who holds it, without reading
    the catalog itself (its own read is made to fail the test)."""
    from reconciler.introspect.pg import catalog, reading
    from tests.helpers import run_cli

    params = list(reading.SET_PARAMS)
    params[params.index("lock_timeout") + 1] = "300ms"
    monkeypatch.setattr(reading, "SET_PARAMS", params)
    monkeypatch.setattr(catalog, "READ_LOCK_TIMEOUT", "300ms")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(prefetch.OFF_VARIABLE, raising=False)
    write_yaml(tmp_path, "schemas/tables/users.yaml", USERS)
    pg_conn.execute("CREATE TABLE public.held (id int DEFAULT 1)")
    with psycopg.connect(pg_url, application_name="long migration") as other:
        other.execute("SET idle_in_transaction_session_timeout = '20s'")
        other.execute("LOCK TABLE public.held IN ACCESS EXCLUSIVE MODE")
        prefetch.start(["plan", "--pg", pg_url])

        def read_again(*args, **kwargs):
            raise AssertionError("the plan read the catalog again after the read ahead's wait")

        monkeypatch.setattr(catalog, "read_catalog", read_again)
        r = run_cli("plan", "--pg", pg_url, cwd=tmp_path)
        pid = other.info.backend_pid
    assert r.code == 1, r.text
    assert "waited 300ms" in r.err and "public.held is held by pid" in r.err, r.err
    assert f"pid {pid} (long migration)" in r.err, r.err
    assert "Traceback" not in r.err and "AssertionError" not in r.text
    assert not prefetch.running()


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "--pg", "postgresql://h/d", "--out", "o"],  # measured no faster ahead
        ["apply", "--pg", "postgresql://h/d"],
        ["drift", "--pg", "postgresql://h/d"],
        [],
    ],
)
def test_only_a_plan_is_read_ahead(argv):
    assert prefetch._plan_args(argv) is None


class _Silent:
    """A TCP listener that accepts connections and never answers (a stalled server): a
    client's connection times out. Counts what it accepted."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[Any] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def test_a_connection_that_timed_out_ahead_is_not_waited_for_again(pg_url, tmp_path, monkeypatch):
    from tests.helpers import run_cli

    # a cache of the test's own: the session's is shared, and its oldest entries go
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))
    silent = _Silent()
    url = f"postgresql://nobody@127.0.0.1:{silent.port}/none"
    try:
        # files planned to "no changes" before: the plan waits for the read ahead first
        write_yaml(tmp_path, "schemas/tables/users.yaml", USERS)
        assert run_cli("apply", "--pg", pg_url, "--auto-approve", cwd=tmp_path).code == 0
        assert "No changes." in run_cli("plan", "--pg", pg_url, cwd=tmp_path).out
        proc = _reconciler("plan", "--pg", url, cwd=tmp_path)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err
        assert err.count("Cannot connect to PostgreSQL") == 1, err
        assert "Traceback" not in err
        assert len(silent.accepted) == 1, "the command connected again after the read ahead"
    finally:
        silent.close()


def test_a_stopped_read_ahead_is_not_waited_for(pg_url, tmp_path, monkeypatch):
    import threading

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(prefetch.OFF_VARIABLE, raising=False)
    prefetch.start(["plan", "--pg", pg_url])
    pid = prefetch._state["child"][0]
    os.kill(pid, signal.SIGSTOP)  # a debugger, a freezer
    got: list[Any] = []
    waiting = threading.Thread(
        target=lambda: got.append(prefetch.take(pg_url, Scope(), cache.cache_dir() is not None))
    )
    waiting.start()
    waiting.join(timeout=30)
    if waiting.is_alive():
        os.kill(pid, signal.SIGCONT)
        waiting.join()
        pytest.fail("the command waited for a stopped read ahead")
    assert got == [None] and not prefetch.running()
    assert _gone(pid)


ITEMS = """\
table: items
columns:
  - {name: id, type: bigint}
  - {name: price, type: numeric}
primary_key: [id]
checks:
  - {name: items_price_check, expression: "price>0"}
"""


def test_a_plan_read_ahead_that_must_ask_the_server_connects_then(pg_url, pg_conn, tmp_path):
    """Text written otherwise than the server spells it (`price>0` for `(price > 0)`) is
    settled by a probe on the command's own connection, which a plan read ahead opens only
    then: the same plan as the one that reads its own catalog."""
    from tests.helpers import run_cli

    write_yaml(tmp_path, "schemas/tables/items.yaml", ITEMS)
    assert run_cli("apply", "--pg", pg_url, "--auto-approve", cwd=tmp_path).code == 0
    pg_conn.execute("ALTER TABLE public.items ADD COLUMN note text")  # out of band
    outs = {}
    for off in ("", "1"):
        shutil.rmtree(tmp_path / "plans", ignore_errors=True)  # each saves the same plan
        proc = _reconciler("plan", "--pg", pg_url, cwd=tmp_path, RECONCILER_NO_PREFETCH=off)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outs[off] = re.sub(r"\b\d{14}_", "VERSION_", out)  # the second in which each was made
    assert outs[""] == outs["1"]
    assert "note" in outs[""] and "items_price_check" not in outs[""], outs[""]


def test_a_connection_opened_on_first_use(pg_url):
    from reconciler.connect import connect_pg
    from reconciler.connect.deferred import OnFirstUse

    opened = []

    def opener() -> psycopg.Connection:
        opened.append(connect_pg(pg_url, command="plan"))
        return opened[-1]

    never = OnFirstUse(opener)
    never.close_if_opened()
    assert opened == []
    conn = OnFirstUse(opener)
    assert opened == []
    conn.autocommit = False  # a setting goes to the connection, and opens it
    assert len(opened) == 1 and opened[0].autocommit is False
    assert conn.execute("SELECT 1").fetchone() == (1,)
    with conn.transaction():
        assert conn.execute("SELECT current_setting('timezone')").fetchone() == ("UTC",)
    assert len(opened) == 1, "opened once"
    conn.close_if_opened()
    assert opened[0].closed
