-- Shared by unsupported.sql and needs.sql (spliced in where /*@unmodelled*/ stands, after the
-- scope): `found` (kind, name, classid, objid) is everything in scope that the model cannot
-- express, one rule for all of it: reported, never compared, never exported, never dropped.
-- classid/objid name the catalog object (NULL for a property of a modelled object, such as
-- its storage parameters), so that needs.sql can read what it depends on. Objects an
-- extension owns belong to the extension and are left out, like everywhere else. Objects of
-- the database rather than of a schema (event triggers, publications, foreign servers …) are
-- listed when the scope is the whole database.
-- (an extension's members depend on it with deptype 'e', and on nothing else with it: read
-- through the extensions, by pg_depend's index on what is depended on, not by a scan of it)
members AS (
    SELECT dep.classid, dep.objid
    FROM pg_catalog.pg_extension AS x
    JOIN pg_catalog.pg_depend AS dep
        ON dep.refclassid = 'pg_catalog.pg_extension'::regclass AND dep.refobjid = x.oid
    WHERE dep.deptype = 'e'
),
rels AS (
    SELECT
        c.oid,
        c.relname,
        s.nspname,
        c.relkind,
        c.relpersistence,
        c.relispartition,
        c.relowner,
        c.relacl,
        c.reloptions
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    WHERE NOT EXISTS (
        SELECT FROM members AS m
        WHERE m.classid = 'pg_catalog.pg_class'::regclass AND m.objid = c.oid
    )
),
-- the columns (of any relation) with a property one of the parts below looks for, read in one
-- scan of pg_attribute: each part keeps its own conditions, every one of which implies one
-- of these, instead of looking up every relation's columns by index once per part
noted AS (
    SELECT
        a.attrelid,
        a.attnum,
        a.attname,
        a.attnotnull,
        a.atthasdef,
        a.attislocal,
        a.attinhcount,
        a.attstattarget,
        a.attstorage,
        a.attcompression AS attcompression,
        a.attoptions,
        a.attacl,
        ty.typstorage
    FROM pg_catalog.pg_attribute AS a
    JOIN pg_catalog.pg_type AS ty ON ty.oid = a.atttypid
    WHERE a.attnum > 0
      AND NOT a.attisdropped
      AND (
          a.attinhcount > 0
          OR a.attstattarget >= 0
          OR a.attoptions IS NOT NULL
          OR a.attacl IS NOT NULL
          OR a.attcompression <> ''
          OR a.attstorage <> ty.typstorage
      )
),
whole_database AS (
    SELECT WHERE %(schemas)s::text[] IS NULL
),
found (kind, name, classid, objid) AS (
    -- relation kinds without a model
    SELECT
        'foreign table',
        pg_catalog.format('%%I.%%I', r.nspname, r.relname),
        'pg_catalog.pg_class'::regclass,
        r.oid
    FROM rels AS r
    WHERE r.relkind = 'f'
    UNION ALL
    -- unlogged free-standing sequences: a sequence has no persistence in the model, so they
    -- are not read as plain ones (objects.sql keeps to permanent sequences)
    SELECT
        'unlogged sequence',
        pg_catalog.format('%%I.%%I', r.nspname, r.relname),
        'pg_catalog.pg_class'::regclass,
        r.oid
    FROM rels AS r
    WHERE r.relkind = 'S' AND r.relpersistence = 'u'
      AND NOT EXISTS (  -- a column's own sequence (serial, identity) goes with its table
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = r.oid
            AND dep.refobjsubid > 0
            AND (dep.deptype = 'i' OR (dep.deptype = 'a' AND EXISTS (
                SELECT FROM pg_catalog.pg_attrdef AS ad
                JOIN pg_catalog.pg_depend AS used
                    ON used.classid = 'pg_catalog.pg_attrdef'::regclass
                   AND used.objid = ad.oid
                   AND used.refclassid = 'pg_catalog.pg_class'::regclass
                   AND used.refobjid = r.oid
                WHERE ad.adrelid = dep.refobjid AND ad.adnum = dep.refobjsubid
            )))
      )
    UNION ALL
    -- a column owns one sequence in the model (columns.sql: the one its default calls, the
    -- first by name when it calls several it owns); the others its default calls are not
    -- modelled. One owned by a column the model does not hold (a partition's, an inherited
    -- one, a foreign table's) and not called by its default is not modelled either
    -- (objects.sql reads the others as free-standing sequences with their owner).
    SELECT
        CASE WHEN called.yes THEN 'second sequence of a column'
             ELSE 'sequence owned by an unmodelled column' END,
        pg_catalog.format('%%I.%%I', r.nspname, r.relname),
        'pg_catalog.pg_class'::regclass,
        r.oid
    FROM rels AS r
    JOIN pg_catalog.pg_depend AS dep
        ON dep.classid = 'pg_catalog.pg_class'::regclass
       AND dep.objid = r.oid
       AND dep.refclassid = 'pg_catalog.pg_class'::regclass
       AND dep.refobjsubid > 0
       AND dep.deptype = 'a'
    JOIN pg_catalog.pg_class AS t ON t.oid = dep.refobjid
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = dep.refobjsubid
    CROSS JOIN LATERAL (
        SELECT EXISTS (
            SELECT FROM pg_catalog.pg_attrdef AS ad
            JOIN pg_catalog.pg_depend AS used
                ON used.classid = 'pg_catalog.pg_attrdef'::regclass
               AND used.objid = ad.oid
               AND used.refclassid = 'pg_catalog.pg_class'::regclass
               AND used.refobjid = r.oid
            WHERE ad.adrelid = dep.refobjid AND ad.adnum = dep.refobjsubid
        ) AS yes
    ) AS called
    WHERE r.relkind = 'S'
      AND CASE
          WHEN called.yes THEN EXISTS (  -- … another it owns, earlier by name, is called too
              SELECT FROM pg_catalog.pg_depend AS other
              JOIN pg_catalog.pg_class AS o ON o.oid = other.objid
              JOIN pg_catalog.pg_attrdef AS ad
                  ON ad.adrelid = dep.refobjid AND ad.adnum = dep.refobjsubid
              JOIN pg_catalog.pg_depend AS used
                  ON used.classid = 'pg_catalog.pg_attrdef'::regclass
                 AND used.objid = ad.oid
                 AND used.refclassid = 'pg_catalog.pg_class'::regclass
                 AND used.refobjid = o.oid
              WHERE other.classid = 'pg_catalog.pg_class'::regclass
                AND other.objid <> r.oid
                AND other.refclassid = 'pg_catalog.pg_class'::regclass
                AND (other.refobjid, other.refobjsubid) = (dep.refobjid, dep.refobjsubid)
                AND other.deptype = 'a'
                AND o.relname COLLATE "C" < r.relname COLLATE "C"
          )
          ELSE NOT (t.relkind IN ('r', 'p') AND NOT t.relispartition AND a.attislocal)
      END
    UNION ALL
    -- a partition's columns are its parent's (PARTITION OF copies the parent's defaults):
    -- a default of its own or a comment on one of them is not modelled
    SELECT
        'partition column',
        pg_catalog.format('%%I.%%I.%%I', r.nspname, r.relname, a.attname),
        NULL,
        NULL
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
    -- the inherited columns of a child table (not a partition) are its parents' (columns.sql
    -- reads a table's own): a default, a NOT NULL or a comment of its own is not modelled. A
    -- NOT NULL one of its parents has too, or its primary key gives it, is not its own.
    SELECT
        'inherited column',
        pg_catalog.format('%%I.%%I.%%I', r.nspname, r.relname, a.attname),
        NULL,
        NULL
    FROM rels AS r
    JOIN noted AS a ON a.attrelid = r.oid AND a.attinhcount > 0 AND NOT a.attislocal
    -- what a parent's column of that name has alike (the deparsed defaults compared only when
    -- both have one and their stored trees differ)
    CROSS JOIN LATERAL (
        SELECT
            pg_catalog.bool_or(
                pa.atthasdef = a.atthasdef
                AND (
                    NOT a.atthasdef
                    OR pd.adbin::text = ad.adbin::text
                    OR pg_catalog.pg_get_expr(pd.adbin, pd.adrelid)
                        = pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)
                )
            ) AS default_alike,
            pg_catalog.bool_or(pa.attnotnull) AS not_null
        FROM pg_catalog.pg_inherits AS inh
        JOIN pg_catalog.pg_attribute AS pa
            ON pa.attrelid = inh.inhparent AND pa.attname = a.attname
        LEFT JOIN pg_catalog.pg_attrdef AS pd
            ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum AND pa.atthasdef
        LEFT JOIN pg_catalog.pg_attrdef AS ad
            ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum AND a.atthasdef
        WHERE inh.inhrelid = r.oid
    ) AS p
    WHERE r.relkind IN ('r', 'p') AND NOT r.relispartition
      AND (
          p.default_alike IS NOT true
          OR (
              a.attnotnull
              AND p.not_null IS NOT true
              AND NOT EXISTS (
                  SELECT FROM pg_catalog.pg_constraint AS con
                  WHERE con.conrelid = r.oid
                    AND con.contype = 'p'
                    AND a.attnum = ANY (con.conkey)
              )
          )
          OR EXISTS (
              SELECT FROM pg_catalog.pg_description AS d
              WHERE d.objoid = r.oid
                AND d.classoid = 'pg_catalog.pg_class'::regclass
                AND d.objsubid = a.attnum
          )
      )
    UNION ALL
    -- a column's planner and storage settings: SET STATISTICS, SET STORAGE other than its
    -- type's, SET COMPRESSION, SET (n_distinct …). ALTER TABLE gives them to the inheriting
    -- tables and partitions too (CREATE copies storage and compression): a copy of a parent's
    -- is reported with the parent, a setting of the column's own with the column.
    SELECT
        x.kind,
        pg_catalog.format('%%I.%%I.%%I', r.nspname, r.relname, a.attname),
        NULL,
        NULL
    FROM noted AS a
    JOIN rels AS r ON r.oid = a.attrelid
    LEFT JOIN LATERAL (  -- a parent's column of that name holding the same
        SELECT
            pg_catalog.bool_or(pa.attstattarget = a.attstattarget) AS statistics,
            pg_catalog.bool_or(pa.attstorage = a.attstorage) AS storage,
            pg_catalog.bool_or(pa.attcompression = a.attcompression) AS compression,
            pg_catalog.bool_or(pa.attoptions = a.attoptions) AS options
        FROM pg_catalog.pg_inherits AS inh
        JOIN pg_catalog.pg_attribute AS pa
            ON pa.attrelid = inh.inhparent AND pa.attname = a.attname
        WHERE inh.inhrelid = r.oid AND a.attinhcount > 0
    ) AS p ON true
    CROSS JOIN LATERAL (
        VALUES
            ('column statistics target', a.attstattarget >= 0 AND p.statistics IS NOT true),
            ('column storage', a.attstorage <> a.typstorage AND p.storage IS NOT true),
            ('column compression', a.attcompression <> '' AND p.compression IS NOT true),
            ('column options', a.attoptions IS NOT NULL AND p.options IS NOT true)
    ) AS x (kind, found)
    WHERE (
          a.attstattarget >= 0  -- -1 (NULL from PostgreSQL 17 on): the default
          OR a.attcompression <> ''
          OR a.attoptions IS NOT NULL
          OR a.attstorage <> a.typstorage
      )
      AND r.relkind IN ('r', 'p', 'm')
      AND x.found
    UNION ALL
    -- the options of views, tables, their own indexes and their keys' indexes are modelled;
    -- those a partition's copy of a partitioned index or key has apart from its parent's are not
    SELECT 'storage parameters', pg_catalog.format('%%I.%%I', r.nspname, r.relname), NULL, NULL
    FROM rels AS r
    WHERE r.relkind = 'i' AND r.reloptions IS NOT NULL
      AND EXISTS (
          SELECT FROM pg_catalog.pg_inherits AS inh
          JOIN pg_catalog.pg_class AS pi ON pi.oid = inh.inhparent
          WHERE inh.inhrelid = r.oid AND pi.reloptions IS DISTINCT FROM r.reloptions
      )
    UNION ALL
    -- a table clustered on an index (ALTER TABLE … CLUSTER ON)
    SELECT 'clustered index', pg_catalog.format('%%I.%%I', r.nspname, r.relname), NULL, NULL
    FROM pg_catalog.pg_index AS i
    JOIN rels AS r ON r.oid = i.indexrelid
    WHERE i.indisclustered
    UNION ALL
    -- an index column's statistics target (ALTER INDEX … ALTER COLUMN n SET STATISTICS) and
    -- its operator class's parameters (gist_trgm_ops (siglen = 32)): indexes.sql reads the
    -- operator class by name only; an exclusion constraint's are in its definition. A
    -- partition's copy of a partitioned index's is reported with that index.
    SELECT
        x.kind,
        pg_catalog.format('%%I.%%I column %%s', r.nspname, r.relname, a.attnum),
        NULL,
        NULL
    FROM rels AS r
    JOIN noted AS a
        ON a.attrelid = r.oid AND (a.attstattarget >= 0 OR a.attoptions IS NOT NULL)
    LEFT JOIN LATERAL (
        SELECT
            pg_catalog.bool_or(pa.attstattarget = a.attstattarget) AS statistics,
            pg_catalog.bool_or(pa.attoptions = a.attoptions) AS options
        FROM pg_catalog.pg_inherits AS inh
        JOIN pg_catalog.pg_attribute AS pa
            ON pa.attrelid = inh.inhparent AND pa.attnum = a.attnum
        WHERE inh.inhrelid = r.oid
    ) AS p ON true
    CROSS JOIN LATERAL (
        VALUES
            (
                'index column statistics target',
                a.attstattarget >= 0 AND p.statistics IS NOT true
            ),
            (
                'operator class parameters',
                a.attoptions IS NOT NULL AND p.options IS NOT true AND NOT EXISTS (
                    SELECT FROM pg_catalog.pg_constraint AS con
                    WHERE con.conindid = r.oid AND con.contype = 'x'
                )
            )
    ) AS x (kind, found)
    WHERE r.relkind IN ('i', 'I') AND x.found
    UNION ALL
    -- the comment of a key's index (the key's own comment is modelled) and of a partition's
    -- index attached to its parent's (indexes.sql reads the parent's)
    -- (each index looks its comment up by the index on pg_description, OFFSET 0 keeping it a
    -- lookup: as a join, catalog statistics older than the indexes, as right after an apply,
    -- made it a nested loop over every pair of comment and relation)
    SELECT 'index comment', pg_catalog.format('%%I.%%I', r.nspname, r.relname), NULL, NULL
    FROM rels AS r
    WHERE r.relkind IN ('i', 'I')
      AND EXISTS (
          SELECT FROM pg_catalog.pg_description AS d
          WHERE d.objoid = r.oid
            AND d.classoid = 'pg_catalog.pg_class'::regclass
            AND d.objsubid = 0
          OFFSET 0
      )
      AND (
          EXISTS (
              SELECT FROM pg_catalog.pg_constraint AS con
              WHERE con.conindid = r.oid AND con.contype IN ('p', 'u', 'x')
          )
          OR EXISTS (SELECT FROM pg_catalog.pg_inherits AS inh WHERE inh.inhrelid = r.oid)
      )
    UNION ALL
    -- a view column's default (ALTER VIEW … ALTER COLUMN … SET DEFAULT)
    SELECT
        'view column default',
        pg_catalog.format('%%I.%%I.%%I', r.nspname, r.relname, a.attname),
        NULL,
        NULL
    FROM pg_catalog.pg_attrdef AS ad
    JOIN rels AS r ON r.oid = ad.adrelid
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    WHERE r.relkind = 'v'
    UNION ALL
    -- privileges other than the owner's defaults (an ACL a GRANT then REVOKE left equal to
    -- the default is not reported)
    SELECT 'privileges', pg_catalog.format('%%I.%%I', r.nspname, r.relname), NULL, NULL
    FROM rels AS r
    WHERE r.relacl IS NOT NULL
      -- an unlogged free-standing sequence is reported whole
      AND (r.relpersistence = 'p' OR r.relkind <> 'S' OR EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = r.oid
            AND dep.refobjsubid > 0
            AND dep.deptype IN ('a', 'i')
      ))
      -- those of tables, views and free-standing sequences are modelled
      AND (
          r.relkind NOT IN ('r', 'p', 'v', 'm', 'S')
          OR EXISTS (
              SELECT FROM pg_catalog.pg_depend AS dep
              JOIN pg_catalog.pg_class AS t ON t.oid = dep.refobjid
              JOIN pg_catalog.pg_attribute AS at
                  ON at.attrelid = dep.refobjid AND at.attnum = dep.refobjsubid
              WHERE dep.classid = 'pg_catalog.pg_class'::regclass
                AND dep.objid = r.oid
                AND dep.refobjsubid > 0
                AND dep.deptype = 'i'  -- a serial column's sequence's are modelled, and an
                -- identity's under the name a CREATE gives it
                AND r.relname <> t.relname || '_' || at.attname || '_seq'
          )
      )
      AND NOT r.relacl OPERATOR(pg_catalog.<@) pg_catalog.acldefault(
          CASE WHEN r.relkind = 'S' THEN 's' ELSE 'r' END::"char", r.relowner
      )
    UNION ALL
    SELECT
        'column privileges',
        pg_catalog.format('%%I.%%I.%%I', r.nspname, r.relname, a.attname),
        NULL,
        NULL
    FROM rels AS r
    JOIN noted AS a ON a.attrelid = r.oid
    WHERE pg_catalog.cardinality(a.attacl) > 0
      AND (r.relpersistence = 'p' OR r.relkind <> 'S')
      AND (r.relkind NOT IN ('r', 'p', 'v', 'm') OR r.relispartition)
    UNION ALL
    -- the privileges of the objects whose grants are modelled (objects.sql), as far as the
    -- model cannot say them: the owner's own are implicit there, so an owner holding fewer than
    -- the defaults (REVOKE … FROM the owner) or more (a grant option, a column privilege) is
    -- not modelled; nor is a grant made by a role other than the owner (a plan grants as the
    -- owner)
    SELECT
        CASE WHEN o.objtype = 'c' THEN x.column_kind ELSE x.kind END,
        o.name,
        NULL,
        NULL
    FROM (
        -- (name, ACL, owner, object type as acldefault() takes it)
        SELECT
            pg_catalog.format('%%I.%%I', r.nspname, r.relname),
            r.relacl,
            r.relowner,
            CASE WHEN r.relkind = 'S' THEN 's' ELSE 'r' END
        FROM rels AS r
        WHERE r.relacl IS NOT NULL AND r.relkind IN ('r', 'p', 'v', 'm', 'S')
        UNION ALL
        SELECT
            pg_catalog.format('%%I.%%I.%%I', r.nspname, r.relname, a.attname),
            a.attacl,
            r.relowner,
            'c'
        FROM rels AS r
        JOIN noted AS a ON a.attrelid = r.oid AND a.attacl IS NOT NULL
        -- a partition's column privileges are reported whole (above)
        WHERE r.relkind IN ('r', 'p', 'v', 'm') AND NOT r.relispartition
        UNION ALL
        SELECT pg_catalog.format('%%I', n.nspname), n.nspacl, n.nspowner, 'n'
        FROM scope AS s
        JOIN pg_catalog.pg_namespace AS n ON n.oid = s.oid
        WHERE n.nspacl IS NOT NULL
        UNION ALL
        SELECT
            pg_catalog.format(
                '%%I.%%I(%%s)',
                s.nspname,
                p.proname,
                pg_catalog.pg_get_function_identity_arguments(p.oid)
            ),
            p.proacl,
            p.proowner,
            'f'
        FROM pg_catalog.pg_proc AS p
        JOIN scope AS s ON s.oid = p.pronamespace
        WHERE p.proacl IS NOT NULL AND /*@modelled_routine*/
        UNION ALL
        SELECT pg_catalog.format('%%I.%%I', s.nspname, t.typname), t.typacl, t.typowner, 'T'
        FROM pg_catalog.pg_type AS t
        JOIN scope AS s ON s.oid = t.typnamespace
        LEFT JOIN pg_catalog.pg_class AS c ON c.oid = t.typrelid
        WHERE t.typacl IS NOT NULL
          AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND c.relkind = 'c'))
          AND NOT EXISTS (
              SELECT FROM members AS m
              WHERE m.classid = 'pg_catalog.pg_type'::regclass AND m.objid = t.oid
          )
    ) AS o (name, acl, owner, objtype)
    CROSS JOIN LATERAL (
        VALUES
            (
                'owner privileges',
                'owner column privileges',
                ARRAY(
                    SELECT DISTINCT a.privilege_type || a.is_grantable::text
                    FROM pg_catalog.aclexplode(o.acl) AS a
                    WHERE a.grantee = o.owner
                    ORDER BY 1
                ) <> ARRAY(
                    SELECT DISTINCT a.privilege_type || a.is_grantable::text
                    FROM pg_catalog.aclexplode(
                        pg_catalog.acldefault(o.objtype::"char", o.owner)
                    ) AS a
                    WHERE a.grantee = o.owner
                    ORDER BY 1
                )
            ),
            (
                'privileges granted by another role',
                'column privileges granted by another role',
                EXISTS (
                    SELECT FROM pg_catalog.aclexplode(o.acl) AS a WHERE a.grantor <> o.owner
                )
            )
    ) AS x (kind, column_kind, found)
    WHERE x.found
    UNION ALL
    SELECT
        CASE WHEN t.tgconstraint <> 0 THEN 'constraint trigger' ELSE 'trigger' END,
        pg_catalog.format('%%I on %%I.%%I', t.tgname, r.nspname, r.relname),
        'pg_catalog.pg_trigger'::regclass,
        t.oid
    FROM pg_catalog.pg_trigger AS t
    JOIN rels AS r ON r.oid = t.tgrelid
    WHERE NOT t.tgisinternal
      AND t.tgparentid = 0  -- a copy on a partition: reported (or not) with its original
      AND t.tgfoid NOT IN (  -- the tool's own (triggers.sql)
          SELECT p.oid FROM pg_catalog.pg_proc AS p
          WHERE p.pronamespace = pg_catalog.to_regnamespace('reconciler')
      )
      -- triggers of plain tables and views are modelled; see triggers.sql for which
      AND NOT (
          r.relkind IN ('r', 'p', 'v')
          AND EXISTS (
              SELECT FROM pg_catalog.pg_trigger AS tg
              WHERE tg.oid = t.oid AND /*@modelled_trigger*/
          )
      )
    UNION ALL
    SELECT
        'policy',
        pg_catalog.format('%%I on %%I.%%I', p.polname, r.nspname, r.relname),
        'pg_catalog.pg_policy'::regclass,
        p.oid
    FROM pg_catalog.pg_policy AS p
    JOIN rels AS r ON r.oid = p.polrelid
    WHERE r.relkind NOT IN ('r', 'p')  -- a table's policies are modelled
    UNION ALL
    SELECT
        'rule',
        pg_catalog.format('%%I on %%I.%%I', w.rulename, r.nspname, r.relname),
        'pg_catalog.pg_rewrite'::regclass,
        w.oid
    FROM pg_catalog.pg_rewrite AS w
    JOIN rels AS r ON r.oid = w.ev_class
    WHERE w.rulename <> '_RETURN'
      AND r.relkind NOT IN ('r', 'p', 'v')  -- those of tables and views are modelled (rules.sql)
    UNION ALL
    SELECT
        'extended statistics',
        pg_catalog.format('%%I.%%I', s.nspname, st.stxname),
        'pg_catalog.pg_statistic_ext'::regclass,
        st.oid
    FROM pg_catalog.pg_statistic_ext AS st
    JOIN scope AS s ON s.oid = st.stxnamespace
    UNION ALL
    -- routines
    SELECT
        CASE p.prokind
            WHEN 'p' THEN 'procedure'
            WHEN 'a' THEN 'ordered-set aggregate'
            WHEN 'w' THEN 'window function'
            ELSE 'function'
        END,
        pg_catalog.format(
            '%%I.%%I(%%s)', s.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)
        ),
        'pg_catalog.pg_proc'::regclass,
        p.oid
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
      AND NOT EXISTS (  -- ordinary aggregates are modelled (aggregates.sql)
          SELECT FROM pg_catalog.pg_aggregate AS ag
          WHERE ag.aggfnoid = p.oid AND ag.aggkind = 'n'
      )
    UNION ALL
    -- the privileges of an ordinary aggregate (the aggregate itself is modelled)
    SELECT
        'privileges',
        pg_catalog.format(
            '%%I.%%I(%%s)', s.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)
        ),
        NULL,
        NULL
    FROM pg_catalog.pg_proc AS p
    JOIN scope AS s ON s.oid = p.pronamespace
    JOIN pg_catalog.pg_aggregate AS ag ON ag.aggfnoid = p.oid AND ag.aggkind = 'n'
    WHERE p.proacl IS NOT NULL
      AND NOT (  -- anything but the default, a revoke from PUBLIC too
          p.proacl OPERATOR(pg_catalog.<@) pg_catalog.acldefault('f', p.proowner)
          AND p.proacl OPERATOR(pg_catalog.@>) pg_catalog.acldefault('f', p.proowner)
      )
      AND NOT EXISTS (
          SELECT FROM members AS m
          WHERE m.classid = 'pg_catalog.pg_proc'::regclass AND m.objid = p.oid
      )    UNION ALL
    -- types other than enums (modelled), arrays and row types (implicit)
    SELECT
        CASE ty.typtype WHEN 'r' THEN 'range type' ELSE 'base type' END,
        pg_catalog.format('%%I.%%I', s.nspname, ty.typname),
        'pg_catalog.pg_type'::regclass,
        ty.oid
    FROM pg_catalog.pg_type AS ty
    JOIN scope AS s ON s.oid = ty.typnamespace
    WHERE ty.typtype IN ('r', 'b')
      AND NOT (ty.typtype = 'b' AND ty.typcategory = 'A')
      AND NOT EXISTS (
          SELECT FROM members AS m
          WHERE m.classid = 'pg_catalog.pg_type'::regclass AND m.objid = ty.oid
      )
    UNION ALL
    -- objects of a schema the model has no kind for
    SELECT o.kind, pg_catalog.format('%%I.%%s', s.nspname, o.name), o.classid, o.oid
    FROM (
        -- a collation with ICU tailoring rules (PostgreSQL 16 on); the others are modelled
        SELECT 'collation', pg_catalog.quote_ident(co.collname), co.collnamespace,
            'pg_catalog.pg_collation'::regclass, co.oid
        FROM pg_catalog.pg_collation AS co
        WHERE pg_catalog.to_jsonb(co) ->> 'collicurules' IS NOT NULL
        UNION ALL
        SELECT 'operator', o.oprname::text, o.oprnamespace,
            'pg_catalog.pg_operator'::regclass, o.oid
        FROM pg_catalog.pg_operator AS o
        UNION ALL
        SELECT 'text search configuration', pg_catalog.quote_ident(c.cfgname), c.cfgnamespace,
            'pg_catalog.pg_ts_config'::regclass, c.oid
        FROM pg_catalog.pg_ts_config AS c
        UNION ALL
        SELECT 'text search dictionary', pg_catalog.quote_ident(d.dictname), d.dictnamespace,
            'pg_catalog.pg_ts_dict'::regclass, d.oid
        FROM pg_catalog.pg_ts_dict AS d
        UNION ALL
        SELECT 'text search parser', pg_catalog.quote_ident(p.prsname), p.prsnamespace,
            'pg_catalog.pg_ts_parser'::regclass, p.oid
        FROM pg_catalog.pg_ts_parser AS p
        UNION ALL
        SELECT 'text search template', pg_catalog.quote_ident(t.tmplname), t.tmplnamespace,
            'pg_catalog.pg_ts_template'::regclass, t.oid
        FROM pg_catalog.pg_ts_template AS t
        UNION ALL
        SELECT 'conversion', pg_catalog.quote_ident(c.conname), c.connamespace,
            'pg_catalog.pg_conversion'::regclass, c.oid
        FROM pg_catalog.pg_conversion AS c
        UNION ALL
        SELECT 'operator class', pg_catalog.quote_ident(c.opcname), c.opcnamespace,
            'pg_catalog.pg_opclass'::regclass, c.oid
        FROM pg_catalog.pg_opclass AS c
        UNION ALL
        SELECT 'operator family', pg_catalog.quote_ident(f.opfname), f.opfnamespace,
            'pg_catalog.pg_opfamily'::regclass, f.oid
        FROM pg_catalog.pg_opfamily AS f
    ) AS o (kind, name, namespace, classid, oid)
    JOIN scope AS s ON s.oid = o.namespace
    WHERE NOT EXISTS (
        SELECT FROM members AS m WHERE m.classid = o.classid AND m.objid = o.oid
    )
      AND NOT EXISTS (  -- made by another object for itself
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = o.classid AND dep.objid = o.oid AND dep.deptype = 'i'
      )
    UNION ALL
    -- objects of the database, not of a schema (user-made: oid past the bootstrap range)
    SELECT o.kind, o.name, o.classid, o.oid
    FROM (
        SELECT 'event trigger', pg_catalog.quote_ident(e.evtname),
            'pg_catalog.pg_event_trigger'::regclass, e.oid
        FROM pg_catalog.pg_event_trigger AS e
        UNION ALL
        SELECT 'publication', pg_catalog.quote_ident(p.pubname),
            'pg_catalog.pg_publication'::regclass, p.oid
        FROM pg_catalog.pg_publication AS p
        UNION ALL
        SELECT 'subscription', pg_catalog.quote_ident(su.subname),
            'pg_catalog.pg_subscription'::regclass, su.oid
        FROM pg_catalog.pg_subscription AS su
        JOIN pg_catalog.pg_database AS db ON db.oid = su.subdbid
        WHERE db.datname = pg_catalog.current_database()
        UNION ALL
        SELECT 'foreign data wrapper', pg_catalog.quote_ident(w.fdwname),
            'pg_catalog.pg_foreign_data_wrapper'::regclass, w.oid
        FROM pg_catalog.pg_foreign_data_wrapper AS w
        UNION ALL
        SELECT 'foreign server', pg_catalog.quote_ident(fs.srvname),
            'pg_catalog.pg_foreign_server'::regclass, fs.oid
        FROM pg_catalog.pg_foreign_server AS fs
        UNION ALL
        -- pg_user_mappings, not the catalog: only a superuser may read pg_user_mapping
        SELECT 'user mapping',
            pg_catalog.format(
                'for %%s on server %%I',
                CASE WHEN um.umuser = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(um.usename) END,
                um.srvname
            ),
            'pg_catalog.pg_user_mapping'::regclass, um.umid
        FROM pg_catalog.pg_user_mappings AS um
        UNION ALL
        SELECT 'cast',
            pg_catalog.format(
                '(%%s AS %%s)',
                pg_catalog.format_type(c.castsource, NULL),
                pg_catalog.format_type(c.casttarget, NULL)
            ),
            'pg_catalog.pg_cast'::regclass, c.oid
        FROM pg_catalog.pg_cast AS c
        UNION ALL
        SELECT 'language', pg_catalog.quote_ident(l.lanname),
            'pg_catalog.pg_language'::regclass, l.oid
        FROM pg_catalog.pg_language AS l
        UNION ALL
        SELECT 'access method', pg_catalog.quote_ident(am.amname),
            'pg_catalog.pg_am'::regclass, am.oid
        FROM pg_catalog.pg_am AS am
        UNION ALL
        SELECT 'transform',
            pg_catalog.format(
                'for %%s language %%I', pg_catalog.format_type(tr.trftype, NULL), l.lanname
            ),
            'pg_catalog.pg_transform'::regclass, tr.oid
        FROM pg_catalog.pg_transform AS tr
        JOIN pg_catalog.pg_language AS l ON l.oid = tr.trflang
    ) AS o (kind, name, classid, oid)
    WHERE EXISTS (SELECT FROM whole_database)
      AND o.oid >= 16384  -- FirstNormalObjectId: what initdb made is the system's
      AND NOT EXISTS (
          SELECT FROM members AS m WHERE m.classid = o.classid AND m.objid = o.oid
      )
      -- made by another object for itself (a range type's cast to its multirange)
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = o.classid AND dep.objid = o.oid AND dep.deptype = 'i'
      )
)
