"""A key whose type changed since it was planned is no longer the key the plan judged: no step
of the plan, of its down file or of a run's journal touches it.

A key deleted and written anew as another type (same name, other data) keeps whatever expiry
its writer gave it through apply, rollback and the putting back of an interrupted run; it is
skipped like a key whose expiry changed. A plan written before types were recorded still
applies, guarded on the expiry alone. On a single Redis and on a Redis Cluster.
"""

from __future__ import annotations

import json
from pathlib import Path

import redis

from reconciler.apply.redis.executor import run_redis
from reconciler.locks.redis_journal import JOURNAL_KEY, RedisJournal
from reconciler.plan import Plan
from tests.conftest import redis_from_url
from tests.helpers import run_cli, saved_plan, write_yaml

ON_REDIS_CLUSTER = True

SPEC = """\
namespace: app
patterns:
  - pattern: "app:session:{id}"
    type: hash
    class: session
  - pattern: "app:run_cache:{id}"
    type: string
    class: cache
"""
SESSION, CACHE = "app:session:ok", "app:run_cache:good"


def _plan(url: str, tmp_path: Path) -> Path:
    """Both keys without a TTL, planned: one EXPIRE each. Returns the .plan.json."""
    r = redis_from_url(url)
    r.hset(SESSION, mapping={"f": "v"})
    r.set(CACHE, "v")
    r.close()
    schemas = tmp_path / "schemas"
    write_yaml(schemas, "keys/app.yaml", SPEC)
    plans = tmp_path / "plans"
    argv = ("--redis", url, "--schemas", str(schemas))
    data, plan_file = saved_plan(*argv, plans=plans, cwd=tmp_path)
    up = (plans / data["files"]["redis_up"]["name"]).read_text()
    assert f'EXPIRE "{SESSION}" "86400"' in up and f'EXPIRE "{CACHE}" "3600"' in up, up
    return plan_file


def test_apply_and_rollback_skip_a_key_whose_type_changed(whole_redis, tmp_path: Path):
    url = whole_redis.url()
    plan = _plan(url, tmp_path)
    r = redis_from_url(url)

    # The session hash is replaced by a string without a TTL: no session TTL may reach it.
    r.delete(SESSION)
    r.set(SESSION, "nowastring")
    applied = run_cli("apply", "--redis", url, "--plan", str(plan), "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    assert "1 key skipped" in applied.out and SESSION in applied.out, applied.text
    # The summary counts the plan's changes, and says that a key of them was left alone.
    assert "0 dropped in " in applied.out and "ms (1 key skipped, above; version" in applied.out
    assert r.execute_command("PEXPIRETIME", SESSION) == -1
    assert r.get(SESSION) == b"nowastring"
    assert 0 < r.ttl(CACHE) <= 3600  # the key that did not change got its TTL

    # The cache string is replaced by a hash with the application's own TTL: the down file's
    # PERSIST may not take that TTL away.
    r.delete(CACHE)
    r.hset(CACHE, mapping={"f": "v"})
    r.expire(CACHE, 3500)
    own = r.execute_command("PEXPIRETIME", CACHE)
    back = run_cli("rollback", "--redis", url, "--last", "--auto-approve", cwd=tmp_path)
    assert back.code == 0, back.text
    assert r.execute_command("PEXPIRETIME", CACHE) == own
    assert r.hgetall(CACHE) == {b"f": b"v"}
    assert r.execute_command("PEXPIRETIME", SESSION) == -1
    logs = "".join(p.read_text() for p in (tmp_path / "state" / "logs").glob("*down*"))
    assert f'skip   redis.keys.app:run_cache:{{id}}: "{CACHE}" changed' in logs, logs
    r.close()


def test_an_interrupted_run_puts_back_no_key_whose_type_changed(whole_redis, tmp_path: Path):
    """The journal's put-back of a run that was never recorded (killed after its batch) checks
    the type too: a key written anew with, by chance or copy, the very expiry the run set keeps
    it."""
    url = whole_redis.url()
    plan = Plan.from_dict(json.loads(_plan(url, tmp_path).read_text()))
    client = redis_from_url(url)
    journal = RedisJournal(client)
    journal.begin(version=plan.version, direction="up")
    outcome = run_redis(client, plan.up_statements(), log=lambda _line: None, journal=journal)
    assert outcome.applied == 2 and client.exists(JOURNAL_KEY)  # left as a killed run leaves it

    at = client.execute_command("PEXPIRETIME", SESSION)
    client.delete(SESSION)
    client.set(SESSION, "nowastring")
    client.pexpireat(SESSION, at)
    schemas = str(tmp_path / "schemas")
    settled = run_cli("plan", "--redis", url, "--schemas", schemas, cwd=tmp_path)
    assert settled.code == 0, settled.text
    assert "had changed 1 key in Redis; they were put back" in settled.err, settled.text
    assert client.execute_command("PEXPIRETIME", SESSION) == at
    assert client.execute_command("PEXPIRETIME", CACHE) == -1  # unchanged: put back
    assert not client.exists(JOURNAL_KEY)
    client.close()


def test_a_plan_without_recorded_types_still_applies(whole_redis, tmp_path: Path):
    """A plan file written before key types were recorded: guarded on the expiry alone."""
    url = whole_redis.url()
    path = _plan(url, tmp_path)
    doc = json.loads(path.read_text())
    for change in doc["changes"]:
        change["details"] = [d for d in change["details"] if d["attribute"] != "key_types"]
    path.write_text(json.dumps(doc, indent=2))
    r: redis.Redis = redis_from_url(url)
    r.pexpire(CACHE, 10_000_000)  # changed since the plan: still skipped on its expiry
    applied = run_cli("apply", "--redis", url, "--plan", str(path), "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    assert "1 key skipped" in applied.out and CACHE in applied.out, applied.text
    assert 0 < r.ttl(SESSION) <= 86400
    assert r.ttl(CACHE) > 9000
    r.close()
