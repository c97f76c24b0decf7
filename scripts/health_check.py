#!/usr/bin/env python3
"""The seed's Redis health check entry point: `python .../health_check.py --url redis://…`.

A thin wrapper over `reconciler redis health` (same options, same output, same exit codes: 0
healthy, 1 unhealthy, unreachable or an error). It runs with a plain `python`: when that Python
cannot import the reconciler package, it runs itself again with the python of the nearest
`.venv` at or above this file's folder (so a copy at the seed's
db/engines/redis/scripts/health_check.py works too); with neither, it says so in one sentence
and exits 1.

Example: python scripts/health_check.py --url redis://localhost:6379 --json
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_REEXEC = "RECONCILER_HEALTH_CHECK_REEXEC"  # set once, so a broken .venv cannot loop


def _venv_python(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        for name in ("bin/python", "Scripts/python.exe"):
            candidate = folder / ".venv" / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    return None


def main() -> None:
    here = Path(__file__).resolve().parent
    if (here.parent / "reconciler" / "__init__.py").is_file():  # in the repository: its source
        sys.path.insert(0, str(here.parent))
    try:
        from reconciler.cli import main as reconciler_main
    except ImportError as exc:
        venv = _venv_python(here)
        if venv is not None and not os.environ.get(_REEXEC):
            os.environ[_REEXEC] = "1"
            os.execv(str(venv), [str(venv), str(Path(__file__).resolve()), *sys.argv[1:]])
        print(
            f"health_check.py: the reconciler package cannot be imported by {sys.executable} "
            f"({exc}) and no .venv with it was found at or above {here}; install it "
            "(pip install -e . in the project) or run this script with the project's "
            ".venv/bin/python.",
            file=sys.stderr,
        )
        sys.exit(1)
    sys.argv = ["reconciler", "redis", "health", *sys.argv[1:]]
    reconciler_main()


if __name__ == "__main__":
    main()
