-- Columns of the tables in scope, in physical (attnum) order; dropped and system columns skipped.
-- The collation is given only when it differs from the type's own default, named the way
-- format_type() names types: pg_catalog objects bare, everything else schema-qualified.
WITH /*@scope*/,
/*@tables*/
SELECT
    t.nspname::text AS schema,
    t.relname::text AS table,
    a.attname::text AS name,
    pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
    a.attnotnull AS not_null,
    pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS default_or_generated,
    a.attgenerated AS generated,
    a.attidentity AS identity,
    CASE
        WHEN co.oid IS NULL THEN NULL
        WHEN cn.nspname = 'pg_catalog' THEN pg_catalog.format('%%I', co.collname)
        ELSE pg_catalog.format('%%I.%%I', cn.nspname, co.collname)
    END AS collation,
    -- The sequence the column owns (serial): an automatic dependency of a sequence on it.
    -- Identity sequences depend internally ('i') and are part of the identity instead.
    (
        SELECT pg_catalog.format('%%I.%%I', sn.nspname, s.relname)
        FROM pg_catalog.pg_depend AS dep
        JOIN pg_catalog.pg_class AS s ON s.oid = dep.objid AND s.relkind = 'S'
        JOIN pg_catalog.pg_namespace AS sn ON sn.oid = s.relnamespace
        WHERE dep.classid = 'pg_catalog.pg_class'::regclass
          AND dep.refclassid = 'pg_catalog.pg_class'::regclass
          AND dep.refobjid = t.oid
          AND dep.refobjsubid = a.attnum
          AND dep.deptype = 'a'
        ORDER BY s.relname
        LIMIT 1
    ) AS owned_sequence,
    d.description AS comment
FROM tables AS t
JOIN pg_catalog.pg_attribute AS a
    ON a.attrelid = t.oid
   AND a.attnum > 0
   AND NOT a.attisdropped
JOIN pg_catalog.pg_type AS ty ON ty.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef AS ad
    ON ad.adrelid = a.attrelid
   AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation AS co
    ON co.oid = a.attcollation
   AND a.attcollation <> ty.typcollation
LEFT JOIN pg_catalog.pg_namespace AS cn ON cn.oid = co.collnamespace
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = t.oid
   AND d.classoid = 'pg_catalog.pg_class'::regclass
   AND d.objsubid = a.attnum
ORDER BY t.nspname COLLATE "C", t.relname COLLATE "C", a.attnum
