-- Indexes of the tables and materialized views in scope, except those backing a primary key, unique or exclusion
-- constraint (the constraint owns them). Per key position k: the column name or, for an
-- expression, its deparsed text; the opclass only when not the default; the collation only
-- when it differs from the column's (for an expression: from its type's default).
WITH /*@scope*/,
/*@tables*/,
-- Indexes that are not owned by a constraint. MATERIALIZED: the per-key work below then runs only
-- for these, not for every index the planner would otherwise feed into it.
-- Materialized views have indexes too (not an extension's).
matviews AS (
    SELECT c.oid, s.nspname, c.relname
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    WHERE c.relkind = 'm'
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = c.oid
            AND dep.deptype = 'e'
      )
),
idx AS MATERIALIZED (
    SELECT i.*, t.nspname, t.relname AS tablename
    FROM (
        SELECT oid, nspname, relname FROM tables
        UNION ALL
        SELECT oid, nspname, relname FROM matviews
    ) AS t
    JOIN pg_catalog.pg_index AS i ON i.indrelid = t.oid
    WHERE NOT EXISTS (
        SELECT FROM pg_catalog.pg_constraint AS c
        WHERE c.conrelid = i.indrelid
          AND c.conindid = i.indexrelid
          AND c.contype IN ('p', 'u', 'x')
    )
      -- an index a partitioned table's index made on a partition belongs to the parent
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_inherits AS inh
          WHERE inh.inhrelid = i.indexrelid
      )
),
-- One row per index attribute (key columns first, then INCLUDE columns), aggregated per index
-- into parallel arrays over the key positions.
keys AS (
    SELECT
        x.indexrelid,
        array_agg(a.attname::text ORDER BY k.pos) FILTER (WHERE k.pos <= x.indnkeyatts)
            AS columns,
        array_agg(
            CASE WHEN k.attnum = 0
                THEN pg_catalog.pg_get_indexdef(x.indexrelid, k.pos::int, true)
            END
            ORDER BY k.pos
        ) FILTER (WHERE k.pos <= x.indnkeyatts) AS expressions,
        array_agg(
            CASE
                WHEN oc.opcdefault THEN NULL
                WHEN ocn.nspname = 'pg_catalog' THEN pg_catalog.format('%%I', oc.opcname)
                ELSE pg_catalog.format('%%I.%%I', ocn.nspname, oc.opcname)
            END
            ORDER BY k.pos
        ) FILTER (WHERE k.pos <= x.indnkeyatts) AS opclasses,
        array_agg(
            CASE
                WHEN co.oid IS NULL THEN NULL
                WHEN co.oid = coalesce(a.attcollation, ity.typcollation) THEN NULL
                WHEN cn.nspname = 'pg_catalog' THEN pg_catalog.format('%%I', co.collname)
                ELSE pg_catalog.format('%%I.%%I', cn.nspname, co.collname)
            END
            ORDER BY k.pos
        ) FILTER (WHERE k.pos <= x.indnkeyatts) AS collations,
        coalesce(
            array_agg(a.attname::text ORDER BY k.pos) FILTER (WHERE k.pos > x.indnkeyatts),
            '{}'
        ) AS include
    FROM idx AS x
    CROSS JOIN LATERAL pg_catalog.unnest(x.indkey::int2[]) WITH ORDINALITY AS k (attnum, pos)
    -- the table column at this position; none for an expression (indkey 0). Each is one index
    -- probe: as plain joins, the planner (expecting few indexes) hashed all of pg_attribute
    -- twice, a cost that grows with the whole database rather than with the indexes read.
    LEFT JOIN LATERAL (
        SELECT att.attname, att.attcollation
        FROM pg_catalog.pg_attribute AS att
        WHERE att.attrelid = x.indrelid
          AND att.attnum = k.attnum
          AND k.attnum <> 0
        LIMIT 1  -- (attrelid, attnum) is unique; the LIMIT keeps the planner from flattening
    ) AS a ON true
    -- for an expression, the index's own attribute carries the expression's type
    LEFT JOIN LATERAL (
        SELECT att.atttypid
        FROM pg_catalog.pg_attribute AS att
        WHERE att.attrelid = x.indexrelid
          AND att.attnum = k.pos
          AND k.attnum = 0
        LIMIT 1
    ) AS ia ON true
    LEFT JOIN pg_catalog.pg_type AS ity ON ity.oid = ia.atttypid
    -- indclass and indcollation have entries for key columns only (0-based like indkey)
    LEFT JOIN pg_catalog.pg_opclass AS oc
        ON oc.oid = x.indclass[k.pos - 1]
       AND k.pos <= x.indnkeyatts
    LEFT JOIN pg_catalog.pg_namespace AS ocn ON ocn.oid = oc.opcnamespace
    LEFT JOIN pg_catalog.pg_collation AS co
        ON co.oid = x.indcollation[k.pos - 1]
       AND k.pos <= x.indnkeyatts
    LEFT JOIN pg_catalog.pg_namespace AS cn ON cn.oid = co.collnamespace
    GROUP BY x.indexrelid
)
SELECT
    x.nspname::text AS schema,
    x.tablename::text AS table,
    ic.relname::text AS name,
    am.amname::text AS method,
    x.indisunique AS is_unique,
    x.indoption::int2[] AS options,
    keys.columns,
    keys.expressions,
    keys.opclasses,
    keys.collations,
    keys.include,
    pg_catalog.pg_get_expr(x.indpred, x.indrelid, true) AS predicate,
    x.indnullsnotdistinct AS nulls_not_distinct,
    d.description AS comment,
    -- false for a build that never finished (CREATE INDEX CONCURRENTLY interrupted or failed:
    -- not ready for inserts, or never validated) and for a concurrent drop cut short
    x.indisvalid AND x.indisready AND x.indislive AS valid,
    coalesce(ic.reloptions, '{}') AS storage
FROM idx AS x
JOIN keys ON keys.indexrelid = x.indexrelid
JOIN pg_catalog.pg_class AS ic ON ic.oid = x.indexrelid
JOIN pg_catalog.pg_am AS am ON am.oid = ic.relam
-- one index probe per object: with stale catalog statistics (right after a migration) a
-- plain join was planned as a nested loop over every comment in the database
LEFT JOIN LATERAL (
    SELECT dd.description
    FROM pg_catalog.pg_description AS dd
    WHERE dd.objoid = x.indexrelid
      AND dd.classoid = 'pg_catalog.pg_class'::regclass
      AND dd.objsubid = 0
    LIMIT 1
) AS d ON true
