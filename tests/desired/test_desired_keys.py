"""Loading Redis key specs (YAML below `keys/`): mapping to the model, malformed input, lint."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.desired import Desired, load
from reconciler.desired.keys import overlap, split_pattern
from reconciler.desired.keyspec import is_secret_key
from reconciler.desired.lint import lint
from reconciler.desired.lint_rules import RULES, LintIgnore
from reconciler.errors import InputError
from reconciler.model.address import Address
from reconciler.model.redis import AclUser, ConfigParam, KeyPattern, RedisSnapshot
from reconciler.model.snapshot import PgSnapshot

REPO = Path(__file__).resolve().parents[2]
BAD = REPO / "tests" / "fixtures" / "bad_keys"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # problem sources are relative to the working directory


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load(root)
    return [str(p) for p in info.value.problems]


def redis_of(tmp_path: Path, text: str) -> RedisSnapshot:
    desired = load(write(tmp_path, {"keys/k.yaml": text}))
    assert desired.redis is not None
    return desired.redis


# --- the example project -------------------------------------------------------------------------


def test_example_keys_load_and_lint_clean() -> None:
    desired = load(Path("schemas"))
    assert lint(desired) == []
    redis = desired.redis
    assert redis is not None
    assert redis.patterns == {
        "app:session:{session_id}": KeyPattern(
            "app:session:{session_id}", "hash", "session", 86400, max_length=64, namespace="app"
        ),
        "app:run_cache:{run_id}": KeyPattern(
            "app:run_cache:{run_id}", "string", "cache", 3600, max_bytes=65536, namespace="app"
        ),
        "app:queue:{queue_name}": KeyPattern(
            "app:queue:{queue_name}", "list", "queue", None, max_length=100000, namespace="app"
        ),
        "app:ratelimit:{client_ip}": KeyPattern(
            "app:ratelimit:{client_ip}",
            "zset",
            "ratelimit",
            60,
            "Sliding window of one minute: older request stamps are useless.",
            max_length=1000,
            namespace="app",
        ),
    }
    assert redis.config == {
        "maxmemory-policy": ConfigParam("maxmemory-policy", "allkeys-lru"),
        "notify-keyspace-events": ConfigParam("notify-keyspace-events", "Ex"),
    }
    assert redis.acl == {} and redis.manage_acl is False
    assert redis.patterns["app:session:{session_id}"].source == "schemas/keys/app.yaml:4"
    assert redis.config["notify-keyspace-events"].source == "schemas/keys/server.yaml:4"


# --- every key and every default -----------------------------------------------------------------

EVERY_KEY = """\
namespace: app
patterns:
  - pattern: "app:session:{id}"
    type: hash
    class: session
    ttl: 900
    reason: "sessions of kiosks are short"
    max_length: 1000
    max_bytes: 65_536
    prune: true
    comment: "A login session."
    lint:
      ignore:
        - {rule: key-type-class, reason: "agreed"}
  - {pattern: "app:page:{path}", type: STRING, class: cache}
  - {pattern: "app:jobs:{queue}", type: stream, class: queue}
  - {pattern: "app:user:{id}:flags", type: set, class: persistent}
  - {pattern: "app:lock:{name}", type: string, class: lock, ttl: 30}
  - {pattern: "app:counter:{day}", type: string}
  - {pattern: "app:cache_same:{id}", type: string, class: cache, ttl: 3600}
config:
  maxmemory-policy: allkeys-lru
  Notify-Keyspace-Events: Ex
  appendonly: yes
  lazyfree-lazy-eviction: off
  hz: +10
  maxmemory-samples: 1_0
  timeout: "0"
  maxmemory: 100mb
  save: ""
  min-replicas-max-lag: 0300
acl:
  users:
    - name: app_rw
      enabled: true
      password_env: APP_RW_PASSWORD
      nopass: false
      keys: ["app:*", "shared:*"]
      channels: ["app:*"]
      commands: ["-@all", "+@read", "+@write", "+client|setname"]
      comment: "The application."
    - name: ops
      enabled: off
      nopass: true
      lint: {ignore: [{rule: acl-nopass, reason: "disabled break-glass user"}]}
    - {name: default}
"""


@pytest.fixture
def every(tmp_path: Path) -> Desired:
    return load(write(tmp_path, {"keys/k.yaml": EVERY_KEY}))


def test_every_pattern_key_mapped(every: Desired) -> None:
    assert every.redis is not None
    assert every.redis.patterns == {
        "app:session:{id}": KeyPattern(
            pattern="app:session:{id}",
            type="hash",
            key_class="session",
            ttl=900,
            reason="sessions of kiosks are short",
            max_length=1000,
            max_bytes=65536,
            prune=True,
            namespace="app",
        ),
        "app:page:{path}": KeyPattern("app:page:{path}", "string", "cache", 3600, namespace="app"),
        "app:jobs:{queue}": KeyPattern("app:jobs:{queue}", "stream", "queue", namespace="app"),
        "app:user:{id}:flags": KeyPattern(
            "app:user:{id}:flags", "set", "persistent", namespace="app"
        ),
        "app:lock:{name}": KeyPattern("app:lock:{name}", "string", "lock", 30, namespace="app"),
        "app:counter:{day}": KeyPattern("app:counter:{day}", "string", namespace="app"),
        "app:cache_same:{id}": KeyPattern(
            "app:cache_same:{id}", "string", "cache", 3600, namespace="app"
        ),
    }
    sources = {p.pattern: p.source for p in every.redis.patterns.values()}
    assert sources["app:session:{id}"].endswith("keys/k.yaml:3")
    assert sources["app:page:{path}"].endswith("keys/k.yaml:15")


def test_pattern_defaults(tmp_path: Path) -> None:
    redis = redis_of(tmp_path, 'patterns: [{pattern: "a:b:{c}", type: list}]\n')
    assert redis.patterns["a:b:{c}"] == KeyPattern("a:b:{c}", "list")
    p = redis.patterns["a:b:{c}"]
    assert (p.key_class, p.ttl, p.reason, p.max_length, p.max_bytes, p.prune, p.namespace) == (
        None,
        None,
        None,
        None,
        None,
        False,
        None,
    )
    assert redis.config == {} and redis.acl == {} and redis.manage_acl is False


def test_config_values_as_config_get_prints_them(every: Desired) -> None:
    assert every.redis is not None
    assert {c.name: c.value for c in every.redis.config.values()} == {
        "maxmemory-policy": "allkeys-lru",
        "notify-keyspace-events": "Ex",
        "appendonly": "yes",
        "lazyfree-lazy-eviction": "no",
        "hz": "10",
        "maxmemory-samples": "10",
        "timeout": "0",
        "maxmemory": "100mb",
        "save": "",
        "min-replicas-max-lag": "0300",  # not plain decimal (YAML 1.1 octal): kept as written
    }
    assert every.redis.config["appendonly"].source.endswith("keys/k.yaml:24")


def test_a_yes_no_parameter_refuses_another_word_at_its_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "keys/k.yaml": "config:\n  appendonly: 'on'\n  activedefrag: on\n"
            "  Replica-Read-Only: 'NO'\n  maxmemory-policy: allkeys-lru\n"
            "  appendfsync: everysec\n  slave-read-only: 'true'\n"
        },
    )
    found = problems_of(tmp_path)
    assert len(found) == 2, found
    assert found[0].endswith(
        "keys/k.yaml:2: config.appendonly: config parameter 'appendonly' is yes or no, not 'on' "
        "(Redis refuses anything else); an unquoted on/off or true/false reads as yes/no"
    )
    assert "keys/k.yaml:7: config.slave-read-only: config parameter 'slave-read-only'" in found[1]
    (tmp_path / "keys/k.yaml").write_text(
        "config:\n  activedefrag: on\n  Replica-Read-Only: 'NO'\n  appendfsync: everysec\n"
    )
    redis = load(tmp_path).redis
    assert redis is not None
    assert {c.name: c.value for c in redis.config.values()} == {
        "activedefrag": "yes",
        "replica-read-only": "NO",  # Redis reads yes/no in any case
        "appendfsync": "everysec",  # not a yes/no parameter (always, everysec, no)
    }


def test_acl_users_mapped(every: Desired) -> None:
    assert every.redis is not None
    assert every.redis.manage_acl is True
    assert every.redis.acl == {
        "app_rw": AclUser(
            name="app_rw",
            enabled=True,
            rules=(
                "~app:*",
                "~shared:*",
                "&app:*",
                "-@all",
                "+@read",
                "+@write",
                "+client|setname",
            ),
            password_env="APP_RW_PASSWORD",
            nopass=False,
        ),
        "ops": AclUser("ops", enabled=False, nopass=True),
        "default": AclUser("default"),
    }
    assert every.redis.acl["ops"].source.endswith("keys/k.yaml:42")


def test_lint_ignores_of_patterns_and_users(every: Desired) -> None:
    pattern = Address.of("redis", "keys", "app:session:{id}")
    user = Address.of("redis", "acl", "ops")
    assert every.lint_ignores == {
        pattern: (LintIgnore("key-type-class", "agreed"),),
        user: (LintIgnore("acl-nopass", "disabled break-glass user"),),
    }
    assert every.lint_ignores[pattern][0].source.endswith("keys/k.yaml:14")
    assert lint(every) == []


@pytest.mark.parametrize(
    ("acl", "manage"),
    [("", False), ("acl:\n", False), ("acl: {}\n", True), ("acl: {users: []}\n", True)],
)
def test_manage_acl_only_when_acl_is_given(tmp_path: Path, acl: str, manage: bool) -> None:
    redis = redis_of(tmp_path, "config: {hz: 10}\n" + acl)
    assert redis.manage_acl is manage and redis.acl == {}


# --- where Redis files are found -----------------------------------------------------------------


def test_no_keys_dir_means_no_redis(tmp_path: Path) -> None:
    desired = load(write(tmp_path, {"t.yaml": "schemas: [s]\n", "keysx/k.yaml": "schemas: [k]\n"}))
    assert desired.redis is None
    assert set(desired.pg.schemas) == {"public", "s", "k"}


def test_only_keys_gives_an_empty_pg_snapshot(tmp_path: Path) -> None:
    desired = load(write(tmp_path, {"keys/k.yaml": "config: {hz: 10}\n"}))
    assert desired.pg == load(write(tmp_path / "empty", {"e.yaml": ""})).pg
    assert set(desired.pg.schemas) == {"public"} and desired.pg.tables == {}
    assert desired.redis == RedisSnapshot(config={"hz": ConfigParam("hz", "10")})


def test_empty_keys_file_gives_an_empty_redis_snapshot(tmp_path: Path) -> None:
    assert load(write(tmp_path, {"keys/empty.yaml": "# nothing yet\n"})).redis == RedisSnapshot()


def test_keys_dirs_at_any_depth_merge_and_count_in_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a/keys/x.yaml": 'patterns: [{pattern: "a:x:{id}", type: string}]\n',
            "keys/sub/y.yml": 'patterns: [{pattern: "a:y:{id}", type: string}]\n',
            "keys/z.yaml": "config: {hz: 10}\n",
            "t.yaml": "enums: [{name: e, values: [a]}]\n",
        },
    )
    desired = load(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in desired.files] == [
        "a/keys/x.yaml",
        "keys/sub/y.yml",
        "keys/z.yaml",
        "t.yaml",
    ]
    assert desired.redis is not None
    assert set(desired.redis.patterns) == {"a:x:{id}", "a:y:{id}"}
    assert set(desired.redis.config) == {"hz"}
    assert set(desired.pg.enums) == {("public", "e")}


def test_digest_covers_keys_files(tmp_path: Path) -> None:
    write(tmp_path, {"keys/k.yaml": "config: {hz: 10}\n"})
    first = load(tmp_path).digest
    assert load(tmp_path).digest == first
    (tmp_path / "keys" / "k.yaml").write_text("config: {hz: 11}\n")
    assert load(tmp_path).digest != first


def test_desired_without_redis_still_constructs() -> None:
    desired = Desired(PgSnapshot(), (), "0" * 64, {})
    assert desired.redis is None


# --- malformed input: one directory per case, exact problems -------------------------------------

# case → [(file in keys/, line, message)]: the complete list of problems.
BAD_KEY_CASES: dict[str, list[tuple[str, int, str]]] = {
    "unknown_key": [
        ("k.yaml", 2, "patterns[0]: missing required key 'type'"),
        ("k.yaml", 3, "patterns[0]: unknown key 'tpye' (did you mean 'type'?)"),
    ],
    "unknown_type": [
        (
            "k.yaml",
            3,
            "patterns[0].type: unknown type 'hsh' (did you mean 'hash'?); "
            "one of: string, hash, list, set, zset, stream",
        )
    ],
    "unknown_class": [
        (
            "k.yaml",
            4,
            "patterns[0].class: unknown class 'sesion' (did you mean 'session'?); "
            "one of: cache, session, queue, persistent, ratelimit, lock",
        )
    ],
    "glob_in_pattern": [
        (
            "k.yaml",
            4,
            "patterns[1].pattern: key pattern 'app:cache:*' contains the glob character '*'; "
            "write a {placeholder} for a variable part",
        )
    ],
    "placeholder_malformed": [
        (
            "k.yaml",
            2,
            "patterns[0].pattern: 'user_{1d}' in key pattern 'app:user_{1d}:profile': a "
            "placeholder is '{name}' or '{name:kind}' (name: letters, digits and _; kind: int, "
            "hex, uuid, date)",
        )
    ],
    "unknown_placeholder_kind": [
        (
            "k.yaml",
            2,
            "patterns[0].pattern: unknown placeholder kind 'integer' in key pattern "
            "'app:session:{id:integer}' (did you mean 'int'?); one of: int, hex, uuid, date",
        )
    ],
    "touching_placeholders": [
        (
            "k.yaml",
            2,
            "patterns[0].pattern: placeholders '{a}' and '{b}' touch in key pattern "
            "'app:{a}{b}'; put literal text between them",
        )
    ],
    "duplicate_placeholder": [
        (
            "k.yaml",
            2,
            "patterns[0].pattern: placeholder '{id}' is used twice in key pattern "
            "'app:pair:{id}:{id}'",
        )
    ],
    "namespace_mismatch": [
        (
            "k.yaml",
            5,
            "patterns[1].pattern: key pattern 'billing:invoice:{id}' does not start with the "
            "namespace 'app:'",
        )
    ],
    "duplicate_pattern": [
        (
            "b.yaml",
            3,
            "patterns[0].pattern: key pattern 'app:session:{id}' is declared twice "
            "(first at {root}/keys/a.yaml:2)",
        )
    ],
    "overlapping_patterns": [
        (
            "k.yaml",
            4,
            "patterns[1].pattern: key pattern 'app:y:{id}' can match the same keys as "
            "'app:{kind}:x' (at {root}/keys/k.yaml:2), e.g. 'app:y:x'; every key must belong "
            "to one pattern",
        )
    ],
    "ttl_zero": [
        ("k.yaml", 5, "patterns[0].ttl: must be a positive whole number of seconds, not 0")
    ],
    "ttl_not_a_number": [("k.yaml", 4, "patterns[0].ttl: must be a whole number, not '1h'")],
    "ttl_override_without_reason": [
        (
            "k.yaml",
            5,
            "patterns[0].ttl: ttl 900 overrides the class 'session' default of 86400 seconds; "
            "document why with `reason:`",
        )
    ],
    "ratelimit_without_ttl": [
        (
            "k.yaml",
            4,
            "patterns[0].class: class 'ratelimit' has no default TTL; give `ttl:` "
            "(seconds every key expires within)",
        )
    ],
    "negative_max_length": [
        ("x.yaml", 4, "patterns[0].max_length: must be a positive whole number, not -1")
    ],
    "literal_password": [
        (
            "k.yaml",
            4,
            "acl.users[0].password: passwords are never written in YAML; use password_env",
        )
    ],
    "password_rule_in_commands": [
        (
            "k.yaml",
            5,
            "acl.users[0].commands[1]: passwords are never written in YAML; use password_env",
        )
    ],
    "requirepass_in_config": [
        ("k.yaml", 3, "config.requirepass: passwords are never written in YAML; use password_env")
    ],
    "invalid_env_name": [
        (
            "k.yaml",
            4,
            "acl.users[0].password_env: password_env must be the name of an environment "
            "variable (letters, digits and _, not starting with a digit), never the password "
            "itself",
        )
    ],
    "nopass_with_password_env": [
        ("k.yaml", 5, "acl.users[0].nopass: nopass: true and password_env exclude each other")
    ],
    "duplicate_user": [
        (
            "b.yaml",
            4,
            "acl.users[1].name: ACL user 'app_rw' is declared twice "
            "(first at {root}/keys/a.yaml:3)",
        )
    ],
    "duplicate_config": [
        (
            "k.yaml",
            3,
            "config.MAXMEMORY-POLICY: config parameter 'maxmemory-policy' is set twice "
            "(first at {root}/keys/k.yaml:2)",
        )
    ],
    "config_bad_name": [
        (
            "k.yaml",
            3,
            "config.max_memory: config parameter name 'max_memory' must be lowercase letters, "
            "digits and '-'",
        )
    ],
    "config_null_value": [
        ("k.yaml", 2, 'config.notify-keyspace-events: needs a value; write "" for an empty one')
    ],
    "lint_rule_for_tables": [
        (
            "k.yaml",
            6,
            "patterns[0].lint.ignore[0].rule: unknown lint rule 'table-name' for a key pattern "
            "(rules: key-pattern, key-type-class, key-ttl)",
        )
    ],
    "acl_key_with_tilde": [
        (
            "k.yaml",
            4,
            "acl.users[0].keys[0]: write the pattern without the leading '~' (keys: adds it)",
        )
    ],
    "enabled_in_commands": [
        (
            "k.yaml",
            5,
            "acl.users[0].commands[0]: 'on' is not a command rule: use `enabled: true`",
        )
    ],
    "not_a_mapping": [("k.yaml", 1, "a file must be a mapping of keys, not a list")],
    "yaml_syntax": [
        (
            "k.yaml",
            3,
            "invalid YAML: did not find expected ',' or '}' "
            "(while parsing a flow mapping started on line 2)",
        )
    ],
}


def test_every_bad_keys_fixture_has_a_case() -> None:
    dirs = {p.name for p in BAD.iterdir() if p.is_dir()}
    assert dirs == set(BAD_KEY_CASES)
    assert len(dirs) >= 12


@pytest.mark.parametrize("case", sorted(BAD_KEY_CASES))
def test_bad_keys(case: str) -> None:
    root = Path("tests/fixtures/bad_keys") / case
    with pytest.raises(InputError) as info:
        load(root)
    err = info.value
    n = len(BAD_KEY_CASES[case])
    assert err.summary == f"{root.as_posix()}/ has {n} error{'s' if n != 1 else ''}."
    expected = [
        f"{root.as_posix()}/keys/{file}:{line}: {message.replace('{root}', root.as_posix())}"
        for file, line, message in BAD_KEY_CASES[case]
    ]
    assert [str(p) for p in err.problems] == expected


# --- more malformed input ------------------------------------------------------------------------


def test_literal_passwords_are_refused_and_never_echoed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "keys/k.yaml": (
                "config:\n"
                "  requirepass: hunter2\n"
                "  masterauth: hunter2\n"
                "acl:\n"
                "  users:\n"
                "    - name: a\n"
                "      password: hunter2\n"
                "      db-Password: hunter2\n"
                "      authToken: {value: hunter2}\n"
                "      commands: ['>hunter2', '<hunter2', '#hunter2', '!hunter2', '+get']\n"
                "    - name: b\n"
                "      password_env: 'hunter2 is my password'\n"
            )
        },
    )
    with pytest.raises(InputError) as info:
        load(tmp_path)
    rendered = [str(p) for p in info.value.problems]
    assert "hunter2" not in info.value.summary + "".join(rendered)
    secret = "passwords are never written in YAML; use password_env"
    base = f"{tmp_path.as_posix()}/keys/k.yaml"
    assert rendered[:9] == [
        f"{base}:2: config.requirepass: {secret}",
        f"{base}:3: config.masterauth: {secret}",
        f"{base}:7: acl.users[0].password: {secret}",
        f"{base}:8: acl.users[0].db-Password: {secret}",
        f"{base}:9: acl.users[0].authToken: {secret}",
        f"{base}:10: acl.users[0].commands[0]: {secret}",
        f"{base}:10: acl.users[0].commands[1]: {secret}",
        f"{base}:10: acl.users[0].commands[2]: {secret}",
        f"{base}:10: acl.users[0].commands[3]: {secret}",
    ]
    assert rendered[9].startswith(f"{base}:12: acl.users[1].password_env: password_env must be")
    assert len(rendered) == 10


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("passwd", True),
        ("db_password", True),
        ("apiKey", True),
        ("api-key", True),
        ("client_secret", True),
        ("requirepass", True),
        ("masterauth", True),
        ("tls-key-file-pass", True),
        ("password_env", False),
        ("nopass", False),
        ("tls-auth-clients", False),
        ("masteruser", False),
        ("keys", False),
    ],
)
def test_secret_looking_keys(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


@pytest.mark.parametrize(
    ("a", "b", "example"),
    [
        ("app:{a}:x", "app:y:{b}", "app:y:x"),
        ("app:{a}", "app:{b}", "app:x"),
        ("app:session:{id}", "app:{kind}:{id}", "app:session:x"),
        ("{ns}:x:{id}", "app:{e}:1", "app:x:1"),
        ("app:session:{id}", "app:cache:{id}", None),
        ("app:session:{id}", "app:session:{id}:attr", None),
        ("app:{a}:x", "app:{b}:y", None),
        ("bull:{q}:{job:int}", "bull:{q}:wait", None),
        ("bull:{q}:{job:hex}", "bull:{q}:face", "bull:x:face"),
        ("s:{a:int}", "s:{b:hex}", "s:0"),
        ("s:{a:uuid}", "s:{b:hex}", None),
        ("s:{a:date}", "s:{b:int}", None),
        (
            "t:celery-task-meta-{id:uuid}",
            "t:{x}-meta-{y}",
            "t:celery-task-meta-00000000-0000-0000-0000-000000000000",
        ),
        ("t:user_{n:int}", "t:user_{m:int}_x", None),
        ("t:a{n}b", "t:{m}b", "t:axb"),
        ("rack::attack", "rack:{e}:attack", None),
        ("queues", "queues", "queues"),
    ],
)
def test_overlap_is_segment_wise(a: str, b: str, example: str | None) -> None:
    sa, problem_a = split_pattern(a)
    sb, problem_b = split_pattern(b)
    assert problem_a is None and problem_b is None and sa and sb
    assert overlap(sa, sb) == example
    assert overlap(sb, sa) == example


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("", "must not be empty"),
        ("app:x?", "glob character '?'"),
        ("app:[ab]", "glob character '['"),
        ("app:a\\b", "glob character '\\'"),
        ("app:{}", "a placeholder is '{name}' or '{name:kind}'"),
        ("app:{1d}", "a placeholder is '{name}' or '{name:kind}'"),
        ("app:{id", "a placeholder is '{name}' or '{name:kind}'"),
        ("app:{id:float}", "unknown placeholder kind 'float'"),
        ("app:{a}{b}", "touch in key pattern"),
        ("app:\tx", "control character"),
    ],
)
def test_pattern_shapes_refused(pattern: str, problem: str) -> None:
    segments, found = split_pattern(pattern)
    assert segments is None and found is not None and problem in found


def test_all_problems_of_pg_and_keys_in_one_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.yaml": "table: users\ncolums: []\n",
            "keys/k.yaml": 'patterns: [{pattern: "app:*", type: hash}]\n',
            "keys/l.yaml": "config: {Max Memory: 1}\n",
            "z.yaml": "enums: [{name: e, values: []}]\n",
        },
    )
    base = tmp_path.as_posix()
    assert problems_of(tmp_path) == [
        f"{base}/a.yaml:2: unknown key 'colums' (did you mean 'columns'?)",
        f"{base}/keys/k.yaml:1: patterns[0].pattern: key pattern 'app:*' contains the glob "
        "character '*'; write a {placeholder} for a variable part",
        f"{base}/keys/l.yaml:1: config.Max Memory: config parameter name 'Max Memory' must be "
        "lowercase letters, digits and '-'",
        f"{base}/z.yaml:1: enums[0].values: enum 'e' needs at least one value",
    ]


def test_a_broken_keys_file_does_not_hide_pg_references(tmp_path: Path) -> None:
    """Only a broken Postgres file makes unresolved table references unreportable."""
    write(
        tmp_path,
        {
            "keys/k.yaml": "patterns: 1\n",
            "t.yaml": "table: t\ncolumns: [{name: a, type: uuid}]\n"
            "foreign_keys: [{columns: [a], references: ghosts}]\n",
        },
    )
    rendered = problems_of(tmp_path)
    assert rendered[0].endswith("keys/k.yaml:1: patterns: must be a list, not '1'")
    assert "referenced table 'public.ghosts' is not declared" in rendered[1]


def test_every_overlap_and_duplicate_reported_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "keys/k.yaml": "patterns:\n"
            '  - {pattern: "a:{x}", type: string}\n'
            '  - {pattern: "a:b:{z}", type: string}\n'
            '  - {pattern: "a:b", type: string}\n'  # within a:{x}: may overlap it
            '  - {pattern: "a:b", type: string}\n'
            '  - {pattern: "a:{y}", type: string}\n'
            '  - {pattern: "a:{w}:c", type: string}\n'
        },
    )
    base = f"{tmp_path.as_posix()}/keys/k.yaml"
    tail = "every key must belong to one pattern"
    assert problems_of(tmp_path) == [
        f"{base}:5: patterns[3].pattern: key pattern 'a:b' is declared twice (first at {base}:4)",
        f"{base}:6: patterns[4].pattern: key pattern 'a:{{y}}' can match the same keys as "
        f"'a:{{x}}' (at {base}:2), e.g. 'a:x'; {tail}",
        f"{base}:7: patterns[5].pattern: key pattern 'a:{{w}}:c' can match the same keys as "
        f"'a:b:{{z}}' (at {base}:3), e.g. 'a:b:c'; {tail}",
    ]


@pytest.mark.parametrize("namespace", ["a:b", '""', "'{ns}'", "'a*'"])
def test_invalid_namespace(tmp_path: Path, namespace: str) -> None:
    write(tmp_path, {"keys/k.yaml": f'namespace: {namespace}\npatterns: [{{pattern: "a:{{id}}", '
                     "type: string}]\n"})  # fmt: skip
    (problem,) = problems_of(tmp_path)
    assert problem.startswith(f"{tmp_path.as_posix()}/keys/k.yaml:1: namespace: namespace ")
    assert problem.endswith("must be one key segment: not empty, without ':', braces or glob "
                            "characters")  # fmt: skip


def test_ttl_overrides_and_reasons(tmp_path: Path) -> None:
    redis = redis_of(
        tmp_path,
        "patterns:\n"
        '  - {pattern: "a:q:{id}", type: list, class: queue, ttl: 60, reason: "stale jobs"}\n'
        '  - {pattern: "a:n:{id}", type: string, ttl: 60}\n'
        '  - {pattern: "a:r:{id}", type: zset, class: ratelimit, ttl: 1}\n',
    )
    assert [(p.ttl, p.reason) for p in redis.patterns.values()] == [
        (60, "stale jobs"),
        (60, None),
        (1, None),
    ]
    root = tmp_path / "second"
    write(root, {"keys/k.yaml": 'patterns: [{pattern: "a:q:{id}", type: list, class: queue, '
                 "ttl: 60}]\n"})  # fmt: skip
    assert problems_of(root) == [
        f"{root.as_posix()}/keys/k.yaml:1: patterns[0].ttl: ttl 60 overrides the class 'queue' "
        "default of no TTL; document why with `reason:`"
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("nopass", "'nopass' is not a command rule: use `nopass: true`"),
        ("allkeys", "'allkeys' is not a command rule: use `keys: [\"*\"]`"),
        ("~app:*", "key patterns go under `keys:`, not `commands:`"),
        ("&chan", "channel patterns go under `channels:`, not `commands:`"),
        ("(+get ~x)", "ACL selectors are not supported"),
        ("get", "'get' is not an ACL command rule (+command, -command, +@category, -@category, "
                "+command|subcommand, allcommands or nocommands)"),
    ],
)  # fmt: skip
def test_command_rules_checked(tmp_path: Path, rule: str, message: str) -> None:
    write(tmp_path, {"keys/k.yaml": f"acl: {{users: [{{name: u, commands: ['{rule}']}}]}}\n"})
    assert problems_of(tmp_path) == [
        f"{tmp_path.as_posix()}/keys/k.yaml:1: acl.users[0].commands[0]: {message}"
    ]


# --- lint ----------------------------------------------------------------------------------------

GOOD_KEYS = """\
namespace: app
patterns:
  - pattern: "app:session:{id}"
    type: hash
    class: session
"""


def key_findings(tmp_path: Path, text: str) -> list[tuple[str, str, str, str | None]]:
    desired = load(write(tmp_path, {"keys/k.yaml": text}))
    return [(f.rule, f.severity, f.message, f.source) for f in lint(desired)]


KEY_VIOLATIONS = {
    "key-pattern": (
        GOOD_KEYS.replace("app:session:{id}", "app:userSession:{id}"),
        "key pattern 'app:userSession:{id}' has the segment 'userSession', which is not "
        "lowercase snake_case",
    ),
    "key-type-class": (
        GOOD_KEYS.replace("type: hash", "type: zset"),
        "key pattern 'app:session:{id}' is of type zset, but class session uses string or hash",
    ),
    "acl-nopass": (
        GOOD_KEYS + "acl:\n  users:\n    - {name: app, nopass: true}\n",
        "ACL user 'app' is enabled with nopass: anyone can log in as it",
    ),
}


@pytest.mark.parametrize("rule", sorted(KEY_VIOLATIONS))
def test_key_rule_fires_and_ignore_silences(tmp_path: Path, rule: str) -> None:
    text, message = KEY_VIOLATIONS[rule]
    found = key_findings(tmp_path / "a", text)
    line = 8 if rule == "acl-nopass" else 3
    source = f"{(tmp_path / 'a').as_posix()}/keys/k.yaml:{line}"
    assert found == [(rule, RULES[rule][0], message, source)]
    ignore = f"lint: {{ignore: [{{rule: {rule}, reason: agreed}}]}}"
    if rule == "acl-nopass":
        text = text.replace("nopass: true}", f"nopass: true, {ignore}}}")
    else:
        text += f"    {ignore}\n"
    assert key_findings(tmp_path / "b", text) == []


@pytest.mark.parametrize(
    ("pattern", "messages"),
    [
        ("{tenant}:session:{id}", ["should start with a literal namespace, not a placeholder"]),
        ("app:queue:jobs", ["has no {placeholder} for the id"]),
        (
            "App:Session:{id}",
            [
                "has the segment 'App', which is not lowercase snake_case",
                "has the segment 'Session', which is not lowercase snake_case",
            ],
        ),
        ("app:user:{id}:last_seen", []),
        ("app:run-cache:{id}", ["has the segment 'run-cache', which is not lowercase snake_case"]),
    ],
)
def test_key_pattern_rule(tmp_path: Path, pattern: str, messages: list[str]) -> None:
    text = f'patterns: [{{pattern: "{pattern}", type: string}}]\n'
    found = key_findings(tmp_path, text)
    assert [(r, m) for r, _, m, _ in found] == [
        ("key-pattern", f"key pattern '{pattern}' {m}") for m in messages
    ]


@pytest.mark.parametrize(
    ("cls", "type_", "fires"),
    [
        ("cache", "string", False),
        ("cache", "hash", False),
        ("cache", "list", True),
        ("session", "set", True),
        ("queue", "list", False),
        ("queue", "stream", False),
        ("queue", "zset", True),
        ("ratelimit", "zset", False),
        ("ratelimit", "string", False),
        ("ratelimit", "hash", True),
        ("persistent", "stream", False),
        ("lock", "set", False),
    ],
)
def test_key_type_class_rule(tmp_path: Path, cls: str, type_: str, fires: bool) -> None:
    text = f'patterns: [{{pattern: "app:k:{{id}}", type: {type_}, class: {cls}, ttl: 5, '
    text += "reason: r}]\n"
    found = key_findings(tmp_path, text)
    assert [r for r, *_ in found] == (["key-type-class"] if fires else [])


def test_key_ttl_rule_on_values_the_loader_would_refuse() -> None:
    """The loader already refuses both cases; lint still guards values built elsewhere."""
    patterns = {
        p.pattern: p
        for p in (
            KeyPattern("app:lock:{id}", "string", "lock", None, source="k.yaml:1"),
            KeyPattern("app:session:{id}", "hash", "session", 5, source="k.yaml:2"),
            KeyPattern("app:page:{id}", "string", "cache", 5, "docs", source="k.yaml:3"),
            KeyPattern("app:rl:{id}", "zset", "ratelimit", 60, source="k.yaml:4"),
        )
    }
    desired = Desired(PgSnapshot(), (), "", {}, RedisSnapshot(patterns=patterns))
    assert [(f.rule, f.severity, f.message, f.address) for f in lint(desired)] == [
        (
            "key-ttl",
            "error",
            "key pattern 'app:lock:{id}' has no TTL, but keys of class lock must expire",
            Address.of("redis", "keys", "app:lock:{id}"),
        ),
        (
            "key-ttl",
            "error",
            "key pattern 'app:session:{id}' overrides the class session TTL without a reason",
            Address.of("redis", "keys", "app:session:{id}"),
        ),
    ]


# --- no input makes load() raise anything but InputError -----------------------------------------

_KEYS = [
    "namespace", "patterns", "pattern", "type", "class", "ttl", "reason", "max_length",
    "max_bytes", "prune", "comment", "config", "acl", "users", "name", "enabled",
    "password_env", "nopass", "keys", "channels", "commands", "lint", "ignore", "rule",
    "password", "maxmemory-policy", "x",
]  # fmt: skip
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["app:s:{id}", "a:{b}", "hash", "zset", "session", "ratelimit", "*", "{x}"]),
    st.sampled_from(["+@all", ">pw", "on", "~a", "APP_PW", "", "\0", "a::b", "99999999999999"]),
    st.text(max_size=8),
)
_docs = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(_KEYS), st.text(max_size=4)), inner, max_size=5),
    ),
    max_leaves=25,
)
_raw = st.text(alphabet="ab:-[]{}&*!|>'\"#\t\n\r\x00\x1f\ufeff ,.?%@`0~", max_size=60)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(st.one_of(_docs.map(yaml.safe_dump), _raw), min_size=1, max_size=3))
def test_random_keys_documents_only_raise_input_error(docs: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, doc in enumerate(docs):
            Path(tmp, "keys").mkdir(exist_ok=True)
            Path(tmp, "keys", f"f{i}.yaml").write_text(doc, encoding="utf-8")
        try:
            desired = load(Path(tmp))
        except InputError as err:
            assert err.problems or err.summary
            for problem in err.problems:
                assert re.match(r".*keys/f\d\.yaml:\d+$", problem.source or "")
        else:
            assert desired.redis is not None
            lint(desired)  # lint never fails on anything the loader accepted


_segment = st.sampled_from(["app", "x", "y", "{id}", "{a}", "Ab", "", "*", "{", "a{b}", "s p"])
_pattern_entries = st.fixed_dictionaries(
    {"pattern": st.lists(_segment, min_size=0, max_size=4).map(":".join)},
    optional={
        "type": st.sampled_from([*("string", "hash", "list", "zset", "set", "stream"), "x", 1]),
        "class": st.sampled_from(["cache", "session", "queue", "ratelimit", "lock", "y", None]),
        "ttl": st.one_of(st.integers(-2, 100_000), st.sampled_from(["1h", "", None])),
        "reason": st.sampled_from(["why", "", " ", None]),
        "max_length": st.integers(-1, 3),
        "prune": st.booleans(),
        "lint": st.just({"ignore": [{"rule": "key-pattern", "reason": "r"}]}),
    },
)
_users = st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b", "default", "", "a b"])},
    optional={
        "password_env": st.sampled_from(["PW", "1PW", "p w", None]),
        "nopass": st.booleans(),
        "enabled": st.booleans(),
        "keys": st.lists(st.sampled_from(["app:*", "~a", "", "*"]), max_size=2),
        "commands": st.lists(st.sampled_from(["+@all", "-get", ">pw", "on", "x"]), max_size=3),
    },
)
_structured = st.fixed_dictionaries(
    {},
    optional={
        "namespace": st.sampled_from(["app", "a:b", "", None]),
        "patterns": st.lists(_pattern_entries, max_size=4),
        "config": st.dictionaries(
            st.sampled_from(["hz", "HZ", "maxmemory", "bad name", "requirepass"]),
            st.one_of(st.integers(-3, 3), st.booleans(), st.none(), st.text(max_size=3)),
            max_size=3,
        ),
        "acl": st.fixed_dictionaries({}, optional={"users": st.lists(_users, max_size=3)}),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(_structured.map(yaml.safe_dump), min_size=1, max_size=3))
def test_structured_keys_documents_only_raise_input_error(docs: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "keys").mkdir()
        for i, doc in enumerate(docs):
            Path(tmp, "keys", f"f{i}.yaml").write_text(doc, encoding="utf-8")
        try:
            desired = load(Path(tmp))
        except InputError as err:
            for problem in err.problems:
                assert re.match(r".*keys/f\d\.yaml:\d+$", problem.source or "")
                assert ">pw" not in problem.message
        else:
            assert desired.redis is not None
            for p in desired.redis.patterns.values():
                assert split_pattern(p.pattern)[1] is None
            lint(desired)


def test_a_pattern_strictly_within_another_may_overlap_it(tmp_path: Path) -> None:
    snapshot = redis_of(
        tmp_path,
        "patterns:\n"
        "  - {pattern: 'sess:{token}', type: string, class: session}\n"
        "  - {pattern: 'sess:admin', type: string}\n"
        "  - {pattern: 'n:{a:int}', type: string}\n"
        "  - {pattern: 'n:{b:hex}', type: hash}\n",
    )
    assert sorted(snapshot.patterns) == ["n:{a:int}", "n:{b:hex}", "sess:admin", "sess:{token}"]


@pytest.mark.parametrize(
    ("a", "b"),
    [("app:{a}", "app:{b}"), ("app:{a}:x", "app:y:{b}"), ("n:{a:int}f", "n:{b:hex}")],
)
def test_patterns_matching_the_same_keys_or_crossing_are_refused(
    tmp_path: Path, a: str, b: str
) -> None:
    write(tmp_path, {"keys/k.yaml": f"patterns:\n  - {{pattern: '{a}', type: string}}\n"
                     f"  - {{pattern: '{b}', type: string}}\n"})  # fmt: skip
    [problem] = problems_of(tmp_path)
    assert f"key pattern '{b}' can match the same keys as '{a}'" in problem
