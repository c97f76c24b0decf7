"""A Redis plan over many keys to fix, on a real server: streamed, and the same bytes.

The keys breaking their pattern's TTL policy are spilled to disk past a few thousand
(model/keyfixes.py) and the plan files are written line by line (plan/files.py): the files
must be byte for byte those of the plan made with every key in memory, the .plan.json what
json.dumps gives, and the plan must not hold the keys while it is made.
"""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from pathlib import Path

import pytest

from reconciler.api.runs import plan as api_plan
from reconciler.model import keyfixes
from reconciler.model.redis import KeyFix
from reconciler.ops.redis import lines as lines_mod
from reconciler.ops.redis.proto import render
from reconciler.plan.files import read_plan, verify_files
from reconciler.project.scope import Scope
from tests.conftest import redis_from_url
from tests.helpers import run_cli, write_yaml

SPEC = """\
namespace: app
patterns:
  - pattern: "app:cache:user:{id}"
    type: string
    class: cache
"""
KEYS = 60_000  # every second one without TTL: 30,000 keys to fix, several runs on disk


def _key(i: int) -> str:
    return f"app:cache:user:{i:06d}é" if i % 7 else f"app:cache:user:{i:06d}"


@pytest.fixture
def violations(whole_redis) -> dict[str, object]:
    r = redis_from_url(whole_redis.url())
    pipe = r.pipeline(transaction=False)
    for i in range(KEYS):
        if i % 2:
            pipe.set(_key(i), b"v" * 40, ex=600)
        else:
            pipe.set(_key(i), b"v" * 40)  # no TTL: breaks the cache policy (3600 s)
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    r.close()
    return {"url": whole_redis.url(), "violating": sorted(_key(i) for i in range(0, KEYS, 2))}


def _schemas(tmp_path: Path) -> Path:
    root = tmp_path / "schemas"
    write_yaml(root, "keys/app.yaml", SPEC)
    return root


def _plan(url: str, schemas: Path, out: Path) -> dict[str, bytes]:
    result = api_plan(None, schemas, out_dir=out, redis_url=url, scope=Scope())
    version = result.plan.version
    return {
        p.name.replace(version, "V"): p.read_bytes().replace(version.encode(), b"V")
        for p in sorted(out.iterdir())
    }


def test_a_streamed_plan_writes_the_bytes_of_the_plan_held_in_memory(
    violations: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, want = violations["url"], violations["violating"]
    schemas = _schemas(tmp_path)
    monkeypatch.setattr(keyfixes, "RUN", 10**9)  # every key in memory, lines rendered each time
    monkeypatch.setattr(lines_mod, "CACHE_OVER", 10**9)
    held = _plan(url, schemas, tmp_path / "held")
    monkeypatch.setattr(keyfixes, "RUN", 1000)  # 30 runs on disk, merged
    monkeypatch.setattr(lines_mod, "CACHE_OVER", 100)
    streamed = _plan(url, schemas, tmp_path / "streamed")
    assert streamed.keys() == held.keys() and len(held) == 3
    for name in held:
        assert streamed[name] == held[name], name

    json_path = next((tmp_path / "streamed").glob("*.plan.json"))
    up_file = next((tmp_path / "streamed").glob("*_up.redis"))
    up = up_file.read_text("utf-8").splitlines()
    assert up[2:] == [render("EXPIRE", k, 3600) for k in want]  # exactly them, by key
    down = next((tmp_path / "streamed").glob("*_down.redis")).read_text("utf-8").splitlines()
    assert down[2:] == [render("PERSIST", k) for k in want]
    # the .plan.json is what json.dumps wrote before: indented, live objects on the last line
    text = json_path.read_text("utf-8")
    d = json.loads(text)
    objects = json.dumps(d.pop("live_objects"), ensure_ascii=False, separators=(",", ":"))
    dumped = json.dumps(d, indent=2, ensure_ascii=False)
    assert text == f'{dumped[:-2]},\n  "live_objects": {objects}\n}}\n'
    assert d["changes"][0]["up"] == up[2:]
    for meta in d["files"].values():
        digest = hashlib.sha256((json_path.parent / meta["name"]).read_bytes()).hexdigest()
        assert digest == meta["sha256"]
    saved = read_plan(json_path)
    verify_files(saved, json_path.parent)  # what apply checks before it runs a saved plan
    verify_files(saved, json_path.parent, direction="down")
    out = tmp_path / "printed"
    r = run_cli("plan", "--redis", url, "--schemas", str(schemas), "--out", str(out), "--json")
    assert r.code == 0, r.text
    assert r.out == next(out.glob("*.plan.json")).read_text("utf-8")  # printed as it is written


def test_a_plan_does_not_hold_its_keys_to_fix(
    violations: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, want = violations["url"], violations["violating"]
    schemas = _schemas(tmp_path)
    empty = url.rsplit("/", 1)[0] + "/1" if url.count("/") > 2 else url + "/1"
    api_plan(None, schemas, out_dir=tmp_path / "warm", redis_url=empty, scope=Scope())  # imports
    monkeypatch.setattr(keyfixes, "RUN", 2048)  # what the scan holds before a run goes to disk
    tracemalloc.start()
    try:
        held = [KeyFix(k.encode().decode(), -1, "string") for k in want]
        keys_size = tracemalloc.get_traced_memory()[0]
        del held
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        api_plan(None, schemas, out_dir=tmp_path / "out", redis_url=url, scope=Scope())
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    # Holding the keys (a KeyFix list, a sorted copy, up and down lines, the JSON text) took
    # several times the key list; streamed, the plan stays well below it (about a fifth).
    assert peak < keys_size / 3, (peak, keys_size)
