"""Statements of one transaction go to the server several at a time (one round trip each
round); a failure still names its own statement and keeps nothing."""

from __future__ import annotations

import psycopg
import pytest

from reconciler.apply.pg import executor
from reconciler.apply.pg.executor import ROUND_STATEMENTS, _rounds, run_statements
from reconciler.apply.timeouts import Timeouts
from reconciler.errors import ReconcilerError
from reconciler.plan import PlannedChange, Step


def _step(address: str, sql: str) -> Step:
    change = PlannedChange(
        address=address,
        action="create",
        symbol="+",
        kind="table",
        description=address,
        hazards=(),
        details=(),
        up=(sql,),
        down=(),
    )
    return Step(change, sql)


def _run(conn: psycopg.Connection, steps: list[Step], timeouts: Timeouts = Timeouts()):
    """Run `steps` in one transaction (committed unless one fails); the log lines."""
    lines: list[str] = []
    run_statements(conn, steps, timeouts=timeouts, log=lines.append, before_commit=lambda: None)
    return lines


def _tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def test_many_statements_apply_in_few_round_trips(pg_url, monkeypatch):
    sent: list[bytes] = []
    with psycopg.connect(pg_url) as conn:
        real = conn.execute

        def counting(query, *args, **kwargs):
            sent.append(query if isinstance(query, bytes) else str(query).encode())
            return real(query, *args, **kwargs)

        monkeypatch.setattr(conn, "execute", counting)
        steps = [_step(f"pg.table.public.t{i}", f"CREATE TABLE t{i} (id int)") for i in range(600)]
        _run(conn, steps)
        monkeypatch.undo()
        assert len(_tables(conn)) == 600
    ddl = [q for q in sent if b"CREATE TABLE" in q]
    assert len(ddl) == -(-600 // ROUND_STATEMENTS)  # 600 statements, a few messages


def test_a_failure_inside_a_round_names_its_statement_and_keeps_nothing(pg_url):
    steps = [_step(f"pg.table.public.t{i}", f"CREATE TABLE t{i} (id int)") for i in range(40)]
    steps[25] = _step("pg.table.public.again", "CREATE TABLE t3 (id int)")
    with psycopg.connect(pg_url) as conn:
        with pytest.raises(ReconcilerError) as failed:
            _run(conn, steps)
        assert "at pg.table.public.again:" in str(failed.value)
        assert 'relation "t3" already exists' in str(failed.value)
        assert "nothing was changed" in str(failed.value)
        assert _tables(conn) == []


def test_the_round_is_replayed_one_statement_at_a_time_after_a_failure(pg_url):
    steps = [_step(f"pg.table.public.t{i}", f"CREATE TABLE t{i} (id int)") for i in range(5)]
    steps.append(_step("pg.table.public.bad", "CREATE TABLE t0 (id int)"))
    lines: list[str] = []
    with psycopg.connect(pg_url) as conn, pytest.raises(ReconcilerError):
        run_statements(
            conn, steps, timeouts=Timeouts(), log=lines.append, before_commit=lambda: None
        )
    replay = [i for i, line in enumerate(lines) if "running them one at a time" in line]
    assert len(replay) == 1
    assert "already exists" in lines[replay[0]]


def test_statements_ending_in_a_comment_or_a_semicolon_stay_apart(pg_url):
    steps = [
        _step("pg.table.public.a", "CREATE TABLE a (id int) -- the first"),
        _step("pg.table.public.b", "CREATE TABLE b (id int);"),
        _step("pg.function.public.f", "DO $body$BEGIN PERFORM 1; END$body$"),
        _step("pg.table.public.c", "-- nothing to run for this one"),
        _step("pg.table.public.d", "CREATE TABLE d (id int)\n-- trailing\n"),
    ]
    with psycopg.connect(pg_url) as conn:
        lines = _run(conn, steps)
    with psycopg.connect(pg_url) as conn:
        assert _tables(conn) == ["a", "b", "d"]
    assert any(line.startswith("skip") and "pg.table.public.c" in line for line in lines)


def test_a_cancelled_round_is_not_run_twice(pg_url):
    steps = [_step("pg.table.public.a", "CREATE TABLE a (id int)")]
    steps.append(_step("pg.function.public.slow", "SELECT pg_sleep(5)"))
    steps.append(_step("pg.table.public.b", "CREATE TABLE b (id int)"))
    lines: list[str] = []
    with psycopg.connect(pg_url) as conn:
        with pytest.raises(ReconcilerError) as failed:
            run_statements(
                conn,
                steps,
                timeouts=Timeouts(statement_timeout="200ms", lock_retries=0),
                log=lines.append,
                before_commit=lambda: None,
            )
        assert _tables(conn) == []
    assert "statement timeout" in str(failed.value)
    assert "at pg.table.public.a or one of the 2 statements after it" in str(failed.value)
    assert not any("one at a time" in line for line in lines)


def test_rounds_are_cut_by_count_and_by_size(monkeypatch):
    steps = [_step(f"t{i}", "x" * 100) for i in range(10)]
    assert [len(r) for r in _rounds(steps, together=False)] == [1] * 10
    monkeypatch.setattr(executor, "ROUND_STATEMENTS", 4)
    assert [len(r) for r in _rounds(steps, together=True)] == [4, 4, 2]
    monkeypatch.setattr(executor, "ROUND_BYTES", 250)
    assert [len(r) for r in _rounds(steps, together=True)] == [2, 2, 2, 2, 2]


def test_progress_is_reported_round_by_round_up_to_the_total(pg_url):
    seen: list[tuple[int, int]] = []
    steps = [_step(f"pg.table.public.t{i}", f"CREATE TABLE t{i} (id int)") for i in range(600)]
    with psycopg.connect(pg_url) as conn:
        run_statements(
            conn,
            steps,
            timeouts=Timeouts(),
            log=lambda _: None,
            before_commit=lambda: None,
            progress=lambda done, total: seen.append((done, total)),
        )
    assert seen[-1] == (600, 600)
    assert len(seen) == -(-600 // ROUND_STATEMENTS)  # one report a round
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_an_undo_that_fails_too_says_the_database_is_partly_changed_and_nothing_else(pg_url):
    """A later phase fails, then undoing the committed part fails as well: the error says
    where each failed and that the database is partly changed, never the undo transaction's
    own "nothing was changed"."""
    from reconciler.ops.base import ONLINE

    made = _step("pg.table.public.made", "CREATE TABLE made (id int)")
    online = Step(made.change, "SELECT 1/0", phase=ONLINE)
    undo = [Step(made.change, "SELECT 'x'::integer")]
    with psycopg.connect(pg_url, autocommit=True) as conn, pytest.raises(ReconcilerError) as failed:
        run_statements(
            conn, [made, online], timeouts=Timeouts(), log=lambda _: None,
            before_commit=lambda: None, undo=undo,
        )  # fmt: skip
    text = str(failed.value)
    assert "division by zero" in text and 'invalid input syntax for type integer: "x"' in text
    assert "partly changed" in text and "nothing was changed" not in text, text
    with psycopg.connect(pg_url) as conn:
        assert "made" in _tables(conn)  # the committed part stays, as said
