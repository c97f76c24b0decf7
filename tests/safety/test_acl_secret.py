"""An ACL user's old password never reaches a file, a state row or the output in any form, not
even as the hash Redis keeps of it; rollback still gives the user exactly that password back."""

from __future__ import annotations

import hashlib

import pytest
import redis

from tests.conftest import redis_from_url
from tests.helpers import run_cli, write_yaml

ON_REDIS_CLUSTER = True  # run on a single Redis and on a Redis Cluster

OLD_PW = "OldPw-123"
NEW_PW = "NewPw-456"

SERVER = """\
acl:
  users:
    - name: default
      nopass: true
      keys: ["*"]
      channels: ["*"]
      commands: ["+@all"]
    - name: app
      password_env: APP_NEW_PW
      keys: ["app:*"]
      commands: ["+@all"]
"""


def _node_urls(url: str) -> list[str]:
    with redis_from_url(url) as client:
        if isinstance(client, redis.RedisCluster):
            return [f"redis://{n.host}:{n.port}" for n in client.get_nodes()]
    return [url]


def _logs_in(url: str, password: str) -> bool:
    try:
        with redis.Redis.from_url(url, username="app", password=password) as client:
            return client.ping()
    except redis.AuthenticationError:
        return False
    except redis.exceptions.NoPermissionError:
        return True  # logged in; the user may just not run PING


def test_password_change_keeps_no_trace_of_the_old_password_and_rolls_back(
    whole_redis, tmp_path, monkeypatch
):
    url = whole_redis.url()
    urls = _node_urls(url)
    for node_url in urls:
        with redis.Redis.from_url(node_url) as node:
            node.acl_setuser(
                "app", enabled=True, passwords=[f"+{OLD_PW}"], keys=["app:*"], commands=["+@all"]
            )
    monkeypatch.setenv("APP_NEW_PW", NEW_PW)
    schemas = tmp_path / "schemas"
    write_yaml(schemas, "keys/server.yaml", SERVER)
    plans = tmp_path / "plans"
    common = ["--redis", url, "--out", str(plans)]
    runs = [
        run_cli("plan", "--schemas", str(schemas), *common, cwd=tmp_path),
        run_cli("apply", "--schemas", str(schemas), *common, "--auto-approve", cwd=tmp_path),
    ]
    assert runs[-1].code == 0, runs[-1].text
    assert all(_logs_in(u, NEW_PW) and not _logs_in(u, OLD_PW) for u in urls)

    runs.append(run_cli("rollback", *common, "--last", "--auto-approve", cwd=tmp_path))
    assert runs[-1].code == 0, runs[-1].text
    for node_url in urls:
        assert _logs_in(node_url, OLD_PW), node_url
        assert not _logs_in(node_url, NEW_PW), node_url

    traces = (OLD_PW, hashlib.sha256(OLD_PW.encode()).hexdigest())
    files = [f for d in (plans, tmp_path / "state") for f in d.rglob("*") if f.is_file()]
    assert any(f.name.endswith("_down.redis") for f in files)
    for f in files:
        text = f.read_bytes().decode(errors="replace")
        for trace in traces:
            assert trace not in text, f"{f.relative_to(tmp_path)} holds a trace of the old password"
    for run in runs:
        for trace in traces:
            assert trace not in run.text


@pytest.fixture(autouse=True)
def _drop_app_user(whole_redis):
    yield
    for node_url in _node_urls(whole_redis.url()):
        with redis.Redis.from_url(node_url) as node:
            node.acl_deluser("app")


def test_put_back_of_an_interrupted_run_restores_only_a_password_it_changed(whole_redis):
    from reconciler.locks.redis_acl_kept import expecting, field, given, keep, record_user
    from reconciler.locks.redis_journal import Settled, _put_back
    from reconciler.ops.redis.changes import kept_passwords
    from reconciler.ops.redis.proto import render

    url = whole_redis.url()
    urls = _node_urls(url)

    def set_password(password: str) -> None:
        for node_url in urls:
            with redis.Redis.from_url(node_url) as node:
                node.acl_setuser(
                    "app", enabled=True, reset_passwords=True, passwords=[f"+{password}"]
                )

    client = redis_from_url(url)
    set_password(OLD_PW)
    # An older apply that gave the user OLD_PW left a record under it: never to be used here.
    older = record_user(field(b"app", hashlib.sha256(OLD_PW.encode()).hexdigest()))
    for node_url in urls:
        with redis.Redis.from_url(node_url) as node:
            node.execute_command("ACL", "SETUSER", older, "reset", "off", "#" + "0" * 64)
    rules = [b"~app:*", b"+@all"]
    step = [b"ACL", b"SETUSER", b"app", b"reset", b"on", f">{NEW_PW}".encode(), *rules]
    keep(client, [step])  # what apply does before the batch goes out
    inverse = [b"ACL", b"SETUSER", b"app", b"reset", b"on", kept_passwords("app").encode(), *rules]
    item = render("A", *expecting(inverse, given(step)))  # the journal's form of the inverse

    done = Settled("1", "up", False)
    _put_back([item], client, done)  # the step never ran: the user is left alone
    assert done.users == 0 and all(_logs_in(u, OLD_PW) for u in urls)

    set_password(NEW_PW)  # the step ran
    _put_back([item], client, done)
    assert done.users == 1
    assert all(_logs_in(u, OLD_PW) and not _logs_in(u, NEW_PW) for u in urls)
    kept = record_user(field(b"app", given(step)))
    for node_url in urls:
        with redis.Redis.from_url(node_url) as node:
            node.acl_deluser(older, kept)
