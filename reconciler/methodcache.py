"""The methods dataclasses generate, compiled once and kept beside the bytecode.

`@dataclass` writes the source of each method it adds (`__init__`, `__eq__`, `__hash__`,
`__repr__`, a frozen class's `__setattr__` and `__delattr__`) and compiles it with exec() every
time its module is imported: about 0.6 ms a class, which for the ~160 classes a first plan
imports was a tenth of its run. Python keeps a module's bytecode in __pycache__ so that it is not
compiled again; this does the same for those methods: the code compiled from each source text is
kept in one file beside this module's own bytecode, and read back instead of compiling the same
text again.

Owns: the exec() that the dataclasses module calls, which compiles a text it has not seen before
(exactly as exec would) and takes the code of one it has from the file; and that file, written
when new texts were compiled, as Python writes bytecode (not when PYTHONDONTWRITEBYTECODE is
set, nor where it cannot write).
Must not: change what any method is. Entries are keyed by their whole source text, so a change
to a class (or to the dataclasses module) is a new text compiled anew; a file another Python
wrote, or one whose body does not match its digest (damaged), is not read. Like bytecode, the
file is trusted as far as the folder it is in: whoever can write there can change the code.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import hashlib
import importlib.util
import marshal
import os
import stat
import sys
from pathlib import Path
from types import CodeType
from typing import Any

# Header of the file: the bytecode's magic number (a new Python, a new file) and a format mark;
# then the digest of the body (marshal'd code), which is read only when it matches: a code
# object damaged on disk could compute something else, or crash the interpreter.
_HEADER = importlib.util.MAGIC_NUMBER + b"dataclass methods 2\n"
_DIGEST = 32
_MAX_ENTRIES = 4096  # past this the file keeps only what the last process compiled or used
_MAX_BYTES = 64 * 1024 * 1024

_codes: dict[str, CodeType] | None = None  # read from the file at the first exec
_used: dict[str, CodeType] = {}
_new = 0  # texts compiled in this process, not yet written


def path() -> Path | None:
    """Where the file is: beside this module's bytecode (honouring PYTHONPYCACHEPREFIX)."""
    try:
        return Path(importlib.util.cache_from_source(__file__)).with_suffix(".methods")
    except (NotImplementedError, ValueError):  # no bytecode cache for this interpreter
        return None


def _read() -> dict[str, CodeType]:
    """The file's entries; none when it is missing, not a regular file (a FIFO would block
    the read), damaged or another Python's."""
    where = path()
    if where is None:
        return {}
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return {}
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_BYTES:
            return {}
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(_MAX_BYTES + 1)
    except OSError:
        return {}
    finally:
        os.close(fd)
    head = len(_HEADER) + _DIGEST
    if not raw.startswith(_HEADER) or len(raw) < head:
        return {}
    body = raw[head:]
    if hashlib.blake2b(body, digest_size=_DIGEST).digest() != raw[len(_HEADER) : head]:
        return {}
    try:
        codes = marshal.loads(body)
    except Exception:  # marshal raises several kinds for a bad body
        return {}
    if not isinstance(codes, dict):
        return {}
    return {t: c for t, c in codes.items() if isinstance(t, str) and isinstance(c, CodeType)}


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """exec() as the dataclasses module calls it, with the compiled text kept."""
    global _codes, _new
    if type(source) is not str:
        builtins.exec(source, globals, locals)
        return
    if globals is None:  # as exec() called in the dataclasses module would take
        globals = vars(dataclasses)
    if _codes is None:
        _codes = _read()
    code = _codes.get(source)
    if code is None:
        # As exec() compiles a text: "<string>", and no __future__ flag of this module's.
        code = compile(source, "<string>", "exec", dont_inherit=True)
        _codes[source] = code
        _new += 1
    _used[source] = code
    builtins.exec(code, globals, locals)


def save() -> None:
    """Write the file if this process compiled texts it did not hold; never raises for it."""
    global _new
    if not _new or _codes is None or sys.dont_write_bytecode:
        return
    where = path()
    if where is None:
        return
    keep = _read()  # with what another process (the plan's read ahead) wrote meanwhile
    keep.update(_codes)
    if len(keep) > _MAX_ENTRIES:
        keep = dict(_used)
    tmp = where.with_name(f"{where.name}.{os.getpid()}.tmp")
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        body = marshal.dumps(keep)
        tmp.write_bytes(_HEADER + hashlib.blake2b(body, digest_size=_DIGEST).digest() + body)
        os.replace(tmp, where)  # whole or not at all, whoever else writes it meanwhile
    except OSError:  # a read-only install: compiled again next time, as bytecode would be
        return
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # left only by a failed (or interrupted) write
    _new = 0


def install() -> None:
    """Route the dataclasses module's exec() here (once; CPython only, where it is measured)."""
    if sys.implementation.name == "cpython" and "exec" not in vars(dataclasses):
        dataclasses.exec = _exec  # type: ignore[attr-defined]
