-- Tables in scope with their comments (columns, constraints and indexes come separately).
WITH /*@scope*/,
/*@tables*/
SELECT
    t.nspname::text AS schema,
    t.relname::text AS name,
    d.description AS comment
FROM tables AS t
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = t.oid
   AND d.classoid = 'pg_catalog.pg_class'::regclass
   AND d.objsubid = 0
ORDER BY t.nspname COLLATE "C", t.relname COLLATE "C"
