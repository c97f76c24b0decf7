"""A frozen copy of the code under test, so that every figure of one run measures the same code.

The working tree may change while a run goes on (an editor saving, a checkout): the bench copies
the `reconciler` package once, at the start, into its temporary directory and runs every
measured command from that copy (first on PYTHONPATH). The digest names the copy in the results.

The copy is byte-compiled, as `pip install` leaves an installed package: a run must not pay for
compiling ~40 modules from source at every start (~40 ms; with PYTHONDONTWRITEBYTECODE set, as
in some CI images, Python would otherwise never keep the compiled files).
"""

from __future__ import annotations

import compileall
import hashlib
import shutil
from pathlib import Path

IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


def freeze(package_dir: Path, dest_root: Path) -> str:
    """Copy `package_dir` under `dest_root`; return the sha256 over its files (path + bytes)."""
    target = dest_root / package_dir.name
    shutil.copytree(package_dir, target, ignore=IGNORE)
    digest = hashlib.sha256()
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        rel = path.relative_to(dest_root).as_posix().encode()
        data = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(rel), rel, len(data)) + data)
    if not compileall.compile_dir(target, quiet=1, workers=1):
        raise RuntimeError(f"byte-compiling the measured copy {target} failed")
    return digest.hexdigest()
