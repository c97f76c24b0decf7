"""One value per table, in one query: `SELECT 0, <expr of table 0> UNION ALL SELECT 1, …`.

For the few questions a plan asks of the tables it is about to drop or retype (has it rows?
how many does pg_class estimate?), however many tables they are.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql


def per_table(
    conn: psycopg.Connection, tables: list[tuple[str, str]], expression: str
) -> dict[tuple[str, str], Any]:
    """`expression` for each (schema, table): `{table}` in it stands for the quoted table,
    `{name}` for its regclass. Runs in a transaction of its own, so a failure leaves none
    open; psycopg.Error is the caller's to handle."""
    if not tables:
        return {}
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
    with conn.transaction():
        rows = conn.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    return {tables[i]: value for i, value in rows}
