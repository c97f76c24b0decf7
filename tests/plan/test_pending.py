"""plan/pending.py: a plan identical to a pending one is not written again, and the saved
plan is compared as it is read and hashed, never parsed whole."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.model.keyfixes import KeyFixes, fixes_of
from reconciler.model.redis import KeyFix
from reconciler.ops.redis.changes import ExpireKeys
from reconciler.plan import Plan, build_plan
from reconciler.plan import files as plan_files
from reconciler.plan.files import write_plan
from reconciler.plan.pending import identical_pending, save_plan

KEYS = 3000
TARGET = {"redis": {"server": "redis://127.0.0.1:6379/0", "config": []}}


def _plan(version: str, *, keys: int = KEYS, ttl: int = 60, fingerprint: str = "f1") -> Plan:
    fixes = KeyFixes(KeyFix(f"app:k:{i:05d}", -1, "string") for i in range(keys))
    change = ExpireKeys("app:k:{id}", ttl, fixes_of(fixes, "string"))
    return build_plan(
        [change],
        desired_hash="d" * 64,
        live_fingerprint="",
        redis_fingerprint=fingerprint,
        target=TARGET,
        version=version,
    )


def _never_recorded(version: str) -> bool:
    return False


@pytest.fixture
def no_whole_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Fails any parse of more than a plan's head, and any read of a file's whole text."""
    parsed: list[int] = []
    real_loads = json.loads

    def loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.append(len(text))
        assert len(text) < 4096, "a saved plan was parsed whole"
        return real_loads(text, *args, **kwargs)

    def read_text(self: Path, *args: Any, **kwargs: Any) -> str:
        raise AssertionError(f"{self} was read whole")

    monkeypatch.setattr(json, "loads", loads)
    monkeypatch.setattr(Path, "read_text", read_text)
    monkeypatch.setattr(plan_files, "read_plan", lambda path: pytest.fail("read_plan called"))
    return parsed


def test_the_same_plan_is_found_without_reading_the_saved_one_whole(
    tmp_path: Path, no_whole_reads: list[int]
) -> None:
    saved, path = write_plan(_plan("20260101000000"), tmp_path)
    assert path.stat().st_size > 100_000  # big enough that a whole parse would show

    again = _plan("20260101000500")
    found, where, written = save_plan(again, tmp_path, _never_recorded)

    assert (where, written) == (path, False)
    assert found.version == saved.version and found.files == saved.files
    assert found.to_dict() == saved.to_dict()
    assert no_whole_reads  # the head was read, and only it
    assert len(list(tmp_path.glob("*.plan.json"))) == 1


def test_a_plan_that_differs_is_written_beside_it(tmp_path: Path) -> None:
    write_plan(_plan("20260101000000"), tmp_path)
    for i, other in enumerate(
        [_plan("20260101000100", keys=KEYS + 1), _plan("20260101000200", ttl=61)]
    ):
        _, path, written = save_plan(other, tmp_path, _never_recorded)
        assert written and path.name.startswith(other.version)
        assert len(list(tmp_path.glob("*.plan.json"))) == i + 2


def test_an_edited_file_or_plan_is_not_the_same_plan(tmp_path: Path) -> None:
    saved, path = write_plan(_plan("20260101000000"), tmp_path)
    up = tmp_path / saved.files["redis_up"]["name"]
    up.write_text(up.read_text(encoding="utf-8").replace("EXPIRE", "PERSIST", 1), "utf-8")
    assert identical_pending(_plan("20260101000100"), tmp_path, _never_recorded) is None

    saved, path = write_plan(_plan("20260101000200"), tmp_path / "b")
    text = path.read_text(encoding="utf-8")
    assert "EXPIRE" in text
    path.write_text(text.replace("EXPIRE", "PERSIST", 1), "utf-8")
    assert identical_pending(_plan("20260101000300"), tmp_path / "b", _never_recorded) is None


def test_a_newer_plan_from_the_same_state_supersedes_an_older_identical_one(
    tmp_path: Path,
) -> None:
    write_plan(_plan("20260101000000"), tmp_path)
    write_plan(_plan("20260101000100", ttl=61), tmp_path)  # same live state, other content
    assert identical_pending(_plan("20260101000200"), tmp_path, _never_recorded) is None

    # a newer one made from another live state does not: the older identical one is found
    other = tmp_path / "other"
    _, older = write_plan(_plan("20260101000000"), other)
    write_plan(_plan("20260101000100", ttl=61, fingerprint="f2"), other)
    found = identical_pending(_plan("20260101000200"), other, _never_recorded)
    assert found is not None and found[1] == older


def test_a_recorded_version_ends_the_search(tmp_path: Path) -> None:
    write_plan(_plan("20260101000000"), tmp_path)
    recorded = {"20260101000000"}
    assert identical_pending(_plan("20260101000100"), tmp_path, recorded.__contains__) is None


def test_a_file_that_is_no_plan_is_passed_over(tmp_path: Path) -> None:
    _, path = write_plan(_plan("20260101000000"), tmp_path)
    (tmp_path / "20270101000000_broken.plan.json").write_text('{"version": 1', "utf-8")
    (tmp_path / "20270101000001_other.plan.json").write_text("[]", "utf-8")
    found = identical_pending(_plan("20260101000100"), tmp_path, _never_recorded)
    assert found is not None and found[1] == path


def test_a_saved_plan_whose_head_differs_is_not_rendered_against(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.plan import pending

    for i in range(4):  # made from other live states: passed over, each without a render
        write_plan(_plan(f"2026010100000{i}", keys=100, fingerprint=f"other{i}"), tmp_path)
    rendered: list[Path] = []
    real = pending._same_as_saved

    def counted(plan: Plan, path: Path, version: str) -> Plan | None:
        rendered.append(path)
        return real(plan, path, version)

    monkeypatch.setattr(pending, "_same_as_saved", counted)
    assert identical_pending(_plan("20260101000100", keys=100), tmp_path, _never_recorded) is None
    assert rendered == []
    _, path = write_plan(_plan("20260101000009", keys=100), tmp_path)
    found = identical_pending(_plan("20260101000100", keys=100), tmp_path, _never_recorded)
    assert found is not None and found[1] == path and rendered == [path]


def test_a_plan_with_a_long_head_is_reused_too(tmp_path: Path) -> None:
    """Thousands of lint findings sit before the changes: the head is long, and still read."""
    findings = tuple(
        {"rule": "no-primary-key", "source": f"tables/t{i}.yaml:1", "message": "x" * 200}
        for i in range(8000)
    )

    def with_findings(version: str) -> Plan:
        return dataclasses.replace(_plan(version, keys=10), findings=findings)

    _, path = write_plan(with_findings("20260101000000"), tmp_path)
    assert path.stat().st_size > 2_000_000
    found = identical_pending(with_findings("20260101000100"), tmp_path, _never_recorded)
    assert found is not None and found[1] == path


def test_a_fifo_named_like_a_plan_or_its_file_is_passed_over(tmp_path: Path) -> None:
    """Opening a FIFO for reading waits for a writer: the search must not hang on one."""
    import os
    import threading

    saved, path = write_plan(_plan("20260101000000", keys=10), tmp_path)
    os.mkfifo(tmp_path / "20270101000000_a_fifo.plan.json")
    other = tmp_path / "other"
    saved, _ = write_plan(_plan("20260101000000", keys=10), other)
    up = other / saved.files["redis_up"]["name"]
    up.unlink()
    os.mkfifo(up)
    found: list[Any] = []
    worker = threading.Thread(
        target=lambda: found.extend(
            identical_pending(_plan("20260101000100", keys=10), d, _never_recorded)
            for d in (tmp_path, other)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "the search hung on a FIFO"
    assert found[0] is not None and found[0][1] == path
    assert found[1] is None  # its up file is no file: not the same plan


def test_a_huge_file_named_like_a_plan_is_not_read_whole(tmp_path: Path) -> None:
    import tracemalloc

    _, path = write_plan(_plan("20260101000000", keys=10), tmp_path)
    junk = tmp_path / "20270101000000_junk.plan.json"
    with junk.open("w") as f:
        f.write("{")
        for _ in range(80):
            f.write(" " * (1 << 20))  # 80 MiB on one line, no changes in sight
    tracemalloc.start()
    try:
        found = identical_pending(_plan("20260101000100", keys=10), tmp_path, _never_recorded)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found is not None and found[1] == path
    assert peak < 48 << 20, f"{peak / 2**20:.0f} MiB held"


def test_the_temporary_files_of_a_killed_run_are_removed_by_the_next_plan(tmp_path: Path) -> None:
    import os
    import time

    old = tmp_path / ".20260101000000_alter_keys_up.redis.tmp"  # a run killed an hour ago
    fresh = tmp_path / ".20260101000100_alter_keys_up.redis.tmp"  # one writing right now
    for path in (old, fresh):
        path.write_text("EXPIRE", "utf-8")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    _, path = write_plan(_plan("20260101000200", keys=10), tmp_path)
    assert not old.exists() and fresh.exists() and path.exists()
