"""A deterministic database of N tables of realistic shape, as one SQL script.

Table i is the same whatever N is (its shape depends on i alone), so the 100-table database is
the first 100 tables of the 1,000-table one. Per table:

- `id uuid` primary key, default gen_random_uuid();
- created_at / updated_at timestamptz not null default now();
- six typed columns: text, integer, numeric(12,2), boolean, jsonb, varchar(64) (a few defaults);
- from the second table on, a foreign key to an earlier table (on delete cascade for every
  third table), through a `<parent>_id uuid` column;
- two indexes: one plain, one multi-column (even tables) or partial (odd tables);
- a check constraint on every 5th table, an enum column on every 10th table (each enum is
  shared by three such tables), and a comment on every table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NOUNS = (
    "accounts", "addresses", "articles", "batches", "bookings", "carts", "categories",
    "contracts", "customers", "deliveries", "devices", "documents", "events", "invoices",
    "items", "jobs", "ledgers", "licenses", "messages", "notes", "orders", "payments",
    "projects", "receipts", "refunds", "reports", "reviews", "runs", "sessions", "shipments",
    "subscriptions", "tasks", "teams", "tickets", "transfers", "users", "vendors", "visits",
)  # fmt: skip
ENUM_LABELS = ("pending", "active", "suspended", "archived")
TABLES_PER_ENUM = 3  # enum columns are on every 10th table; each enum serves three of them


@dataclass(frozen=True, slots=True)
class SchemaShape:
    """What the generated script creates, for checking what the tools report."""

    tables: int
    indexes: int
    foreign_keys: int
    checks: int
    enums: int


def table_name(i: int) -> str:
    return f"{NOUNS[i % len(NOUNS)]}_{i:05d}"


def enum_name(i: int) -> str:
    return f"status_{i // 10 // TABLES_PER_ENUM:04d}"


def _has_enum(i: int) -> bool:
    return i % 10 == 0


def _has_check(i: int) -> bool:
    return i % 5 == 0


def _parent(i: int) -> int | None:
    """An earlier table, mostly a recent one (as in real schemas), never itself."""
    if i == 0:
        return None
    rng = random.Random(i)
    return max(0, i - 1 - int(rng.expovariate(1 / 20)))


def _table_sql(i: int) -> list[str]:
    name = table_name(i)
    parent = _parent(i)
    cols = [
        "id uuid NOT NULL DEFAULT gen_random_uuid()",
        "created_at timestamptz NOT NULL DEFAULT now()",
        "updated_at timestamptz NOT NULL DEFAULT now()",
        "title text NOT NULL",
        "quantity integer NOT NULL DEFAULT 0",
        "amount numeric(12,2)",
        "is_active boolean NOT NULL DEFAULT true",
        "attributes jsonb NOT NULL DEFAULT '{}'::jsonb",
        "code varchar(64)",
    ]
    if _has_enum(i):
        cols.append(f"status {enum_name(i)} NOT NULL DEFAULT 'pending'")
    if parent is not None:
        cols.append(f"{table_name(parent)}_id uuid" + (" NOT NULL" if i % 2 else ""))
    cons = [f"CONSTRAINT {name}_pkey PRIMARY KEY (id)"]
    if _has_check(i):
        cons.append(f"CONSTRAINT ck_{name}_amount CHECK (amount >= 0 AND quantity >= 0)")
    if parent is not None:
        parent_name = table_name(parent)
        on_delete = " ON DELETE CASCADE" if i % 3 == 0 else ""
        cons.append(
            f"CONSTRAINT fk_{name}_{parent_name} FOREIGN KEY ({parent_name}_id) "
            f"REFERENCES {parent_name} (id){on_delete}"
        )
    body = ",\n    ".join(cols + cons)
    out = [f"CREATE TABLE {name} (\n    {body}\n);"]
    out.append(f"CREATE INDEX idx_{name}_code ON {name} (code);")
    if i % 2 == 0:
        out.append(f"CREATE INDEX idx_{name}_title_created_at ON {name} (title, created_at DESC);")
    else:
        out.append(f"CREATE INDEX idx_{name}_amount_active ON {name} (amount) WHERE is_active;")
    out.append(f"COMMENT ON TABLE {name} IS 'Benchmark table {i} ({NOUNS[i % len(NOUNS)]}).';")
    return out


def shape(n: int) -> SchemaShape:
    return SchemaShape(
        tables=n,
        indexes=2 * n,
        foreign_keys=max(0, n - 1),
        checks=sum(1 for i in range(n) if _has_check(i)),
        enums=len({enum_name(i) for i in range(n) if _has_enum(i)}),
    )


def generate_sql(n: int) -> str:
    """The script creating the N-table database in schema public (run it with psql -1)."""
    lines = [f"-- reconciler benchmark database: {n} tables (bench/schema_gen.py)"]
    for e in sorted({enum_name(i) for i in range(n) if _has_enum(i)}):
        labels = ", ".join(f"'{label}'" for label in ENUM_LABELS)
        lines.append(f"CREATE TYPE {e} AS ENUM ({labels});")
    for i in range(n):
        lines += _table_sql(i)
    return "\n".join(lines) + "\n"
