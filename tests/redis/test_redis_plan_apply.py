"""Redis through the CLI: plan → apply → rollback on a real redis-server of the test's own."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import redis

from reconciler.locks.redis import RedisLock
from reconciler.state.postgres import PgState
from tests.conftest import redis_from_url
from tests.helpers import run_cli, saved_plan, write_yaml

ON_REDIS_CLUSTER = True  # every test here runs on a single Redis and on a Redis Cluster

ROOT = Path(__file__).resolve().parents[2]

SPEC = """\
namespace: app
patterns:
  - pattern: "app:session:{id}"
    type: hash
    class: session
  - pattern: "app:cache:user:{id}"
    type: string
    class: cache
  - pattern: "app:queue:{name}"
    type: list
    class: queue
"""


@pytest.fixture
def keyspace(whole_redis):
    """Mixed types and TTLs; some keys violate the spec, some match no pattern."""
    r = redis_from_url(whole_redis.url())
    now_ms = int(time.time() * 1000)
    r.hset("app:session:ok", mapping={"u": "1"})
    r.expire("app:session:ok", 3600)  # within 86400: conforms
    r.hset("app:session:forever", mapping={"u": "2"})  # no TTL: violates
    r.hset("app:session:long", mapping={"u": "3"})
    r.pexpireat("app:session:long", now_ms + 500_000_000)  # far above 86400 s: violates
    r.set("app:cache:user:1", "x", ex=600)  # conforms
    r.set("app:cache:user:2", "y")  # no TTL: violates
    r.set("app:cache:user:3", "binary\x00\xff")  # no TTL: violates
    r.rpush("app:queue:mail", "a", "b")  # a queue: no TTL wanted
    r.set("app:session:wrongtype", "s", ex=100)  # wrong type: a finding, never touched
    r.set("legacy:thing", "old")  # no pattern: a finding
    yield r
    r.close()


def _state(r: redis.Redis) -> dict[bytes, tuple[bytes, int]]:
    """Every key's DUMP and PEXPIRETIME: values and expiries, compared key by key."""
    return {k: (r.dump(k), r.pexpiretime(k)) for k in sorted(r.scan_iter(count=1000))}


def _node_urls(url: str) -> list[str]:
    """The server of `url`, or every node (primaries and replicas) of its cluster."""
    with redis_from_url(url) as client:
        if isinstance(client, redis.RedisCluster):
            return [f"redis://{n.host}:{n.port}" for n in client.get_nodes()]
    return [url]


def _owner_url(url: str, key: str) -> str:
    """The server holding `key`: the one of `url`, or the primary of its slot."""
    with redis_from_url(url) as client:
        if isinstance(client, redis.RedisCluster):
            node = client.get_node_from_key(key)
            return f"redis://{node.host}:{node.port}"
    return url


def _schemas(tmp_path: Path, extra: str = "") -> Path:
    root = tmp_path / "schemas"
    write_yaml(root, "keys/app.yaml", SPEC)
    if extra:
        write_yaml(root, "keys/server.yaml", extra)
    return root


def test_plan_fixes_exactly_the_violating_keys_and_rollback_restores_every_ttl(
    keyspace, whole_redis, tmp_path
):
    url = whole_redis.url()
    before = _state(keyspace)
    schemas = _schemas(tmp_path)
    plans = tmp_path / "plans"
    r = run_cli(
        "plan",
        "--redis",
        url,
        "--schemas",
        str(schemas),
        "--out",
        str(plans),
        "--json",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    data = json.loads(r.out)
    up = (plans / data["files"]["redis_up"]["name"]).read_text()
    expired = sorted(line.split('"')[1] for line in up.splitlines() if line.startswith("EXPIRE"))
    assert expired == [
        "app:cache:user:2",
        "app:cache:user:3",
        "app:session:forever",
        "app:session:long",
    ]
    assert not list(plans.glob("*.sql")), "a Redis-only plan writes no SQL files"
    kinds = {(f["kind"], f["address"]) for f in data["findings"]}
    assert ("type_mismatch", "redis.keys.app:session:{id}") in kinds
    assert ("unmatched", "redis.keys.legacy:*") in kinds

    r = run_cli(
        "apply",
        "--redis",
        url,
        "--plan",
        str(plans / f"{data['version']}_{data['slug']}.plan.json"),
        "--auto-approve",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    after = _state(keyspace)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    now_ms = int(time.time() * 1000)
    for key in (b"app:session:forever", b"app:session:long"):
        assert 0 < after[key][1] - now_ms <= 86_400_000
    for key in (b"app:cache:user:2", b"app:cache:user:3"):
        assert 0 < after[key][1] - now_ms <= 3_600_000
    untouched = [b"app:session:ok", b"app:cache:user:1", b"app:queue:mail", b"legacy:thing"]
    assert all(after[k] == before[k] for k in untouched)
    assert after[b"app:session:wrongtype"][0] == before[b"app:session:wrongtype"][0]

    r = run_cli(
        "plan",
        "--redis",
        url,
        "--schemas",
        str(schemas),
        "--out",
        str(tmp_path / "p2"),
        "--detailed-exitcode",
        cwd=tmp_path,
    )
    assert r.code == 0 and "No changes." in r.out, r.text

    r = run_cli(
        "rollback", "--redis", url, "--last", "--auto-approve", "--out", str(plans), cwd=tmp_path
    )
    assert r.code == 0, r.text
    assert _state(keyspace) == before  # values and exact expiries, key by key


def test_rollback_leaves_keys_the_application_changed_after_the_apply(
    keyspace, whole_redis, tmp_path
):
    """The apply gave four keys a TTL; then the application set its own TTL on one, deleted
    and wrote another again without TTL, and wrote a third again with a TTL of its own. The
    rollback puts back only the key still carrying the apply's expiry."""
    url = whole_redis.url()
    plans = tmp_path / "plans"
    r = run_cli(
        "plan", "--redis", url, "--schemas", str(_schemas(tmp_path)), "--out", str(plans),
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert r.code == 0, r.text
    data = json.loads(r.out)
    plan_file = plans / f"{data['version']}_{data['slug']}.plan.json"
    r = run_cli("apply", "--redis", url, "--plan", str(plan_file), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    keyspace.expire("app:cache:user:2", 60)  # the application's own TTL
    keyspace.delete("app:cache:user:3")
    keyspace.set("app:cache:user:3", "new")  # written again, no TTL
    keyspace.delete("app:session:long")
    keyspace.hset("app:session:long", "u", "new")
    keyspace.expire("app:session:long", 3600)  # written again with a TTL of its own
    changed = {k: keyspace.pexpiretime(k) for k in (
        "app:cache:user:2", "app:cache:user:3", "app:session:long")}  # fmt: skip
    r = run_cli(
        "rollback", "--redis", url, "--last", "--auto-approve", "--out", str(plans), cwd=tmp_path
    )
    assert r.code == 0, r.text
    assert {k: keyspace.pexpiretime(k) for k in changed} == changed
    assert keyspace.pexpiretime("app:session:forever") == -1  # put back: it had no TTL


def test_a_key_changed_between_plan_and_apply_is_skipped_and_reported(
    keyspace, whole_redis, tmp_path
):
    url = whole_redis.url()
    plans = tmp_path / "plans"
    r = run_cli(
        "plan",
        "--redis",
        url,
        "--schemas",
        str(_schemas(tmp_path)),
        "--out",
        str(plans),
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    keyspace.delete("app:cache:user:2")
    keyspace.expire("app:session:forever", 50)  # someone set a TTL meanwhile
    r = run_cli(
        "apply",
        "--redis",
        url,
        "--plan",
        str(next(plans.glob("*.plan.json"))),
        "--auto-approve",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    assert "app:cache:user:2" in r.out and "app:session:forever" in r.out and "skipped" in r.out
    assert keyspace.exists("app:cache:user:2") == 0  # not re-created
    assert 0 < keyspace.ttl("app:session:forever") <= 50  # not clobbered
    assert keyspace.ttl("app:cache:user:3") > 0  # the others were fixed


def test_config_and_acl_round_trip_without_any_password_in_files_or_output(
    whole_redis, tmp_path, monkeypatch
):
    url = whole_redis.url()
    nodes = [redis.Redis.from_url(u) for u in _node_urls(url)]  # a cluster: each node
    client = nodes[0]
    old_policy = client.config_get("maxmemory-policy")["maxmemory-policy"]
    for node in nodes:
        node.acl_setuser("legacy_user", enabled=True, passwords=["+old-secret-pw"], keys=["x:*"])
    monkeypatch.setenv("APP_RW_PASSWORD", "s3cret-app-pw")
    server = """\
config:
  maxmemory-policy: allkeys-lru
acl:
  users:
    - name: default
      nopass: true
      keys: ["*"]
      channels: ["*"]
      commands: ["+@all"]
    - name: app_rw
      password_env: APP_RW_PASSWORD
      keys: ["app:*"]
      commands: ["-@all", "+@read", "+@write"]
"""
    schemas = _schemas(tmp_path, server)
    plans = tmp_path / "plans"
    r = run_cli(
        "apply",
        "--redis",
        url,
        "--schemas",
        str(schemas),
        "--out",
        str(plans),
        "--auto-approve",
        "--allow-destructive",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    for node in nodes:
        assert node.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
        assert b"legacy_user" not in node.acl_users()
    app = redis.Redis.from_url(
        _owner_url(url, "app:x"), username="app_rw", password="s3cret-app-pw"
    )
    assert app.set("app:x", "1") and app.get("app:x") == b"1"  # +@read +@write on app:*
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.get("other:x")
    texts = [r.text] + [f.read_text() for f in plans.iterdir()]
    texts += [f.read_text() for f in (tmp_path / "state").rglob("*") if f.is_file()]
    for text in texts:
        assert "s3cret-app-pw" not in text and "old-secret-pw" not in text
    r = run_cli(
        "rollback", "--redis", url, "--last", "--auto-approve", "--out", str(plans), cwd=tmp_path
    )
    assert r.code == 0, r.text
    for node, node_url in zip(nodes, _node_urls(url), strict=True):
        assert node.config_get("maxmemory-policy")["maxmemory-policy"] == old_policy
        assert b"app_rw" not in node.acl_users()
        # Restored with its old password: AUTH succeeds (it may run no command, as before).
        legacy = redis.Redis.from_url(node_url, username="legacy_user", password="old-secret-pw")
        with pytest.raises(redis.exceptions.NoPermissionError):
            legacy.ping()
        node.acl_deluser("legacy_user")


def test_two_concurrent_redis_applies_one_wins_the_other_names_the_holder(
    keyspace, whole_redis, tmp_path
):
    url = whole_redis.url()
    holder = redis_from_url(url)
    with RedisLock(holder, command="apply"):
        r = run_cli(
            "apply",
            "--redis",
            url,
            "--schemas",
            str(_schemas(tmp_path)),
            "--auto-approve",
            cwd=tmp_path,
        )
        assert r.code == 1
        assert "holds the Redis lock" in r.err and f"pid {os.getpid()}" in r.err
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "reconciler",
        "apply",
        "--redis",
        url,
        "--schemas",
        str(_schemas(tmp_path)),
        "--auto-approve",
    ]
    procs = [
        subprocess.Popen(
            cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]
    winners = [res for res in results if "Apply complete!" in res[1]]
    assert len(winners) == 1, results
    code, out, err = next(res for res in results if "Apply complete!" not in res[1])
    assert (code == 1 and "holds the Redis lock" in err) or (code == 0 and "No changes." in out)


def test_pg_and_redis_in_one_plan_one_apply_one_version(keyspace, whole_redis, pg_url, tmp_path):
    schemas = _schemas(tmp_path)
    write_yaml(schemas, "tables/things.yaml", "table: things\ncolumns: [{name: id, type: uuid}]\n")
    r = run_cli(
        "apply",
        "--pg",
        pg_url,
        "--redis",
        whole_redis.url(),
        "--schemas",
        str(schemas),
        "--auto-approve",
        "--out",
        str(tmp_path / "plans"),
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    names = sorted(p.name.split("_", 1)[1] for p in (tmp_path / "plans").iterdir())
    assert [n.rsplit("_", 1)[-1] for n in names if not n.endswith(".json")] == [
        "down.redis",
        "down.sql",
        "up.redis",
        "up.sql",
    ]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        history = PgState(conn).history()
    assert len(history) == 1 and history[0].change_count >= 3
    assert keyspace.ttl("app:cache:user:2") > 0


def test_the_tools_own_lock_key_is_never_a_finding(keyspace, whole_redis, tmp_path):
    keyspace.set("reconciler:lock", "{}", px=60_000)  # as while an apply runs
    r = run_cli(
        "plan",
        "--redis",
        whole_redis.url(),
        "--schemas",
        str(_schemas(tmp_path)),
        "--json",
        "--out",
        str(tmp_path / "p"),
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    assert not [f for f in json.loads(r.out)["findings"] if "reconciler" in f["address"]]


def test_prune_deletes_wrong_type_keys_only_when_allowed_and_rollback_restores_them(
    whole_redis, tmp_path
):
    url = whole_redis.url()
    r = redis_from_url(url)
    r.hset("tmp:job:1", mapping={"a": "1"})  # right type: kept
    r.set("tmp:job:2", "stray\xff", ex=5000)  # wrong type, with a TTL
    r.set("tmp:job:3", "stray")  # wrong type, no TTL
    before = _state(r)
    schemas = tmp_path / "schemas"
    write_yaml(
        schemas,
        "keys/tmp.yaml",
        'patterns:\n  - pattern: "tmp:job:{id}"\n    type: hash\n    class: persistent\n'
        "    prune: true\n",
    )
    refused = run_cli(
        "apply", "--redis", url, "--schemas", str(schemas), "--auto-approve", cwd=tmp_path
    )
    assert refused.code == 1 and "--allow-destructive" in refused.err
    assert _state(r) == before
    ok = run_cli(
        "apply",
        "--redis",
        url,
        "--schemas",
        str(schemas),
        "--auto-approve",
        "--allow-destructive",
        "--out",
        str(tmp_path / "plans"),
        cwd=tmp_path,
    )
    assert ok.code == 0, ok.text
    assert sorted(r.scan_iter()) == [b"tmp:job:1"]
    back = run_cli(
        "rollback",
        "--redis",
        url,
        "--last",
        "--auto-approve",
        "--out",
        str(tmp_path / "plans"),
        cwd=tmp_path,
    )
    assert back.code == 0, back.text
    assert _state(r) == before  # values (DUMP) and exact expiries


def test_a_rollback_brings_back_no_key_its_apply_did_not_delete(whole_redis, tmp_path):
    """Two keys planned for a prune; between plan and apply the application deletes one and
    rewrites the other (both skipped by the apply). The rollback restores the key the apply
    deleted, and neither of the others: the deleted one stays deleted, the rewritten one keeps
    its new value."""
    url = whole_redis.url()
    r = redis_from_url(url)
    for n in (1, 2, 3):
        r.rpush(f"tmpr:job:{n}", "old")  # wrong type (list): pruned
    schemas = tmp_path / "schemas"
    write_yaml(
        schemas,
        "keys/tmpr.yaml",
        'patterns:\n  - pattern: "tmpr:job:{id}"\n    type: hash\n    class: persistent\n'
        "    prune: true\n",
    )
    plans = tmp_path / "plans"
    _, plan_file = saved_plan("--redis", url, "--schemas", str(schemas), plans=plans, cwd=tmp_path)
    r.delete("tmpr:job:1")  # the application deleted it
    r.rpush("tmpr:job:2", "new")  # and changed this one
    argv = ("--redis", url, "--auto-approve")
    ok = run_cli("apply", *argv, "--plan", str(plan_file), "--allow-destructive", cwd=tmp_path)
    assert ok.code == 0 and "2 keys skipped" in ok.out, ok.text
    assert sorted(r.scan_iter("tmpr:*")) == [b"tmpr:job:2"]
    back = run_cli("rollback", *argv, "--last", cwd=tmp_path)
    assert back.code == 0, back.text
    assert not r.exists("tmpr:job:1")  # deleted by the application: not brought back
    assert r.lrange("tmpr:job:2", 0, -1) == [b"old", b"new"]
    assert r.lrange("tmpr:job:3", 0, -1) == [b"old"]  # the one the apply deleted is back
    assert "tmpr:job:1" in back.out, back.text  # said as skipped


def test_a_prune_and_a_ttl_fix_of_one_pattern_both_run_and_both_roll_back(whole_redis, tmp_path):
    """The prune and the TTL change share the pattern's address: each key is still guarded
    by what it held when planned (a key whose TTL was too long was skipped as "changed")."""
    url = whole_redis.url()
    r = redis_from_url(url)
    r.set("tmpc:cache:5", "v5", ex=100_000)  # a TTL far longer than the class allows
    r.set("tmpc:cache:6", "v6")  # no TTL
    r.hset("tmpc:cache:9999", mapping={"f": "1"})  # wrong type: pruned
    before = _state(r)
    schemas = tmp_path / "schemas"
    write_yaml(
        schemas,
        "keys/tmpc.yaml",
        'patterns:\n  - pattern: "tmpc:cache:{id:int}"\n    type: string\n    class: cache\n'
        "    prune: true\n",
    )
    plans = str(tmp_path / "plans")
    argv = ("--redis", url, "--auto-approve", "--out", plans)
    ok = run_cli("apply", *argv, "--schemas", str(schemas), "--allow-destructive", cwd=tmp_path)
    assert ok.code == 0, ok.text
    assert "skipped" not in ok.text, ok.text
    assert not r.exists("tmpc:cache:9999")
    assert 0 < r.ttl("tmpc:cache:5") <= 3600 and 0 < r.ttl("tmpc:cache:6") <= 3600
    again = run_cli("plan", "--redis", url, "--schemas", str(schemas), cwd=tmp_path)
    assert again.code == 0 and "No changes" in again.out, again.text
    back = run_cli("rollback", *argv, "--last", cwd=tmp_path)
    assert back.code == 0, back.text
    assert "skipped" not in back.text, back.text
    assert _state(r) == before  # values (DUMP) and exact expiries


def test_state_history_reads_the_local_state_of_redis_only_runs(
    keyspace, whole_redis, tmp_path, monkeypatch
):
    for var in ("RECONCILER_PG_URL", "DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    r = run_cli(
        "apply",
        "--redis",
        whole_redis.url(),
        "--schemas",
        str(_schemas(tmp_path)),
        "--auto-approve",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    version = re.search(r"version (\d{14})", r.out).group(1)
    h = run_cli("state", "history", "--json", cwd=tmp_path)
    assert h.code == 0, h.text
    assert [row["version"] for row in json.loads(h.out)] == [version]
    listed = run_cli("state", "list", cwd=tmp_path)
    assert listed.code == 0 and "redis.acl.default" in listed.out, listed.text


def test_a_key_name_that_is_not_utf8_is_written_escaped_in_the_plan(
    keyspace, whole_redis, tmp_path
):
    """A key matching no pattern, whose name is not UTF-8, is one of the plan's findings: its
    name goes into the .plan.json (and onto stdout) escaped, and the plan reads back."""
    keyspace.set(b"\xff\xfe", b"v")  # no pattern: a finding, named in the plan
    schemas = str(_schemas(tmp_path))
    argv = [sys.executable, "-m", "reconciler", "plan", "--redis", whole_redis.url()]
    # as in a UTF-8 locale, where printing text that is not Unicode raised
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
        "PYTHONIOENCODING": "utf-8:strict",
    }

    def plan(*more: str) -> subprocess.CompletedProcess[str]:
        args = [*argv, "--schemas", schemas, *more]
        return subprocess.run(
            args, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path
        )  # (in the test's own folder: `--json` alone writes its files to plans/ there)

    out = tmp_path / "plans"
    done = plan("--out", str(out))
    assert done.returncode == 0, done.stderr
    (path,) = out.glob("*.plan.json")
    raw = path.read_bytes()
    raw.decode("utf-8")  # valid UTF-8
    assert b"\\udcff\\udcfe" in raw
    done = plan("--out", str(out))
    assert done.returncode == 0 and "reusing" in done.stdout, done.stdout + done.stderr
    done = plan("--json")
    assert done.returncode == 0, done.stderr
    assert "\udcff\udcfe" in json.dumps(json.loads(done.stdout), ensure_ascii=False)
