-- Schemas in scope, with their comments.
-- Scope (the same CTE opens every per-table file): not a system schema (pg_*, information_schema),
-- not one of the tool's own schemas (bind parameter "excluded"), not created by an extension, and
-- one of the bind parameter "schemas" when that is not NULL.
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
)
SELECT
    s.nspname::text AS name,
    d.description AS comment
FROM scope AS s
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = s.oid
   AND d.classoid = 'pg_catalog.pg_namespace'::regclass
   AND d.objsubid = 0
ORDER BY s.nspname COLLATE "C"
