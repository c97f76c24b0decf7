"""One value per table: `SELECT 0, <expr of table 0> UNION ALL SELECT 1, …`, a query per
CHUNK tables.

For the few questions a plan asks of the tables it is about to drop or retype (has it rows?
how many does pg_class estimate? how many rows would a rollback's drops take?), however many
tables they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql


# Tables per query, each query a transaction of its own. A query that reads a table locks it,
# and its indexes while it is planned, until its transaction ends; the server's lock table is
# shared and fixed in size (apply/pg/lock_table.py), so one query over the thousands of tables
# of a plan big enough to need --in-batches would fail with "out of shared memory" itself.
CHUNK = 50


def per_table(
    conn: psycopg.Connection, tables: list[tuple[str, str]], expression: str
) -> dict[tuple[str, str], Any]:
    """`expression` for each (schema, table): `{table}` in it stands for the quoted table,
    `{name}` for its regclass. psycopg.Error is the caller's to handle."""
    from psycopg import sql  # deferred: start-up: psycopg

    parts = [
        sql.SQL("SELECT {}::int, " + expression).format(
            sql.Literal(i),
            table=sql.Identifier(schema, name),
            name=sql.SQL("{}::regclass").format(
                sql.Literal(sql.Identifier(schema, name).as_string(conn))
            ),
        )
        for i, (schema, name) in enumerate(tables)
    ]
    return {tables[i]: value for i, value in union_in_chunks(conn, parts)}


def union_in_chunks(conn: psycopg.Connection, parts: list[sql.Composable]) -> list[tuple]:
    """The rows of `parts` (SELECTs of the same columns), CHUNK of them UNION ALL-ed per
    query, each query in a transaction of its own (on an autocommit connection), so that a
    failure leaves none open and no transaction holds more than CHUNK tables' locks."""
    from psycopg import sql  # deferred: start-up: psycopg

    rows: list[tuple] = []
    for start in range(0, len(parts), CHUNK):
        with conn.transaction():
            query = sql.SQL(" UNION ALL ").join(parts[start : start + CHUNK])
            rows += conn.execute(query).fetchall()
    return rows
