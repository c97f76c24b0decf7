-- Shared (spliced in where /*@tables*/ stands): ordinary and partitioned tables, permanent or
-- unlogged, partitions included, in scope that no extension owns.
tables AS (
    SELECT c.oid, s.nspname, c.relname, c.relispartition
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p')
      AND c.relpersistence IN ('p', 'u')
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = c.oid
            AND dep.deptype = 'e'
      )
)
