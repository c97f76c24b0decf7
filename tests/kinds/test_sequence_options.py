"""An identity column's sequence options from YAML: applied, compared in the server's terms
(only what differs from Postgres' defaults), changed in place, rolled back; bad values refused
with file:line."""

from __future__ import annotations

from tests.helpers import run_cli, write_yaml

TABLE = """
table: tickets
columns:
  - name: id
    type: integer
    identity: always
    sequence_options: {{{options}}}
  - {{name: title, type: text}}
"""


def _write(root, options: str) -> None:
    write_yaml(root, "tickets.yaml", TABLE.format(options=options))


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def test_sequence_options_apply_converge_alter_and_roll_back(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    _write(root, "start: 1000, increment: 10, cache: 1, min: 1")  # cache and min: defaults
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute("INSERT INTO tickets (title) VALUES ('a'), ('b')")
    assert pg_conn.execute("SELECT array_agg(id ORDER BY id) FROM tickets").fetchone() == (
        [1000, 1010],
    )
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    _write(root, "start: 1000, increment: 5, max: 5000")
    plan = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    assert "sequence_options" in plan
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute("INSERT INTO tickets (title) VALUES ('c')")
    assert pg_conn.execute("SELECT max(id) FROM tickets").fetchone() == (1015,)
    seq = "SELECT seqincrement, seqmax FROM pg_sequence WHERE seqrelid = %s::regclass"
    name = pg_conn.execute("SELECT pg_get_serial_sequence('tickets', 'id')").fetchone()[0]
    assert pg_conn.execute(seq, (name,)).fetchone() == (5, 5000)
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_conn.execute(seq, (name,)).fetchone() == (10, 2147483647)


def test_bad_sequence_options_are_refused_with_file_and_line(pg_url, tmp_path):
    root = tmp_path / "schemas"
    _write(root, "start: ten")
    write_yaml(
        root,
        "other.yaml",
        "table: others\n"
        "columns:\n"
        "  - {name: id, type: integer, sequence_options: {start: 5}}\n"
        "  - {name: n, type: smallint, identity: always, sequence_options: {start: 40000}}\n"
        "  - {name: m, type: bigint, identity: always, sequence_options: {increment: 0}}\n"
        "  - {name: k, type: bigint, identity: always, sequence_options: {type: integer}}\n"
        "  - {name: s, type: bigint, sequence: public.s_seq, sequence_options: {type: text}}\n"
        "  - {name: w, type: bigint, sequence: public.w_seq, sequence_options: "
        "{type: smallint, max: 40000}}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "tickets.yaml:7: columns[0].sequence_options.start: 'ten' is not a whole number" in r.err
    assert "other.yaml:3: columns[0].sequence_options: sequence_options need an identity" in r.err
    assert "need -32768 ≤ min ≤ start ≤ max ≤ 32767 for a smallint sequence" in r.err
    assert "columns[2].sequence_options.increment: increment must not be zero" in r.err
    # a serial column's sequence may have a type of its own; an identity's is its column's
    assert "columns[3].sequence_options.type: an identity's sequence has its column's" in r.err
    assert "columns[4].sequence_options.type: a sequence is smallint, integer or bigint" in r.err
    assert "columns[5].sequence_options: need -32768 ≤ min ≤ start ≤ max ≤ 32767" in r.err


SERIAL = """
table: events
columns:
  - {name: id, type: integer, nullable: false, sequence: public.events_id_seq,
     default: "nextval('public.events_id_seq'::regclass)"}
  - {name: body, type: text}
primary_key: [id]
"""
IDENTITY = """
table: events
columns:
  - {name: id, type: integer, identity: by default}
  - {name: body, type: text}
primary_key: [id]
"""


def test_serial_to_identity_keeps_counting_and_rolls_back(pg_url, pg_conn, tmp_path):
    """serial → identity (and its rollback) hands the counter over: no new row reuses an id,
    and the identity's sequence gets the name a fresh identity column would have."""
    root = tmp_path / "schemas"
    write_yaml(root, "events.yaml", SERIAL)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute("INSERT INTO events (body) SELECT 'old' FROM generate_series(1, 3)")

    write_yaml(root, "events.yaml", IDENTITY)
    plan = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    assert "destructive" not in plan  # the counter is carried, nothing is lost
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute("INSERT INTO events (body) VALUES ('new') RETURNING id").fetchone() == (
        4,
    )
    seq = "SELECT pg_get_serial_sequence('events', 'id')"
    assert pg_conn.execute(seq).fetchone() == ("public.events_id_seq",)
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    default = (
        "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'events'::regclass"
    )
    assert pg_conn.execute(default).fetchone() == ("nextval('events_id_seq'::regclass)",)
    assert pg_conn.execute("INSERT INTO events (body) VALUES ('back') RETURNING id").fetchone() == (
        5,
    )


def test_a_default_calling_a_sequence_the_plan_drops_is_refused(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(root, "events.yaml", SERIAL)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    write_yaml(root, "events.yaml", SERIAL.replace(" sequence: public.events_id_seq,", ""))
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert (
        "Column public.events.id: its default calls sequence public.events_id_seq, which the "
        "desired state drops." in r.err
    )
    assert "events.yaml:4" in r.err
