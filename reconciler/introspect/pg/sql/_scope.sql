-- Shared by every kind's query (spliced in where /*@scope*/ stands): the schemas in scope,
-- never system schemas, the tool's own, those reconciler.yaml leaves out of scope (LIKE
-- patterns, scope.py), or schemas an extension owns.
scope AS (
    SELECT n.oid, n.nspname
    FROM pg_catalog.pg_namespace AS n
    WHERE n.nspname NOT LIKE 'pg\_%%'
      AND n.nspname <> ALL (%(excluded)s::text[])
      AND NOT (n.nspname LIKE ANY (%(out_of_scope)s::text[]))
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_namespace'::regclass
            AND dep.objid = n.oid
            AND dep.deptype = 'e'
      )
)
