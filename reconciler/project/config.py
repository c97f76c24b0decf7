"""reconciler.yaml: the project's named environments (dev, staging, prod…).

    version: 1
    default_environment: dev
    scope:
      exclude_schemas: [legacy, "tmp_*"]   # never read, planned, dropped or exported (scope.py)
    environments:
      dev: {}                          # nothing given: the `reconciler dev up` servers
      staging:
        pg: ${STAGING_PG_URL}          # ${VAR} is read from the environment at run time
        redis: ${STAGING_REDIS_URL}
      prod:
        pg: ${PROD_PG_URL}
        lock_timeout: 300             # seconds to wait for another run's lock
        ddl_lock_timeout: 2s          # Postgres lock_timeout of each statement
        statement_timeout: 1h
        lock_retries: 5
      shards:                          # a fleet: one schema, many databases (api/fleet.py)
        pg:                            # a list of URLs, or {name: …, url: …}
          - postgresql://app@10.0.0.1/shard_01
          - {name: shard-02, url: ${SHARD_02_URL}}
        parallel: 4                    # targets worked on at once (--parallel)
        canary: 1                      # apply to this many first, the rest only if they pass
      tenants:
        pg: {file: tenants.txt}        # one `URL` or `NAME URL` per line, # comments
      regions:
        pg: {query: "SELECT name, dsn FROM fleet.targets WHERE active", from: ${CATALOG_URL}}

An environment's settings are the defaults of the matching options of apply and rollback; a
flag given on the command line wins. The environment is chosen by `reconciler --env NAME …`,
else RECONCILER_ENV, else `default_environment`.

Where a run's servers come from, first match wins: the --pg/--redis flags, then
RECONCILER_PG_URL / DATABASE_URL and RECONCILER_REDIS_URL / REDIS_URL, then the chosen
environment of reconciler.yaml in the current directory, then the dev servers. Passwords belong
in the environment variables, never in the file.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import InputError
from reconciler.project.scope import EVERY_SCHEMA, Scope

FILE = "reconciler.yaml"
ENV_VAR = "RECONCILER_ENV"
# The environment a caller chose for this run (the CLI's --env), before RECONCILER_ENV: held
# here for the run, never written into os.environ where child processes would inherit it.
# Process-wide on purpose: a fleet's worker threads must see the same choice.
_CHOSEN_ENV: dict[str, str | None] = {"name": None}


def choose_environment(name: str | None) -> None:
    """Use environment `name` of reconciler.yaml for this run (None: RECONCILER_ENV, else the
    file's default)."""
    _CHOSEN_ENV["name"] = name


_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


# Settings an environment may give, with the check of each value (a sentence when it fails).
# A duration as PostgreSQL's lock_timeout and statement_timeout take it: a number (ms) or one
# with a unit.
PG_DURATION = re.compile(r"^\d+(?:\.\d+)?\s*(?:us|ms|s|min|h|d)?$")
SETTINGS: dict[str, tuple[str, Any]] = {
    "lock_timeout": ("a number of seconds", lambda v: float(v) >= 0),
    "ddl_lock_timeout": ("a duration such as 5s or 500ms", lambda v: bool(PG_DURATION.match(v))),
    "statement_timeout": ("a duration such as 30min", lambda v: bool(PG_DURATION.match(v))),
    "lock_retries": ("a whole number", lambda v: v.isdigit()),
    "parallel": ("a whole number of at least 1", lambda v: v.isdigit() and int(v) >= 1),
    "canary": ("a whole number", lambda v: v.isdigit()),
}


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """Where a fleet's targets come from: exactly one of `entries`, `file`, `query`."""

    entries: tuple[tuple[str | None, str], ...] = ()  # (name or None, URL), ${VAR}s expanded
    file: Path | None = None  # resolved against the project directory
    query: str | None = None
    source: str | None = None  # the URL the query runs on
    where: str = ""  # reconciler.yaml:LINE of the `pg` key, for messages


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    pg: str | None
    redis: str | None
    settings: dict[str, str]
    fleet: FleetSpec | None = None  # `pg` named many databases


def _problem(path: Path, line: int, message: str) -> InputError:
    return InputError(f"{path.name}:{line}: {message}")


def _expand(value: str, path: Path, line: int, what: str) -> str | None:
    """`${VAR}` references replaced from the environment; an unset variable is an error."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise _problem(path, line, f"{what} refers to ${{{name}}}, which is not set.")
        return os.environ[name]

    expanded = _REF.sub(sub, value)
    return expanded or None


_LOADED: dict[tuple[str, int, int], dict[str, Any]] = {}  # one parse per file version a run


def load(cwd: Path | None = None) -> dict[str, Any] | None:
    """The parsed file with its line marks, or None when the project has none."""
    path = (cwd or Path.cwd()) / FILE
    # Anything of that name that is not a readable file is said: left out without a word, it
    # would drop the environments and the scope from the run.
    try:
        st = path.stat()
    except FileNotFoundError:
        if not path.is_symlink():
            return None
        raise _not_a_file(path, "a link to nothing") from None
    except OSError as exc:
        raise InputError(f"{FILE} cannot be read: {exc.strerror or exc}: {path}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_a_file(path, "a directory" if stat.S_ISDIR(st.st_mode) else "a special file")
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _LOADED:
        _LOADED[key] = _parse(path)
    return _LOADED[key]


def _not_a_file(path: Path, what: str) -> InputError:
    return InputError(
        f"{FILE} is {what}, not a file: {path}",
        detail="The project's settings are read from a YAML file of that name; rename or "
        "remove what is there.",
    )


def _parse(path: Path) -> dict[str, Any]:
    from reconciler.project.yamlload import YamlError, load_bytes  # deferred: start-up: yaml

    try:
        loaded = load_bytes(path.read_bytes())
    except OSError as exc:
        raise InputError(f"{FILE} cannot be read: {exc.strerror or exc}: {path}") from None
    except YamlError as exc:
        raise _problem(path, exc.line, exc.message) from None
    data, marks = loaded.data or {}, loaded.marks
    if loaded.problems:
        line, message = loaded.problems[0]
        raise _problem(path, line, message)
    if not isinstance(data, dict):
        raise _problem(path, 1, "the file must be a mapping (version, environments…).")
    known = {"version", "default_environment", "environments", "scope"}
    for key in data:
        if key not in known:
            raise _problem(path, marks.key_line((key,)), f"unknown key {key!r}.")
    if str(data.get("version", "1")) != "1":
        raise _problem(path, marks.line(("version",)), "only version 1 is understood.")
    scope = data.get("scope") or {}
    if not isinstance(scope, dict) or set(scope) - {"exclude_schemas"}:
        line = marks.line(("scope",))
        raise _problem(path, line, "scope takes one key, exclude_schemas: a list of names/globs.")
    patterns = scope.get("exclude_schemas") or []
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        line = marks.line(("scope", "exclude_schemas"))
        raise _problem(path, line, "exclude_schemas must be a list of schema names or globs.")
    envs = data.get("environments") or {}
    if not isinstance(envs, dict):
        raise _problem(path, marks.line(("environments",)), "environments must be a mapping.")
    for name, env in envs.items():
        if env is not None and not isinstance(env, dict):
            raise _problem(path, marks.line(("environments", name)), f"{name} must be a mapping.")
        for key, value in (env or {}).items():
            line = marks.key_line(("environments", name, key))
            if key not in ("pg", "redis", *SETTINGS):
                raise _problem(path, line, f"unknown key {key!r} in environment {name!r}.")
            if key == "pg":
                _check_pg(value, path, marks, ("environments", name, "pg"))
            if key in SETTINGS:
                what, valid = SETTINGS[key]
                try:
                    ok = valid(str(value))
                except ValueError:
                    ok = False
                if not ok:
                    raise _problem(path, line, f"{key} must be {what}, not {value!r}.")
    return {"path": path, "data": data, "marks": marks}


_PG_SHAPE = (
    "pg must be a URL, a list of URLs (or {name, url} mappings), {file: PATH} or "
    "{query: SQL, from: URL}"
)


def _check_pg(value: Any, path: Path, marks: Any, at: tuple[Any, ...]) -> None:
    """The shapes `pg` may take; anything else is one sentence at its line."""
    line = marks.line(at)
    if value is None or isinstance(value, str):
        return
    if isinstance(value, list):
        if not value:
            raise _problem(path, line, "pg lists no database.")
        for i, item in enumerate(value):
            ok = (isinstance(item, str) and item) or (
                isinstance(item, dict)
                and set(item) <= {"name", "url"}
                and isinstance(item.get("url"), str)
                and isinstance(item.get("name", ""), str)
            )
            if not ok:
                raise _problem(path, marks.line((*at, i)), _PG_SHAPE + ".")
        return
    if isinstance(value, dict):
        if set(value) == {"file"} and isinstance(value["file"], str) and value["file"]:
            return
        if (
            set(value) == {"query", "from"}
            and isinstance(value["query"], str)
            and isinstance(value["from"], str)
        ):
            return
    raise _problem(path, line, _PG_SHAPE + ".")


def _fleet(value: Any, path: Path, name: str, marks: Any) -> FleetSpec:
    at = ("environments", name, "pg")
    where = f"{path.name}:{marks.line(at)}"
    what = f"environment {name!r} pg"
    if isinstance(value, list):
        entries = []
        for i, item in enumerate(value):
            line = marks.line((*at, i))
            if isinstance(item, str):
                entries.append((None, _expand(item, path, line, what) or ""))
            else:
                url = _expand(item["url"], path, line, what) or ""
                entries.append((item.get("name") or None, url))
        return FleetSpec(entries=tuple(entries), where=where)
    line = marks.line(at)
    if "file" in value:
        file = Path(_expand(value["file"], path, line, what) or "")
        return FleetSpec(file=file if file.is_absolute() else path.parent / file, where=where)
    source = _expand(value["from"], path, line, f"{what} from")
    return FleetSpec(query=value["query"], source=source, where=where)


def _chosen(cwd: Path | None) -> tuple[Path, str, dict[str, Any], Any] | None:
    """(file, environment name, its mapping, line marks), or None without a file."""
    loaded = load(cwd)
    if loaded is None:
        return None
    path, data, marks = loaded["path"], loaded["data"], loaded["marks"]
    envs = data.get("environments") or {}
    name = _CHOSEN_ENV["name"] or os.environ.get(ENV_VAR) or data.get("default_environment")
    if not name:
        if len(envs) != 1:
            raise _problem(
                path, 1, "no environment chosen: pass --env NAME or set default_environment."
            )
        name = next(iter(envs))
    if name not in envs:
        known = ", ".join(sorted(envs)) or "none"
        raise InputError(f"{path.name}: no environment {name!r} (environments: {known}).")
    return path, str(name), envs[name] or {}, marks


def environment(cwd: Path | None = None) -> Environment | None:
    """The chosen environment of the project's reconciler.yaml, or None without one."""
    chosen = _chosen(cwd)
    if chosen is None:
        return None
    path, name, env, marks = chosen
    urls: dict[str, str | None] = {}
    fleet = None
    for key in ("pg", "redis"):
        value = env.get(key)
        if value is None:
            urls[key] = None
            continue
        if key == "pg" and not isinstance(value, str):
            fleet, urls[key] = _fleet(value, path, name, marks), None
            continue
        line = marks.line(("environments", name, key))
        urls[key] = _expand(str(value), path, line, f"environment {name!r} {key}")
    settings = {k: str(v) for k, v in env.items() if k in SETTINGS}
    if fleet is not None and urls["redis"] is not None:
        line = marks.line(("environments", name, "redis"))
        raise _problem(
            path,
            line,
            f"environment {name!r} is a fleet of PostgreSQL databases and cannot also name a "
            "Redis; give the Redis its own environment.",
        )
    return Environment(name, urls["pg"], urls["redis"], settings, fleet)


def setting(name: str, flag: Any, default: Any, cwd: Path | None = None) -> Any:
    """An option's value: the flag when given, else the chosen environment's setting, else the
    built-in default (typed like it). URLs are not read here: a flag may have given them."""
    if flag is not None:
        return flag
    chosen = _chosen(cwd)
    if chosen is None or name not in chosen[2]:
        return default
    return type(default)(str(chosen[2][name]))


def project_root(near: Path) -> Path | None:
    """The nearest directory at or above `near` (a file's: its folder) that holds a
    reconciler.yaml, as git finds its repository; None when there is none. Anything of that
    name counts (load() says what is wrong with one that is not a readable file)."""
    start = near.resolve()
    if not start.is_dir():
        start = start.parent
    for folder in (start, *start.parents):
        if os.path.lexists(folder / FILE):
            return folder
    return None


def project_scope(*near: Path | None) -> Scope:
    """The Scope of the project the given paths belong to (the schemas directory, a saved plan,
    the plans directory): the reconciler.yaml of the first of them inside a project, else the
    current directory's. Everything is in scope without one."""
    root = next((r for p in near if p is not None and (r := project_root(p))), None)
    loaded = load(root)
    if loaded is None:
        return EVERY_SCHEMA
    scope = loaded["data"].get("scope") or {}
    return Scope(tuple(str(p) for p in scope.get("exclude_schemas") or ()))


def resolve_scope(given: Any, *near: Path | None) -> Scope:
    """The scope a library call runs under: the caller's (a Scope, or a list of patterns),
    else that of the project the paths belong to (project_scope)."""
    if given is None:
        return project_scope(*near)
    if isinstance(given, Scope):
        return given
    if isinstance(given, list | tuple | set | frozenset) and all(isinstance(p, str) for p in given):
        return Scope(tuple(sorted(given)) if isinstance(given, set | frozenset) else tuple(given))
    raise InputError(
        f"scope must be a Scope or a list of schema patterns, not {type(given).__name__}."
    )
