"""Free-standing sequences, domains and composite types from YAML: created before the columns
that use them,
compared in the server's spelling, changed in place, rolled back exactly."""

from __future__ import annotations

import json

import psycopg
import pytest

from reconciler.desired import load
from reconciler.errors import InputError
from tests.helpers import run_cli, write_yaml

OBJECTS = """
sequences:
  - name: ticket_no
    schema: app
    type: integer
    start: 1000
    increment: 10
    cache: 5
domains:
  - name: email
    schema: app
    type: varchar(200)
    not_null: true
    default: "'nobody@example.org'"
    checks:
      - {name: email_has_at, expression: "VALUE LIKE '%@%'"}
composite_types:
  - name: address
    schema: app
    attributes:
      - {name: street, type: text}
      - {name: city, type: varchar(50), collation: C}
      - {name: tags, type: "text[]"}
"""

TABLE = """
table: tickets
schema: app
columns:
  - {name: no, type: integer, nullable: false, default: "nextval('app.ticket_no')"}
  - {name: contact, type: email}
  - {name: mail_to, type: address}
primary_key: [no]
"""


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def test_sequences_and_domains_round_trip(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    write_yaml(root, "types/app.yaml", OBJECTS)
    write_yaml(root, "tables/tickets.yaml", TABLE)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    assert order.index("pg.sequence.app.ticket_no") < order.index("pg.table.app.tickets")
    assert order.index("pg.composite_type.app.address") < order.index("pg.table.app.tickets")
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    # `VALUE LIKE '%@%'` comes back as `(VALUE)::text ~~ '%@%'::text`: the probe asked
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    pg_conn.execute("INSERT INTO app.tickets DEFAULT VALUES")
    assert pg_conn.execute("SELECT no, contact FROM app.tickets").fetchone() == (
        1000,
        "nobody@example.org",
    )
    with pytest.raises(psycopg.errors.CheckViolation):
        pg_conn.execute("INSERT INTO app.tickets (contact) VALUES ('no-at-sign')")
    before = pg_dump_schema(pg_url)

    changed = OBJECTS.replace("increment: 10", "increment: 20").replace(
        "VALUE LIKE '%@%'", "VALUE LIKE '%_@_%'"
    )
    write_yaml(root, "types/app.yaml", changed)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    steps = [(c["action"], c["address"]) for c in json.loads(r.out)["changes"]]
    assert steps == [("change", "pg.domain.app.email"), ("change", "pg.sequence.app.ticket_no")]
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_sequence_specs_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "sequences/bad.yaml",
        "sequences:\n"
        "  - {name: a, min: 10, max: 5}\n"
        "  - {name: b, type: text}\n"
        "  - {name: c, increment: 0}\n"
        "  - {name: d, start: '1; DROP TABLE t'}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    for line in (2, 3, 4, 5):
        assert f"sequences/bad.yaml:{line}" in r.err, r.err


OWNERS = """
table: orders
columns:
  - {name: id, type: integer, nullable: false, default: "nextval('orders_id_seq'::regclass)",
     sequence: public.orders_id_seq}
  - {name: ref, type: bigint}
  - {name: legacy, type: integer, sequence: public.legacy_seq}
"""


def test_a_sequences_owner_is_checked_with_file_and_line(tmp_path):
    root = tmp_path / "schemas"
    write_yaml(root, "tables/orders.yaml", OWNERS)
    write_yaml(
        root,
        "sequences/owned.yaml",
        "sequences:\n"
        "  - {name: refs, owned_by: orders.ref}\n"  # fine: ref's default calls no sequence
        "  - {name: spare, owned_by: orders.id}\n"  # fine: id's default calls another
        "  - {name: a, owned_by: invoices.id}\n"
        "  - {name: b, owned_by: orders.nope}\n"
        "  - {name: orders_id_seq, owned_by: orders.id}\n"
        "  - {name: c, owned_by: 'orders'}\n"
        "  - {name: d, schema: app, owned_by: orders.ref}\n",
    )
    with pytest.raises(InputError) as info:
        load(root)
    problems = [str(p) for p in info.value.problems]
    expected = {
        4: "owned_by: table 'invoices' is not declared",
        5: "owned_by: table 'orders' has no column 'nope'",
        6: "the default of 'orders.id' calls this sequence",
        7: "owned_by is `table.column`",
        8: "owned_by: table 'app.orders' is not declared",
    }
    for line, message in expected.items():
        assert any(f"sequences/owned.yaml:{line}" in p and message in p for p in problems), (
            line,
            problems,
        )
    assert len(problems) == len(expected), problems

    # without the wrong ones: owned_by as written; a column's `sequence` its default does not
    # call is a free-standing sequence owned by the column, as the catalog is read
    write_yaml(
        root,
        "sequences/owned.yaml",
        'sequences:\n  - {name: refs, owned_by: orders.ref}\n  - {name: "Spare", owned_by: '
        "'orders.\"id\"'}\n",
    )
    pg = load(root).pg
    assert pg.sequences[("public", "refs")].owned_by == ("orders", "ref")
    assert pg.sequences[("public", "Spare")].owned_by == ("orders", "id")
    assert pg.sequences[("public", "legacy_seq")].owned_by == ("orders", "legacy")
    assert pg.sequences[("public", "legacy_seq")].type == "integer"
    columns = {c.name: c for c in pg.tables[("public", "orders")].columns}
    assert columns["legacy"].sequence is None
    assert columns["id"].sequence == "public.orders_id_seq"
    assert ("public", "orders_id_seq") not in pg.sequences


OWNER_SQL = """
SELECT t.relname, a.attname
FROM pg_depend AS d
JOIN pg_class AS t ON t.oid = d.refobjid
JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
WHERE d.objid = 'app.ticket_refs'::regclass AND d.deptype = 'a'
"""


def test_an_owned_sequence_follows_its_renamed_owner(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "sequences/refs.yaml",
        "sequences:\n  - {name: app.ticket_refs, owned_by: tickets.ref}\n",
    )
    write_yaml(
        root,
        "tables/tickets.yaml",
        "table: tickets\nschema: app\ncolumns:\n  - {name: ref, type: bigint}\n",
    )
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute(OWNER_SQL).fetchall() == [("tickets", "ref")]
    before = pg_dump_schema(pg_url)

    # a renamed table and column keep the sequence (Postgres moves OWNED BY along): no change
    # of owner is planned, and the rollback renames them back under it
    write_yaml(
        root,
        "tables/tickets.yaml",
        "table: issues\nschema: app\nrenamed_from: tickets\ncolumns:\n"
        "  - {name: reference, type: bigint, renamed_from: ref}\n",
    )
    write_yaml(
        root,
        "sequences/refs.yaml",
        "sequences:\n  - {name: app.ticket_refs, owned_by: issues.reference}\n",
    )
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    assert not [c for c in json.loads(r.out)["changes"] if "sequence" in c["address"]], r.out
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute(OWNER_SQL).fetchall() == [("issues", "reference")]
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_a_rebuilt_table_keeping_an_owned_sequence_is_refused(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "sequences/refs.yaml",
        "sequences:\n  - {name: app.ticket_refs, owned_by: tickets.ref}\n",
    )
    table = "table: tickets\nschema: app\ncolumns:\n  - {name: ref, type: bigint}\n"
    write_yaml(root, "tables/tickets.yaml", table)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    # a new partitioning drops and creates the table, and the drop would take the sequence
    write_yaml(root, "tables/tickets.yaml", table + "partition_by: RANGE (ref)\n")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code != 0, r.text
    assert "Sequence app.ticket_refs is owned by column app.tickets.ref" in r.err, r.text
    assert "sequences/refs.yaml:2" in r.err, r.text
    # so would it with the sequence given no owner: that change runs after the new table
    write_yaml(root, "sequences/refs.yaml", "sequences:\n  - {name: app.ticket_refs}\n")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code != 0, r.text
    assert "Sequence app.ticket_refs is owned by column app.tickets.ref" in r.err, r.text


def test_a_default_of_null_cast_to_the_columns_type_converges(pg_url, tmp_path):
    """Postgres keeps no default for NULL cast once to the column's own built-in type (it
    keeps one with a length or precision, which goes through a coercion): each converges."""
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "tables/n.yaml",
        """\
table: n
columns:
  - {name: a, type: text, default: "NULL::text"}
  - {name: b, type: "varchar(20)", default: "NULL::varchar(20)"}
  - {name: c, type: text, default: "CAST(NULL AS text)"}
  - {name: d, type: "text[]", default: "NULL::text[]"}
  - {name: e, type: "numeric(10,2)", default: "NULL::numeric(10,2)"}
  - {name: f, type: integer, default: "NULL"}
""",
    )
    argv = ["--pg", pg_url, "--schemas", "schemas"]
    assert run_cli("apply", *argv, "--auto-approve", cwd=tmp_path).code == 0
    again = run_cli("plan", *argv, "--detailed-exitcode", cwd=tmp_path)
    assert again.code == 0 and "No changes." in again.text, again.text
    with psycopg.connect(pg_url) as conn:
        kept = conn.execute(
            "SELECT a.attname FROM pg_attrdef d JOIN pg_attribute a "
            "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
            "WHERE d.adrelid = 'n'::regclass ORDER BY 1"
        ).fetchall()
    assert [name for (name,) in kept] == ["b", "e"]
