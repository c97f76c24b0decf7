-- Shared by unsupported.sql (spliced in where /*@needs_of*/ stands, after `FROM <rows> AS w`,
-- whose classid/objid name a catalog object): what that object needs, one row per need,
-- `a.address` the needed object's address parts. Read from pg_depend: what the object and its
-- own parts (what depends on it automatically or internally: a table's indexes,
-- constraints and column defaults, a publication's table entries) depend on with deptype 'n'
-- or 'a', mapped to the modelled object it is (a.classid, a.objid: where to go on reading);
-- no row for an object the model does not hold.
CROSS JOIN LATERAL (
    SELECT w.classid AS classid, w.objid AS objid
    UNION ALL
    SELECT p.classid, p.objid
    FROM pg_catalog.pg_depend AS p
    WHERE p.refclassid = w.classid AND p.refobjid = w.objid AND p.deptype IN ('a', 'i')
) AS part
JOIN pg_catalog.pg_depend AS r
    ON r.classid = part.classid AND r.objid = part.objid AND r.deptype IN ('n', 'a')
   AND NOT (r.refclassid = w.classid AND r.refobjid = w.objid)
-- the modelled object r points at, as (classid, objid, address); no row for any other
CROSS JOIN LATERAL (
    -- an extension's member: the extension is what is needed
    SELECT 'pg_catalog.pg_extension'::regclass::oid AS classid, e.oid AS objid,
        ARRAY['extension', e.extname::text] AS address
    FROM pg_catalog.pg_depend AS em
    JOIN pg_catalog.pg_extension AS e ON e.oid = em.refobjid
    WHERE em.classid = r.refclassid AND em.objid = r.refobjid AND em.deptype = 'e'
    UNION ALL
    SELECT r.refclassid, e.oid, ARRAY['extension', e.extname::text]
    FROM pg_catalog.pg_extension AS e
    WHERE r.refclassid = 'pg_catalog.pg_extension'::regclass AND e.oid = r.refobjid
    UNION ALL
    SELECT r.refclassid, s.oid, ARRAY['schema', s.nspname::text]
    FROM scope AS s
    WHERE r.refclassid = 'pg_catalog.pg_namespace'::regclass AND s.oid = r.refobjid
    UNION ALL
    -- permanent tables (a column when one is named), views, sequences (a column's own:
    -- that column) and indexes (a key's: that key)
    SELECT r.refclassid, c.oid,
        CASE
            WHEN c.relkind IN ('r', 'p') AND att.attname IS NOT NULL
                THEN ARRAY['column', s.nspname, c.relname, att.attname]
            WHEN c.relkind IN ('r', 'p') THEN ARRAY['table', s.nspname, c.relname]
            WHEN c.relkind = 'v' THEN ARRAY['view', s.nspname, c.relname]
            WHEN c.relkind = 'm' THEN ARRAY['materialized_view', s.nspname, c.relname]
            WHEN own.attname IS NOT NULL
                THEN ARRAY['column', own.nspname, own.relname, own.attname]
            WHEN c.relkind = 'S' THEN ARRAY['sequence', s.nspname, c.relname]
            WHEN con.conname IS NOT NULL
                THEN ARRAY['constraint', s.nspname, con.relname, con.conname]
            ELSE ARRAY['index', s.nspname, c.relname]
        END::text[]
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_attribute AS att
        ON att.attrelid = c.oid AND att.attnum = r.refobjsubid AND r.refobjsubid > 0
    LEFT JOIN LATERAL (
        SELECT on_.nspname::text, oc.relname::text, oa.attname::text
        FROM pg_catalog.pg_depend AS od
        JOIN pg_catalog.pg_class AS oc ON oc.oid = od.refobjid
        JOIN pg_catalog.pg_namespace AS on_ ON on_.oid = oc.relnamespace
        JOIN pg_catalog.pg_attribute AS oa
            ON oa.attrelid = oc.oid AND oa.attnum = od.refobjsubid
        WHERE c.relkind = 'S'
          AND od.classid = 'pg_catalog.pg_class'::regclass
          AND od.objid = c.oid
          AND od.refclassid = 'pg_catalog.pg_class'::regclass
          AND od.refobjsubid > 0
          AND od.deptype IN ('a', 'i')
        LIMIT 1
    ) AS own (nspname, relname, attname) ON true
    -- the key an index belongs to (through pg_depend, which is indexed; conindid is not)
    LEFT JOIN LATERAL (
        SELECT con.conname::text, ct.relname::text
        FROM pg_catalog.pg_depend AS ic
        JOIN pg_catalog.pg_constraint AS con ON con.oid = ic.refobjid
        JOIN pg_catalog.pg_class AS ct ON ct.oid = con.conrelid
        WHERE c.relkind IN ('i', 'I')
          AND ic.classid = 'pg_catalog.pg_class'::regclass
          AND ic.objid = c.oid
          AND ic.refclassid = 'pg_catalog.pg_constraint'::regclass
          AND ic.deptype = 'i'
          AND con.contype IN ('p', 'u', 'x')
        LIMIT 1
    ) AS con (conname, relname) ON true
    WHERE r.refclassid = 'pg_catalog.pg_class'::regclass
      AND c.oid = r.refobjid
      AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I')
      -- an unlogged free-standing sequence is unmodelled
      AND (c.relpersistence = 'p' OR c.relkind <> 'S' OR own.relname IS NOT NULL)
      AND NOT EXISTS (
          SELECT FROM members AS m
          WHERE m.classid = 'pg_catalog.pg_class'::regclass AND m.objid = c.oid
      )
    UNION ALL
    SELECT r.refclassid, p.oid,
        ARRAY[
            CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END,
            s.nspname::text,
            p.proname::text,
            pg_catalog.oidvectortypes(p.proargtypes)
        ]
    FROM pg_catalog.pg_proc AS p
    JOIN scope AS s ON s.oid = p.pronamespace
    WHERE r.refclassid = 'pg_catalog.pg_proc'::regclass
      AND p.oid = r.refobjid
      AND /*@modelled_routine*/
    UNION ALL
    SELECT r.refclassid, p.oid,
        ARRAY['aggregate', s.nspname::text, p.proname::text,
            pg_catalog.oidvectortypes(p.proargtypes)]
    FROM pg_catalog.pg_proc AS p
    JOIN scope AS s ON s.oid = p.pronamespace
    JOIN pg_catalog.pg_aggregate AS ag ON ag.aggfnoid = p.oid AND ag.aggkind = 'n'
    WHERE r.refclassid = 'pg_catalog.pg_proc'::regclass
      AND p.oid = r.refobjid
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_proc'::regclass
            AND dep.objid = p.oid
            AND dep.deptype IN ('e', 'i')
      )    UNION ALL
    -- enums, domains and composite types (an array of one: that one); a table's row
    -- type is its table
    SELECT
        CASE WHEN tc.relkind IN ('r', 'p') THEN 'pg_catalog.pg_class'::regclass::oid
            ELSE 'pg_catalog.pg_type'::regclass::oid END,
        CASE WHEN tc.relkind IN ('r', 'p') THEN tc.oid ELSE t.oid END,
        ARRAY[
            CASE
                WHEN t.typtype = 'e' THEN 'enum'
                WHEN t.typtype = 'd' THEN 'domain'
                WHEN tc.relkind = 'c' THEN 'composite_type'
                ELSE 'table'
            END,
            s.nspname::text,
            coalesce(tc.relname, t.typname)::text
        ]
    FROM pg_catalog.pg_type AS t0
    JOIN pg_catalog.pg_type AS t
        ON t.oid = CASE WHEN t0.typcategory = 'A' AND t0.typelem <> 0
            THEN t0.typelem ELSE t0.oid END
    JOIN scope AS s ON s.oid = t.typnamespace
    LEFT JOIN pg_catalog.pg_class AS tc ON tc.oid = t.typrelid
    WHERE r.refclassid = 'pg_catalog.pg_type'::regclass
      AND t0.oid = r.refobjid
      AND (
          t.typtype IN ('e', 'd')
          OR (t.typtype = 'c' AND tc.relkind = 'c')
          OR (t.typtype = 'c' AND tc.relkind IN ('r', 'p'))
      )
      AND NOT EXISTS (
          SELECT FROM members AS m
          WHERE m.classid IN ('pg_catalog.pg_type'::regclass, 'pg_catalog.pg_class'::regclass)
            AND m.objid IN (t.oid, t.typrelid)
      )
    UNION ALL
    SELECT r.refclassid, co.oid, ARRAY['collation', s.nspname::text, co.collname::text]
    FROM pg_catalog.pg_collation AS co
    JOIN scope AS s ON s.oid = co.collnamespace
    WHERE r.refclassid = 'pg_catalog.pg_collation'::regclass
      AND co.oid = r.refobjid
      AND pg_catalog.to_jsonb(co) ->> 'collicurules' IS NULL
      AND NOT EXISTS (
          SELECT FROM members AS m
          WHERE m.classid = 'pg_catalog.pg_collation'::regclass AND m.objid = co.oid
      )
    UNION ALL
    -- a table's constraint; a domain's is its domain
    SELECT r.refclassid, con.oid,
        CASE WHEN con.contypid <> 0 THEN ARRAY['domain', s.nspname::text, dt.typname::text]
            ELSE ARRAY['constraint', s.nspname::text, c.relname::text, con.conname::text]
        END
    FROM pg_catalog.pg_constraint AS con
    JOIN scope AS s ON s.oid = con.connamespace
    LEFT JOIN pg_catalog.pg_class AS c ON c.oid = con.conrelid
    LEFT JOIN pg_catalog.pg_type AS dt ON dt.oid = con.contypid
    WHERE r.refclassid = 'pg_catalog.pg_constraint'::regclass
      AND con.oid = r.refobjid
      AND (con.contypid <> 0 OR c.relkind IN ('r', 'p'))
) AS a
