-- Primary key, unique, check and foreign key constraints declared on the tables in scope
-- (conislocal: inherited copies belong to the parent; conparentid: so do the copies a
-- partitioned table's constraints make on its partitions). Column lists are in key order;
-- the referenced table of a foreign key may lie outside the scope, so its names are read here.
WITH /*@scope*/,
/*@tables*/,
cons AS MATERIALIZED (
    SELECT con.*, t.nspname, t.relname
    FROM tables AS t
    JOIN pg_catalog.pg_constraint AS con ON con.conrelid = t.oid
    WHERE con.contype IN ('p', 'u', 'c', 'f', 'x')
      AND con.conislocal
      AND con.conparentid = 0
),
-- Column names in key order, for the constrained and the referenced columns: one pass with an
-- index probe per key column (a subquery per constraint costs twice as much).
key_names AS (
    SELECT c.oid, array_agg(a.attname::text ORDER BY k.ord) AS columns
    FROM cons AS c
    CROSS JOIN LATERAL pg_catalog.unnest(c.conkey) WITH ORDINALITY AS k (attnum, ord)
    JOIN LATERAL (
        SELECT att.attname
        FROM pg_catalog.pg_attribute AS att
        WHERE att.attrelid = c.conrelid
          AND att.attnum = k.attnum
        LIMIT 1  -- (attrelid, attnum) is unique; the LIMIT keeps each lookup an index probe
    ) AS a ON true
    GROUP BY c.oid
),
ref_names AS (
    SELECT c.oid, array_agg(a.attname::text ORDER BY k.ord) AS columns
    FROM cons AS c
    CROSS JOIN LATERAL pg_catalog.unnest(c.confkey) WITH ORDINALITY AS k (attnum, ord)
    JOIN LATERAL (
        SELECT att.attname
        FROM pg_catalog.pg_attribute AS att
        WHERE att.attrelid = c.confrelid
          AND att.attnum = k.attnum
        LIMIT 1
    ) AS a ON true
    WHERE c.contype = 'f'
    GROUP BY c.oid
)
SELECT
    con.nspname::text AS schema,
    con.relname::text AS table,
    con.conname::text AS name,
    con.contype AS kind,
    coalesce(kn.columns, '{}') AS columns,
    con.condeferrable AS deferrable,
    con.condeferred AS initially_deferred,
    coalesce(i.indnullsnotdistinct, false) AS nulls_not_distinct,
    CASE con.contype
        WHEN 'c' THEN pg_catalog.pg_get_expr(con.conbin, con.conrelid)
        WHEN 'x' THEN pg_catalog.pg_get_constraintdef(con.oid)
    END AS expression,
    rn.nspname::text AS ref_schema,
    rc.relname::text AS ref_table,
    coalesce(rf.columns, '{}') AS ref_columns,
    con.confdeltype AS on_delete,
    con.confupdtype AS on_update,
    con.confmatchtype AS match_type,
    d.description AS comment,
    con.convalidated AS valid,
    con.connoinherit AS no_inherit,
    -- a NOT VALID check's copies validated on partitions or child tables, at any depth
    CASE WHEN con.contype = 'c' AND NOT con.convalidated AND NOT con.connoinherit THEN (
        WITH RECURSIVE below (oid) AS (
            SELECT h.inhrelid FROM pg_catalog.pg_inherits AS h WHERE h.inhparent = con.conrelid
            UNION
            SELECT h.inhrelid
            FROM pg_catalog.pg_inherits AS h
            JOIN below AS b ON h.inhparent = b.oid
        )
        SELECT pg_catalog.jsonb_agg(
            pg_catalog.jsonb_build_array(n.nspname, c.relname) ORDER BY n.nspname, c.relname
        )
        FROM below AS b
        JOIN pg_catalog.pg_constraint AS k
            ON k.conrelid = b.oid AND k.conname = con.conname AND k.contype = 'c'
        JOIN pg_catalog.pg_class AS c ON c.oid = b.oid
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE k.convalidated
    ) END AS valid_on,
    -- a key's index's storage parameters, in the catalog's order (an exclusion's are in its
    -- pg_get_constraintdef text)
    coalesce(ic.reloptions, '{}') AS options
FROM cons AS con
LEFT JOIN key_names AS kn ON kn.oid = con.oid
LEFT JOIN ref_names AS rf ON rf.oid = con.oid
LEFT JOIN pg_catalog.pg_index AS i
    ON i.indexrelid = con.conindid
   AND con.contype = 'u'
LEFT JOIN pg_catalog.pg_class AS ic
    ON ic.oid = con.conindid
   AND con.contype IN ('p', 'u')
LEFT JOIN pg_catalog.pg_class AS rc ON rc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rc.relnamespace
-- one index probe per object: with stale catalog statistics (right after a migration) a
-- plain join was planned as a nested loop over every comment in the database
LEFT JOIN LATERAL (
    SELECT dd.description
    FROM pg_catalog.pg_description AS dd
    WHERE dd.objoid = con.oid
      AND dd.classoid = 'pg_catalog.pg_constraint'::regclass
      AND dd.objsubid = 0
    LIMIT 1
) AS d ON true
