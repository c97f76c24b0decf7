-- Views and materialized views in scope (not an extension's), with the server's own text of
-- their query (names schema-qualified under the empty search_path) and what they read: one
-- (schema, relation, column) per pg_depend row of their rewrite rule, column NULL when the
-- whole relation is meant. That is the server's record, not a reading of the query text.
WITH /*@scope*/,
views AS (
    SELECT c.oid, s.nspname, c.relname, c.relkind, c.reloptions, c.relowner
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm')
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = c.oid
            AND dep.deptype = 'e'
      )
),
reads AS (
    SELECT
        r.ev_class AS view_oid,
        array_agg(rn.nspname::text ORDER BY rn.nspname, rc.relname, dep.refobjsubid) AS schemas,
        array_agg(rc.relname::text ORDER BY rn.nspname, rc.relname, dep.refobjsubid) AS relations,
        array_agg(a.attname::text ORDER BY rn.nspname, rc.relname, dep.refobjsubid) AS columns
    FROM views AS v
    JOIN pg_catalog.pg_rewrite AS r ON r.ev_class = v.oid AND r.rulename = '_RETURN'
    JOIN pg_catalog.pg_depend AS dep
        ON dep.classid = 'pg_catalog.pg_rewrite'::regclass
       AND dep.objid = r.oid
       AND dep.refclassid = 'pg_catalog.pg_class'::regclass
       AND dep.refobjid <> v.oid
    JOIN pg_catalog.pg_class AS rc ON rc.oid = dep.refobjid
    JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rc.relnamespace
    LEFT JOIN pg_catalog.pg_attribute AS a
        ON a.attrelid = dep.refobjid
       AND a.attnum = dep.refobjsubid
       AND dep.refobjsubid > 0
    GROUP BY r.ev_class
)
SELECT
    v.nspname::text AS schema,
    v.relname::text AS name,
    v.relkind = 'm' AS materialized,
    pg_catalog.pg_get_viewdef(v.oid, true) AS query,
    d.description AS comment,
    reads.schemas,
    reads.relations,
    reads.columns,
    coalesce(v.reloptions, '{}') AS options,
    ARRAY(
        SELECT pg_catalog.jsonb_build_array(a.attname::text, cd.description)
        FROM pg_catalog.pg_description AS cd
        JOIN pg_catalog.pg_attribute AS a ON a.attrelid = v.oid AND a.attnum = cd.objsubid
        WHERE cd.objoid = v.oid
          AND cd.classoid = 'pg_catalog.pg_class'::regclass
          AND cd.objsubid > 0
    ) AS column_comments,
    pg_catalog.pg_get_userbyid(v.relowner)::text AS owner
FROM views AS v
LEFT JOIN reads ON reads.view_oid = v.oid
LEFT JOIN LATERAL (
    SELECT dd.description
    FROM pg_catalog.pg_description AS dd
    WHERE dd.objoid = v.oid
      AND dd.classoid = 'pg_catalog.pg_class'::regclass
      AND dd.objsubid = 0
    LIMIT 1
) AS d ON true
