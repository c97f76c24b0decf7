-- Everything in scope that the model cannot express yet, as (kind, name): plan and export
-- report each one as "unsupported: <kind> <name>" instead of passing over it in silence.
-- Objects an extension owns belong to the extension and are left out, like everywhere else.
WITH /*@scope*/,
members AS (
    SELECT dep.classid, dep.objid
    FROM pg_catalog.pg_depend AS dep
    WHERE dep.deptype = 'e'
),
rels AS (
    SELECT c.*, s.nspname
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    WHERE NOT EXISTS (
        SELECT FROM members AS m
        WHERE m.classid = 'pg_catalog.pg_class'::regclass AND m.objid = c.oid
    )
),
found (kind, name) AS (
    -- relation kinds without a model
    SELECT 'foreign table', pg_catalog.format('%%I.%%I', r.nspname, r.relname)
    FROM rels AS r
    WHERE r.relkind = 'f'
    UNION ALL
    -- tables read as plain tables, though they are more
    SELECT 'unlogged table', pg_catalog.format('%%I.%%I', r.nspname, r.relname)
    FROM rels AS r
    WHERE r.relkind IN ('r', 'p') AND r.relpersistence = 'u'
    UNION ALL
    -- a partition's columns are its parent's (PARTITION OF copies the parent's defaults):
    -- a default of its own or a comment on one of them is not modelled
    SELECT 'partition column', pg_catalog.format('%%I.%%I.%%I', r.nspname, r.relname, a.attname)
    FROM rels AS r
    JOIN pg_catalog.pg_inherits AS inh ON inh.inhrelid = r.oid
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = r.oid AND a.attnum > 0
    JOIN pg_catalog.pg_attribute AS pa ON pa.attrelid = inh.inhparent AND pa.attname = a.attname
    LEFT JOIN pg_catalog.pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    LEFT JOIN pg_catalog.pg_attrdef AS pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum
    WHERE r.relispartition
      AND NOT a.attisdropped
      AND (
          pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)
              IS DISTINCT FROM pg_catalog.pg_get_expr(pd.adbin, pd.adrelid)
          OR EXISTS (
              SELECT FROM pg_catalog.pg_description AS d
              WHERE d.objoid = r.oid
                AND d.classoid = 'pg_catalog.pg_class'::regclass
                AND d.objsubid = a.attnum
          )
      )
    UNION ALL
    -- row-level security of tables is modelled; FORCE without ENABLE means nothing yet
    SELECT 'row-level security', pg_catalog.format('%%I.%%I', r.nspname, r.relname)
    FROM rels AS r
    WHERE r.relkind IN ('r', 'p') AND r.relforcerowsecurity AND NOT r.relrowsecurity
    UNION ALL
    -- a view's options and column comments are modelled; a table's or index's storage not
    SELECT 'storage parameters', pg_catalog.format('%%I.%%I', r.nspname, r.relname)
    FROM rels AS r
    WHERE r.relkind IN ('r', 'p', 'i') AND r.reloptions IS NOT NULL
    UNION ALL
    -- privileges other than the owner's defaults (an ACL a GRANT then REVOKE left equal to
    -- the default is not reported)
    SELECT 'privileges', pg_catalog.format('%%I.%%I', r.nspname, r.relname)
    FROM rels AS r
    WHERE r.relacl IS NOT NULL
      -- those of tables, views and free-standing sequences are modelled
      AND (
          r.relkind NOT IN ('r', 'p', 'v', 'm', 'S')
          OR EXISTS (
              SELECT FROM pg_catalog.pg_depend AS dep
              WHERE dep.classid = 'pg_catalog.pg_class'::regclass
                AND dep.objid = r.oid
                AND dep.refobjsubid > 0
                AND dep.deptype = 'i'  -- a serial column's sequence's are modelled
          )
      )
      AND NOT r.relacl OPERATOR(pg_catalog.<@) pg_catalog.acldefault(
          CASE WHEN r.relkind = 'S' THEN 's' ELSE 'r' END::"char", r.relowner
      )
    UNION ALL
    SELECT 'column privileges', pg_catalog.format('%%I.%%I.%%I', r.nspname, r.relname, a.attname)
    FROM rels AS r
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = r.oid AND a.attnum > 0
    WHERE pg_catalog.cardinality(a.attacl) > 0 AND NOT a.attisdropped
      AND (r.relkind NOT IN ('r', 'p', 'v', 'm') OR r.relispartition)
    UNION ALL
    SELECT
        CASE WHEN t.tgconstraint <> 0 THEN 'constraint trigger' ELSE 'trigger' END,
        pg_catalog.format('%%I on %%I.%%I', t.tgname, r.nspname, r.relname)
    FROM pg_catalog.pg_trigger AS t
    JOIN rels AS r ON r.oid = t.tgrelid
    WHERE NOT t.tgisinternal
      AND t.tgparentid = 0  -- a copy on a partition: reported (or not) with its original
      AND t.tgfoid NOT IN (  -- the tool's own (triggers.sql)
          SELECT p.oid FROM pg_catalog.pg_proc AS p
          WHERE p.pronamespace = pg_catalog.to_regnamespace('reconciler')
      )
      -- triggers of plain tables are modelled; see triggers.sql for which
      AND NOT (
          r.relkind IN ('r', 'p')
          AND EXISTS (
              SELECT FROM pg_catalog.pg_trigger AS tg
              WHERE tg.oid = t.oid AND /*@modelled_trigger*/
          )
      )
    UNION ALL
    SELECT 'policy', pg_catalog.format('%%I on %%I.%%I', p.polname, r.nspname, r.relname)
    FROM pg_catalog.pg_policy AS p
    JOIN rels AS r ON r.oid = p.polrelid
    WHERE r.relkind NOT IN ('r', 'p')  -- a table's policies are modelled
    UNION ALL
    SELECT 'rule', pg_catalog.format('%%I on %%I.%%I', w.rulename, r.nspname, r.relname)
    FROM pg_catalog.pg_rewrite AS w
    JOIN rels AS r ON r.oid = w.ev_class
    WHERE w.rulename <> '_RETURN'
    UNION ALL
    SELECT 'extended statistics', pg_catalog.format('%%I.%%I', s.nspname, st.stxname)
    FROM pg_catalog.pg_statistic_ext AS st
    JOIN scope AS s ON s.oid = st.stxnamespace
    UNION ALL
    -- routines
    SELECT
        CASE p.prokind
            WHEN 'p' THEN 'procedure'
            WHEN 'a' THEN 'aggregate'
            WHEN 'w' THEN 'window function'
            ELSE 'function'
        END,
        pg_catalog.format(
            '%%I.%%I(%%s)', s.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)
        )
    FROM pg_catalog.pg_proc AS p
    JOIN scope AS s ON s.oid = p.pronamespace
    WHERE NOT EXISTS (
        SELECT FROM members AS m
        WHERE m.classid = 'pg_catalog.pg_proc'::regclass AND m.objid = p.oid
    )
      -- functions another object made for itself (a range type's constructors)
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_proc'::regclass
            AND dep.objid = p.oid
            AND dep.deptype = 'i'
      )
      AND NOT (/*@modelled_routine*/)
    UNION ALL
    -- types other than enums (modelled), arrays and row types (implicit)
    SELECT
        CASE ty.typtype WHEN 'r' THEN 'range type' ELSE 'base type' END,
        pg_catalog.format('%%I.%%I', s.nspname, ty.typname)
    FROM pg_catalog.pg_type AS ty
    JOIN scope AS s ON s.oid = ty.typnamespace
    WHERE ty.typtype IN ('r', 'b')
      AND NOT (ty.typtype = 'b' AND ty.typcategory = 'A')
      AND NOT EXISTS (
          SELECT FROM members AS m
          WHERE m.classid = 'pg_catalog.pg_type'::regclass AND m.objid = ty.oid
      )
    UNION ALL
    SELECT 'collation', pg_catalog.format('%%I.%%I', s.nspname, co.collname)
    FROM pg_catalog.pg_collation AS co
    JOIN scope AS s ON s.oid = co.collnamespace
    WHERE NOT EXISTS (
        SELECT FROM members AS m
        WHERE m.classid = 'pg_catalog.pg_collation'::regclass AND m.objid = co.oid
    )
    UNION ALL
    SELECT 'operator', pg_catalog.format('%%I.%%s', s.nspname, o.oprname)
    FROM pg_catalog.pg_operator AS o
    JOIN scope AS s ON s.oid = o.oprnamespace
    WHERE NOT EXISTS (
        SELECT FROM members AS m
        WHERE m.classid = 'pg_catalog.pg_operator'::regclass AND m.objid = o.oid
    )
    UNION ALL
    SELECT 'text search configuration', pg_catalog.format('%%I.%%I', s.nspname, c.cfgname)
    FROM pg_catalog.pg_ts_config AS c
    JOIN scope AS s ON s.oid = c.cfgnamespace
    WHERE NOT EXISTS (
        SELECT FROM members AS m
        WHERE m.classid = 'pg_catalog.pg_ts_config'::regclass AND m.objid = c.oid
    )
)
SELECT d.kind, d.name
FROM (SELECT DISTINCT kind, name FROM found) AS d
ORDER BY d.kind COLLATE "C", d.name COLLATE "C"
