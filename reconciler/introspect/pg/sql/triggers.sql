-- Triggers on the tables and views in scope that the model holds: not internal (those belong
-- to constraints), not a partition's copy of its parent's; constraint triggers too.
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
    tg.tginitdeferred AS initially_deferred,
    fr.nspname::text AS from_schema,
    frc.relname::text AS from_table,
    tg.tgoldtable::text AS old_table,
    tg.tgnewtable::text AS new_table,
    tg.tgenabled::text AS enabled
FROM (
    SELECT tb.oid, tb.nspname, tb.relname FROM tables AS tb
    UNION ALL  -- views, for their INSTEAD OF (and statement) triggers
    SELECT c.oid, s.nspname, c.relname
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    WHERE c.relkind = 'v'
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = c.oid
            AND dep.deptype = 'e'
      )
) AS t
JOIN pg_catalog.pg_trigger AS tg ON tg.tgrelid = t.oid
JOIN pg_catalog.pg_proc AS f ON f.oid = tg.tgfoid
JOIN pg_catalog.pg_namespace AS fn ON fn.oid = f.pronamespace
LEFT JOIN (  -- a constraint trigger's FROM
    pg_catalog.pg_class AS frc
    JOIN pg_catalog.pg_namespace AS fr ON fr.oid = frc.relnamespace
) ON frc.oid = tg.tgconstrrelid
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
