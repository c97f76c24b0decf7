-- Ordinary aggregates in scope that no extension owns, as pg_aggregate holds them: routines
-- schema-qualified, types as format_type prints them (schema-qualified under the empty
-- search_path), the sort operator as schema.name. Ordered-set and hypothetical-set aggregates
-- (aggkind 'o', 'h') are reported as unsupported instead (the same test in unsupported.sql).
-- `used_by`: what depends on each (pg_describe_object; a view as `view schema.name`), to
-- refuse a drop Postgres would refuse.
WITH /*@scope*/
SELECT
    s.nspname::text AS schema,
    p.proname::text AS name,
    pg_catalog.oidvectortypes(p.proargtypes) AS types,
    pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
    (SELECT pg_catalog.format('%%I.%%I', fs.nspname, f.proname)
     FROM pg_catalog.pg_proc AS f JOIN pg_catalog.pg_namespace AS fs ON fs.oid = f.pronamespace
     WHERE f.oid = a.aggtransfn) AS sfunc,
    pg_catalog.format_type(a.aggtranstype, NULL) AS stype,
    a.aggtransspace AS sspace,
    (SELECT pg_catalog.format('%%I.%%I', fs.nspname, f.proname)
     FROM pg_catalog.pg_proc AS f JOIN pg_catalog.pg_namespace AS fs ON fs.oid = f.pronamespace
     WHERE f.oid = a.aggfinalfn) AS finalfunc,
    a.aggfinalextra AS finalfunc_extra,
    a.aggfinalmodify::text AS finalfunc_modify,
    (SELECT pg_catalog.format('%%I.%%I', fs.nspname, f.proname)
     FROM pg_catalog.pg_proc AS f JOIN pg_catalog.pg_namespace AS fs ON fs.oid = f.pronamespace
     WHERE f.oid = a.aggcombinefn) AS combinefunc,
    (SELECT pg_catalog.format('%%I.%%I', fs.nspname, f.proname)
     FROM pg_catalog.pg_proc AS f JOIN pg_catalog.pg_namespace AS fs ON fs.oid = f.pronamespace
     WHERE f.oid = a.aggserialfn) AS serialfunc,
    (SELECT pg_catalog.format('%%I.%%I', fs.nspname, f.proname)
     FROM pg_catalog.pg_proc AS f JOIN pg_catalog.pg_namespace AS fs ON fs.oid = f.pronamespace
     WHERE f.oid = a.aggdeserialfn) AS deserialfunc,
    a.agginitval AS initcond,
    (SELECT pg_catalog.format('%%I.%%I', fs.nspname, f.proname)
     FROM pg_catalog.pg_proc AS f JOIN pg_catalog.pg_namespace AS fs ON fs.oid = f.pronamespace
     WHERE f.oid = a.aggmtransfn) AS msfunc,
    (SELECT pg_catalog.format('%%I.%%I', fs.nspname, f.proname)
     FROM pg_catalog.pg_proc AS f JOIN pg_catalog.pg_namespace AS fs ON fs.oid = f.pronamespace
     WHERE f.oid = a.aggminvtransfn) AS minvfunc,
    CASE WHEN a.aggmtranstype <> 0 THEN pg_catalog.format_type(a.aggmtranstype, NULL) END
        AS mstype,
    a.aggmtransspace AS msspace,
    (SELECT pg_catalog.format('%%I.%%I', fs.nspname, f.proname)
     FROM pg_catalog.pg_proc AS f JOIN pg_catalog.pg_namespace AS fs ON fs.oid = f.pronamespace
     WHERE f.oid = a.aggmfinalfn) AS mfinalfunc,
    a.aggmfinalextra AS mfinalfunc_extra,
    a.aggmfinalmodify::text AS mfinalfunc_modify,
    a.aggminitval AS minitcond,
    (SELECT pg_catalog.format('%%I.%%s', os.nspname, o.oprname)
     FROM pg_catalog.pg_operator AS o JOIN pg_catalog.pg_namespace AS os ON os.oid = o.oprnamespace
     WHERE o.oid = a.aggsortop) AS sortop,
    p.proparallel::text AS parallel,
    d.description AS comment,
    ARRAY(
        -- a view's (or materialized view's) query as `view schema.name`
        SELECT coalesce(
            (SELECT pg_catalog.format('view %%I.%%I', vs.nspname, vc.relname)
             FROM pg_catalog.pg_rewrite AS w
             JOIN pg_catalog.pg_class AS vc ON vc.oid = w.ev_class
             JOIN pg_catalog.pg_namespace AS vs ON vs.oid = vc.relnamespace
             WHERE dep.classid = 'pg_catalog.pg_rewrite'::regclass
               AND w.oid = dep.objid AND w.rulename = '_RETURN'),
            pg_catalog.pg_describe_object(dep.classid, dep.objid, dep.objsubid))
        FROM pg_catalog.pg_depend AS dep
        WHERE dep.refclassid = 'pg_catalog.pg_proc'::regclass
          AND dep.refobjid = p.oid
          AND dep.deptype = 'n'
        ORDER BY 1
    ) AS used_by
FROM pg_catalog.pg_aggregate AS a
JOIN pg_catalog.pg_proc AS p ON p.oid = a.aggfnoid
JOIN scope AS s ON s.oid = p.pronamespace
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = p.oid
   AND d.classoid = 'pg_catalog.pg_proc'::regclass
   AND d.objsubid = 0
WHERE a.aggkind = 'n'
  AND NOT EXISTS (
      SELECT FROM pg_catalog.pg_depend AS dep
      WHERE dep.classid = 'pg_catalog.pg_proc'::regclass
        AND dep.objid = p.oid
        AND dep.deptype IN ('e', 'i')
  )
