"""No password reaches any output, in any form libpq or redis-py accepts it, and backups are
readable by their owner only.

Each case drives the CLI as a user would (plan, drift, apply) against a server that refuses or
cannot be reached, and looks for the secret, and its percent-decoded spelling, in everything
printed.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.helpers import Result, run_cli, write_yaml

SECRET = "Zq7-s3cret-pw"
KEYS_YAML = 'patterns:\n  - pattern: "app:session:{id}"\n    type: hash\n    class: session\n'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    root = tmp_path / "schemas"
    write_yaml(root, "keys/app.yaml", KEYS_YAML)
    write_yaml(
        root,
        "tables/notes.yaml",
        "table: notes\ncolumns:\n  - {name: id, type: uuid}\nprimary_key: [id]\n",
    )
    return root


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in ("RECONCILER_PG_URL", "DATABASE_URL", "RECONCILER_REDIS_URL", "REDIS_URL"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def _runs(flag: str, target: str, schemas: Path, cwd: Path) -> dict[str, Result]:
    """plan, drift and apply against `target`: each must fail."""
    common = [flag, target, "--schemas", str(schemas)]
    return {
        "plan": run_cli("plan", *common, "--out", str(cwd / "plans"), cwd=cwd),
        "plan --json": run_cli("plan", *common, "--out", str(cwd / "plans"), "--json", cwd=cwd),
        "drift": run_cli("drift", *common, cwd=cwd),
        "apply": run_cli("apply", *common, "--auto-approve", "--out", str(cwd / "p"), cwd=cwd),
    }


def _assert_hidden(runs: dict[str, Result], *secrets: str) -> None:
    for name, r in runs.items():
        assert r.code != 0, f"{name} should fail: {r.text}"
        assert "Traceback" not in r.text, f"{name}: {r.text}"
        for s in secrets:
            assert s not in r.text, f"{name} printed a secret: {r.text}"


PG_DEAD = "127.0.0.1"


@pytest.mark.parametrize(
    ("form", "secrets"),
    [
        ("host={h} port={p} user=u password={s} dbname=x", [SECRET]),
        ("host={h} port={p} user=u password = {s} dbname=x", [SECRET]),
        ("host={h} port={p} user=u password='{s} two' dbname=x", [SECRET, "two'"]),
        ("password='it\\'s {s}' host={h} port={p}", [SECRET]),
        ("host={h} port={p} password={s} extra", [SECRET]),  # libpq refuses the syntax
        ("host={h} port={p} password=se {s}", [SECRET]),  # unquoted space: a syntax error too
        ("host={h} port={p} sslpassword={s} dbname=x", [SECRET]),
        ("postgresql://u:{s}@{h}:{p}/x", [SECRET]),
        ("postgres://u:{s}%40x@{h}:{p}/x", [SECRET, f"{SECRET}@x"]),
        ("postgresql://u@{h}:{p}/x?password={s}&sslmode=disable", [SECRET]),
        ("postgresql://u@{h}:{p}/x?sslmode=disable&PassWord={s}", [SECRET]),
        ("postgresql://u:{s}/slash@{h}:{p}/x", [SECRET, "slash"]),
    ],
)
def test_postgres_passwords_in_every_form_stay_hidden(
    form: str, secrets: list[str], schemas: Path, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    target = form.format(h=PG_DEAD, p=_free_port(), s=SECRET)
    runs = _runs("--pg", target, schemas, tmp_path)
    _assert_hidden(runs, *secrets)
    assert all("PostgreSQL" in r.text for r in runs.values()), runs


def test_the_pgpassword_variable_is_never_echoed(
    schemas: Path, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("PGPASSWORD", SECRET)
    port = _free_port()
    targets = [
        f"host={PG_DEAD} port={port} user=u dbname=x",
        f"postgresql://u@{PG_DEAD}:{port}/x",
        # The value itself where no password belongs: still never printed.
        f"postgresql://u@{PG_DEAD}:{port}/{SECRET}",
        f"host={PG_DEAD} port={port} dbname={SECRET}",
    ]
    for target in targets:
        _assert_hidden(_runs("--pg", target, schemas, tmp_path), SECRET)
    clean_env.setenv("RECONCILER_PG_URL", targets[2])
    r = run_cli("plan", "--schemas", str(schemas), "--out", str(tmp_path / "plans"), cwd=tmp_path)
    _assert_hidden({"plan from RECONCILER_PG_URL": r}, SECRET)


@pytest.mark.parametrize(
    "form",
    [
        "redis://:{s}@127.0.0.1:{p}/0",
        "redis://admin:{s}@127.0.0.1:{p}",
        "rediss://:{s}@127.0.0.1:{p}/0",
        "rediss://admin:{s}@127.0.0.1:{p}/0",
        "redis://127.0.0.1:{p}/0?password={s}",
    ],
)
def test_redis_passwords_of_an_unreachable_server_stay_hidden(
    form: str, schemas: Path, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    target = form.format(s=SECRET, p=_free_port())
    runs = _runs("--redis", target, schemas, tmp_path)
    _assert_hidden(runs, SECRET)
    assert all("Redis" in r.text for r in runs.values()), runs


@pytest.fixture
def locked_redis(private_redis) -> Iterator[int]:
    """A Redis that needs AUTH (requirepass SECRET); its port."""
    admin = redis.Redis(host="127.0.0.1", port=private_redis.port)
    admin.config_set("requirepass", SECRET)
    try:
        yield private_redis.port
    finally:
        admin = redis.Redis(host="127.0.0.1", port=private_redis.port, password=SECRET)
        admin.config_set("requirepass", "")
        admin.close()


RAW = ("HELLO", "NOAUTH", "WRONGPASS", "AuthenticationError", "invalid username-password")


def test_a_redis_that_needs_a_password_gets_one_sentence(
    locked_redis: int, schemas: Path, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    server = f"redis://127.0.0.1:{locked_redis}"
    wanted = (
        f"The Redis server at {server} needs a password: put it in the URL "
        "(redis://:PASSWORD@host:port) or in RECONCILER_REDIS_URL."
    )
    runs = _runs("--redis", f"{server}/0", schemas, tmp_path)
    clean_env.setenv("RECONCILER_REDIS_URL", f"{server}/0")
    runs["plan from RECONCILER_REDIS_URL"] = run_cli(
        "plan", "--schemas", str(schemas), "--out", str(tmp_path / "plans"), cwd=tmp_path
    )
    _assert_hidden(runs, SECRET, *RAW)
    for name, r in runs.items():
        assert " ".join(r.text.split()).count(wanted) == 1, f"{name}: {r.text}"

    wrong = f"{SECRET}-old"
    for url in (
        f"redis://:{wrong}@127.0.0.1:{locked_redis}/0",
        f"redis://someone:{wrong}@127.0.0.1:{locked_redis}/0",
    ):
        runs = _runs("--redis", url, schemas, tmp_path)
        _assert_hidden(runs, SECRET, wrong, *RAW)
        for name, r in runs.items():
            text = " ".join(r.text.split())
            assert f"The Redis server at {server} refused the password" in text, f"{name}: {text}"
            assert wanted not in text

    ok = run_cli(
        "plan",
        "--redis",
        f"redis://:{SECRET}@127.0.0.1:{locked_redis}/0",
        "--schemas",
        str(schemas),
        "--out",
        str(tmp_path / "ok"),
        cwd=tmp_path,
    )
    assert ok.code == 0, ok.text
    assert SECRET not in ok.text


def test_backups_are_created_readable_by_their_owner_only(
    make_pg_database, private_redis, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    r = redis.Redis.from_url(private_redis.url())
    r.set("app:session:x", "secret value")
    r.close()
    old = os.umask(0)  # what the files get must not depend on the caller's umask
    try:
        out = tmp_path / "backups"
        done = run_cli(
            "backup",
            "--pg",
            make_pg_database(),
            "--redis",
            private_redis.url(),
            "--out",
            str(out),
            cwd=tmp_path,
        )
    finally:
        os.umask(old)
    assert done.code == 0, done.text
    files = sorted(out.iterdir())
    assert {p.suffix for p in files} >= {".dump", ".redis"}, files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (
            f"{path.name}: {oct(path.stat().st_mode)}"
        )


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres:a@b@longtail99@127.0.0.1:{p}/db", "redis://:S3c@ret@127.0.0.1:{p}/0"],
    ids=["postgres", "redis"],
)
def test_a_url_with_an_unencoded_at_in_its_password_is_refused_whole(url, schemas, tmp_path):
    """Drivers split such a URL elsewhere than where the password ends and echo the pieces
    they took for a host: it is refused before any driver sees it, no piece printed."""
    url = url.format(p=_free_port())
    flag = "--pg" if url.startswith("postgresql") else "--redis"
    r = run_cli("plan", flag, url, "--schemas", str(schemas), cwd=tmp_path)
    assert r.code == 1
    assert "%40" in r.err
    for piece in ("longtail99", "b@", "ret@", "S3c"):
        assert piece not in r.text, r.text
