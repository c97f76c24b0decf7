-- Shared (spliced in where /*@modelled_routine*/ stands): a pg_proc row `p` the model holds.
p.prokind IN ('f', 'p')
      AND p.prolang NOT IN (
          SELECT lo.oid FROM pg_catalog.pg_language AS lo WHERE lo.lanname IN ('c', 'internal')
      )
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_proc'::regclass
            AND dep.objid = p.oid
            AND dep.deptype IN ('e', 'i')
      )
