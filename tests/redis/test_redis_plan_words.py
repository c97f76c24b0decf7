"""A Redis plan says one key as `1 key` and gets its verb right: `1 key will expire`,
`1 key under 'legacy' matches no declared pattern`, `1 key is not hash`. Real server, real CLI."""

from __future__ import annotations

from tests.conftest import redis_from_url
from tests.helpers import run_cli, write_yaml

SPEC = """\
namespace: app
patterns:
  - pattern: "app:session:{id}"
    type: hash
    class: session
"""


def test_one_key_is_said_in_the_singular(private_redis, tmp_path):
    url = private_redis.url()
    with redis_from_url(url) as r:
        r.hset("app:session:forever", mapping={"u": "1"})  # no TTL: one key to expire
        r.set("app:session:flat", "s", ex=100)  # one key of the wrong type
        r.set("legacy:thing", "old")  # one key no pattern matches
    write_yaml(tmp_path / "schemas", "keys/app.yaml", SPEC)

    r = run_cli("plan", "--redis", url, "--schemas", "schemas", cwd=tmp_path)

    assert r.code == 0, r.text
    text = " ".join(r.out.split())
    assert "1 key will expire within 86400 s (1 had no TTL at all)" in text, r.out
    assert "expire 1 key within 86400 s" in text or "ttl: (none) → 86400" in text, r.out
    assert "1 key under 'legacy' matches no declared pattern" in text, r.out
    assert "1 key is not hash (string 1); no TTL step touches it" in text, r.out
    assert "1 keys" not in text, r.out


def test_keys_a_pattern_prunes_are_not_said_to_be_left_alone(private_redis, tmp_path):
    """A key of the wrong type under a `prune: true` pattern is deleted by the plan (its value
    kept for the down file): its finding says so, and the findings' heading does not claim
    that nothing is deleted for them."""
    url = private_redis.url()
    with redis_from_url(url) as r:
        r.set("app:session:flat", "s", ex=100)  # one key of the wrong type
    write_yaml(tmp_path / "schemas", "keys/app.yaml", SPEC + "    prune: true\n")

    r = run_cli("plan", "--redis", url, "--schemas", "schemas", cwd=tmp_path)

    assert r.code == 0, r.text
    text = " ".join(r.out.split())
    assert "never fixed by deleting data" not in text, r.out
    assert "1 key is not hash (string 1); prune: true deletes it (above)" in text, r.out
    assert "no TTL step touches it" not in text, r.out
