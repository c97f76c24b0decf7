"""A fleet's databases: where they come from (a list, a file, a query) and their names.

Owns: Target (a name and a URL), and `targets`, which turns a FleetSpec of reconciler.yaml into
the fleet's targets, in order, each with a unique name safe for a directory.

Must not: connect to a target (only a query's own `from` database is read, read-only), or put a
password anywhere but the Target's URL (messages show `redact`ed URLs).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.connect import connect_pg, redact
from reconciler.errors import InputError
from reconciler.project.config import _REF, FleetSpec


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # unique in the fleet; names its plans directory and log directory
    url: str  # may hold a password: shown only through `shown`

    @property
    def shown(self) -> str:
        return redact(self.url)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def targets(spec: FleetSpec) -> list[Target]:
    """The fleet's databases, in the order given, each with a unique safe name."""
    if spec.file is not None:
        pairs = _from_file(spec.file)
    elif spec.query is not None:
        pairs = _from_query(spec)
    else:
        pairs = list(spec.entries)
    if not pairs:
        raise InputError(f"{spec.where}: the fleet has no databases.")
    out: list[Target] = []
    names: dict[str, str] = {}
    urls: set[str] = set()
    for given, url in pairs:
        name = _safe_name(given) if given else _name_of(url)
        if not name:
            raise InputError(f"{spec.where}: a fleet target name {given!r} has no usable letter.")
        if url in urls:
            raise InputError(f"{spec.where}: {redact(url)} is listed twice in the fleet.")
        if name in names:
            raise InputError(
                f"{spec.where}: two fleet targets are named {name!r} ({names[name]} and "
                f"{redact(url)}); give them names ({{name: …, url: …}} or `NAME URL`)."
            )
        names[name], _ = redact(url), urls.add(url)
        out.append(Target(name, url))
    return out


def _safe_name(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-.")[:100]


def _name_of(url: str) -> str:
    """A name from the URL: its database, or host-port-database when that is ambiguous later
    (two clusters with a database of the same name need names given)."""
    try:
        parts = urlsplit(url)
        db = parts.path.lstrip("/")
        return _safe_name(db or f"{parts.hostname or 'local'}-{parts.port or 5432}")
    except ValueError:
        return ""


def _from_file(path: Path) -> list[tuple[str | None, str]]:

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read the fleet file {path}: {exc}.") from None
    out: list[tuple[str | None, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = "" if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) > 2:
            raise InputError(f"{path.name}:{number}: expected `URL` or `NAME URL`.")
        for ref in _REF.findall(fields[-1]):
            if ref not in os.environ:
                raise InputError(f"{path.name}:{number}: refers to ${{{ref}}}, which is not set.")
        url = _REF.sub(lambda m: os.environ[m.group(1)], fields[-1])
        out.append((fields[0] if len(fields) == 2 else None, url))
    return out


def _from_query(spec: FleetSpec) -> list[tuple[str | None, str]]:
    """Rows of the query: (dsn) or (name, dsn), read in a read-only transaction."""
    import psycopg

    assert spec.source is not None and spec.query is not None
    conn = connect_pg(spec.source, command="fleet")
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            rows = conn.execute(spec.query.encode()).fetchall()  # type: ignore[arg-type]
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{spec.where}: the fleet query failed: {reason}") from None
    finally:
        conn.close()
    out: list[tuple[str | None, str]] = []
    for row in rows:
        if len(row) not in (1, 2) or not all(isinstance(v, str) for v in row):
            raise InputError(
                f"{spec.where}: the fleet query must return rows of (dsn) or (name, dsn) text."
            )
        out.append((row[0], row[1]) if len(row) == 2 else (None, row[0]))
    return out
