"""Privileges from YAML: granted and revoked for the roles each object names, left alone for
every other role (unless the schema says `privileges: exact`), compared without noise, rolled
back exactly, also when the object that held them is dropped."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

SCHEMA = """
schemas:
  - name: app
    grants: [{role: ROLE, privileges: [usage]}]
"""

TABLE = """
table: accounts
schema: app
columns:
  - {name: id, type: integer, nullable: false}
  - {name: secret, type: text}
primary_key: [id]
grants:
  - {role: ROLE, privileges: [select, insert]}
  - {role: public, privileges: [select], columns: [id]}
"""

FUNCTION = """
functions:
  - name: add_one
    schema: app
    arguments: n integer
    returns: integer
    language: sql
    body: SELECT n + 1
    grants:
      - {role: public, privileges: []}
      - {role: ROLE, privileges: [execute], with_grant_option: true}
"""

ACLS = """
SELECT (SELECT relacl::text FROM pg_class WHERE oid = 'app.accounts'::regclass),
       (SELECT attacl::text FROM pg_attribute
         WHERE attrelid = 'app.accounts'::regclass AND attname = 'id'),
       (SELECT nspacl::text FROM pg_namespace WHERE nspname = 'app'),
       (SELECT proacl::text FROM pg_proc WHERE oid = 'app.add_one(integer)'::regprocedure)
"""


@pytest.fixture
def roles(pg_conn: psycopg.Connection):
    names = [f"r_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    for name in names:
        pg_conn.execute(f"CREATE ROLE {name} NOLOGIN")
    yield names
    for name in names:
        pg_conn.execute(f"DROP OWNED BY {name}")
        pg_conn.execute(f"DROP ROLE {name}")


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def _tree(root, role, table=TABLE):
    write_yaml(root, "schemas.yaml", SCHEMA.replace("ROLE", role))
    write_yaml(root, "tables/accounts.yaml", table.replace("ROLE", role))
    write_yaml(root, "functions/app.yaml", FUNCTION.replace("ROLE", role))


def test_grants_apply_leave_other_roles_alone_and_roll_back(pg_url, pg_conn, tmp_path, roles):
    role, other = roles
    root = tmp_path / "schemas"
    _tree(root, role)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    check = pg_conn.execute(
        "SELECT has_table_privilege(%s, 'app.accounts', 'SELECT'), "
        "has_table_privilege(%s, 'app.accounts', 'DELETE'), "
        "has_column_privilege('public', 'app.accounts', 'id', 'SELECT'), "
        "has_column_privilege('public', 'app.accounts', 'secret', 'SELECT'), "
        "has_schema_privilege(%s, 'app', 'USAGE'), "
        "has_function_privilege(%s, 'app.add_one(integer)', 'EXECUTE WITH GRANT OPTION'), "
        "has_function_privilege(%s, 'app.add_one(integer)', 'EXECUTE')",
        (role, role, role, role, other),
    ).fetchone()
    assert check == (True, False, True, False, True, True, False)  # PUBLIC lost EXECUTE
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    pg_conn.execute(f"GRANT DELETE ON app.accounts TO {other}")  # a role the YAML never names
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root))
    assert "No changes." in r.out
    assert f"role {other} holds DELETE on table app.accounts, which the YAML does not name" in (
        " ".join(r.out.split())
    )
    before = pg_conn.execute(ACLS).fetchone()

    _tree(root, role, TABLE.replace("[select, insert]", "[select, update]"))
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    changes = json.loads(r.out)["changes"]
    assert [c["address"] for c in changes] == [f"pg.grant.table.app.accounts.{role}"]
    assert changes[0]["up"][0] == f'REVOKE INSERT ON TABLE "app"."accounts" FROM "{role}"'
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute(
        "SELECT has_table_privilege(%s, 'app.accounts', 'UPDATE'), "
        "has_table_privilege(%s, 'app.accounts', 'DELETE')",
        (role, other),
    ).fetchone() == (True, True)
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_conn.execute(ACLS).fetchone() == before


def test_grant_specs_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "tables/t.yaml",
        "table: t\n"
        "columns: [{name: id, type: integer}]\n"
        "grants:\n"
        "  - {role: a, privileges: [execute]}\n"
        "  - {role: b, privileges: [select], columns: [nope]}\n"
        "  - {role: c, privileges: [select], with_grant_option: [insert]}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "t.yaml:4" in r.err and "'execute' is not a privilege here" in r.err
    assert "t.yaml:5" in r.err and "'nope' is not a column" in r.err
    assert "t.yaml:6" in r.err and "only privileges listed can be grantable" in r.err


SERIAL = """
table: orders
columns:
  - name: id
    type: integer
    nullable: false
    default: nextval('public.orders_id_seq'::regclass)
    sequence: public.orders_id_seq
    sequence_grants:
      - {role: ROLE, privileges: [usage, select], with_grant_option: [usage]}
"""


def test_a_serial_columns_sequence_takes_grants(pg_url, pg_conn, tmp_path, roles):
    root = tmp_path / "schemas"
    write_yaml(root, "orders.yaml", SERIAL.replace("ROLE", roles[0]))
    acl = "SELECT relacl::text FROM pg_class WHERE oid = 'public.orders_id_seq'::regclass"

    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")

    assert f"{roles[0]}=rU*/" in pg_conn.execute(acl).fetchone()[0]
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    exported = tmp_path / "exported"
    _cli(tmp_path, "export", "--pg", pg_url, "--out", str(exported))
    text = (exported / "tables" / "orders.yaml").read_text()
    assert "sequence_grants:" in text and roles[0] in text
    plan = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(exported))
    assert "No changes." in plan.out, plan.text

    write_yaml(root, "orders.yaml", SERIAL.replace("ROLE", roles[0]).replace(", select", ""))
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert f"{roles[0]}=U*/" in pg_conn.execute(acl).fetchone()[0]
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert f"{roles[0]}=rU*/" in pg_conn.execute(acl).fetchone()[0]


def test_sequence_grants_need_a_qualified_sequence(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "t.yaml",
        "table: t\n"
        "columns:\n"
        "  - {name: a, type: integer, sequence_grants: [{role: public, privileges: [usage]}]}\n"
        "  - {name: b, type: integer, sequence: b_seq,\n"
        "     sequence_grants: [{role: public, privileges: [usage]}]}\n"
        "  - {name: c, type: integer, sequence: public.c_seq,\n"
        "     sequence_grants: [{role: public, privileges: [insert]}]}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "t.yaml:3: columns[0].sequence_grants: sequence_grants need a `sequence`" in r.err
    assert "columns[1].sequence: sequence_grants need the sequence schema-qualified" in r.err
    assert "columns[2].sequence_grants[0].privileges: 'insert' is not a privilege here" in r.err


def _acls(conn):
    """ACLS with each list's entries in order (a grant given back may come back elsewhere)."""
    return [
        sorted(acl.strip("{}").split(",")) if acl else acl for acl in conn.execute(ACLS).fetchone()
    ]


def test_exact_privileges_revoke_unnamed_roles_and_a_dropped_tables_grants_come_back(
    pg_url, pg_conn, tmp_path, roles
):
    role, other = roles
    root = tmp_path / "schemas"
    _tree(root, role)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute(f"GRANT DELETE ON app.accounts TO {other}")  # a role the YAML never names
    pg_conn.execute(f"GRANT USAGE ON SCHEMA app TO {other}")
    before = _acls(pg_conn)

    write_yaml(root, "schemas.yaml", SCHEMA.replace("ROLE", role) + "    privileges: exact\n")
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    changes = {c["address"]: c["up"] for c in json.loads(r.out)["changes"]}
    assert changes == {
        f"pg.grant.table.app.accounts.{other}": [
            f'REVOKE DELETE ON TABLE "app"."accounts" FROM "{other}"'
        ],
        f"pg.grant.schema.app.{other}": [f'REVOKE USAGE ON SCHEMA "app" FROM "{other}"'],
    }
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute(
        "SELECT has_table_privilege(%s, 'app.accounts', 'DELETE'), "
        "has_table_privilege(%s, 'app.accounts', 'SELECT')",
        (other, role),
    ).fetchone() == (False, True)
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert _acls(pg_conn) == before

    # the table is dropped: its grants go with it, and its rollback grants them again
    (root / "tables" / "accounts.yaml").unlink()
    _cli(
        tmp_path,
        "apply",
        "--pg",
        pg_url,
        "--schemas",
        str(root),
        "--auto-approve",
        "--allow-destructive",
    )
    assert pg_conn.execute("SELECT to_regclass('app.accounts')").fetchone() == (None,)
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve", "--allow-destructive")
    assert _acls(pg_conn) == before


def test_default_privilege_specs_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "default_privileges.yaml",
        "default_privileges:\n"
        "  - {for_role: a, schema: app, on: schemas, grants: [{role: b, privileges: [usage]}]}\n"
        "  - for_role: a\n"
        "    on: functions\n"
        "    grants:\n"
        "      - {role: b, privileges: [select]}\n"
        "      - {role: c, privileges: [execute], columns: [x]}\n"
        "      - {role: public, privileges: []}\n"
        "      - {role: PUBLIC, privileges: [execute]}\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "default_privileges.yaml:2" in r.err and "cannot be given in a schema" in r.err
    assert "default_privileges.yaml:6" in r.err
    assert "'select' is not a privilege on functions (one of: execute)" in r.err
    assert "default_privileges.yaml:7" in r.err and "do not take columns" in r.err
    assert "default_privileges.yaml:9" in r.err and "'public' is given privileges twice" in r.err


def test_default_privileges_left_alone_unless_exact(pg_url, pg_conn, tmp_path, roles):
    role, other = roles
    root = tmp_path / "schemas"
    write_yaml(root, "schemas.yaml", "schemas: [app]\n")
    write_yaml(
        root,
        "default_privileges.yaml",
        f"default_privileges:\n  - for_role: {role}\n    schema: app\n    on: tables\n"
        f"    grants: [{{role: {other}, privileges: [select]}}]\n",
    )
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    changes = {c["address"]: c["up"] for c in json.loads(r.out)["changes"]}
    assert changes[f"pg.default_privileges.{role}.app.tables.{other}"] == [
        f'ALTER DEFAULT PRIVILEGES FOR ROLE "{role}" IN SCHEMA "app" GRANT SELECT ON TABLES '
        f'TO "{other}"'
    ]
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {role} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"
    )
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root))
    assert "No changes." in r.out
    assert f"role public is given nothing on the functions {role} creates" in " ".join(
        r.out.split()
    )

    write_yaml(root, "schemas.yaml", "schemas: [{name: app, privileges: exact}]\n")
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    changes = {c["address"]: c["up"] for c in json.loads(r.out)["changes"]}
    assert changes[f"pg.default_privileges.{role}.*.functions.public"] == [
        f'ALTER DEFAULT PRIVILEGES FOR ROLE "{role}" GRANT EXECUTE ON FUNCTIONS TO PUBLIC'
    ]
    before = pg_conn.execute("SELECT array_agg(defaclacl::text) FROM pg_default_acl").fetchone()
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    after = pg_conn.execute("SELECT array_agg(defaclacl::text) FROM pg_default_acl").fetchone()
    assert after == before


def test_a_routine_made_again_under_default_privileges_keeps_what_roles_held(
    pg_url, pg_conn, tmp_path, roles
):
    role, other = roles
    pg_conn.execute("CREATE SCHEMA app")
    pg_conn.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT EXECUTE ON FUNCTIONS TO {other}")
    pg_conn.execute("CREATE FUNCTION app.f() RETURNS integer LANGUAGE sql AS 'SELECT 1'")
    pg_conn.execute(f"REVOKE EXECUTE ON FUNCTION app.f() FROM {other}")
    pg_conn.execute(f"GRANT EXECUTE ON FUNCTION app.f() TO {role}")
    acl = "SELECT proacl::text FROM pg_proc WHERE oid = 'app.f()'::regprocedure"
    before = pg_conn.execute(acl).fetchone()
    root = tmp_path / "schemas"
    write_yaml(root, "schemas.yaml", "schemas: [app]\n")  # roles not named are left alone
    write_yaml(
        root,
        "functions/app.yaml",
        "functions:\n  - {name: f, schema: app, returns: bigint, language: sql, body: SELECT 1}\n",
    )
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    up = [s for c in json.loads(r.out)["changes"] for s in c["up"]]
    assert f'REVOKE EXECUTE ON ROUTINE "app"."f"() FROM "{other}"' in up  # given by default
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    (held,) = pg_conn.execute(acl).fetchone()
    entries = {e.split("=")[0] for e in held.strip("{}").split(",")}
    assert {role, ""} <= entries and other not in entries  # "": PUBLIC's EXECUTE, as before
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve", "--allow-destructive")
    assert pg_conn.execute(acl).fetchone() == before


@pytest.mark.parametrize(
    "yaml_file",
    [
        None,  # the table dropped
        "table: t\nschema: app\ncolumns: [{name: n, type: text}]\n",  # its columns dropped
    ],
)
def test_a_dropped_sequences_grants_come_back_with_its_column_or_table(
    pg_url, pg_conn, tmp_path, roles, yaml_file
):
    role, _ = roles
    pg_conn.execute("CREATE SCHEMA app")
    pg_conn.execute(
        "CREATE TABLE app.t (id integer GENERATED ALWAYS AS IDENTITY, s serial, n text)"
    )
    pg_conn.execute(f"GRANT USAGE ON SEQUENCE app.t_id_seq, app.t_s_seq TO {role}")
    acl = (
        "SELECT relname, relacl::text FROM pg_class "
        "WHERE relnamespace = 'app'::regnamespace AND relkind = 'S' ORDER BY 1"
    )
    before = pg_conn.execute(acl).fetchall()
    root = tmp_path / "schemas"
    write_yaml(root, "schemas.yaml", "schemas: [{name: app, privileges: exact}]\n")
    if yaml_file:
        write_yaml(root, "tables/t.yaml", yaml_file)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    up = [s for c in json.loads(r.out)["changes"] for s in c["up"]]
    assert not [s for s in up if "REVOKE" in s]  # the sequences go with what owns them
    flags = ("--auto-approve", "--allow-destructive")
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), *flags)
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", *flags)
    assert pg_conn.execute(acl).fetchall() == before


def test_a_renamed_table_and_column_keep_their_grants_under_exact_privileges(
    pg_url, pg_conn, tmp_path, roles
):
    """A rename keeps what roles hold: the plan renames and changes no privilege (the REVOKE
    on the old name, run after the rename, failed the apply), and the rollback renames back."""
    role, _ = roles
    root = tmp_path / "schemas"
    _tree(root, role)
    write_yaml(root, "schemas.yaml", SCHEMA.replace("ROLE", role) + "    privileges: exact\n")
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    renamed = (
        TABLE.replace("ROLE", role)
        .replace("table: accounts", "table: ledger\nrenamed_from: accounts")
        .replace(
            "{name: id, type: integer, nullable: false}",
            "{name: account_id, type: integer, nullable: false, renamed_from: id}",
        )
        .replace("primary_key: [id]", "primary_key: {name: accounts_pkey, columns: [account_id]}")
        .replace("columns: [id]", "columns: [account_id]")
    )
    (root / "tables" / "accounts.yaml").unlink()
    write_yaml(root, "tables/ledger.yaml", renamed)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    kinds = sorted(c["address"].split(".")[1] for c in json.loads(r.out)["changes"])
    assert kinds == ["column", "table"]
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute(
        "SELECT has_table_privilege(%s, 'app.ledger', 'INSERT'), "
        "has_column_privilege('public', 'app.ledger', 'account_id', 'SELECT')",
        (role,),
    ).fetchone() == (True, True)
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_conn.execute(
        "SELECT has_column_privilege('public', 'app.accounts', 'id', 'SELECT')"
    ).fetchone() == (True,)
