-- Shared (spliced in where /*@tables*/ stands): ordinary and partitioned permanent tables,
-- partitions included, in scope that no extension owns. An unlogged table is not one of
-- them: the model has no persistence, so it is reported as unsupported instead (never read as
-- a plain table, so never compared, exported or dropped as one).
tables AS (
    SELECT c.oid, s.nspname, c.relname, c.relispartition
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p')
      AND c.relpersistence = 'p'
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = c.oid
            AND dep.deptype = 'e'
      )
)
