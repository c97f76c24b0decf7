"""The methods dataclasses generate are compiled once and read back, as bytecode is
(reconciler/methodcache.py): the same methods, a damaged file ignored, nothing written where
Python would write no bytecode."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import marshal
import os
import random
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest

from reconciler import methodcache

REPO = Path(__file__).resolve().parents[2]


def _help(cwd: Path, prefix: Path) -> None:
    """`reconciler --help` in a new interpreter writing its bytecode under `prefix`."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(prefix), "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "--help"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0 and "Usage" in done.stdout, done.stderr


@pytest.fixture
def cache_file(tmp_path, monkeypatch):
    """The cache routed to a file of this test's, from an empty start, and put back after."""
    where = tmp_path / "pycache" / "methodcache.methods"
    monkeypatch.setattr(methodcache, "path", lambda: where)
    monkeypatch.setattr(methodcache, "_codes", None)
    monkeypatch.setattr(methodcache, "_used", {})
    monkeypatch.setattr(methodcache, "_new", 0)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(dataclasses, "exec", methodcache._exec, raising=False)
    return where


def _make_class() -> type:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Point:
        x: int
        label: str = "origin"
        tags: tuple[str, ...] = ()

    return Point


def _same_methods(a: type, b: type) -> None:
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        fa, fb = getattr(a, name), getattr(b, name)
        assert fa.__code__.co_code == fb.__code__.co_code, name
        assert fa.__code__.co_consts == fb.__code__.co_consts, name
        assert fa.__annotations__ == fb.__annotations__, name  # no __future__ flag leaked in
    assert inspect.signature(a) == inspect.signature(b)


def _plain_class(monkeypatch) -> type:
    with monkeypatch.context() as m:
        m.delattr(dataclasses, "exec", raising=False)
        return _make_class()


def test_a_class_made_from_the_file_has_the_methods_python_compiles(cache_file, monkeypatch):
    first = _make_class()
    assert methodcache._new > 0  # compiled here, as exec would
    methodcache.save()
    assert cache_file.is_file()

    # A new process: nothing in memory, every text found in the file, nothing compiled.
    monkeypatch.setattr(methodcache, "_codes", None)
    monkeypatch.setattr(methodcache, "_new", 0)
    again = _make_class()
    assert methodcache._new == 0
    plain = _plain_class(monkeypatch)
    _same_methods(again, plain)
    _same_methods(first, plain)

    p = again(1, tags=("a",))
    assert p == again(1, "origin", ("a",)) and hash(p) == hash(again(1, "origin", ("a",)))
    assert repr(p).endswith("Point(x=1, label='origin', tags=('a',))")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2  # type: ignore[misc]


def test_nothing_new_writes_nothing(cache_file):
    _make_class()
    methodcache.save()
    stamp = cache_file.stat().st_mtime_ns, cache_file.stat().st_ino
    _make_class()  # the same texts: nothing compiled, nothing to write
    methodcache.save()
    assert (cache_file.stat().st_mtime_ns, cache_file.stat().st_ino) == stamp


def _sealed(body: bytes) -> bytes:
    """A file of `body` with a right header and digest."""
    digest = hashlib.blake2b(body, digest_size=methodcache._DIGEST).digest()
    return methodcache._HEADER + digest + body


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage",
        methodcache._HEADER,  # a header and nothing after it
        methodcache._HEADER + b"\x00\x01",  # a damaged body
        b"another python's magic" + b"\n" * 40,
        _sealed(b"\x00\x01\x02"),  # sealed, yet not marshal
        _sealed(marshal.dumps(["not", "a", "dict"])),
        _sealed(marshal.dumps({"def f(): pass": "not code"})),
    ],
)
def test_a_damaged_or_foreign_file_is_not_read_and_is_written_anew(cache_file, content):
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(content)
    made = _make_class()
    assert methodcache._new > 0  # nothing was taken from the file
    assert made(1).label == "origin"
    methodcache.save()
    assert cache_file.read_bytes().startswith(methodcache._HEADER)
    assert set(methodcache._read()) >= set(methodcache._used)  # what was made is kept


def test_no_file_where_python_writes_no_bytecode(cache_file, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    _make_class()
    methodcache.save()
    assert not cache_file.exists()


def test_a_folder_it_cannot_write_is_no_error(cache_file):
    cache_file.parent.write_text("a file where the folder should be")  # fails even as root
    _make_class()
    methodcache.save()  # no exception, and no file
    assert cache_file.parent.read_text() == "a file where the folder should be"
    assert not list(cache_file.parent.parent.glob("*.tmp"))


def test_the_command_line_keeps_the_file_beside_its_bytecode(tmp_path):
    """`reconciler --help` in a new interpreter writes the file under PYTHONPYCACHEPREFIX (where
    Python writes the bytecode); the second run compiles nothing new, so it is not rewritten."""
    prefix = tmp_path / "prefix"
    run = partial(_help, tmp_path, prefix)

    run()
    files = list(prefix.rglob("*.methods"))
    assert len(files) == 1 and files[0].parent.name == "reconciler", files
    stamp = files[0].stat().st_mtime_ns, files[0].stat().st_ino
    run()
    assert (files[0].stat().st_mtime_ns, files[0].stat().st_ino) == stamp


def test_a_file_damaged_anywhere_in_its_body_is_not_read(cache_file):
    """A byte changed in the code (a comparison turned round, a name, a length) could make a
    method compute something else or crash the interpreter: such a file is not read at all."""
    _make_class()
    methodcache.save()
    good = cache_file.read_bytes()
    head = len(methodcache._HEADER) + methodcache._DIGEST
    assert methodcache._read()  # the file as written is read
    rng = random.Random(7)
    for offset in [head, len(good) - 1, *rng.sample(range(head, len(good)), 60)]:
        damaged = bytearray(good)
        damaged[offset] ^= rng.randrange(1, 256)
        cache_file.write_bytes(bytes(damaged))
        assert methodcache._read() == {}, offset


def test_a_fifo_or_a_device_in_its_place_is_not_read_and_nothing_waits(cache_file):
    cache_file.parent.mkdir(parents=True)
    os.mkfifo(cache_file)  # a read of a FIFO with no writer would wait for ever
    box: dict[str, object] = {}
    reader = threading.Thread(target=lambda: box.update(read=methodcache._read()), daemon=True)
    reader.start()
    reader.join(10)
    assert box.get("read") == {}
    cache_file.unlink()
    cache_file.symlink_to("/dev/zero")
    assert methodcache._read() == {}


def test_code_run_without_globals_gets_those_of_the_dataclasses_module(cache_file):
    namespace: dict[str, object] = {}
    methodcache._exec("def f():\n    return MISSING\n", None, namespace)
    f = namespace["f"]
    assert f.__globals__ is vars(dataclasses) and f() is dataclasses.MISSING


def test_the_command_line_reads_no_damaged_file_and_writes_a_sound_one(tmp_path):
    prefix = tmp_path / "prefix"
    run = partial(_help, tmp_path, prefix)

    run()
    (where,) = prefix.rglob("*.methods")
    good = where.read_bytes()
    damaged = bytearray(good)
    damaged[len(good) // 2] ^= 0x40
    where.write_bytes(bytes(damaged))
    run()  # the damaged file is not read: its classes are compiled, and the file written anew
    assert where.read_bytes() == good
