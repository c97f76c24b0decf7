"""The desired-state cache: an unchanged tree is read back, anything changed is loaded afresh,
and an entry that is not provably ours is never unpickled."""

from __future__ import annotations

import os
import pickle
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from reconciler.desired import load
from reconciler.errors import InputError
from reconciler.project import cache

USERS = {
    "table": "users",
    "columns": [
        {"name": "id", "type": "uuid", "nullable": False},
        {"name": "email", "type": "text"},
    ],
    "primary_key": {"columns": ["id"]},
}


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "schemas"
    write_yaml(root / "tables" / "users.yaml", USERS)
    return root


def write_yaml(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pickle"))


def _plant(folder: Path, value: object) -> None:
    """Overwrite the only entry with `value`: a later load returning it proves the read."""
    (entry,) = _entries(folder)
    body = pickle.dumps(value)
    entry.write_bytes(cache._seal(cache._secret(), entry.stem, body) + body)


def _marked(root: Path):
    """The tree's real load with a table comment no YAML file says."""
    real = load(root)
    key = next(iter(real.pg.tables))
    tables = {**real.pg.tables, key: replace(real.pg.tables[key], comment="from the cache")}
    return replace(real, pg=replace(real.pg, tables=tables), files=())


def _comment(root: Path) -> str | None:
    return next(iter(load(root).pg.tables.values())).comment


def test_a_second_load_of_an_unchanged_tree_comes_from_the_cache(cache_dir: Path, tree: Path):
    first = load(tree)
    assert len(_entries(cache_dir)) == 1
    assert load(tree) == first  # a hit gives the same value as the load that stored it
    _plant(cache_dir, _marked(tree))
    assert _comment(tree) == "from the cache"
    assert load(tree).files == first.files  # the file list is always the tree's own


def test_changing_a_file_adding_one_or_moving_the_tree_is_a_miss(
    cache_dir: Path, tree: Path, tmp_path: Path
):
    load(tree)
    _plant(cache_dir, _marked(tree))
    write_yaml(tree / "tables" / "users.yaml", {**USERS, "comment": "edited"})
    assert _comment(tree) == "edited"

    write_yaml(
        tree / "types" / "status.yaml", {"enums": [{"name": "status", "values": ["a", "b"]}]}
    )
    assert len(load(tree).pg.enums) == 1

    moved = tmp_path / "elsewhere"
    tree.rename(moved)
    assert _comment(moved) == "edited"


def test_errors_are_never_cached(cache_dir: Path, tree: Path):
    (tree / "tables" / "bad.yaml").write_text("table: bad\ncolumns: [unclosed\n")
    for _ in range(2):
        with pytest.raises(InputError) as exc:
            load(tree)
        assert any("bad.yaml:3: invalid YAML" in str(p) for p in exc.value.problems)
    assert _entries(cache_dir) == []


def test_entries_others_could_have_written_are_ignored(cache_dir: Path, tree: Path):
    real = _comment(tree)
    _plant(cache_dir, _marked(tree))
    entry = _entries(cache_dir)[0]

    cache_dir.chmod(0o777)  # a directory anyone can write into
    assert _comment(tree) == real
    cache_dir.chmod(0o700)

    entry.chmod(0o666)  # a file anyone can write
    assert _comment(tree) == real
    entry.chmod(0o600)

    os.chown(entry, 65534, -1)  # owned by another user (nobody)
    assert _comment(tree) == real


def test_a_corrupt_entry_is_a_miss_and_is_replaced(cache_dir: Path, tree: Path):
    real = load(tree)
    (entry,) = _entries(cache_dir)
    entry.write_bytes(b"\x80\x05 not a pickle")
    assert load(tree) == real
    assert load(tree) == real


def test_turned_off_nothing_is_written(
    cache_dir: Path, tree: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    assert cache.cache_dir() is None
    load(tree)
    assert not cache_dir.exists()


def test_old_entries_are_pruned(cache_dir: Path, tree: Path):
    for i in range(cache._KEEP + 3):
        write_yaml(tree / "tables" / "users.yaml", {**USERS, "comment": f"version {i}"})
        load(tree)
    assert len(_entries(cache_dir)) == cache._KEEP
    assert _comment(tree) == f"version {cache._KEEP + 2}"


def test_pruning_removes_only_the_caches_own_entries(cache_dir: Path, tree: Path):
    """RECONCILER_CACHE_DIR may name a folder that holds other files: another tool's pickles,
    one even named like an entry, are never removed, however old."""
    cache_dir.mkdir(mode=0o700)
    foreign = {
        "model.pickle": b"precious",
        "a" * 64 + ".pickle": b"content-addressed, not ours",
        "notes.txt": b"precious",
    }
    for name, data in foreign.items():
        (cache_dir / name).write_bytes(data)
        os.utime(cache_dir / name, (0, 0))  # older than every entry
    for i in range(cache._KEEP + 3):
        write_yaml(tree / "tables" / "users.yaml", {**USERS, "comment": f"version {i}"})
        load(tree)
    for name, data in foreign.items():
        assert (cache_dir / name).read_bytes() == data
    assert len(_entries(cache_dir)) == cache._KEEP + 2  # its own 16, and the two foreign


def test_only_entries_written_before_a_run_started_count_as_held(cache_dir: Path, tree: Path):
    """Whether the cache may answer a run (the read ahead's second connection) is told by the
    entries of earlier runs: those the run writes itself, its files' load, do not count."""
    import time

    before = time.time_ns()
    assert not cache.holds_entries(before)  # no folder yet
    load(tree)
    assert not cache.holds_entries(before)
    assert cache.holds_entries(time.time_ns() + 1)
    (cache_dir / "model.pickle").write_bytes(b"another tool's")
    os.utime(cache_dir / "model.pickle", (0, 0))
    for entry in _entries(cache_dir):
        if entry.name != "model.pickle":
            entry.unlink()
    assert not cache.holds_entries(time.time_ns() + 1)  # not named as an entry is


def _stamp_of(site: Path) -> str:
    import subprocess
    import sys

    code = "from reconciler.project import cache; print(cache._code_stamp())"
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=site, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_installed_package_keeps_its_stamp_across_installs(tmp_path: Path):
    """A CI job installs the package afresh each time (new modification times): the cache it
    restores from an earlier job must still be its own, and not once its code changed."""
    import shutil

    import reconciler

    site = tmp_path / "site"
    shutil.copytree(Path(reconciler.__file__).parent, site / "reconciler")
    info = site / "reconciler-9.9.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("reconciler/__init__.py,sha256=abc,10\n", encoding="utf-8")
    first = _stamp_of(site)
    for path in (site / "reconciler").rglob("*.py"):
        os.utime(path, (1_000_000, 1_000_000))  # installed again: other times
    assert _stamp_of(site) == first
    (info / "RECORD").write_text("reconciler/__init__.py,sha256=def,10\n", encoding="utf-8")
    assert _stamp_of(site) != first  # another version installed
    (info / "RECORD").write_text("reconciler/__init__.py,sha256=abc,10\n", encoding="utf-8")
    assert _stamp_of(site) == first
    with (site / "reconciler" / "errors.py").open("a", encoding="utf-8") as fh:
        fh.write("\n# edited in place\n")
    assert _stamp_of(site) != first  # a module edited after the install


def test_a_source_checkout_changes_its_stamp_with_any_module_touched(tmp_path: Path):
    import shutil

    import reconciler

    site = tmp_path / "site"
    shutil.copytree(Path(reconciler.__file__).parent, site / "reconciler")
    first = _stamp_of(site)
    os.utime(site / "reconciler" / "errors.py", (1_000_000, 1_000_000))
    assert _stamp_of(site) != first


def test_another_version_of_a_library_changes_the_stamp(tmp_path: Path):
    """The libraries that read and check the files (PyYAML, pglast, pydantic…) decide what a
    load gives: an upgrade of one of them (another version installed where Python finds its
    packages) must be a miss, as a change of our own code is."""
    import shutil

    import reconciler

    site = tmp_path / "site"
    shutil.copytree(Path(reconciler.__file__).parent, site / "reconciler")
    library = site / "pglast-8.8.dist-info"
    library.mkdir()
    first = _stamp_of(site)
    assert _stamp_of(site) == first
    library.rename(site / "pglast-8.9.dist-info")
    assert _stamp_of(site) != first


def test_a_reconciler_folder_that_is_a_link_is_not_used(
    tmp_path: Path, tree: Path, monkeypatch: pytest.MonkeyPatch
):
    """A checkout may carry `.reconciler` as a link to somewhere else: the cache would write
    there and prune that folder's old entries, so it is not used at all, as a `cache` link is
    not."""
    monkeypatch.delenv("RECONCILER_CACHE_DIR", raising=False)
    monkeypatch.delenv("RECONCILER_NO_CACHE", raising=False)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "cache").mkdir(parents=True, mode=0o700)
    kept = []
    for i in range(cache._KEEP + 4):
        entry = elsewhere / "cache" / f"{i:064x}.pickle"
        entry.write_bytes(b"someone else's")
        entry.chmod(0o600)
        os.utime(entry, (1_000_000, 1_000_000))
        kept.append(entry.name)
    project = tmp_path / "project"
    project.mkdir()
    (project / ".reconciler").symlink_to(elsewhere)
    monkeypatch.chdir(project)
    load(tree)
    load(tree)
    assert sorted(p.name for p in (elsewhere / "cache").iterdir()) == sorted(kept)
    assert cache.cache_dir() is None


def test_a_home_that_does_not_exist_is_not_made_for_the_secret(
    tmp_path: Path, tree: Path, monkeypatch: pytest.MonkeyPatch
):
    """Run with the HOME of an account that has none (`/nonexistent`), the cache is off: the
    secret's folder would otherwise create that home, owned by whoever ran it."""
    home = tmp_path / "nonexistent"
    for name in ("RECONCILER_CACHE_SECRET", "XDG_CACHE_HOME", "RECONCILER_NO_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))
    cache._secret.cache_clear()
    try:
        assert load(tree).pg.tables
        assert load(tree).pg.tables
        assert cache._secret() is None
    finally:
        cache._secret.cache_clear()
    assert not home.exists()
    assert _entries(tmp_path / "cache") == []


def _pickle_that_runs(marker: Path) -> bytes:
    class Runs:
        def __reduce__(self):
            return (marker.write_text, ("code ran from the cache",))

    return pickle.dumps(Runs())


def test_an_unsealed_entry_is_never_unpickled(cache_dir: Path, tree: Path, tmp_path: Path):
    """A cache folder restored from elsewhere (a CI cache any job may write) holds files the
    user owns, mode 0600: only the seal of the user's (or the CI's) secret is trusted."""
    first = load(tree)
    (entry,) = _entries(cache_dir)
    marker = tmp_path / "ran"
    entry.write_bytes(_pickle_that_runs(marker))  # owned by us, 0600, no seal
    assert load(tree) == first
    assert not marker.exists()
    body = _pickle_that_runs(marker)
    entry.write_bytes(cache._seal(b"x" * 32, entry.stem, body) + body)  # another secret
    assert load(tree) == first
    assert not marker.exists()


def test_jobs_sharing_a_secret_share_the_cache(
    cache_dir: Path, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Two CI jobs (two homes, one RECONCILER_CACHE_SECRET) trust each other's entries."""
    monkeypatch.setenv(cache.SECRET_ENV, "ci-secret")
    for home in ("job1", "job2"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / home))
        cache._secret.cache_clear()
        if home == "job1":
            load(tree)
            _plant(cache_dir, _marked(tree))
        else:
            assert _comment(tree) == "from the cache"
    monkeypatch.setenv(cache.SECRET_ENV, "another")  # a job with another secret: not trusted
    cache._secret.cache_clear()
    assert _comment(tree) is None
    monkeypatch.delenv(cache.SECRET_ENV)
    cache._secret.cache_clear()


def test_a_fifo_in_place_of_an_entry_is_a_miss_not_a_hang(cache_dir: Path, tree: Path):
    """A restored cache folder can hold a FIFO named like an entry: it is opened without
    waiting for a writer and passed over, as any file that is not a regular one."""
    import threading

    real = load(tree)
    (entry,) = _entries(cache_dir)
    entry.unlink()
    os.mkfifo(entry, 0o600)
    done: list = []
    worker = threading.Thread(target=lambda: done.append(load(tree)), daemon=True)
    worker.start()
    worker.join(10)
    assert done == [real], "the load hung on the FIFO"


def test_a_secret_others_can_read_seals_nothing(
    cache_dir: Path, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The user's own secret (no RECONCILER_CACHE_SECRET) readable by others: whoever read it
    could seal an entry, so nothing is read from the cache or written to it."""
    monkeypatch.delenv(cache.SECRET_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    cache._secret.cache_clear()
    try:
        load(tree)
        assert len(_entries(cache_dir)) == 1
        secret = tmp_path / "home" / "reconciler" / "cache-secret"
        (entry,) = _entries(cache_dir)
        body = pickle.dumps(_marked(tree))  # sealed with the secret as anyone could read it
        entry.write_bytes(cache._seal(secret.read_bytes(), entry.stem, body) + body)
        secret.chmod(0o644)
        cache._secret.cache_clear()
        assert _comment(tree) is None  # the planted entry is not believed
        secret.chmod(0o600)
        cache._secret.cache_clear()
        assert _comment(tree) == "from the cache"  # (it was sealed right: believed when private)
    finally:
        cache._secret.cache_clear()


def test_an_entry_larger_than_any_the_cache_writes_is_a_miss_and_never_read(
    cache_dir: Path, tree: Path, monkeypatch: pytest.MonkeyPatch
):
    """A restored cache folder can hold a huge file named like an entry (sparse, ours and
    private): it is passed over on its size, never read into memory. (The bound is lowered
    here so that a regression costs the test 64 MiB, not the 8 GiB a real one would.)"""
    import tracemalloc

    real = load(tree)
    (entry,) = _entries(cache_dir)
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 2**20)
    with entry.open("r+b") as fh:
        fh.truncate(64 * 2**20)
    tracemalloc.start()
    try:
        assert cache.get(entry.stem) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"the oversized entry was read ({peak} bytes held)"
    assert not cache.exists(entry.stem)
    assert load(tree) == real  # loaded afresh


def test_an_entry_that_is_a_link_is_a_miss_even_to_a_good_entry(cache_dir: Path, tree: Path):
    """Entries are regular files of the folder: a link named like one (to one of our own
    entries, sealed right) is not followed."""
    load(tree)
    (entry,) = _entries(cache_dir)
    elsewhere = cache_dir.parent / "kept.pickle"
    body = pickle.dumps(_marked(tree))
    elsewhere.write_bytes(cache._seal(cache._secret(), entry.stem, body) + body)
    elsewhere.chmod(0o600)
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert not cache.exists(entry.stem)
    assert _comment(tree) is None  # loaded afresh, the link not believed
