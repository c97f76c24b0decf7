-- Primary key, unique, check and foreign key constraints declared on the tables in scope
-- (conislocal: inherited copies belong to the parent). Column lists are returned in key order;
-- the referenced table of a foreign key may lie outside the scope, so its names are read here.
WITH /*@scope*/,
/*@tables*/
SELECT
    t.nspname::text AS schema,
    t.relname::text AS table,
    con.conname::text AS name,
    con.contype AS kind,
    ARRAY(
        SELECT a.attname::text
        FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY AS k (attnum, ord)
        JOIN pg_catalog.pg_attribute AS a
            ON a.attrelid = con.conrelid
           AND a.attnum = k.attnum
        ORDER BY k.ord
    ) AS columns,
    con.condeferrable AS deferrable,
    con.condeferred AS initially_deferred,
    coalesce(i.indnullsnotdistinct, false) AS nulls_not_distinct,
    CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_expr(con.conbin, con.conrelid) END
        AS expression,
    rn.nspname::text AS ref_schema,
    rc.relname::text AS ref_table,
    ARRAY(
        SELECT a.attname::text
        FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY AS k (attnum, ord)
        JOIN pg_catalog.pg_attribute AS a
            ON a.attrelid = con.confrelid
           AND a.attnum = k.attnum
        ORDER BY k.ord
    ) AS ref_columns,
    con.confdeltype AS on_delete,
    con.confupdtype AS on_update,
    con.confmatchtype AS match_type,
    d.description AS comment
FROM tables AS t
JOIN pg_catalog.pg_constraint AS con ON con.conrelid = t.oid
LEFT JOIN pg_catalog.pg_index AS i
    ON i.indexrelid = con.conindid
   AND con.contype = 'u'
LEFT JOIN pg_catalog.pg_class AS rc ON rc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = con.oid
   AND d.classoid = 'pg_catalog.pg_constraint'::regclass
   AND d.objsubid = 0
WHERE con.contype IN ('p', 'u', 'c', 'f')
  AND con.conislocal
ORDER BY t.nspname COLLATE "C", t.relname COLLATE "C", con.conname COLLATE "C"
