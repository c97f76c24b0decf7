-- Rules (CREATE RULE) of the tables, partitioned tables and views in scope that no extension
-- owns; not a view's own `_RETURN` rule, which is the view. The definition is read back whole
-- (pretty, names schema-qualified under the empty search_path); the reader takes its
-- condition and commands from it. What the rule names, one (schema, relation, column) per
-- pg_depend row, column NULL when a whole relation is meant.
WITH /*@scope*/,
relations AS (
    SELECT c.oid, s.nspname, c.relname
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v')
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = c.oid
            AND dep.deptype = 'e'
      )
)
SELECT
    t.nspname::text AS schema,
    t.relname::text AS table,
    w.rulename::text AS name,
    w.ev_type::text AS event,
    w.is_instead AS instead,
    pg_catalog.pg_get_ruledef(w.oid, true) AS definition,
    w.ev_enabled::text AS enabled,
    d.description AS comment,
    ARRAY(
        SELECT pg_catalog.jsonb_build_array(rn.nspname::text, rc.relname::text, a.attname::text)
        FROM pg_catalog.pg_depend AS dep
        JOIN pg_catalog.pg_class AS rc ON rc.oid = dep.refobjid
        JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rc.relnamespace
        LEFT JOIN pg_catalog.pg_attribute AS a
            ON a.attrelid = dep.refobjid
           AND a.attnum = dep.refobjsubid
           AND dep.refobjsubid > 0
        WHERE dep.classid = 'pg_catalog.pg_rewrite'::regclass
          AND dep.objid = w.oid
          AND dep.refclassid = 'pg_catalog.pg_class'::regclass
          AND dep.deptype = 'n'
    ) AS reads
FROM relations AS t
JOIN pg_catalog.pg_rewrite AS w ON w.ev_class = t.oid
LEFT JOIN LATERAL (
    SELECT dd.description
    FROM pg_catalog.pg_description AS dd
    WHERE dd.objoid = w.oid
      AND dd.classoid = 'pg_catalog.pg_rewrite'::regclass
      AND dd.objsubid = 0
    LIMIT 1
) AS d ON true
WHERE w.rulename <> '_RETURN'
