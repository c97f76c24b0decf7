"""Loading desired state: the example project, a fixture using every key, and malformed input."""

from __future__ import annotations

import os
import re
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.desired import Desired, load, read_tree, spec_values
from reconciler.desired.lint import lint
from reconciler.desired.lint_rules import LintIgnore
from reconciler.errors import InputError
from reconciler.export.pg.write import export
from reconciler.model.address import Address
from reconciler.model.pg import (
    Check,
    Column,
    Enum,
    Extension,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    Schema,
    Table,
    Unique,
)
from reconciler.sql.fragments import SqlTextError, canonical_type

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
BAD = FIXTURES / "bad_yaml"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # problem sources are relative to the working directory


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load(root)
    return [str(p) for p in info.value.problems]


# --- the example project -------------------------------------------------------------------------


def test_example_schemas_load_and_lint_clean() -> None:
    desired = load(Path("schemas"))
    assert lint(desired) == []
    pg = desired.pg
    assert set(pg.tables) == {("public", "users"), ("public", "runs"), ("public", "audit_logs")}
    assert set(pg.extensions) == {"pgcrypto"}
    assert pg.enums[("public", "run_status")].labels[0] == "queued"
    runs = pg.tables[("public", "runs")]
    assert runs.column("status").type == "public.run_status"
    assert [fk.name for fk in runs.foreign_keys] == ["fk_runs_users"]
    audit = pg.tables[("public", "audit_logs")]
    assert [(fk.name, fk.ref_table) for fk in audit.foreign_keys] == [
        ("fk_audit_logs_runs", "runs"),
        ("fk_audit_logs_users", "users"),
    ]
    assert {"idx_runs_user_id", "idx_audit_logs_user_id", "idx_audit_logs_run_id"} <= {
        name for _, name in pg.indexes
    }
    for table in pg.tables.values():
        assert table.comment and table.checks
        assert table.column("id") == Column("id", "uuid", False, "gen_random_uuid()")
        for name in ("created_at", "updated_at"):
            assert table.column(name) == Column(name, "timestamp with time zone", False, "now()")
    assert [p.relative_to("schemas").as_posix() for p in desired.files] == [
        "extensions.yaml",
        "keys/app.yaml",
        "keys/server.yaml",
        "tables/audit_logs.yaml",
        "tables/runs.yaml",
        "tables/users.yaml",
        "types/run_status.yaml",
    ]
    assert re.fullmatch(r"[0-9a-f]{64}", desired.digest)


# --- a fixture with every key --------------------------------------------------------------------


@pytest.fixture(scope="module")
def rich() -> Desired:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        return load(Path("tests/fixtures/rich"))


def test_rich_files_skip_keys_dir_and_keep_empty(rich: Desired) -> None:
    rels = [p.relative_to("tests/fixtures/rich").as_posix() for p in rich.files]
    assert rels == [
        "base.yml",
        "billing/empty.yaml",
        "billing/invoices.yaml",
        "customers.yaml",
        "keys/sessions.yaml",
    ]


def test_rich_schemas_extensions_enums(rich: Desired) -> None:
    pg = rich.pg
    assert pg.schemas == {
        "billing": Schema("billing", "Money matters."),
        "public": Schema("public"),
        "reporting": Schema("reporting"),
    }
    assert pg.schemas["billing"].source == "tests/fixtures/rich/base.yml:5"
    assert pg.extensions == {
        "citext": Extension("citext", "public", "1.6"),
        "pgcrypto": Extension("pgcrypto"),
    }
    assert pg.enums == {
        ("billing", "invoice_state"): Enum(
            "billing", "invoice_state", ("draft", "sent", "paid"), "Where an invoice stands."
        ),
        ("public", "priority"): Enum("public", "priority", ("low", "high")),
    }
    assert pg.enums[("public", "priority")].source == "tests/fixtures/rich/base.yml:12"


def test_rich_customers_table(rich: Desired) -> None:
    t = rich.pg.tables[("billing", "customers")]
    expected = Table(
        schema="billing",
        name="customers",
        comment="Paying customers.",
        columns=(
            Column("id", "uuid", False, "gen_random_uuid()"),
            Column("code", "character varying(20)", False, collation='"C"', comment="Short code."),
            Column("score", "numeric(10,0)", default="0.50"),
            Column("seq", "bigint", False, identity="by default"),
            Column("total", "numeric(12,2)", generated="score * 2"),
            Column("state", "billing.invoice_state", default="'draft'"),
            Column("level", "public.priority[]"),
            Column("active", "boolean", default="true"),
            Column("note", "text"),  # DEFAULT NULL is no default
            Column("created_at", "timestamp(3) with time zone", False, "now()"),
            Column("updated_at", "timestamp without time zone", False, "now()"),
        ),
        primary_key=PrimaryKey("customers_pk", ("id",), "The key."),
        uniques=(
            Unique("customers_code_key", ("code",)),
            Unique(
                "customers_state_seq_uq",
                ("state", "seq"),
                deferrable=True,  # implied by initially_deferred
                initially_deferred=True,
                nulls_not_distinct=True,
                comment="One per state.",
            ),
        ),
        checks=(
            Check("customers_check", "true"),
            Check("customers_score_check", "score >= 0"),
            Check("customers_total_check_x", "total IS NOT NULL OR score IS NULL", "Generated."),
        ),
    )
    assert t == expected
    assert t.renamed_from == "clients"
    assert t.column("code").renamed_from == "short_code"
    assert t.source == "tests/fixtures/rich/customers.yaml:1"
    assert t.column("code").source == "tests/fixtures/rich/customers.yaml:12"
    assert t.primary_key.source == "tests/fixtures/rich/customers.yaml:47"
    assert [c.source for c in t.checks] == [
        "tests/fixtures/rich/customers.yaml:62",
        "tests/fixtures/rich/customers.yaml:58",
        "tests/fixtures/rich/customers.yaml:59",
    ]
    assert rich.lint_ignores == {
        Address.of("pg", "table", "billing", "customers"): (
            LintIgnore("table-name", "kept for the billing vendor"),
        )
    }


def test_rich_invoices_table_and_foreign_keys(rich: Desired) -> None:
    t = rich.pg.tables[("billing", "invoices")]
    assert [(c.name, c.type, c.nullable) for c in t.columns] == [
        ("id", "uuid", False),
        ("customer_id", "uuid", False),
        ("payer_id", "uuid", True),
        ("customer_code", "character varying(20)", True),
        ("amount", "numeric(12,2)", False),
        ('Weird "Name".x', '"My Schema"."Status"', True),
    ]
    assert t.primary_key == PrimaryKey("invoices_pkey", ("id",))
    assert t.foreign_keys == (
        ForeignKey(
            "fk_invoices_customer_code",
            ("customer_code",),
            "billing",
            "customers",
            ("code",),
            comment="By code.",
        ),
        ForeignKey(
            "fk_invoices_customers_customer_id",
            ("customer_id",),
            "billing",
            "customers",
            ("id",),  # the referenced table's primary key
            on_delete="cascade",
            on_update="set null",
        ),
        ForeignKey(
            "fk_invoices_customers_payer_id",
            ("payer_id",),
            "billing",
            "customers",
            ("id",),
            match_full=True,
            deferrable=True,
        ),
    )
    assert t.foreign_keys[1].source == "tests/fixtures/rich/billing/invoices.yaml:13"


def test_rich_indexes(rich: Desired) -> None:
    ix = rich.pg.indexes
    assert set(ix) == {
        ("billing", "idx_invoices_customer_id"),
        ("billing", "invoices_amount_idx"),
        ("billing", "idx_invoices_expr_payer_id"),
    }
    assert ix[("billing", "idx_invoices_customer_id")] == Index(
        "billing", "invoices", "idx_invoices_customer_id", (IndexElement("customer_id"),)
    )
    assert ix[("billing", "invoices_amount_idx")] == Index(
        schema="billing",
        table="invoices",
        name="invoices_amount_idx",
        elements=(
            IndexElement("amount", order="desc"),  # nulls first is the default for desc
            IndexElement("customer_code", order="desc", nulls="last", collation='"C"'),
            IndexElement(expression="lower(customer_code)", opclass="text_pattern_ops"),
        ),
        unique=True,
        method="btree",
        where="amount > 0",
        include=("payer_id",),
        nulls_not_distinct=True,
        comment="Big invoices.",
    )
    assert ix[("billing", "idx_invoices_expr_payer_id")].elements == (
        IndexElement(expression="1 + 1"),
        IndexElement("payer_id", nulls="first"),
    )
    assert ix[("billing", "invoices_amount_idx")].source == (
        "tests/fixtures/rich/billing/invoices.yaml:27"
    )


def test_rich_names_with_quotes_dots_unicode_verbatim(rich: Desired) -> None:
    t = rich.pg.tables[("reporting", 'ünïcode "t".x')]
    assert t.address == Address.of("pg", "table", "reporting", 'ünïcode "t".x')
    assert t.columns == (Column("id", "uuid"),)


@pytest.mark.parametrize("root", ["schemas", "tests/fixtures/rich"])
def test_export_round_trip(root: str, tmp_path: Path) -> None:
    """What `reconciler export` writes loads back to the same values (the export contract)."""
    desired = load(Path(root))
    export(desired.pg, tmp_path)
    assert load(tmp_path).pg == desired.pg


# --- malformed input: one directory per case -----------------------------------------------------

# case → (file inside the case directory, line, text the problem must contain)
BAD_CASES: dict[str, tuple[str, int, str]] = {
    "unknown_key": ("tables/runs.yaml", 6, "columns[1]: unknown key 'tpye' (did you mean 'type'?)"),
    "duplicate_key": ("t.yaml", 5, "columns[0]: duplicate key 'type' (first on line 4)"),
    "tab_indent": ("t.yaml", 3, "tab characters are not allowed"),
    "not_a_mapping": ("t.yaml", 2, "a file must be a mapping of keys, not a list"),
    "two_documents": ("t.yaml", 3, "a file must hold a single YAML document"),
    "unknown_top_level": ("t.yaml", 2, "unknown key 'tabel' (did you mean 'table'?)"),
    "yaml_syntax": ("t.yaml", 4, "flow mapping started on line 3"),
    "non_utf8": ("t.yaml", 2, "not valid UTF-8"),
    "type_injection": ("t.yaml", 6, "columns[1].type: unbalanced parentheses"),
    "type_with_statement": ("t.yaml", 4, "columns[0].type: 'uuid, 1' is not a single type name"),
    "serial_type": ("t.yaml", 4, "columns[0].type: serial types are not supported; use"),
    "timestamp_precision": ("t.yaml", 4, "columns[0].type: precision"),
    "default_injection": ("t.yaml", 5, "columns[0].default: unbalanced parentheses"),
    "check_comment": ("t.yaml", 6, "checks[0].expression: SQL comments are not allowed"),
    "unbalanced_where": ("t.yaml", 7, "indexes[0].where: unbalanced parentheses"),
    "missing_type": ("t.yaml", 5, "columns[1]: missing required key 'type'"),
    "bool_not_bool": ("t.yaml", 5, "columns[0].nullable: must be true or false, not 'no'"),
    "fk_unknown_column": ("t.yaml", 8, "tables[1].foreign_keys[0].columns[0]: foreign key column"),
    "fk_unknown_table": ("t.yaml", 6, "references: referenced table 'public.ghosts' is not"),
    "fk_count_mismatch": ("t.yaml", 8, "columns: 1 column cannot reference 2 columns"),
    "fk_not_unique": ("t.yaml", 9, "(email) of 'users' is neither its primary key nor"),
    "unknown_key_in_fk_ref": ("t.yaml", 7, "references: unknown key 'colums' (did you mean"),
    "on_delete_invalid": ("t.yaml", 10, "foreign_keys[0].on_delete: must be 'no action',"),
    "duplicate_table": ("b.yaml", 3, "table 'public.users' is declared twice (first at"),
    "identity_on_text": ("t.yaml", 5, "columns[0].identity: identity needs a smallint"),
    "identity_nullable": ("t.yaml", 6, "columns[0].nullable: an identity column cannot be"),
    "default_and_identity": ("t.yaml", 5, "columns[1]: column 'n': default and identity exclude"),
    "system_column": ("t.yaml", 5, "columns[1].name: column name 'xmin' is a system column"),
    "enum_empty": ("t.yaml", 5, "enums[1].values: enum 'status' needs at least one value"),
    "enum_duplicate_value": ("t.yaml", 6, "enums[0].values[2]: enum value 'queued' is given twice"),
    "lint_unknown_rule": ("t.yaml", 4, "lint.ignore[0].rule: unknown lint rule 'table-plural'"),
    "lint_no_reason": ("t.yaml", 4, "lint.ignore[0]: missing required key 'reason'"),
    "lint_blank_reason": ("t.yaml", 5, "lint.ignore[0].reason: must not be empty"),
    "long_default_name": ("t.yaml", 9, "indexes[1]: the default name 'idx_users_id_a_really"),
    "long_name": ("t.yaml", 5, "columns[1].name: 'c_12345"),
    "renamed_from_same": ("t.yaml", 5, "columns[0].renamed_from: renamed_from must differ"),
    "pk_unknown_column": ("t.yaml", 6, "primary_key.columns[0]: primary key column 'uid'"),
    "table_keys_without_table": ("t.yaml", 3, "columns: 'columns' belongs to a table"),
    "duplicate_index_name": ("t.yaml", 7, "indexes[1]: index name 'idx_users_id' is already"),
    "index_name_clashes_table": ("t.yaml", 7, "tables[1].indexes[0].name: index name 'users'"),
    "index_column_and_expression": ("t.yaml", 7, "give exactly one of 'column' or 'expression'"),
    "duplicate_constraint_name": ("t.yaml", 9, "constraint name 'users_n_check' is used twice"),
    "empty_table_name": ("t.yaml", 2, "table: must not be empty"),
    "nul_in_name": ("t.yaml", 3, "columns[0].name: a name must not contain the NUL"),
    "merge_key": ("t.yaml", 4, "columns[1]: YAML merge keys ('<<') are not supported"),
    "union_value": (
        "t.yaml",
        6,
        "grants[0].with_grant_option: must be true or false, or a list, not '5'",
    ),
}


def test_every_bad_fixture_has_a_case() -> None:
    dirs = {p.name for p in BAD.iterdir() if p.is_dir()}
    assert dirs == set(BAD_CASES)
    assert len(dirs) >= 20


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_yaml(case: str) -> None:
    file, line, text = BAD_CASES[case]
    root = Path("tests/fixtures/bad_yaml") / case
    with pytest.raises(InputError) as info:
        load(root)
    err = info.value
    assert re.fullmatch(rf"{re.escape(root.as_posix())}/ has \d+ errors?\.", err.summary)
    rendered = [str(p) for p in err.problems]
    assert all(re.match(r"\S+\.ya?ml:\d+: \S", r) for r in rendered), rendered
    source = f"{root.as_posix()}/{file}:{line}"
    matching = [p for p in err.problems if p.source == source and text in p.message]
    assert matching, f"no problem at {source} containing {text!r}; got {rendered}"


# --- more malformed input ------------------------------------------------------------------------


def test_a_bug_in_a_validator_surfaces_as_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An exception a validator did not mean (not a ValueError) is a bug: it is raised as
    # itself, with its traceback, not worded as "could not be validated" at line 1.
    def broken(name: str) -> str | None:
        raise KeyError(name)

    root = write(tmp_path, {"t.yaml": "table: t\ncolumns:\n  - {name: id, type: integer}\n"})
    monkeypatch.setattr(spec_values, "name_problem", broken)  # what Ident's check calls
    with pytest.raises(KeyError, match="id"):
        load(root)
    monkeypatch.undo()
    monkeypatch.chdir(REPO)
    write(root, {"t.yaml": "table: t\ncolumns:\n  - {name: id, tpye: integer}\n"})
    # while a real validation error keeps its file:line message
    expected = "t.yaml:3: columns[0]: unknown key 'tpye' (did you mean 'type'?)"
    assert any(p.endswith(expected) for p in problems_of(root))


def test_a_bug_in_a_builder_surfaces_as_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past validation, an exception that is not a ReconcilerError is a bug too: raised as
    # itself (the CLI says "unexpected …", --debug shows where), not "could not be validated".
    import reconciler.desired.build as build_module

    def broken(*args: object, **kwargs: object) -> None:
        raise AttributeError("a builder bug")

    root = write(tmp_path, {"t.yaml": "table: t\ncolumns:\n  - {name: id, type: integer}\n"})
    monkeypatch.setattr(build_module, "build", broken)
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    with pytest.raises(AttributeError, match="a builder bug"):
        load(root)


def test_all_problems_collected_across_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.yaml": "table: users\ncolums: []\n",
            "sub/b.yaml": "table: runs\ncolumns:\n  - {name: id, type: serial}\n",
            "sub/c.yaml": "enums:\n  - {name: s, values: [a, a]}\n",
            "sub/d.yaml": "key: [unclosed\n",
            "fine.yaml": "extensions: [pgcrypto]\n",
        },
    )
    with pytest.raises(InputError) as info:
        load(tmp_path)
    sources = [p.source for p in info.value.problems]
    base = tmp_path.as_posix()  # tmp_path is outside the working directory: absolute paths
    assert sources == [
        f"{base}/a.yaml:2",
        f"{base}/sub/b.yaml:3",
        f"{base}/sub/c.yaml:2",
        f"{base}/sub/d.yaml:2",
    ]
    assert info.value.summary == f"{base}/ has 4 errors."


def test_no_spurious_reference_errors_when_a_file_failed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "users.yaml": "table: users\ncolumns: [{name: id, type: uuid}]\n"
            "primary_key: [id]\nx: 1\n",
            "runs.yaml": "table: runs\ncolumns: [{name: u, type: uuid}]\n"
            "foreign_keys: [{columns: [u], references: users}]\n",
        },
    )
    assert [p.split(": ", 1)[1] for p in problems_of(tmp_path)] == ["unknown key 'x'"]


@pytest.mark.parametrize(
    "type_",
    [
        "int); DROP TABLE users; --",
        "int; DROP TABLE users",
        "int, 1",
        "int FROM users",
        "int AS x",
        "int /* x */",
        'text COLLATE "C"',
        "setof int",
        "a.b.c",
    ],
)
def test_type_injection_rejected(tmp_path: Path, type_: str) -> None:
    doc = {"table": "t", "columns": [{"name": "c", "type": type_}]}
    write(tmp_path, {"t.yaml": yaml.safe_dump(doc)})
    problems = problems_of(tmp_path)
    assert len(problems) == 1 and "columns[0].type" in problems[0]


@pytest.mark.parametrize("key", ["default", "generated"])
@pytest.mark.parametrize(
    "expr",
    [
        "1); DROP TABLE users; --",
        "1; DROP TABLE users",
        "1), (2",
        "1) FROM users WHERE (true",
        "1 -- trailing",
        "1 AS x",
        "1 UNION SELECT 2",
        "",
        "   ",
    ],
)
def test_expression_injection_rejected(tmp_path: Path, key: str, expr: str) -> None:
    doc = {"table": "t", "columns": [{"name": "c", "type": "integer", key: expr}]}
    write(tmp_path, {"t.yaml": yaml.safe_dump(doc)})
    problems = problems_of(tmp_path)
    assert len(problems) == 1 and f"columns[0].{key}" in problems[0]


def test_yaml_bomb_refused_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    # Six levels are enough to pass the bound (and small enough to expand if it were missing).
    for prev, name in zip("abcde", "bcdef", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    write(tmp_path, {"bomb.yaml": "\n".join(lines) + "\n"})
    start = time.monotonic()
    problems = problems_of(tmp_path)
    assert time.monotonic() - start < 2
    assert len(problems) == 1 and "aliases expand to more than" in problems[0]


def test_recursive_alias_and_deep_nesting_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.yaml": "a: &x [1, *x]\n",
            "b.yaml": "a: " + "[" * 100 + "]" * 100,
            "c.yaml": "a:\n" + "".join(" " * i + "- \n" for i in range(0, 400, 2)),
            "d.yaml": "a: " + "{a: " * 50_000,
        },
    )
    problems = problems_of(tmp_path)
    assert len(problems) == 4
    assert "an alias refers to a mapping or list that contains it" in problems[0]
    assert "nested more than 64 levels deep" in problems[1]
    assert "nested more than 64 levels deep" in problems[2]
    assert re.search(r"d\.yaml:1: .*nest", problems[3])  # libyaml may refuse first


def test_tags_and_complex_keys_are_refused(tmp_path: Path) -> None:
    doc = "a: &k [1]\n*k : 2\n? [x]\n: 3\nb: !!set {x}\nc: [!!python/name:os.system x]\n"
    write(tmp_path, {"t.yaml": doc})
    base = f"{tmp_path.as_posix()}/t.yaml"
    assert [p for p in problems_of(tmp_path) if "unknown key" not in p] == [
        f"{base}:2: a mapping key must be plain text",
        f"{base}:3: a mapping key must be plain text",
        f"{base}:5: b: unsupported YAML tag 'tag:yaml.org,2002:set'",
        f"{base}:6: c[0]: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system'",
    ]


def test_yaml_words_meant_as_text_say_how_to_write_them(tmp_path: Path) -> None:
    """`=` and `<<` unquoted are YAML 1.1's value and merge keys; quoted they are text."""
    doc = (
        "table: t\ncolumns:\n  - {name: id, type: integer}\n  - {name: =, type: text}\n"
        "  - name: <<\n    type: text\n  - {name: '=x', type: text}\n"
    )
    write(
        tmp_path,
        {
            "t.yaml": doc,
            "q.yaml": doc.replace("name: =,", "name: '=',").replace("name: <<", "name: '<<'"),
        },
    )
    base = f"{tmp_path.as_posix()}/t.yaml"
    assert [p for p in problems_of(tmp_path) if "declared twice" not in p] == [
        f"{base}:4: columns[1].name: '=' unquoted is YAML's value key, not text: write it "
        'quoted ("=") for the text =',
        f"{base}:5: columns[2].name: '<<' unquoted is YAML's merge key, not text: write it "
        'quoted ("<<") for the text <<',
    ]
    (tmp_path / "t.yaml").unlink()
    names = [c.name for c in load(tmp_path).pg.tables[("public", "t")].columns]
    assert names == ["id", "=", "<<", "=x"]


def test_oversized_file_refused(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"#" * (5 * 1024 * 1024 + 1))
    assert problems_of(tmp_path) == [f"{tmp_path.as_posix()}/big.yaml:1: file is larger than 5 MiB"]


def test_a_file_of_exactly_the_limit_is_read_whole(tmp_path: Path) -> None:
    text = b"# " + b"x" * (5 * 1024 * 1024 - 3) + b"\n"  # 5 MiB exactly
    (tmp_path / "edge.yaml").write_bytes(text)
    tree = read_tree(tmp_path)
    assert tree.unread == () and tree.raws == (text,)


def test_a_fifo_or_socket_among_the_files_is_refused_without_waiting(tmp_path: Path) -> None:
    """A FIFO named like a YAML file would block the read for ever (no writer comes): it and
    a socket are refused, with their file, at once."""
    os.mkfifo(tmp_path / "pipe.yaml")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.yml"))
        done: list[list[str]] = []
        worker = threading.Thread(target=lambda: done.append(problems_of(tmp_path)), daemon=True)
        worker.start()
        worker.join(10)
    assert done, "the load hung on the FIFO"
    why = "not a regular file (a FIFO, socket or device holds no desired state)"
    assert done[0] == [
        f"{tmp_path.as_posix()}/{name}:1: {why}" for name in ("pipe.yaml", "sock.yml")
    ]


def test_empty_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": "", "b.yml": "# only a comment\n", "c.yaml": "---\n"})
    desired = load(tmp_path)
    assert len(desired.files) == 3
    assert desired.pg.tables == {} and set(desired.pg.schemas) == {"public"}


def test_missing_root_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not a directory"):
        load(tmp_path / "nope")


def test_a_folder_without_any_yaml_file_is_an_input_error(tmp_path: Path) -> None:
    """A path that points at the wrong, empty folder (a typo, a checkout without its files)
    would plan the drop of everything in scope, as Terraform refuses an empty configuration:
    said in one sentence. An empty file there is a desired state of nothing, on purpose."""
    write(tmp_path, {"notes.txt": "not YAML", ".hidden.yaml": "tables: []\n"})
    with pytest.raises(InputError, match="holds no YAML file: a desired state of nothing"):
        load(tmp_path)
    write(tmp_path, {"nothing.yaml": ""})
    assert load(tmp_path).pg.tables == {}


def test_digest_covers_paths_and_bytes(tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": "extensions: [pgcrypto]\n"})
    first = load(tmp_path).digest
    assert load(tmp_path).digest == first
    (tmp_path / "a.yaml").write_text("extensions: [pgcrypto]  \n")
    second = load(tmp_path).digest
    (tmp_path / "a.yaml").rename(tmp_path / "b.yaml")
    assert len({first, second, load(tmp_path).digest}) == 3


def test_sources_are_relative_below_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"proj/schemas/t.yaml": "table: t\nxyzzy: 1\n"})
    monkeypatch.chdir(tmp_path / "proj")
    assert problems_of(Path("schemas")) == ["schemas/t.yaml:2: unknown key 'xyzzy'"]
    assert problems_of(tmp_path / "proj" / "schemas") == ["schemas/t.yaml:2: unknown key 'xyzzy'"]


# --- normalization details -----------------------------------------------------------------------

CANONICAL = {
    "int": "integer",
    "int4": "integer",
    "INTEGER": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "float8": "double precision",
    "float": "double precision",
    "float4": "real",
    "bool": "boolean",
    "varchar(20)": "character varying(20)",
    "character varying": "character varying",
    "char(3)": "character(3)",
    "char": "character(1)",
    "bpchar": "bpchar",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timestamptz(3)": "timestamp(3) with time zone",
    "timetz": "time with time zone",
    "time(2)": "time(2) without time zone",
    "decimal(10,2)": "numeric(10,2)",
    "numeric(10)": "numeric(10,0)",
    "numeric": "numeric",
    "bit varying(8)": "bit varying(8)",
    "bit": "bit(1)",
    "interval": "interval",
    "interval day to second(3)": "interval day to second(3)",
    "jsonb": "jsonb",
    "int[]": "integer[]",
    "varchar(5)[][]": "character varying(5)[]",
    "pg_catalog.int4": "integer",
    "mood": "public.mood",
    "mood[]": "public.mood[]",
    "app.mood": "app.mood",
    '"My Schema"."Status"': '"My Schema"."Status"',
    "public.user": 'public."user"',
    "citext": "citext",
}


@pytest.mark.parametrize(("text", "canonical"), sorted(CANONICAL.items()))
def test_canonical_type(text: str, canonical: str) -> None:
    assert canonical_type(text, lambda n: "public" if n == "mood" else None) == canonical


def test_serial_message() -> None:
    with pytest.raises(SqlTextError, match=r"^serial types are not supported; use `identity: by"):
        canonical_type("bigserial", lambda n: None)


def test_enum_type_prefers_the_tables_schema(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "e.yaml": "enums:\n  - {name: mood, values: [a]}\n  - {name: app.mood, values: [b]}\n",
            "t.yaml": "tables:\n  - {table: app.t, columns: [{name: m, type: mood}]}\n"
            "  - {table: t, columns: [{name: m, type: mood}]}\n",
        },
    )
    pg = load(tmp_path).pg
    assert pg.tables[("app", "t")].column("m").type == "app.mood"
    assert pg.tables[("public", "t")].column("m").type == "public.mood"
    assert set(pg.schemas) == {"app", "public"}


def test_yaml_scalars_in_sql_positions_keep_their_text(tmp_path: Path) -> None:
    doc = """
table: t
columns:
  - {name: a, type: numeric, default: 0.50}
  - {name: b, type: boolean, default: yes}
  - {name: c, type: integer, default: 0}
  - {name: d, type: text, default: ~}
  - {name: e, type: text, default: "NULL"}
  - {name: on, type: date, default: 2024-01-01}
"""
    write(tmp_path, {"t.yaml": doc})
    t = load(tmp_path).pg.tables[("public", "t")]
    assert [c.default for c in t.columns] == ["0.50", "true", "0", None, None, "2024-01-01"]
    assert t.columns[-1].name == "on"


def test_collations_read_like_the_catalog(tmp_path: Path) -> None:
    doc = """
table: t
columns:
  - {name: a, type: text, collation: C}
  - {name: b, type: text, collation: en_US.utf8}
  - {name: c, type: text, collation: default}
  - {name: d, type: text, collation: 'public."My Coll"'}
  - {name: e, type: text, collation: ucs_basic}
  - {name: f, type: text, collation: public.case_insensitive}
  - {name: g, type: text, collation: pg_catalog.ucs_basic}
indexes:
  - columns: [{column: a, collation: C}, {column: b, collation: C}, {column: c, collation: C}]
"""
    write(tmp_path, {"t.yaml": doc})
    pg = load(tmp_path).pg
    t = pg.tables[("public", "t")]
    assert [c.collation for c in t.columns] == [
        '"C"',
        '"en_US.utf8"',
        None,
        'public."My Coll"',
        "ucs_basic",
        "public.case_insensitive",
        "ucs_basic",
    ]
    (index,) = pg.indexes.values()
    assert [e.collation for e in index.elements] == [None, '"C"', '"C"']


def test_default_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "t.yaml": """
tables:
  - table: users
    columns: [{name: id, type: uuid}]
    primary_key: [id]
  - table: pairs
    columns:
      - {name: a, type: uuid}
      - {name: b, type: uuid}
      - {name: owner, type: uuid}
    primary_key: [a, b]
    unique: [{columns: [a, b]}]
    checks: ["now() > '2000-01-01'", "b <> a"]
    foreign_keys:
      - {columns: [a], references: users}
      - {columns: [b], references: users}
      - {columns: [owner, b], references: public.pairs, on_delete: SET   NULL}
    indexes:
      - {columns: [{expression: "coalesce(b, a)"}, owner]}
      - {columns: [{expression: "now()"}]}
""",
        },
    )
    pg = load(tmp_path).pg
    t = pg.tables[("public", "pairs")]
    assert t.uniques[0].name == "pairs_a_b_key"
    assert [c.name for c in t.checks] == ["pairs_b_check", "pairs_check"]
    assert [(fk.name, fk.ref_columns, fk.on_delete) for fk in t.foreign_keys] == [
        ("fk_pairs_pairs", ("a", "b"), "set null"),
        ("fk_pairs_users_a", ("id",), "no action"),
        ("fk_pairs_users_b", ("id",), "no action"),
    ]
    assert {name for _, name in pg.indexes} == {"idx_pairs_b_a_owner", "idx_pairs_expr"}


def test_default_name_of_self_reference_needs_a_key(tmp_path: Path) -> None:
    doc = "table: t\ncolumns: [{name: a, type: uuid}]\n"
    doc += "foreign_keys: [{columns: [a], references: t}]\n"
    write(tmp_path, {"t.yaml": doc})
    assert problems_of(tmp_path) == [
        f"{tmp_path.as_posix()}/t.yaml:3: foreign_keys[0].references: 't' has no primary key; "
        "give references.columns"
    ]


# --- no input makes load() raise anything but InputError -----------------------------------------

_KEYS = [
    "table", "tables", "columns", "name", "type", "nullable", "default", "identity", "generated",
    "primary_key", "unique", "checks", "foreign_keys", "references", "indexes", "enums", "values",
    "schema", "schemas", "extensions", "lint", "ignore", "rule", "reason", "where", "order",
    "nulls", "expression", "column", "on_delete", "renamed_from", "include", "method", "x",
]  # fmt: skip
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["id", "uuid", "int)", "users", "a.b", "now()", "serial", "asc", "", "\0"]),
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
def test_random_documents_only_raise_input_error(docs: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, doc in enumerate(docs):
            Path(tmp, f"f{i}.yaml").write_text(doc, encoding="utf-8")
        try:
            load(Path(tmp))
        except InputError as err:
            assert err.problems or err.summary
            for problem in err.problems:
                assert re.match(r".*\.yaml:\d+$", problem.source or "")


def test_an_owned_sequence_is_read_and_qualified(tmp_path: Path) -> None:
    root = tmp_path / "s"
    (root / "tables").mkdir(parents=True)
    (root / "tables" / "orders.yaml").write_text(
        "table: orders\ncolumns:\n"
        "  - {name: id, type: integer, nullable: false, sequence: Public.Orders_Id_Seq,\n"
        "     default: \"nextval('public.orders_id_seq'::regclass)\"}\n"
    )
    col = load(root).pg.tables[("public", "orders")].columns[0]
    assert col.sequence == "public.orders_id_seq"  # SQL names fold to lowercase unless quoted
    (root / "tables" / "orders.yaml").write_text(
        "table: orders\ncolumns:\n  - {name: id, type: integer, sequence: 'x; DROP TABLE y'}\n"
    )
    with pytest.raises(InputError) as info:
        load(root)
    assert any("orders.yaml:3" in str(p) for p in info.value.problems)


@pytest.mark.parametrize("key", ["str", "bool", "int", "float", "function-after[x(), str]"])
def test_a_key_named_like_a_union_branch_is_an_unknown_key(tmp_path: Path, key: str) -> None:
    # pydantic names a union's branches in an error's path (`str`, `bool` …); a key of the file
    # so named is still the file's key (found by the random documents above: `str: null`)
    (tmp_path / "f.yaml").write_text(f"'{key}': null\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load(tmp_path)
    [problem] = info.value.problems
    assert problem.source.endswith("f.yaml:1")
    assert problem.message.startswith(f"unknown key '{key}'")


def test_hidden_files_and_folders_are_not_desired_state(tmp_path: Path) -> None:
    """An editor's lock beside a file being edited (Emacs: `.#users.yaml`, a link to nowhere),
    a hidden file, a hidden folder: none is read, so none breaks a plan or adds a table."""
    write(tmp_path, {"tables/users.yaml": "table: users\ncolumns:\n  - {name: id, type: int}\n"})
    (tmp_path / "tables" / ".#users.yaml").symlink_to("root@host.1234:1700000000")
    write(tmp_path, {".hidden.yaml": "table: ghost\ncolumns:\n  - {name: id, type: int}\n"})
    write(tmp_path, {".old/tables/x.yaml": "table: x\ncolumns:\n  - {name: id, type: int}\n"})
    tree = read_tree(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in tree.files] == ["tables/users.yaml"]
    assert tree.unread == ()
    assert set(load(tmp_path).pg.tables) == {("public", "users")}


def test_a_linked_folder_is_read_like_a_linked_file_and_a_loop_ends(tmp_path: Path) -> None:
    """tables/ as a link to a shared folder is read (skipping it would plan its tables as
    drops); a link back up the tree is walked once, not for ever."""
    shared = tmp_path / "shared" / "tables"
    write(shared, {"users.yaml": "table: users\ncolumns:\n  - {name: id, type: int}\n"})
    root = tmp_path / "schemas"
    root.mkdir()
    (root / "tables").symlink_to(shared)
    (shared / "loop").symlink_to(root)
    tree = read_tree(root)
    assert [p.relative_to(root).as_posix() for p in tree.files] == ["tables/users.yaml"]
    assert set(load(root).pg.tables) == {("public", "users")}


# --- what a DEFAULT cannot hold ------------------------------------------------------------------


def test_a_default_the_server_would_refuse_is_refused_with_its_line(tmp_path: Path) -> None:
    """A column reference, a subquery or a window function in a DEFAULT: the server refuses
    each at apply; the text alone shows it. A bare word is a value meant, said so."""
    write(
        tmp_path,
        {
            "t.yaml": """\
table: t
columns:
  - {name: id, type: integer}
  - {name: flag, type: text, default: 'no'}
  - {name: copy, type: integer, default: id + 1}
  - {name: biggest, type: integer, default: (SELECT max(id) FROM t)}
  - {name: ranked, type: integer, default: row_number() OVER ()}
  - {name: quoted, type: text, default: "'no'"}
  - {name: at, type: timestamptz, default: CURRENT_TIMESTAMP}
  - {name: who, type: text, default: current_user}
  - {name: made, type: timestamptz, default: "'now'::timestamptz"}
  - {name: due, type: date, default: "date 'tomorrow'"}
""",
            "d.yaml": "domains:\n  - {name: level, type: integer, default: high}\n",
        },
    )
    shown = tmp_path.relative_to(REPO) if tmp_path.is_relative_to(REPO) else tmp_path
    found = problems_of(tmp_path)
    assert len(found) == 7, found
    text = "\n".join(found)
    assert (
        f"{shown}/t.yaml:4: columns[1].default: the default 'no' reads a column (no), which a "
        "default cannot; a text value is written in SQL quotes: default: \"'no'\"" in text
    )
    assert "t.yaml:5: columns[2].default: the default 'id + 1' reads a column (id)" in text
    assert "t.yaml:6: columns[3].default: the default '(SELECT max(id) FROM t)' holds a" in text
    assert "t.yaml:7: columns[4].default: the default 'row_number() OVER ()' calls a window" in text
    assert "d.yaml:2: domains[0].default: the default 'high' reads a column (high)" in text
    assert (
        "t.yaml:11: columns[8].default: the default ''now'::timestamptz' is the moment the "
        "default is created, frozen ('now' is read once), and every plan would set it again; "
        "write now() for each insert's" in text
    )
    assert "t.yaml:12: columns[9].default: the default 'date 'tomorrow'' is the moment" in text
    assert "write CURRENT_DATE + 1 for each insert's" in text
    assert not any(f"columns[{i}]" in p for p in found for i in (5, 6, 7))  # quoted, SQL values
