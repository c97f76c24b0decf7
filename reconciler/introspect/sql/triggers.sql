-- Triggers on the tables in scope that the model holds: not internal (those belong to
-- constraints), without transition tables, enabled as created; constraint triggers too.
-- Everything else is listed by unsupported.sql (the same test, spliced in both).
-- The definition is read back whole; the reader takes its WHEN condition from it.
WITH /*@scope*/,
/*@tables*/
SELECT
    t.nspname::text AS schema,
    t.relname::text AS table,
    tg.tgname::text AS name,
    tg.tgtype::int AS type,
    ARRAY(
        SELECT a.attname::text
        FROM pg_catalog.unnest(tg.tgattr::int2[]) WITH ORDINALITY AS k (attnum, ord)
        JOIN pg_catalog.pg_attribute AS a ON a.attrelid = tg.tgrelid AND a.attnum = k.attnum
        ORDER BY k.ord
    ) AS columns,
    pg_catalog.format('%%I.%%I', fn.nspname, f.proname) AS function,
    tg.tgnargs AS nargs,
    tg.tgargs AS args,
    pg_catalog.pg_get_triggerdef(tg.oid) AS definition,
    d.description AS comment,
    tg.tgconstraint <> 0 AS is_constraint,
    tg.tgdeferrable AS deferrable,
    tg.tginitdeferred AS initially_deferred
FROM tables AS t
JOIN pg_catalog.pg_trigger AS tg ON tg.tgrelid = t.oid
JOIN pg_catalog.pg_proc AS f ON f.oid = tg.tgfoid
JOIN pg_catalog.pg_namespace AS fn ON fn.oid = f.pronamespace
LEFT JOIN LATERAL (
    SELECT dd.description
    FROM pg_catalog.pg_description AS dd
    WHERE dd.objoid = tg.oid
      AND dd.classoid = 'pg_catalog.pg_trigger'::regclass
      AND dd.objsubid = 0
    LIMIT 1
) AS d ON true
WHERE /*@modelled_trigger*/
  -- the tool's own (a phased column change keeps two columns in step): neither modelled nor
  -- reported, like its schema
  AND fn.nspname <> 'reconciler'
