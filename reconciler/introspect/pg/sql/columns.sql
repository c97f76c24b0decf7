-- Columns of the tables in scope with their attnum (the reader puts them in physical order: a
-- server-side sort of every column costs more than sorting each table's few in Python);
-- dropped and system columns skipped.
-- The collation is given only when it differs from the type's own default, named the way
-- format_type() names types: pg_catalog objects bare, everything else schema-qualified.
WITH /*@scope*/,
/*@tables*/,
-- The sequence a column owns (serial): an automatic dependency of a sequence on the column
-- that the column's default calls; an identity column's sequence depends internally ('i'):
-- its options are the identity's. A sequence the column owns but its default does not call
-- is free-standing, with its owner (objects.sql). Read once and joined, not asked per column.
owned AS (
    SELECT DISTINCT ON (dep.refobjid, dep.refobjsubid)
        dep.refobjid AS table_oid,
        dep.refobjsubid AS attnum,
        pg_catalog.format('%%I.%%I', sn.nspname, s.relname) AS sequence,
        sq.seqstart, sq.seqincrement, sq.seqmin, sq.seqmax, sq.seqcache, sq.seqcycle,
        pg_catalog.format_type(sq.seqtypid, NULL) AS seqtype,
        sd.description AS seqcomment
    FROM pg_catalog.pg_depend AS dep
    JOIN pg_catalog.pg_class AS s ON s.oid = dep.objid AND s.relkind = 'S'
    JOIN pg_catalog.pg_namespace AS sn ON sn.oid = s.relnamespace
    JOIN pg_catalog.pg_sequence AS sq ON sq.seqrelid = s.oid
    LEFT JOIN pg_catalog.pg_description AS sd
        ON sd.objoid = s.oid
       AND sd.classoid = 'pg_catalog.pg_class'::regclass
       AND sd.objsubid = 0
    WHERE dep.classid = 'pg_catalog.pg_class'::regclass
      AND dep.refclassid = 'pg_catalog.pg_class'::regclass
      AND dep.refobjsubid > 0
      AND (dep.deptype = 'i' OR (dep.deptype = 'a' AND EXISTS (
          SELECT FROM pg_catalog.pg_attrdef AS ad
          JOIN pg_catalog.pg_depend AS used
              ON used.classid = 'pg_catalog.pg_attrdef'::regclass
             AND used.objid = ad.oid
             AND used.refclassid = 'pg_catalog.pg_class'::regclass
             AND used.refobjid = s.oid
          WHERE ad.adrelid = dep.refobjid AND ad.adnum = dep.refobjsubid
      )))
    -- a default calling two sequences its column owns: the first by name (_unmodelled.sql)
    ORDER BY dep.refobjid, dep.refobjsubid, s.relname COLLATE "C"
)
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
    owned.sequence AS owned_sequence,
    d.description AS comment,
    owned.seqstart, owned.seqincrement, owned.seqmin, owned.seqmax, owned.seqcache,
    owned.seqcycle, owned.seqtype, owned.seqcomment,
    a.attnum
FROM tables AS t
JOIN pg_catalog.pg_attribute AS a
    ON a.attrelid = t.oid
   AND a.attnum > 0
   AND NOT a.attisdropped
   AND a.attislocal  -- a column only inherited belongs to the parent table
   AND NOT t.relispartition  -- a partition's columns are all its parent's
JOIN pg_catalog.pg_type AS ty ON ty.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef AS ad
    ON ad.adrelid = a.attrelid
   AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation AS co
    ON co.oid = a.attcollation
   AND a.attcollation <> ty.typcollation
LEFT JOIN pg_catalog.pg_namespace AS cn ON cn.oid = co.collnamespace
-- one index probe per object: with stale catalog statistics (right after a migration) a
-- plain join was planned as a nested loop over every comment in the database
LEFT JOIN LATERAL (
    SELECT dd.description
    FROM pg_catalog.pg_description AS dd
    WHERE dd.objoid = t.oid
      AND dd.classoid = 'pg_catalog.pg_class'::regclass
      AND dd.objsubid = a.attnum
    LIMIT 1
) AS d ON true
LEFT JOIN owned
    ON owned.table_oid = t.oid
   AND owned.attnum = a.attnum
