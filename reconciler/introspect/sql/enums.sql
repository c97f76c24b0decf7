-- Enum types in scope (not extension members), labels in their sort order.
WITH /*@scope*/
SELECT
    s.nspname::text AS schema,
    t.typname::text AS name,
    ARRAY(
        SELECT e.enumlabel::text
        FROM pg_catalog.pg_enum AS e
        WHERE e.enumtypid = t.oid
        ORDER BY e.enumsortorder
    ) AS labels,
    d.description AS comment
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
ORDER BY s.nspname COLLATE "C", t.typname COLLATE "C"
