"""Which server to talk to, and connecting to it without ever printing a password.

Resolution order (ARCHITECTURE.md): the --pg flag, RECONCILER_PG_URL, DATABASE_URL, then the
chosen environment of reconciler.yaml (project/config.py), then the embedded dev servers started by
`reconciler dev up` in the current directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from reconciler.connect.appname import application_name
from reconciler.connect.reason import libpq_reason
from reconciler.errors import ConnectionFailed, InputError, ReconcilerError
from reconciler.project.config import environment

if TYPE_CHECKING:
    import psycopg

    from reconciler.project.config import Environment


# Keywords whose values are secrets, in libpq key=value strings and in URL query parameters
# (libpq's `password` and `sslpassword`; redis-py reads `password` from the query too).
SECRET_KEYS = frozenset({"password", "sslpassword"})
# Variables whose values the client libraries send as passwords: never echoed either.
SECRET_VARIABLES = ("PGPASSWORD", "REDISCLI_AUTH")
# A value shorter than this cannot be told apart from ordinary words of a message.
_MIN_SCRUB = 4
HIDDEN = "***"

# One `key = value` pair of a libpq connection string: a value is single-quoted (with backslash
# escapes; an unterminated quote runs to the end) or runs to the next blank. Anything else is a
# stray word, which libpq refuses and which may be the rest of a password typed with a blank.
_PAIR = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*"
    r"(?P<value>'(?:\\.|[^'\\])*(?:'|\\?\Z)|(?:\\.|[^\s\\])*\\?)"
    r"|(?P<stray>\S+)"
)
# `password=` / `sslpassword=` as a URL query parameter, in any case.
_SECRET_PARAMETER = re.compile(r"(?P<head>[?&;](?:ssl)?password=)(?P<value>[^&#]*)", re.I)


def redact(target: str) -> str:
    """The connection target with every secret replaced by `***`: the password of a URL's
    user info, `password=` / `sslpassword=` query parameters and key=value pairs (quoted or
    not), words libpq could not parse, and the values of PGPASSWORD and REDISCLI_AUTH."""
    return _redacted(target)[0]


def scrub(text: str, *targets: str | None) -> str:
    """`text` (a driver's message) with every secret of `targets` hidden, in the spellings a
    message may use: as written, percent-decoded, and the targets themselves redacted."""
    secrets: set[str] = set(_variable_secrets())
    for target in targets:
        if target:
            text = text.replace(target, redact(target))
            secrets.update(_redacted(target)[1])
    for secret in sorted(secrets, key=len, reverse=True):  # longest first: no partial leftovers
        text = text.replace(secret, HIDDEN)
    return text


def check_one_at(url: str) -> None:
    """Refuse a URL whose user info holds an unencoded '@': drivers split it elsewhere than
    where the password ends, and echo the pieces they took for a host in their errors."""
    scheme, sep, rest = url.partition("://")
    first = rest.find("@")
    if not sep or first < 0:
        return
    # up to where the host part ends: the first '/', '?' or '#' after the first '@'
    end = re.search(r"[/?#]", rest[first:])
    authority = rest[: first + end.start()] if end else rest
    if authority.count("@") > 1:
        raise InputError(
            f"The {scheme} URL {redact(url)} has more than one '@' before its host: write an '@' "
            "of the user or password as %40."
        )


def server_address(target: str) -> str:
    """Where a URL points, without user, password, database or options: `redis://host:port`."""
    safe = redact(target)  # parsed only once redacted: nothing of a password can come out
    scheme, sep, rest = safe.partition("://")
    if not sep:
        return safe
    if scheme == "unix":
        return f"unix://{urlsplit(safe).path}"
    return f"{scheme}://{re.split(r'[/?#]', rest.rpartition('@')[2], maxsplit=1)[0]}"


def _variable_secrets() -> list[str]:
    return [v for name in SECRET_VARIABLES if len(v := os.environ.get(name, "")) >= _MIN_SCRUB]


def _redacted(target: str) -> tuple[str, list[str]]:
    """(the target redacted, the secret substrings it held, raw and percent-decoded)."""
    if "://" in target:
        text, found = _redacted_url(target)
    elif "=" in target:
        text, found = _redacted_pairs(target)
    else:
        text, found = target, []
    for secret in _variable_secrets():
        text = text.replace(secret, HIDDEN)
    found = [f for f in found if f]
    return text, found + [unquote(f) for f in found]


def _redacted_url(url: str) -> tuple[str, list[str]]:
    scheme, _, rest = url.partition("://")
    found: list[str] = []

    def hide_parameter(m: re.Match[str]) -> str:
        found.append(m.group("value"))
        return f"{m.group('head')}{HIDDEN}"

    rest = _SECRET_PARAMETER.sub(hide_parameter, rest)
    # The user info ends at the last '@': a password may hold '@', '/' or '?' unencoded, and
    # hiding too much of an odd URL is better than showing part of a password.
    creds, at, host = rest.rpartition("@")
    user, colon, password = creds.partition(":")
    if at and colon:
        # Also its pieces: a parser that split the URL elsewhere may echo one of them.
        found += [password, *(w for w in re.split(r"[/?#@:]", password) if len(w) >= _MIN_SCRUB)]
        rest = f"{user}:{HIDDEN}@{host}"
    return f"{scheme}://{rest}", found


def _redacted_pairs(conninfo: str) -> tuple[str, list[str]]:
    found: list[str] = []

    def hide(m: re.Match[str]) -> str:
        if m.group("stray") is not None:
            found.append(m.group("stray"))
            return HIDDEN
        key, value = m.group("key"), m.group("value")
        if key.lower() not in SECRET_KEYS:
            return m.group(0)
        found.append(value)
        if value.startswith("'"):  # also as libpq reads it: unquoted, escapes resolved
            found.append(re.sub(r"\\(.)", r"\1", value[1:].removesuffix("'")))
        return f"{key}={HIDDEN}"

    return _PAIR.sub(hide, conninfo), found


def redis_refusal(url: str, exc: BaseException | None) -> ConnectionFailed | None:
    """The one sentence for a Redis server that refused to authenticate this client (`exc`,
    the driver's error), or None for any other failure. The driver's own words (HELLO, NOAUTH,
    WRONGPASS) say less than where the password goes, and never name it."""
    import redis  # only here: a PostgreSQL-only run never loads the Redis driver

    refused = isinstance(
        exc, redis.AuthenticationError | redis.AuthenticationWrongNumberOfArgsError
    )
    if not refused and isinstance(exc, redis.ResponseError):
        refused = str(exc).startswith(("NOAUTH", "WRONGPASS"))
    if not refused:
        return None
    where = server_address(url)
    if not _redacted(url)[1]:
        return ConnectionFailed(
            f"The Redis server at {where} needs a password: put it in the URL "
            "(redis://:PASSWORD@host:port) or in RECONCILER_REDIS_URL."
        )
    return ConnectionFailed(
        f"The Redis server at {where} refused the password in {redact(url)} (a wrong password, "
        "or a user it does not know or has disabled): correct it in the URL or in "
        "RECONCILER_REDIS_URL."
    )


def hide_secrets(error: ReconcilerError, *targets: str | None) -> ReconcilerError:
    """`error` with every secret of `targets` scrubbed from its summary and detail."""
    error.summary = scrub(error.summary, *targets)
    error.detail = None if error.detail is None else scrub(error.detail, *targets)
    error.args = (error.summary,)
    return error


def resolve_targets(pg_flag: str | None, redis_flag: str | None) -> tuple[str | None, str | None]:
    """Which servers a run targets. Flags, when any is given, say exactly which (`--redis`
    alone skips Postgres); otherwise the environment; otherwise the dev servers."""
    if pg_flag or redis_flag:
        return pg_flag or None, redis_flag or None
    pg = os.environ.get("RECONCILER_PG_URL") or os.environ.get("DATABASE_URL")
    rd = os.environ.get("RECONCILER_REDIS_URL") or os.environ.get("REDIS_URL")
    if pg or rd:
        return pg, rd

    env = environment(Path.cwd())
    if env is not None and env.fleet is not None:
        raise InputError(
            f"Environment {env.name!r} is a fleet of databases ({env.fleet.where}); only plan, "
            "apply and drift run over a fleet.",
            detail="Pass --pg URL to work on one of its databases.",
        )
    if env is not None and (env.pg or env.redis):
        return env.pg, env.redis
    from reconciler.dev import (  # only here: it brings in redis-py; deferred: start-up: redis
        dev_dir,
        dev_status,
        find_root,
    )

    root = find_root(Path.cwd())  # the project's, from any of its subfolders
    if dev_dir(root).is_dir():
        st = dev_status(root)
        if st.pg_url or st.redis_url:
            return st.pg_url, st.redis_url
    raise InputError(
        "No server given.",
        detail="Pass --pg URL and/or --redis URL, set RECONCILER_PG_URL / RECONCILER_REDIS_URL, "
        "or start the embedded servers with `reconciler dev up`.",
    )


def fleet_environment(pg_flag: str | None, redis_flag: str | None) -> Environment | None:
    """The chosen environment when a run without server flags or URL variables falls to a
    fleet (plan, apply and drift then run over every database of it); otherwise None."""
    if pg_flag or redis_flag:
        return None
    names = ("RECONCILER_PG_URL", "DATABASE_URL", "RECONCILER_REDIS_URL", "REDIS_URL")
    if any(os.environ.get(n) for n in names):
        return None

    env = environment(Path.cwd())
    return env if env is not None and env.fleet is not None else None


def resolve_pg_url(flag: str | None) -> str:
    """For commands that only speak to Postgres (state, lock)."""
    pg, _ = resolve_targets(flag, None)
    if not pg:
        raise InputError(
            "No PostgreSQL server given.",
            detail="Pass --pg URL, set RECONCILER_PG_URL, or start the embedded one with "
            "`reconciler dev up`.",
        )
    return pg


# The settings under which the server reads the literals of desired-state text (a timestamptz
# or date in a default, a check or a view) and prints values back. Every connection of a run
# takes them, over whatever the session would have had (PGTZ, PGDATESTYLE, options in the URL,
# ALTER ROLE / DATABASE … SET): a plan's probes, the catalog read and an apply then read
# `'2024-01-01 00:00:00'` as the same instant, so the same files plan and apply the same way
# on every machine, and a remembered verdict (project/cache.py) depends on none of them.
LITERAL_SETTINGS: dict[str, str] = {
    "datestyle": "ISO, MDY",
    "intervalstyle": "postgres",
    "timezone": "UTC",
    # the server's defaults, which a role or database may have changed: how 'a\b', NULL in
    # an array literal, `x = NULL`, 'IST' and an XML literal are read
    "standard_conforming_strings": "on",
    "array_nulls": "on",
    "transform_null_equals": "off",
    "timezone_abbreviations": "Default",
    "xmloption": "content",
}
# What a bare name in desired text (a view's query, a default calling a function) resolves in:
# the apply runs its statements under it, so a plan's probes spell desired text under it too.
APPLY_SEARCH_PATH = "public"

# Every connection speaks UTF-8, whatever PGCLIENTENCODING or PGOPTIONS ask for: the files
# are UTF-8, and an encoding that cannot hold a name or a comment made the catalog read fail.
_PINNED = {**LITERAL_SETTINGS, "client_encoding": "UTF8"}
_PIN_SQL = "SELECT " + ", ".join("pg_catalog.set_config(%s, %s, false)" for _ in _PINNED)
_PIN_PARAMS = [v for item in _PINNED.items() for v in item]

# How long libpq waits for a server to answer when neither the URL (`connect_timeout=`) nor
# PGCONNECT_TIMEOUT says: a server that accepts and never answers fails the run, not hangs it.
CONNECT_TIMEOUT_S = 10


def _connect_options(url: str) -> tuple[dict[str, Any], bool]:
    """What psycopg.connect is given beyond the URL: `connect_timeout` (CONNECT_TIMEOUT_S)
    unless the user gave one (a keyword argument would override both the URL's and the
    variable's); and whether the user's options (the URL's, else PGOPTIONS) set a
    statement_timeout of their own."""
    from psycopg.conninfo import conninfo_to_dict  # deferred: as psycopg in connect_pg

    given = conninfo_to_dict(url)
    extra: dict[str, Any] = {}
    if not (os.environ.get("PGCONNECT_TIMEOUT") or "connect_timeout" in given):
        extra["connect_timeout"] = CONNECT_TIMEOUT_S
    options = str(given["options"]) if "options" in given else os.environ.get("PGOPTIONS", "")
    return extra, "statement_timeout" in options


# A session's first statements run under the statement_timeout the role or database may set
# to guard an application's queries: a few ms of it cut them whenever the machine was busy
# (the first statement of a session fills the backend's caches; a JIT set to compile
# everything takes longer still). So a session first drops it, with a statement that needs no
# planning, tried again if even that was cut; every step then sets its own bound (the catalog
# read, the probes, the apply's --statement-timeout). A statement_timeout that the user's own
# options set (the URL's `options`, PGOPTIONS) is kept. (Not sent as a startup option: a pooler
# such as PgBouncer refuses one it does not track.)
_UNBOUND_SQL = "SET statement_timeout = 0"
_UNBOUND_TRIES = 3


def _unbind(conn: psycopg.Connection) -> None:
    import psycopg  # deferred: as in connect_pg

    for tried in range(1, _UNBOUND_TRIES + 1):
        try:
            conn.execute(_UNBOUND_SQL)
            return
        except psycopg.errors.QueryCanceled:
            if tried == _UNBOUND_TRIES:
                raise


def connect_pg(url: str, *, command: str) -> psycopg.Connection:
    """An autocommit connection named after this run, so lock holders are identifiable, under
    LITERAL_SETTINGS, speaking UTF-8."""
    import psycopg  # here, not at the top: a Redis-only run never loads the Postgres driver

    if not url.startswith(("postgresql://", "postgres://")) and "=" not in url:
        raise InputError(f"Not a PostgreSQL URL: {redact(url)} (expected postgresql://…).")
    check_one_at(url)
    try:
        # inside the try: a URL libpq cannot parse is reported scrubbed, as a failed connect is
        extra, own_statement_timeout = _connect_options(url)
        conn = psycopg.connect(
            url,
            autocommit=True,
            application_name=application_name(command),
            client_encoding="UTF8",
            **extra,
        )
        try:
            if not own_statement_timeout:
                _unbind(conn)
            conn.execute(_PIN_SQL, _PIN_PARAMS)
        except BaseException:
            conn.close()
            raise
        return conn
    except psycopg.Error as exc:
        reason = libpq_reason(str(exc), type(exc).__name__)
        # libpq messages can echo the connection string or a word of it it could not parse
        # (`missing "=" after "…"`, `invalid port number: "…"`): never pass a password through.
        reason = scrub(reason, url)
        detail = "Check the URL, that the server runs, and that it accepts this user."
        given = os.environ.get("PGCONNECT_TIMEOUT")
        if given and "connect_timeout" in reason and "connect_timeout" not in url:
            detail = f"PGCONNECT_TIMEOUT is {given!r}: set it to a number of seconds, or unset it."
        raise ConnectionFailed(
            f"Cannot connect to PostgreSQL at {redact(url)}: {reason}", detail=detail
        ) from None


def target_info(conn: psycopg.Connection) -> dict[str, str]:
    """What identifies the database a plan was made for (no secrets)."""
    row = conn.execute(
        "SELECT current_database(), current_setting('server_version_num'), "
        "coalesce(host(inet_server_addr()), 'local'), coalesce(inet_server_port(), 0)"
    ).fetchone()
    assert row is not None
    return {
        "database": row[0],
        "server_version": row[1],
        "server": f"{row[2]}:{row[3]}",
    }
