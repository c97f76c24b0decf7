-- Schemas in scope, with their comments.
-- Scope (the same CTE opens every per-table file): not a system schema (pg_*, information_schema),
-- not one of the tool's own schemas (bind parameter "excluded"), not created by an extension, and
-- one of the bind parameter "schemas" when that is not NULL.
WITH /*@scope*/
SELECT
    s.nspname::text AS name,
    d.description AS comment
FROM scope AS s
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = s.oid
   AND d.classoid = 'pg_catalog.pg_namespace'::regclass
   AND d.objsubid = 0
ORDER BY s.nspname COLLATE "C"
