-- The database-level objects, in one query (kind, name, schema, version, labels, comment): the
-- schemas in scope with their comments, the installed extensions, and the enum types in scope
-- (not extension members) with their labels in sort order.
-- Scope (the same CTE opens every per-table file): not a system schema (pg_*, information_schema),
-- not one of the tool's own schemas (bind parameter "excluded"), not created by an extension, and
-- one of the bind parameter "schemas" when that is not NULL.
-- An extension is a database-wide object: with no schema scope every one is listed; with a
-- scope, those installed into an in-scope schema. plpgsql is always there and never managed; an
-- extension living in one of the tool's own schemas is not ours to manage either.
WITH /*@scope*/
SELECT
    'schema' AS kind,
    s.nspname::text AS name,
    NULL::text AS schema,
    NULL::text AS version,
    NULL::text[] AS labels,
    d.description AS comment
FROM scope AS s
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = s.oid
   AND d.classoid = 'pg_catalog.pg_namespace'::regclass
   AND d.objsubid = 0
UNION ALL
SELECT
    'extension',
    e.extname::text,
    n.nspname::text,
    e.extversion,
    NULL,
    NULL
FROM pg_catalog.pg_extension AS e
JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
  AND n.nspname <> ALL (%(excluded)s::text[])
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
UNION ALL
SELECT
    'enum',
    t.typname::text,
    s.nspname::text,
    NULL,
    ARRAY(
        SELECT e.enumlabel::text
        FROM pg_catalog.pg_enum AS e
        WHERE e.enumtypid = t.oid
        ORDER BY e.enumsortorder
    ),
    d.description
FROM pg_catalog.pg_type AS t
JOIN scope AS s ON s.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = t.oid
   AND d.classoid = 'pg_catalog.pg_type'::regclass
   AND d.objsubid = 0
WHERE t.typtype = 'e'
  AND NOT EXISTS (
      SELECT FROM pg_catalog.pg_depend AS dep
      WHERE dep.classid = 'pg_catalog.pg_type'::regclass
        AND dep.objid = t.oid
        AND dep.deptype = 'e'
  )
