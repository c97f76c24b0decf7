"""Online-safe changes on tables with rows and writers: concurrent index builds, NOT VALID
then VALIDATE, SET NOT NULL through a validated check, lock_timeout with bounded retries, and
an undo of the committed first transaction when a later phase fails."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from reconciler.plan.files import read_plan
from reconciler.state.postgres import PgState
from tests.helpers import run_cli, write_yaml

ROWS = 200_000
LOCK_TIMEOUT = 0.25  # seconds; what the writer may wait at most (one transaction: ~0.4 s)

ACCOUNTS = """\
table: accounts
columns:
  - {name: id, type: bigint, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
"""


def _events(*, kind_not_null: bool, extra: str = "") -> str:
    return f"""\
table: events
columns:
  - {{name: id, type: bigint, nullable: false, identity: always}}
  - {{name: account_id, type: bigint}}
  - {{name: kind, type: text, nullable: {str(not kind_not_null).lower()}}}
  - {{name: payload, type: text}}
  - {{name: created_at, type: timestamptz, nullable: false, default: now()}}
  - {{name: updated_at, type: timestamptz, nullable: false, default: now()}}
primary_key: [id]
{extra}"""


ONLINE_CHANGES = """\
foreign_keys:
  - {name: events_account_id_fkey, columns: [account_id], references: accounts}
indexes:
  - {name: events_payload_idx, columns: [payload]}
"""


def _schemas(root: Path, events: str) -> Path:
    write_yaml(root, "tables/accounts.yaml", ACCOUNTS)
    write_yaml(root, "tables/events.yaml", events)
    return root


def _apply(url: str, schemas: Path, cwd: Path, *flags: str):
    return run_cli(
        "apply", "--pg", url, "--schemas", str(schemas), "--auto-approve", "--out",
        str(cwd / "plans"), *flags, cwd=cwd,
    )  # fmt: skip


@pytest.fixture
def loaded(pg_url: str, tmp_path: Path) -> str:
    """accounts (1,000 rows) and events (200k rows, no index, FK or NOT NULL yet)."""
    before = _schemas(tmp_path / "before", _events(kind_not_null=False))
    r = _apply(pg_url, before, tmp_path)
    assert r.code == 0, r.text
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (id) SELECT g FROM generate_series(1, 1000) g")
        conn.execute(
            "INSERT INTO events (account_id, kind, payload) SELECT 1 + g % 1000, "
            f"'k' || (g % 7), repeat(md5(g::text), 4) FROM generate_series(1, {ROWS}) g"
        )
        conn.execute("ANALYZE")
    return pg_url


class Writer(threading.Thread):
    """Inserts rows one by one (autocommit) until stopped; records the slowest insert."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.slowest = 0.0
        self.inserted = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                while not self.stop.is_set():
                    t0 = time.monotonic()
                    conn.execute(
                        "INSERT INTO events (account_id, kind, payload) "
                        "VALUES (7, 'live', md5(random()::text))"
                    )
                    self.slowest = max(self.slowest, time.monotonic() - t0)
                    self.inserted += 1
        except BaseException as exc:  # reported by the test
            self.error = exc


def _catalog(url: str) -> dict[str, object]:
    with psycopg.connect(url, autocommit=True) as conn:
        index = conn.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = 'events_payload_idx'"
        ).fetchone()
        fk = conn.execute(
            "SELECT convalidated FROM pg_constraint WHERE conname = 'events_account_id_fkey'"
        ).fetchone()
        not_null = conn.execute(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'events'::regclass "
            "AND attname = 'kind'"
        ).fetchone()[0]
        helpers = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conname LIKE 'reconciler_nn_%'"
        ).fetchone()[0]
    return {
        "index_valid": index[0] if index else None,
        "fk_validated": fk[0] if fk else None,
        "kind_not_null": not_null,
        "helper_checks": helpers,
    }


def test_index_fk_and_not_null_on_a_busy_table_never_block_the_writer(loaded, tmp_path):
    after = _schemas(tmp_path / "after", _events(kind_not_null=True, extra=ONLINE_CHANGES))
    writer = Writer(loaded)
    writer.start()
    time.sleep(0.3)  # the writer is going
    before_apply = writer.inserted
    try:
        r = _apply(loaded, after, tmp_path, "--ddl-lock-timeout", f"{int(LOCK_TIMEOUT * 1000)}ms")
    finally:
        writer.stop.set()
        writer.join(10)
    assert writer.error is None, writer.error
    assert r.code == 0, r.text
    assert writer.inserted > before_apply, "the writer made no progress during the apply"
    assert writer.slowest < LOCK_TIMEOUT, (
        f"an insert waited {writer.slowest:.3f} s, more than lock_timeout ({LOCK_TIMEOUT} s)"
    )
    assert _catalog(loaded) == {
        "index_valid": True,
        "fk_validated": True,
        "kind_not_null": True,
        "helper_checks": 0,
    }
    up = sorted((tmp_path / "plans").glob("*_up.sql"))[-1].read_text()
    assert 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "events_payload_idx"' in up
    assert "NOT VALID" in up and 'VALIDATE CONSTRAINT "events_account_id_fkey"' in up
    # converged, and the rollback takes all three away again
    again = run_cli("plan", "--pg", loaded, "--schemas", str(after), "--detailed-exitcode")
    assert again.code == 0, again.text
    back = run_cli(
        "rollback", "--pg", loaded, "--last", "--auto-approve", "--out", str(tmp_path / "plans")
    )
    assert back.code == 0, back.text
    assert _catalog(loaded) == {
        "index_valid": None,
        "fk_validated": None,
        "kind_not_null": False,
        "helper_checks": 0,
    }


def test_the_plan_explains_each_online_step(loaded, tmp_path):
    after = _schemas(tmp_path / "after", _events(kind_not_null=True, extra=ONLINE_CHANGES))
    r = run_cli("plan", "--pg", loaded, "--schemas", str(after), "--out", str(tmp_path / "p"))
    assert r.code == 0, r.text
    plan = read_plan(next((tmp_path / "p").glob("*.plan.json")))
    by_address = {c.address: c for c in plan.changes}
    index = by_address["pg.index.public.events_payload_idx"]
    assert index.phases == ("online",) and "concurrent_build" in index.hazard_codes()
    fk = by_address["pg.constraint.public.events.events_account_id_fkey"]
    assert fk.phases == ("main", "online")
    column = by_address["pg.column.public.events.kind"]
    assert column.phases == ("main", "online", "after", "after")
    assert "NOT NULL is proved by a check" in column.hazards[0]["message"]
    assert plan.phased()


@pytest.mark.parametrize(
    ("what", "spoil", "extra"),
    [
        (
            "a foreign key violated by old rows",
            "UPDATE events SET account_id = 999999 WHERE id = 5",
            "foreign_keys:\n  - {name: events_account_id_fkey, columns: [account_id], "
            "references: accounts}\n",
        ),
        (
            "a unique index over duplicates",
            "UPDATE events SET payload = 'same' WHERE id IN (5, 6)",
            "indexes:\n  - {name: events_payload_key, columns: [payload], unique: true}\n",
        ),
    ],
)
def test_a_failing_online_step_undoes_the_committed_part(
    loaded, tmp_path, pg_dump_schema, what, spoil, extra
):
    with psycopg.connect(loaded, autocommit=True) as conn:
        conn.execute(spoil)
    schema_before = pg_dump_schema(loaded)
    after = _schemas(tmp_path / "after", _events(kind_not_null=True, extra=extra))
    r = _apply(loaded, after, tmp_path)
    assert r.code == 1, f"{what}: {r.text}"
    assert "was undone, so nothing was changed" in r.err, r.err
    assert pg_dump_schema(loaded) == schema_before, f"{what}: the schema was left changed"
    assert _catalog(loaded)["helper_checks"] == 0
    with psycopg.connect(loaded, autocommit=True) as conn:
        invalid = conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()[0]
        history = PgState(conn).history()
    applied = [r for r in history if r.direction == "up" and r.status == "applied"]
    assert invalid == 0, "a half-built index was left behind"
    assert len(applied) == 1, "the failed apply was recorded as applied"
    # What committed before the failure was recorded as it committed, then as undone.
    assert [(r.direction, r.status) for r in history[:2]] == [
        ("down", "applied"),
        ("up", "rolled_back"),
    ]


class LockHolder(threading.Thread):
    """Holds a lock on events that the first transaction's ALTER TABLE must wait for."""

    def __init__(self, url: str, seconds: float) -> None:
        super().__init__(daemon=True)
        self.url, self.seconds = url, seconds
        self.holding = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url) as conn:
            conn.execute("LOCK TABLE events IN ACCESS SHARE MODE")
            self.holding.set()
            time.sleep(self.seconds)
            conn.rollback()


def test_a_lock_not_obtained_is_retried_then_given_up(loaded, tmp_path, pg_dump_schema):
    after = _schemas(tmp_path / "after", _events(kind_not_null=True))
    schema_before = pg_dump_schema(loaded)
    holder = LockHolder(loaded, 2.5)
    holder.start()
    holder.holding.wait(10)
    r = _apply(loaded, after, tmp_path, "--ddl-lock-timeout", "200ms", "--lock-retries", "0")
    assert r.code == 1, r.text
    assert "lock_timeout" in r.err and "0 retries" in r.err, r.err
    assert pg_dump_schema(loaded) == schema_before
    holder.join(10)

    holder = LockHolder(loaded, 1.5)
    holder.start()
    holder.holding.wait(10)
    t0 = time.monotonic()
    r = _apply(loaded, after, tmp_path, "--ddl-lock-timeout", "200ms", "--lock-retries", "3")
    assert r.code == 0, r.text
    assert time.monotonic() - t0 >= 1.0, "the apply cannot have waited for the lock holder"
    logs = "".join(p.read_text() for p in (tmp_path / "state" / "logs").glob("*_up.log"))
    assert "retry 1 of 3" in logs
    assert _catalog(loaded)["kind_not_null"] is True
    holder.join(10)


def test_index_drops_are_concurrent_and_brief_locks_are_named(loaded, tmp_path):
    with_index = _schemas(tmp_path / "v2", _events(kind_not_null=False, extra=ONLINE_CHANGES))
    assert _apply(loaded, with_index, tmp_path).code == 0
    extra = ONLINE_CHANGES.split("indexes:")[0]  # the foreign key stays, the index goes
    events = _events(kind_not_null=False, extra=extra).replace(
        "  - {name: payload, type: text}\n",
        "  - {name: payload, type: text}\n  - {name: note, type: text}\n",
    )
    v3 = _schemas(tmp_path / "v3", events)
    r = run_cli("plan", "--pg", loaded, "--schemas", str(v3), "--out", str(tmp_path / "p3"))
    assert r.code == 0, r.text
    plan = read_plan(next((tmp_path / "p3").glob("*.plan.json")))
    by_address = {c.address: c for c in plan.changes}
    dropped = by_address["pg.index.public.events_payload_idx"]
    assert dropped.up == ('DROP INDEX CONCURRENTLY IF EXISTS "public"."events_payload_idx"',)
    assert dropped.phases == ("online",)
    added = by_address["pg.column.public.events.note"]
    # listed in the middle of the YAML's columns: it goes at the end all the same, and says so
    assert [h["code"] for h in added.hazards] == ["access_exclusive_lock", "column_order"]
    assert "for a moment (no scan, no rewrite)" in added.hazards[0]["message"]
    r = _apply(loaded, v3, tmp_path)
    assert r.code == 0, r.text
    with psycopg.connect(loaded, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('events_payload_idx')").fetchone() == (None,)
