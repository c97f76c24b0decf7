-- Tables in scope with their comments, partitioning and parents (columns, constraints and
-- indexes come separately). A partition's parent is its partition_of, never one it inherits.
WITH /*@scope*/,
/*@tables*/
SELECT
    t.nspname::text AS schema,
    t.relname::text AS name,
    d.description AS comment,
    CASE WHEN c.relrowsecurity THEN 'on' ELSE 'off' END AS row_security,
    ARRAY(
        SELECT pg_catalog.jsonb_build_array(pn.nspname::text, pc.relname::text)
        FROM pg_catalog.pg_inherits AS i
        JOIN pg_catalog.pg_class AS pc ON pc.oid = i.inhparent
        JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pc.relnamespace
        WHERE i.inhrelid = t.oid
          AND NOT t.relispartition
        ORDER BY i.inhseqno
    ) AS inherits,
    pg_catalog.pg_get_partkeydef(t.oid) AS partition_by,
    (
        SELECT pg_catalog.jsonb_build_array(pn.nspname::text, pc.relname::text)
        FROM pg_catalog.pg_inherits AS i
        JOIN pg_catalog.pg_class AS pc ON pc.oid = i.inhparent
        JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pc.relnamespace
        WHERE i.inhrelid = t.oid
          AND t.relispartition
    ) AS partition_of,
    pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound,
    c.relforcerowsecurity AS force_row_security,
    c.relreplident AS replica_identity,
    (
        SELECT ic.relname::text
        FROM pg_catalog.pg_index AS i
        JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = t.oid
          AND i.indisreplident
    ) AS replica_identity_index,
    c.relpersistence = 'u' AS unlogged,
    ARRAY(  -- storage parameters, the TOAST table's as toast.<name>
        SELECT o FROM pg_catalog.unnest(c.reloptions) AS o
        UNION ALL
        SELECT 'toast.' || o
        FROM pg_catalog.pg_class AS tc
        CROSS JOIN LATERAL pg_catalog.unnest(tc.reloptions) AS o
        WHERE tc.oid = c.reltoastrelid
    ) AS options,
    -- a partition's indexes attached to its parent's, as [parent's index, own index]
    ARRAY(
        SELECT pg_catalog.jsonb_build_array(pi.relname::text, ci.relname::text)
        FROM pg_catalog.pg_index AS x
        JOIN pg_catalog.pg_inherits AS i ON i.inhrelid = x.indexrelid
        JOIN pg_catalog.pg_class AS ci ON ci.oid = x.indexrelid
        JOIN pg_catalog.pg_class AS pi ON pi.oid = i.inhparent
        WHERE x.indrelid = t.oid
          AND c.relispartition
        ORDER BY pi.relname COLLATE "C"
    ) AS attached_indexes,
    -- a partition's columns NOT NULL where its parent's are not
    ARRAY(
        SELECT a.attname::text
        FROM pg_catalog.pg_attribute AS a
        JOIN pg_catalog.pg_inherits AS i ON i.inhrelid = t.oid
        JOIN pg_catalog.pg_attribute AS pa
            ON pa.attrelid = i.inhparent
           AND pa.attname = a.attname
        WHERE a.attrelid = t.oid
          AND c.relispartition
          AND a.attnum > 0
          AND NOT a.attisdropped
          AND a.attnotnull
          AND NOT pa.attnotnull
        ORDER BY a.attnum
    ) AS not_null,
    pg_catalog.pg_get_userbyid(c.relowner)::text AS owner
FROM tables AS t
JOIN pg_catalog.pg_class AS c ON c.oid = t.oid
-- one index probe per object: with stale catalog statistics (right after a migration) a
-- plain join was planned as a nested loop over every comment in the database
LEFT JOIN LATERAL (
    SELECT dd.description
    FROM pg_catalog.pg_description AS dd
    WHERE dd.objoid = t.oid
      AND dd.classoid = 'pg_catalog.pg_class'::regclass
      AND dd.objsubid = 0
    LIMIT 1
) AS d ON true
ORDER BY t.nspname COLLATE "C", t.relname COLLATE "C"
