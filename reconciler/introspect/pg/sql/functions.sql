-- Functions and procedures in scope that the model holds: written in a language whose body
-- is text (not C or internal), not an extension's, not made by another object for itself.
-- Everything else in pg_proc is reported as unsupported (unsupported.sql uses the same test).
-- An SQL-standard body (RETURN …, BEGIN ATOMIC … END) is the server's deparse of it; `uses`
-- are the objects the routine depends on as pg_depend records them (an SQL-standard body's
-- functions, relations, columns and types; the types of its arguments and result), each as
-- its address parts (model/address.py, without "pg"), whatever schema it is in: a routine
-- probed in a scratch schema names the real objects it uses (canonical.py).
WITH /*@scope*/
SELECT
    s.nspname::text AS schema,
    p.proname::text AS name,
    pg_catalog.oidvectortypes(p.proargtypes) AS types,
    pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
    CASE WHEN p.prokind = 'p' THEN NULL ELSE pg_catalog.pg_get_function_result(p.oid) END
        AS returns,
    l.lanname::text AS language,
    CASE WHEN p.prosqlbody IS NULL THEN p.prosrc
        ELSE pg_catalog.pg_get_function_sqlbody(p.oid) END AS body,
    p.prosqlbody IS NOT NULL AS sql_body,
    p.provolatile AS volatility,
    p.proisstrict AS strict,
    p.prosecdef AS security_definer,
    p.proleakproof AS leakproof,
    p.proparallel AS parallel,
    coalesce(p.proconfig, '{}') AS config,
    d.description AS comment,
    CASE WHEN p.procost <> 100 THEN p.procost::text END AS cost,
    CASE WHEN p.proretset AND p.prorows <> 1000 THEN p.prorows::text END AS rows,
    ARRAY(
        SELECT DISTINCT u.address
        FROM pg_catalog.pg_depend AS r
        CROSS JOIN LATERAL (
            -- an extension's member: the extension
            SELECT pg_catalog.jsonb_build_array('extension', e.extname::text)
            FROM pg_catalog.pg_depend AS em
            JOIN pg_catalog.pg_extension AS e ON e.oid = em.refobjid
            WHERE em.classid = r.refclassid AND em.objid = r.refobjid AND em.deptype = 'e'
            UNION ALL
            SELECT pg_catalog.jsonb_build_array(
                CASE rp.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                    ELSE 'function' END,
                rs.nspname::text, rp.proname::text, pg_catalog.oidvectortypes(rp.proargtypes))
            FROM pg_catalog.pg_proc AS rp
            JOIN pg_catalog.pg_namespace AS rs ON rs.oid = rp.pronamespace
            WHERE r.refclassid = 'pg_catalog.pg_proc'::regclass AND rp.oid = r.refobjid
              AND NOT EXISTS (
                  SELECT FROM pg_catalog.pg_depend AS em
                  WHERE em.classid = r.refclassid AND em.objid = r.refobjid AND em.deptype = 'e'
              )
            UNION ALL
            -- a relation (a column of it when one is named), or a type: a table's or view's
            -- row type is that relation; an array type is its element's
            SELECT CASE
                WHEN rc.relkind IN ('r', 'p') AND ra.attname IS NOT NULL
                    THEN pg_catalog.jsonb_build_array(
                        'column', rs.nspname::text, rc.relname::text, ra.attname::text)
                WHEN rc.relkind IN ('r', 'p')
                    THEN pg_catalog.jsonb_build_array('table', rs.nspname::text, rc.relname::text)
                WHEN rc.relkind = 'v'
                    THEN pg_catalog.jsonb_build_array('view', rs.nspname::text, rc.relname::text)
                WHEN rc.relkind = 'm'
                    THEN pg_catalog.jsonb_build_array(
                        'materialized_view', rs.nspname::text, rc.relname::text)
                WHEN rc.relkind = 'S'
                    THEN pg_catalog.jsonb_build_array(
                        'sequence', rs.nspname::text, rc.relname::text)
                WHEN rc.relkind = 'c'
                    THEN pg_catalog.jsonb_build_array(
                        'composite_type', rs.nspname::text, rc.relname::text)
                WHEN rt.typtype = 'e'
                    THEN pg_catalog.jsonb_build_array('enum', rs.nspname::text, rt.typname::text)
                WHEN rt.typtype = 'd'
                    THEN pg_catalog.jsonb_build_array('domain', rs.nspname::text, rt.typname::text)
            END
            FROM (
                SELECT r.refobjid AS relid, r.refobjsubid AS attnum, NULL::oid AS typid
                WHERE r.refclassid = 'pg_catalog.pg_class'::regclass
                UNION ALL
                SELECT t.typrelid, 0, t.oid
                FROM pg_catalog.pg_type AS t0
                JOIN pg_catalog.pg_type AS t
                    ON t.oid = CASE WHEN t0.typcategory = 'A' AND t0.typelem <> 0
                        THEN t0.typelem ELSE t0.oid END
                WHERE r.refclassid = 'pg_catalog.pg_type'::regclass AND t0.oid = r.refobjid
            ) AS ref
            LEFT JOIN pg_catalog.pg_class AS rc ON rc.oid = ref.relid
            LEFT JOIN pg_catalog.pg_type AS rt ON rt.oid = ref.typid
            LEFT JOIN pg_catalog.pg_attribute AS ra
                ON ra.attrelid = rc.oid AND ra.attnum = ref.attnum AND ref.attnum > 0
            JOIN pg_catalog.pg_namespace AS rs
                ON rs.oid = coalesce(rc.relnamespace, rt.typnamespace)
            WHERE NOT EXISTS (
                SELECT FROM pg_catalog.pg_depend AS em
                WHERE em.classid = r.refclassid AND em.objid = r.refobjid AND em.deptype = 'e'
            )
        ) AS u (address)
        WHERE r.classid = 'pg_catalog.pg_proc'::regclass
          AND r.objid = p.oid
          AND r.deptype = 'n'
          AND u.address IS NOT NULL
        ORDER BY u.address
    ) AS uses,
    -- the checks, indexes, views, column defaults, triggers and policies bound to it (they
    -- must step aside when it is dropped to be created again), as address parts
    ARRAY(
        SELECT DISTINCT u.address
        FROM pg_catalog.pg_depend AS r
        CROSS JOIN LATERAL (
            SELECT pg_catalog.jsonb_build_array(
                'constraint', cs.nspname::text, cc.relname::text, con.conname::text)
            FROM pg_catalog.pg_constraint AS con
            JOIN pg_catalog.pg_class AS cc ON cc.oid = con.conrelid
            JOIN pg_catalog.pg_namespace AS cs ON cs.oid = cc.relnamespace
            WHERE r.classid = 'pg_catalog.pg_constraint'::regclass AND con.oid = r.objid
              AND con.contype = 'c'
            UNION ALL
            SELECT pg_catalog.jsonb_build_array('index', xs.nspname::text, xc.relname::text)
            FROM pg_catalog.pg_class AS xc
            JOIN pg_catalog.pg_namespace AS xs ON xs.oid = xc.relnamespace
            WHERE r.classid = 'pg_catalog.pg_class'::regclass AND xc.oid = r.objid
              AND xc.relkind IN ('i', 'I')
            UNION ALL
            SELECT pg_catalog.jsonb_build_array(
                CASE WHEN vc.relkind = 'm' THEN 'materialized_view' ELSE 'view' END,
                vs.nspname::text, vc.relname::text)
            FROM pg_catalog.pg_rewrite AS w
            JOIN pg_catalog.pg_class AS vc ON vc.oid = w.ev_class
            JOIN pg_catalog.pg_namespace AS vs ON vs.oid = vc.relnamespace
            WHERE r.classid = 'pg_catalog.pg_rewrite'::regclass AND w.oid = r.objid
              AND vc.relkind IN ('v', 'm')
            UNION ALL
            SELECT pg_catalog.jsonb_build_array(
                'default', ds.nspname::text, dc.relname::text, da.attname::text)
            FROM pg_catalog.pg_attrdef AS ad
            JOIN pg_catalog.pg_class AS dc ON dc.oid = ad.adrelid
            JOIN pg_catalog.pg_namespace AS ds ON ds.oid = dc.relnamespace
            JOIN pg_catalog.pg_attribute AS da
                ON da.attrelid = ad.adrelid AND da.attnum = ad.adnum
            WHERE r.classid = 'pg_catalog.pg_attrdef'::regclass AND ad.oid = r.objid
              AND da.attgenerated = ''
            UNION ALL
            SELECT pg_catalog.jsonb_build_array(
                'trigger', ts.nspname::text, tc.relname::text, tg.tgname::text)
            FROM pg_catalog.pg_trigger AS tg
            JOIN pg_catalog.pg_class AS tc ON tc.oid = tg.tgrelid
            JOIN pg_catalog.pg_namespace AS ts ON ts.oid = tc.relnamespace
            WHERE r.classid = 'pg_catalog.pg_trigger'::regclass AND tg.oid = r.objid
            UNION ALL
            SELECT pg_catalog.jsonb_build_array(
                'policy', ps.nspname::text, pc.relname::text, po.polname::text)
            FROM pg_catalog.pg_policy AS po
            JOIN pg_catalog.pg_class AS pc ON pc.oid = po.polrelid
            JOIN pg_catalog.pg_namespace AS ps ON ps.oid = pc.relnamespace
            WHERE r.classid = 'pg_catalog.pg_policy'::regclass AND po.oid = r.objid
        ) AS u (address)
        WHERE r.refclassid = 'pg_catalog.pg_proc'::regclass
          AND r.refobjid = p.oid
          AND r.deptype = 'n'
        ORDER BY u.address
    ) AS used_by,
    pg_catalog.pg_get_userbyid(p.proowner)::text AS owner
FROM pg_catalog.pg_proc AS p
JOIN scope AS s ON s.oid = p.pronamespace
JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
LEFT JOIN LATERAL (
    SELECT dd.description
    FROM pg_catalog.pg_description AS dd
    WHERE dd.objoid = p.oid
      AND dd.classoid = 'pg_catalog.pg_proc'::regclass
      AND dd.objsubid = 0
    LIMIT 1
) AS d ON true
WHERE /*@modelled_routine*/
