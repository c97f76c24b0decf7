-- Tables in scope with their comments (columns, constraints and indexes come separately).
WITH scope AS (
    SELECT n.oid, n.nspname
    FROM pg_catalog.pg_namespace AS n
    WHERE n.nspname NOT LIKE 'pg\_%%'
      AND n.nspname <> ALL (%(excluded)s::text[])
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_namespace'::regclass
            AND dep.objid = n.oid
            AND dep.deptype = 'e'
      )
),
-- Ordinary, permanent, non-partition tables that no extension owns.
tables AS (
    SELECT c.oid, s.nspname, c.relname
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    WHERE c.relkind = 'r'
      AND NOT c.relispartition
      AND c.relpersistence <> 't'
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = c.oid
            AND dep.deptype = 'e'
      )
)
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
