-- Functions and procedures in scope that the model holds: written in a language whose body
-- is text (not C or internal), not an SQL-standard body (BEGIN ATOMIC), not an extension's,
-- not made by another object for itself. Everything else in pg_proc is reported as
-- unsupported (unsupported.sql uses the same test).
WITH /*@scope*/
SELECT
    s.nspname::text AS schema,
    p.proname::text AS name,
    pg_catalog.oidvectortypes(p.proargtypes) AS types,
    pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
    CASE WHEN p.prokind = 'p' THEN NULL ELSE pg_catalog.pg_get_function_result(p.oid) END
        AS returns,
    l.lanname::text AS language,
    p.prosrc AS body,
    p.provolatile AS volatility,
    p.proisstrict AS strict,
    p.prosecdef AS security_definer,
    p.proleakproof AS leakproof,
    p.proparallel AS parallel,
    coalesce(p.proconfig, '{}') AS config,
    d.description AS comment
FROM pg_catalog.pg_proc AS p
JOIN scope AS s ON s.oid = p.pronamespace
JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
LEFT JOIN LATERAL (
    SELECT dd.description
    FROM pg_catalog.pg_description AS dd
    WHERE dd.objoid = p.oid
      AND dd.classoid = 'pg_catalog.pg_proc'::regclass
      AND dd.objsubid = 0
    LIMIT 1
) AS d ON true
WHERE /*@modelled_routine*/
