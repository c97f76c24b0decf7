"""A Redis plan file replayed by redis-cli never sets a password anyone reading it could guess:
the rule apply fills in from the environment is written so that Redis refuses the command, with
a note saying so; `reconciler apply` of the same plan sets the real password."""

from __future__ import annotations

import subprocess

import redis

from reconciler.dev import find_redis_server
from tests.helpers import run_cli, write_yaml

SERVER = """\
acl:
  users:
    - {name: default, nopass: true, keys: ["*"], channels: ["*"], commands: ["+@all"]}
    - {name: app_rw, password_env: APP_RW_PASSWORD, keys: ["app:*"], commands: ["+@all"]}
"""
SECRET = "s3cret-from-vault"


def _logs_in(url: str, password: str) -> bool:
    try:
        with redis.Redis.from_url(url, username="app_rw", password=password) as client:
            return bool(client.ping())
    except redis.AuthenticationError:
        return False


def test_a_replayed_up_file_refuses_the_password_rule_and_apply_sets_it(
    private_redis, tmp_path, monkeypatch
):
    url = private_redis.url()
    write_yaml(tmp_path / "schemas", "keys/server.yaml", SERVER)
    monkeypatch.setenv("APP_RW_PASSWORD", SECRET)
    r = run_cli("plan", "--redis", url, "--schemas", "schemas", cwd=tmp_path)
    assert r.code == 0, r.text
    (up,) = (tmp_path / "plans").glob("*_up.redis")
    text = up.read_text(encoding="utf-8")
    assert ">${" not in text and SECRET not in text, text
    assert '"password-from-env:APP_RW_PASSWORD"' in text, text
    assert "only reconciler apply can" in text, text

    cli = find_redis_server().parent / "redis-cli"
    replay = subprocess.run(
        [str(cli), "-u", url], input=text, capture_output=True, text=True, timeout=30
    )
    assert "ERR" in replay.stdout + replay.stderr, replay
    with redis.Redis.from_url(url) as admin:
        assert b"app_rw" not in admin.acl_users() and "app_rw" not in admin.acl_users()
    assert not _logs_in(url, "${APP_RW_PASSWORD}")

    # the replay did change the default user (no secret there): apply plans again
    r = run_cli("apply", "--redis", url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert _logs_in(url, SECRET)
    assert not _logs_in(url, "${APP_RW_PASSWORD}")
