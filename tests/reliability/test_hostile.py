"""Hostile input: generated YAML never produces a traceback (a clear error with file:line, or
a plan whose statements render); SQL smuggled into any field is refused or stays inert data;
YAML bombs and huge files are refused within bounded memory."""

from __future__ import annotations

import re
import tempfile
import tracemalloc
from pathlib import Path

import psycopg
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reconciler.desired import MAX_BYTES, load
from reconciler.errors import InputError
from reconciler.model.snapshot import PgSnapshot
from reconciler.pipeline.graph import order
from tests.helpers import run_cli, write_yaml
from tests.reliability.conftest import trials

FAMILY = "Hostile input"

# ----------------------------------------------------------------- generated desired state

_GENERATED = "hypothesis-generated desired-state folders"

_IDENT = st.one_of(
    st.sampled_from(["id", "users", "user_id", "Orders", "a b", 'x"y', "select", "ñame", "_", ""]),
    st.from_regex(r"[a-z_][a-z0-9_]{0,70}", fullmatch=True),
    st.text(max_size=12),
)
_TYPE = st.one_of(
    st.sampled_from(
        [
            "bigint",
            "text",
            "uuid",
            "numeric(12,2)",
            "varchar(64)",
            "timestamptz",
            "jsonb",
            "int[]",
            "no_such_type",
            "varchar(-1)",
            "numeric(1000)",
            "text; DROP TABLE x",
            "",
        ]
    ),
    st.text(max_size=10),
)
_EXPR = st.one_of(
    st.sampled_from(
        [
            "now()",
            "0",
            "'a'",
            "gen_random_uuid()",
            "id > 0",
            "1; DROP TABLE x",
            "')--",
            "(SELECT 1)",
            "pg_sleep(10)",
            "$$x$$",
            "label <> ''",
        ]
    ),
    st.text(max_size=15),
)
_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), _IDENT)
_COLUMN = st.fixed_dictionaries(
    {"name": _IDENT, "type": _TYPE},
    optional={
        "nullable": st.one_of(st.booleans(), _SCALAR),
        "default": _EXPR,
        "comment": st.text(max_size=20),
        "bogus_key": _SCALAR,
    },
)
_TABLE = st.fixed_dictionaries(
    {"table": _IDENT, "columns": st.lists(_COLUMN, max_size=4)},
    optional={
        "schema": _IDENT,
        "comment": st.text(max_size=20),
        "primary_key": st.lists(_IDENT, max_size=2),
        "indexes": st.lists(
            st.fixed_dictionaries(
                {"columns": st.lists(_IDENT, max_size=2)}, optional={"where": _EXPR}
            ),
            max_size=2,
        ),
        "checks": st.lists(st.fixed_dictionaries({"expression": _EXPR}), max_size=2),
        "foreign_keys": st.lists(
            st.fixed_dictionaries({"columns": st.lists(_IDENT, max_size=1), "references": _IDENT}),
            max_size=1,
        ),
    },
)
_ENUM = st.fixed_dictionaries({"enum": _IDENT, "values": st.lists(_SCALAR, max_size=4)})
_KEYS = st.fixed_dictionaries(
    {
        "namespace": _IDENT,
        "patterns": st.lists(
            st.fixed_dictionaries(
                {
                    "pattern": st.text(max_size=20),
                    "type": st.sampled_from(["hash", "string", "zset", "x"]),
                },
                optional={
                    "class": st.sampled_from(["session", "cache", "queue", "nope"]),
                    "ttl": _SCALAR,
                },
            ),
            max_size=3,
        ),
    }
)
_FILE = st.one_of(
    st.tuples(st.just("tables"), _TABLE.map(lambda d: yaml.safe_dump(d, allow_unicode=True))),
    st.tuples(st.just("types"), _ENUM.map(yaml.safe_dump)),
    st.tuples(st.just("keys"), _KEYS.map(yaml.safe_dump)),
    st.tuples(st.just("tables"), st.text(alphabet="ab:-[]{}&*!|>'\"#\t\n ,.?%@`0~", max_size=80)),
)


@settings(
    max_examples=trials(quick=300, full=5000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(files=st.lists(_FILE, min_size=1, max_size=4))
@example(files=[("tables", 'columns: []\ncomment: "\\0"\ntable: id\n')])  # once a traceback
def test_generated_yaml_gives_a_clear_error_or_a_plan(
    files: list[tuple[str, str]], outcomes
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, (folder, text) in enumerate(files):
            write_yaml(Path(tmp), f"{folder}/f{i}.yaml", text)
        try:
            desired = load(Path(tmp))
        except InputError as err:
            assert err.problems or err.summary
            for p in err.problems:
                assert re.search(r"f\d+\.yaml:\d+", p.source or ""), p
            outcomes.add(_GENERATED, "refused with file:line", family=FAMILY)
            return
        changes = order(_compare(desired.pg))
        for c in changes:
            c.statements()
            c.reverse().statements()
        outcomes.add(_GENERATED, "loaded and planned", family=FAMILY)


def _compare(pg: PgSnapshot):
    from reconciler.diff import compare

    return compare(pg, PgSnapshot())


# ----------------------------------------------------------------- SQL in every field

HOSTILE = [
    'x"; DROP TABLE victims; --',
    "x'); DROP TABLE victims; --",
    "a$$; DROP TABLE victims; $$",
    "1); DROP TABLE victims; --",
    "/* */ DROP TABLE victims",
    "semi;colon\nnewline",
]
FIELDS = (
    "table name",
    "column name",
    "table comment",
    "column comment",
    "column type",
    "default",
    "check expression",
    "index predicate",
    "index column",
)


def _doc(field: str, hostile: str) -> dict:
    """A one-table document with `hostile` in `field`."""
    column: dict = {"name": "id", "type": "int"}
    doc: dict = {"table": "t", "columns": [column]}
    if field == "table name":
        doc["table"] = hostile
    elif field == "column name":
        column["name"] = hostile
    elif field == "table comment":
        doc["comment"] = hostile
    elif field == "column comment":
        column["comment"] = hostile
    elif field == "column type":
        column["type"] = hostile
    elif field == "default":
        column.update(type="text", default=hostile)
    elif field == "check expression":
        doc["checks"] = [{"expression": hostile}]
    elif field == "index predicate":
        doc["indexes"] = [{"columns": ["id"], "where": hostile}]
    elif field == "index column":
        doc["indexes"] = [{"columns": [hostile]}]
    return doc


def _catalog(url: str) -> set[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT n.nspname, c.relkind::text, c.relname FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', "
            "'information_schema', 'pg_toast', 'reconciler')"
        ).fetchall()
    return set(rows)


@pytest.mark.parametrize("field", FIELDS)
def test_sql_in_any_field_is_refused_or_inert(field, pg_url, tmp_path, outcomes):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE victims (id int PRIMARY KEY)")
    for i, hostile in enumerate(HOSTILE):
        schemas = tmp_path / f"s{i}"
        write_yaml(
            schemas,
            "tables/victims.yaml",
            "table: victims\ncolumns: [{name: id, type: int, nullable: false}]\n"
            "primary_key: [id]\n",
        )
        write_yaml(schemas, "tables/t.yaml", yaml.safe_dump(_doc(field, hostile)))
        before = _catalog(pg_url)
        r = run_cli(
            "apply", "--pg", pg_url, "--schemas", str(schemas), "--auto-approve", cwd=tmp_path
        )
        assert "Traceback" not in r.text
        after = _catalog(pg_url)
        assert ("public", "r", "victims") in after, (field, hostile, r.text)
        if r.code != 0:
            assert after == before, (field, hostile)  # refused: nothing created or dropped
            outcome = "refused"
        else:
            created = after - before
            # only the one table the document describes (with its index/key/sequence objects)
            assert {kind for _, kind, _ in created} <= {"r", "i", "S"}, created
            assert len({name for _, kind, name in created if kind == "r"}) == 1, created
            outcome = "applied as inert data"
            with psycopg.connect(pg_url, autocommit=True) as conn:
                for _, kind, name in created:
                    if kind == "r":
                        conn.execute(
                            psycopg.sql.SQL("DROP TABLE {}").format(psycopg.sql.Identifier(name))
                        )
        outcomes.add("SQL injection attempts, field by field", f"{field}: {outcome}", family=FAMILY)


# ----------------------------------------------------------------- bombs and huge files


def _refused_within(tmp_path: Path, text: str | bytes, *, limit_mib: int) -> InputError:
    root = tmp_path / "bomb"
    path = root / "tables" / "bomb.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as refused:
            load(root)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit_mib * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert any("bomb.yaml:" in str(p) for p in refused.value.problems), refused.value.problems
    return refused.value


def test_billion_laughs_is_refused_within_bounded_memory(tmp_path, outcomes):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    err = _refused_within(tmp_path, "\n".join(lines) + "\ntable: t\n", limit_mib=20)
    assert "aliases" in str(err.problems[0])
    outcomes.add("YAML bombs and huge files", "billion laughs: refused, < 20 MiB", family=FAMILY)


def test_deep_nesting_is_refused_within_bounded_memory(tmp_path, outcomes):
    _refused_within(tmp_path, "table: " + "[" * 100_000 + "]" * 100_000 + "\n", limit_mib=20)
    outcomes.add(
        "YAML bombs and huge files", "100,000 nested lists: refused, < 20 MiB", family=FAMILY
    )


def test_a_huge_file_is_refused_unread(tmp_path, outcomes):
    big = b"table: t\ncomment: " + b"x" * (MAX_BYTES + 1) + b"\n"
    _refused_within(tmp_path, big, limit_mib=2)
    outcomes.add(
        "YAML bombs and huge files", "file over 5 MiB: refused unread, < 2 MiB", family=FAMILY
    )
