-- Installed extensions. An extension is a database-wide object: with no schema scope every one is
-- listed; with a scope, those installed into an in-scope schema. plpgsql is always there and never
-- managed; an extension living in one of the tool's own schemas is not ours to manage either.
SELECT
    e.extname::text AS name,
    n.nspname::text AS schema,
    e.extversion AS version
FROM pg_catalog.pg_extension AS e
JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
  AND n.nspname <> ALL (%(excluded)s::text[])
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
ORDER BY e.extname COLLATE "C"
