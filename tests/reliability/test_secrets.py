"""Secrets: passwords in connection URLs and ACL passwords from environment variables never
appear in any output stream, plan file, log, cache, export or state row — in success and in
failure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import psycopg
import redis
from psycopg import sql

from tests.helpers import Result, run_cli, write_yaml
from tests.reliability.conftest import ROOT
from tests.reliability.project import KEY_SPEC, seed_keys, write_project

FAMILY = "Secrets"
PG_SECRET = "pg-S3cret-9f1c"
ADMIN_SECRET = "admin-S3cret-77aa"
APP_SECRET = "app-S3cret-31de"
SECRETS = (PG_SECRET, ADMIN_SECRET, APP_SECRET)

SERVER_YAML = """\
config:
  maxmemory-policy: allkeys-lru
acl:
  users:
    - name: default
      nopass: true
      keys: ["*"]
      commands: ["+@all"]
    - name: admin
      password_env: ADMIN_PW
      keys: ["*"]
      channels: ["*"]
      commands: ["+@all"]
    - name: app_rw
      password_env: APP_PW
      keys: ["app:*"]
      commands: ["-@all", "+@read", "+@write"]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _process(*args: str) -> Result:
    """The CLI in a process of its own: `--debug` lets a failure end in a traceback."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *args], env=env, capture_output=True, text=True
    )
    return Result(done.returncode, done.stdout, done.stderr)


def _state_rows(pg: str) -> list[str]:
    """Every row of every table of the tool's state schema, as text."""
    with psycopg.connect(pg, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'reconciler'"
        ).fetchall()
        rows = []
        for (table,) in tables:
            q = sql.SQL("SELECT t::text FROM reconciler.{} AS t").format(sql.Identifier(table))
            rows += [r[0] for r in conn.execute(q).fetchall()]
    return rows


def test_no_secret_leaks_anywhere(make_pg_database, private_redis, tmp_path, monkeypatch, outcomes):
    monkeypatch.setenv("ADMIN_PW", ADMIN_SECRET)
    monkeypatch.setenv("APP_PW", APP_SECRET)
    monkeypatch.chdir(tmp_path)
    plain = make_pg_database()
    pg = plain.replace("postgresql://postgres@", f"postgresql://postgres:{PG_SECRET}@")
    assert PG_SECRET in pg
    admin = redis.Redis.from_url(private_redis.url())
    admin.acl_setuser(
        "admin",
        enabled=True,
        passwords=[f"+{ADMIN_SECRET}"],
        keys=["*"],
        channels=["*"],
        commands=["+@all"],
    )
    seed_keys(admin, 50)
    rd = private_redis.url().replace("redis://", f"redis://admin:{ADMIN_SECRET}@")
    schemas = write_project(tmp_path, tables=3)
    write_yaml(schemas, "keys/app.yaml", KEY_SPEC)
    write_yaml(schemas, "keys/server.yaml", SERVER_YAML)
    plans = tmp_path / "plans"
    both = ["--pg", pg, "--redis", rd]

    runs = {
        "validate": run_cli("validate", "--schemas", str(schemas)),
        "plan": run_cli("plan", *both, "--schemas", str(schemas), "--out", str(plans)),
        "plan --json": run_cli(
            "plan", *both, "--schemas", str(schemas), "--out", str(tmp_path / "p2"), "--json"
        ),
        "apply": run_cli(
            "apply",
            *both,
            "--schemas",
            str(schemas),
            "--out",
            str(plans),
            "--auto-approve",
            "--allow-destructive",
        ),
        "drift": run_cli("drift", *both, "--schemas", str(schemas)),
        "drift --json": run_cli("drift", *both, "--schemas", str(schemas), "--json"),
        "state history": run_cli("state", "history", "--pg", pg),
        "state history --json": run_cli("state", "history", "--pg", pg, "--json"),
        "state list": run_cli("state", "list", "--pg", pg),
        "lock status": run_cli("lock", "status", *both),
        "export": run_cli("export", *both, "--out", str(tmp_path / "exported")),
        "rollback": run_cli("rollback", *both, "--last", "--auto-approve", "--out", str(plans)),
        "apply --debug": run_cli(
            "--debug",
            "apply",
            *both,
            "--schemas",
            str(schemas),
            "--out",
            str(plans),
            "--auto-approve",
            "--allow-destructive",
        ),
    }
    assert runs["apply"].code == 0, runs["apply"].text
    assert runs["rollback"].code == 0, runs["rollback"].text
    # The passwords did reach the server: the app user authenticates with its secret.
    app = redis.Redis.from_url(private_redis.url(), username="app_rw", password=APP_SECRET)
    assert app.set("app:x", "1")

    # Failures say what went wrong without the password in it.
    dead_pg = f"postgresql://postgres:{PG_SECRET}@127.0.0.1:{_free_port()}/nowhere"
    dead_rd = f"redis://admin:{ADMIN_SECRET}@127.0.0.1:{_free_port()}/0"
    wrong_rd = private_redis.url().replace("redis://", f"redis://admin:{ADMIN_SECRET}x@")
    failures = {
        "plan, PostgreSQL unreachable": run_cli("plan", "--pg", dead_pg, "--schemas", str(schemas)),
        "plan, Redis unreachable": run_cli("plan", "--redis", dead_rd, "--schemas", str(schemas)),
        "plan, Redis password wrong": run_cli(
            "plan", "--redis", wrong_rd, "--schemas", str(schemas)
        ),
        "apply --debug, PostgreSQL unreachable (a traceback)": _process(
            "--debug", "apply", "--pg", dead_pg, "--schemas", str(schemas), "--auto-approve"
        ),
    }
    for name, r in failures.items():
        assert r.code != 0, f"{name} should fail"
    secrets_wrong = (*SECRETS, f"{ADMIN_SECRET}x")

    places: dict[str, str] = {f"output of {k}": v.text for k, v in {**runs, **failures}.items()}
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file() and "schemas" not in path.relative_to(tmp_path).parts:
            places[f"file {path.relative_to(tmp_path)}"] = path.read_bytes().decode(
                "utf-8", "replace"
            )
    places["state rows"] = "\n".join(_state_rows(plain))
    assert any("plans/" in p for p in places) and any("logs" in p for p in places)
    leaks = [where for where, text in places.items() if any(s in text for s in secrets_wrong)]
    assert leaks == [], f"secrets found in: {leaks}"
    outcomes.add(
        "secrets in URLs and ACL password variables",
        f"{len(places)} outputs, files and state tables scanned: none found",
        family=FAMILY,
    )
