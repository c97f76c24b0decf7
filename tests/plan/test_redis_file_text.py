"""A plan's Redis files write UTF-8 as text ("café→1", the notes' "→") and keep escapes for
what is not text (undecodable bytes, DUMP payloads); real redis-cli replays them to the same
bytes. A plan written before, with every byte escaped, still checks against its files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import redis

from reconciler.dev.redis import find_redis_server
from reconciler.ops.redis.proto import render, split
from reconciler.plan.files import render as render_file
from reconciler.plan.files import sha256
from tests.helpers import run_cli, write_yaml

SPEC = """\
patterns:
  - pattern: "sess:{id}"
    type: hash
    class: session
  - pattern: "job:{id}"
    type: hash
    class: persistent
    prune: true
"""
SESSION = "sess:café→1"  # a hash without the TTL its class wants: EXPIRE
STRAY = "job:naïve→1"  # a string where a hash belongs: pruned (DEL), restored by the down file
BROKEN = b"job:\xff\xfe"  # a name that is not UTF-8


def _plan(url: str, tmp_path: Path) -> Path:
    write_yaml(tmp_path / "schemas", "keys/app.yaml", SPEC)
    write_yaml(
        tmp_path / "schemas", "keys/server.yaml", "config:\n  maxmemory-policy: allkeys-lru\n"
    )
    out = tmp_path / "plans"
    r = run_cli(
        "plan", "--redis", url, "--schemas", str(tmp_path / "schemas"), "--out", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    assert r.code == 0, r.text
    (path,) = out.glob("*.plan.json")
    return path


def _replay(url_server, path: Path) -> str:
    cli = find_redis_server().parent / "redis-cli"
    with path.open("rb") as stdin:
        done = subprocess.run(
            [str(cli), "-h", "127.0.0.1", "-p", str(url_server.port)],
            stdin=stdin, capture_output=True, check=False, timeout=30,
        )  # fmt: skip
    out = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 0 and "ERR" not in out, out + done.stderr.decode()
    return out


def test_redis_files_are_utf8_text_and_replay_through_redis_cli(private_redis, tmp_path):
    r = redis.Redis.from_url(private_redis.url())
    r.hset(SESSION, mapping={"u": "1"})
    r.set(STRAY, b"stray\xff\x00\xc3\xa9", px=900_000_000)
    r.set(BROKEN, "stray")
    stray_expiry = r.pexpiretime(STRAY)
    path = _plan(private_redis.url(), tmp_path)
    up = path.with_name(path.name.replace(".plan.json", "_up.redis"))
    down = path.with_name(path.name.replace(".plan.json", "_down.redis"))
    text = up.read_text(encoding="utf-8")
    assert "→" in text and f'"{SESSION}"' in text and f'DEL "{STRAY}"' in text, text
    assert "\\xe2" not in text, text  # no UTF-8 written byte by byte
    assert [n for n in text.splitlines() if n.startswith("ECHO") and "' → '" in n], text
    assert 'DEL "job:\\xff\\xfe"' in text, text  # what is not text keeps its escapes
    assert "\\xff\\x00" in down.read_text(encoding="utf-8")  # a payload is bytes, escaped

    _replay(private_redis, up)
    assert 0 < r.ttl(SESSION) <= 86400
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert r.exists(STRAY) == 0 and r.exists(BROKEN) == 0
    _replay(private_redis, down)
    assert r.get(STRAY) == b"stray\xff\x00\xc3\xa9" and r.pexpiretime(STRAY) == stray_expiry
    assert r.get(BROKEN) == b"stray"
    assert r.ttl(SESSION) == -1
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert sorted(r.keys()) == sorted([SESSION.encode(), STRAY.encode(), BROKEN])


def test_a_plan_written_with_escaped_redis_files_still_checks(private_redis, tmp_path):
    """Its lines as an earlier version wrote them: every non-ASCII byte escaped, in the plan
    value and in its files; `show` checks its files against it."""
    r = redis.Redis.from_url(private_redis.url())
    r.hset(SESSION, mapping={"u": "1"})
    r.set(STRAY, "x")
    path = _plan(private_redis.url(), tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    for c in data["changes"]:
        for side in ("up", "down"):
            c[side] = [render(*(a.decode("utf-8", "surrogateescape") if i == 0 else a
                                for i, a in enumerate(split(line))), escape_text=True)
                       for line in c[side]]  # fmt: skip
    from reconciler.plan import Plan

    old = Plan.from_dict(data)
    for direction in ("up", "down"):
        text = render_file(old, "redis", direction, legacy=True)
        assert "→" not in text and "\\xe2\\x86\\x92" in text
        meta = data["files"][f"redis_{direction}"]
        meta["sha256"] = sha256(text)
        (path.parent / meta["name"]).write_text(text, encoding="utf-8")
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    shown = run_cli("show", str(path), cwd=tmp_path)
    assert shown.code == 0, shown.text
