-- Row-level security policies of the tables in scope: command, permissive or restrictive, the
-- roles (by name, `public` for PUBLIC) and the USING / WITH CHECK expressions as the server
-- prints them under the empty search_path.
WITH /*@scope*/,
/*@tables*/
SELECT
    t.nspname::text AS schema,
    t.relname::text AS table,
    p.polname::text AS name,
    p.polcmd AS command,
    p.polpermissive AS permissive,
    ARRAY(
        SELECT CASE WHEN r.oid = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(r.oid)::text END
        FROM pg_catalog.unnest(p.polroles) AS r (oid)
    ) AS roles,
    pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using,
    pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS check,
    d.description AS comment
FROM tables AS t
JOIN pg_catalog.pg_policy AS p ON p.polrelid = t.oid
LEFT JOIN LATERAL (
    SELECT dd.description
    FROM pg_catalog.pg_description AS dd
    WHERE dd.objoid = p.oid
      AND dd.classoid = 'pg_catalog.pg_policy'::regclass
      AND dd.objsubid = 0
    LIMIT 1
) AS d ON true
