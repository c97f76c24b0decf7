-- The objects that are not part of a table, in one query: (kind, schema, name, comment,
-- details), `details` a JSON object whose keys depend on the kind:
--   schema     (schema NULL) {}
--   extension  (schema: where it is installed) {version}
--   enum       {labels} in sort order
--   sequence   {type, start, increment, min, max, cache, cycle, owned_by}: free-standing
--              sequences only (a serial column's sequence, the one its default calls, belongs
--              to its column, an identity's to its identity); owned_by [table, column] when a
--              column owns it all the same (ALTER SEQUENCE … OWNED BY), else null
--   domain     {type, not_null, default, collation, checks: [{name, expression}]}
--   collation  {provider, locale, lc_collate, lc_ctype, deterministic}: `locale` when LC_COLLATE
--              and LC_CTYPE are one (the ICU locale's column has another name in each release);
--              one with ICU rules (PostgreSQL 16 on) is reported whole, as unsupported
--   composite  {attributes: [[name, type, collation or null]]}: standalone composite types
--   default_acl, creator: see below
--   grant      {on, column, role, privilege, grantable}: one privilege a role other than the
--              owner holds (on table — views too —, column, sequence, schema, function or type
--              — enum, domain, composite —; `name` is a function's name(types)); the owner's
--              own are implicit
-- Scope (the same CTE opens every per-table file): not a system schema (pg_*, information_schema),
-- not one of the tool's own schemas (bind parameter "excluded"), not created by an extension, and
-- one of the bind parameter "schemas" when that is not NULL. Extension members are left out.
-- An extension is a database-wide object: with no schema scope every one is listed; with a
-- scope, those installed into an in-scope schema. plpgsql is always there and never managed; an
-- extension living in one of the tool's own schemas is not ours to manage either.
WITH /*@scope*/,
members AS (
    SELECT dep.classid, dep.objid
    FROM pg_catalog.pg_depend AS dep
    WHERE dep.deptype = 'e'
)
SELECT
    'schema' AS kind,
    NULL::text AS schema,
    s.nspname::text AS name,
    d.description AS comment,
    '{}'::jsonb AS details
FROM scope AS s
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = s.oid
   AND d.classoid = 'pg_catalog.pg_namespace'::regclass
   AND d.objsubid = 0
UNION ALL
SELECT
    'extension',
    n.nspname::text,
    e.extname::text,
    NULL,
    pg_catalog.jsonb_build_object('version', e.extversion)
FROM pg_catalog.pg_extension AS e
JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
  AND n.nspname <> ALL (%(excluded)s::text[])
  AND NOT (n.nspname LIKE ANY (%(out_of_scope)s::text[]))
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
UNION ALL
SELECT
    CASE t.typtype WHEN 'e' THEN 'enum' ELSE 'domain' END,
    s.nspname::text,
    t.typname::text,
    d.description,
    CASE t.typtype
        WHEN 'e' THEN pg_catalog.jsonb_build_object(
            'labels',
            ARRAY(
                SELECT e.enumlabel::text
                FROM pg_catalog.pg_enum AS e
                WHERE e.enumtypid = t.oid
                ORDER BY e.enumsortorder
            )
        )
        ELSE pg_catalog.jsonb_build_object(
            'type', pg_catalog.format_type(t.typbasetype, t.typtypmod),
            'not_null', t.typnotnull,
            'default', pg_catalog.pg_get_expr(t.typdefaultbin, 0),
            'collation', (
                SELECT CASE
                    WHEN cn.nspname = 'pg_catalog' THEN pg_catalog.format('%%I', co.collname)
                    ELSE pg_catalog.format('%%I.%%I', cn.nspname, co.collname)
                END
                FROM pg_catalog.pg_collation AS co
                JOIN pg_catalog.pg_namespace AS cn ON cn.oid = co.collnamespace
                JOIN pg_catalog.pg_type AS bt ON bt.oid = t.typbasetype
                WHERE co.oid = t.typcollation AND t.typcollation <> bt.typcollation
            ),
            'checks', ARRAY(
                SELECT pg_catalog.jsonb_build_object(
                    'name', con.conname::text,
                    'expression', pg_catalog.pg_get_expr(con.conbin, 0),
                    'comment', pg_catalog.obj_description(con.oid, 'pg_constraint')
                )
                FROM pg_catalog.pg_constraint AS con
                WHERE con.contypid = t.oid AND con.contype = 'c'
                ORDER BY con.conname COLLATE "C"
            )
        )
    END
FROM pg_catalog.pg_type AS t
JOIN scope AS s ON s.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = t.oid
   AND d.classoid = 'pg_catalog.pg_type'::regclass
   AND d.objsubid = 0
WHERE t.typtype IN ('e', 'd')
  AND NOT EXISTS (
      SELECT FROM members AS m
      WHERE m.classid = 'pg_catalog.pg_type'::regclass AND m.objid = t.oid
  )
UNION ALL
SELECT
    'collation',
    s.nspname::text,
    co.collname::text,
    d.description,
    pg_catalog.jsonb_build_object(
        'provider', CASE co.collprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu'
            WHEN 'b' THEN 'builtin' ELSE co.collprovider::text END,
        'locale', coalesce(j.j ->> 'colllocale', j.j ->> 'colliculocale',
            CASE WHEN co.collcollate = co.collctype THEN co.collcollate END),
        'lc_collate', CASE WHEN co.collcollate <> co.collctype THEN co.collcollate END,
        'lc_ctype', CASE WHEN co.collcollate <> co.collctype THEN co.collctype END,
        'deterministic', co.collisdeterministic
    )
FROM pg_catalog.pg_collation AS co
JOIN scope AS s ON s.oid = co.collnamespace
CROSS JOIN LATERAL (SELECT pg_catalog.to_jsonb(co) AS j) AS j
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = co.oid
   AND d.classoid = 'pg_catalog.pg_collation'::regclass
   AND d.objsubid = 0
WHERE NOT EXISTS (
    SELECT FROM members AS m
    WHERE m.classid = 'pg_catalog.pg_collation'::regclass AND m.objid = co.oid
)
  AND j.j ->> 'collicurules' IS NULL  -- ICU tailoring rules (16+): unsupported.sql
UNION ALL
SELECT
    'composite',
    s.nspname::text,
    t.typname::text,
    d.description,
    pg_catalog.jsonb_build_object(
        'attributes',
        ARRAY(
            SELECT pg_catalog.jsonb_build_array(
                a.attname::text,
                pg_catalog.format_type(a.atttypid, a.atttypmod),
                (
                    SELECT CASE
                        WHEN cn.nspname = 'pg_catalog' THEN pg_catalog.format('%%I', co.collname)
                        ELSE pg_catalog.format('%%I.%%I', cn.nspname, co.collname)
                    END
                    FROM pg_catalog.pg_collation AS co
                    JOIN pg_catalog.pg_namespace AS cn ON cn.oid = co.collnamespace
                    JOIN pg_catalog.pg_type AS at ON at.oid = a.atttypid
                    WHERE co.oid = a.attcollation AND a.attcollation <> at.typcollation
                )
            )
            FROM pg_catalog.pg_attribute AS a
            WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
        )
    )
FROM pg_catalog.pg_type AS t
JOIN scope AS s ON s.oid = t.typnamespace
JOIN pg_catalog.pg_class AS c ON c.oid = t.typrelid AND c.relkind = 'c'
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = t.oid
   AND d.classoid = 'pg_catalog.pg_type'::regclass
   AND d.objsubid = 0
WHERE t.typtype = 'c'
  AND NOT EXISTS (
      SELECT FROM members AS m
      WHERE m.classid = 'pg_catalog.pg_type'::regclass AND m.objid = t.oid
  )
UNION ALL
SELECT
    'sequence',
    s.nspname::text,
    c.relname::text,
    d.description,
    pg_catalog.jsonb_build_object(
        'type', pg_catalog.format_type(q.seqtypid, NULL),
        'start', q.seqstart::text,
        'increment', q.seqincrement::text,
        'min', q.seqmin::text,
        'max', q.seqmax::text,
        'cache', q.seqcache::text,
        'cycle', q.seqcycle,
        'owned_by', CASE WHEN own.attname IS NOT NULL
            THEN pg_catalog.jsonb_build_array(own.relname::text, own.attname::text) END
    )
FROM pg_catalog.pg_class AS c
JOIN scope AS s ON s.oid = c.relnamespace
JOIN pg_catalog.pg_sequence AS q ON q.seqrelid = c.oid
LEFT JOIN pg_catalog.pg_description AS d
    ON d.objoid = c.oid
   AND d.classoid = 'pg_catalog.pg_class'::regclass
   AND d.objsubid = 0
-- the column owning it (OWNED BY: an automatic dependency on the column; Postgres keeps the
-- table in the sequence's schema), and whether that column's default calls it
LEFT JOIN LATERAL (
    SELECT
        t.relname,
        a.attname,
        t.relkind IN ('r', 'p') AND NOT t.relispartition AND a.attislocal AS modelled,
        EXISTS (
            SELECT FROM pg_catalog.pg_attrdef AS ad
            JOIN pg_catalog.pg_depend AS used
                ON used.classid = 'pg_catalog.pg_attrdef'::regclass
               AND used.objid = ad.oid
               AND used.refclassid = 'pg_catalog.pg_class'::regclass
               AND used.refobjid = c.oid
            WHERE ad.adrelid = dep.refobjid AND ad.adnum = dep.refobjsubid
        ) AS called
    FROM pg_catalog.pg_depend AS dep
    JOIN pg_catalog.pg_class AS t ON t.oid = dep.refobjid
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = dep.refobjsubid
    WHERE dep.classid = 'pg_catalog.pg_class'::regclass
      AND dep.objid = c.oid
      AND dep.refclassid = 'pg_catalog.pg_class'::regclass
      AND dep.refobjsubid > 0
      AND dep.deptype = 'a'
    LIMIT 1
) AS own ON true
WHERE c.relkind = 'S'
  AND c.relpersistence = 'p'  -- an unlogged one is unsupported (unsupported.sql)
  AND NOT EXISTS (
      SELECT FROM members AS m
      WHERE m.classid = 'pg_catalog.pg_class'::regclass AND m.objid = c.oid
  )
  AND NOT EXISTS (  -- an identity's sequence is the identity's
      SELECT FROM pg_catalog.pg_depend AS dep
      WHERE dep.classid = 'pg_catalog.pg_class'::regclass
        AND dep.objid = c.oid
        AND dep.refclassid = 'pg_catalog.pg_class'::regclass
        AND dep.refobjsubid > 0
        AND dep.deptype = 'i'
  )
  -- a serial column's (its owner's default calls it) is the column's; one owned by a column
  -- the model does not hold (a partition's, an inherited one) is unsupported (_unmodelled.sql)
  AND (own.attname IS NULL OR (NOT own.called AND own.modelled))
UNION ALL
-- default privileges (ALTER DEFAULT PRIVILEGES) in a schema in scope, or database-wide when the
-- scope is the whole database: (schema or NULL, creating role) {on, acl: [[grantee, privilege,
-- grantable]]}; and the role reading (who will own what a plan creates)
SELECT
    'default_acl',
    s.nspname::text,
    pg_catalog.pg_get_userbyid(da.defaclrole)::text,
    NULL,
    pg_catalog.jsonb_build_object(
        'on', CASE da.defaclobjtype
            WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
            WHEN 'T' THEN 'types' ELSE 'schemas'
        END,
        'acl', ARRAY(
            SELECT pg_catalog.jsonb_build_array(
                CASE WHEN a.grantee = 0 THEN 'public'
                    ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END,
                lower(a.privilege_type),
                a.is_grantable
            )
            FROM pg_catalog.aclexplode(da.defaclacl) AS a
        )
    )
FROM pg_catalog.pg_default_acl AS da
LEFT JOIN scope AS s ON s.oid = da.defaclnamespace
WHERE s.oid IS NOT NULL OR (da.defaclnamespace = 0 AND %(schemas)s::text[] IS NULL)
UNION ALL
SELECT 'creator', NULL, current_user::text, NULL, '{}'::jsonb
UNION ALL
SELECT
    'grant',
    g.schema,
    g.name,
    NULL,
    pg_catalog.jsonb_build_object(
        'on', g.kind,
        'column', g.column_name,
        'role', CASE WHEN g.grantee = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(g.grantee)::text END,
        'privilege', lower(g.privilege),
        'grantable', g.grantable
    )
FROM (
    SELECT
        CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END AS kind,
        s.nspname::text AS schema,
        c.relname::text AS name,
        NULL::text AS column_name,
        a.grantee,
        a.privilege_type AS privilege,
        a.is_grantable AS grantable,
        c.relowner AS owner
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) AS a
    WHERE c.relacl IS NOT NULL
      AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      -- an unlogged free-standing sequence is reported whole (unsupported.sql)
      AND (c.relpersistence = 'p' OR c.relkind <> 'S' OR EXISTS (
          SELECT FROM pg_catalog.pg_depend AS dep
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = c.oid
            AND dep.refobjsubid > 0
            AND dep.deptype = 'a'
      ))
      AND NOT EXISTS (
          SELECT FROM members AS m
          WHERE m.classid = 'pg_catalog.pg_class'::regclass AND m.objid = c.oid
      )
      AND NOT EXISTS (  -- an identity's sequence is ours by the name a CREATE gives it
          SELECT FROM pg_catalog.pg_depend AS dep
          JOIN pg_catalog.pg_class AS t ON t.oid = dep.refobjid
          JOIN pg_catalog.pg_attribute AS at
              ON at.attrelid = dep.refobjid AND at.attnum = dep.refobjsubid
          WHERE dep.classid = 'pg_catalog.pg_class'::regclass
            AND dep.objid = c.oid
            AND dep.refobjsubid > 0
            AND dep.deptype = 'i'
            AND c.relname <> t.relname || '_' || at.attname || '_seq'
      )
    UNION ALL
    SELECT
        'column', s.nspname::text, c.relname::text, at.attname::text,
        a.grantee, a.privilege_type, a.is_grantable, c.relowner
    FROM pg_catalog.pg_class AS c
    JOIN scope AS s ON s.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute AS at
        ON at.attrelid = c.oid AND at.attnum > 0 AND NOT at.attisdropped
    CROSS JOIN LATERAL pg_catalog.aclexplode(at.attacl) AS a
    WHERE at.attacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
    UNION ALL
    SELECT
        'schema', NULL, n.nspname::text, NULL,
        a.grantee, a.privilege_type, a.is_grantable, n.nspowner
    FROM scope AS s
    JOIN pg_catalog.pg_namespace AS n ON n.oid = s.oid
    CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) AS a
    WHERE n.nspacl IS NOT NULL
    UNION ALL
    SELECT
        'function', s.nspname::text,
        pg_catalog.format('%%s(%%s)', p.proname, pg_catalog.oidvectortypes(p.proargtypes)),
        NULL,
        a.grantee, a.privilege_type, a.is_grantable, p.proowner
    FROM pg_catalog.pg_proc AS p
    JOIN scope AS s ON s.oid = p.pronamespace
    CROSS JOIN LATERAL pg_catalog.aclexplode(
        coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))
    ) AS a
    WHERE /*@modelled_routine*/
    UNION ALL
    SELECT
        'type', s.nspname::text, t.typname::text, NULL,
        a.grantee, a.privilege_type, a.is_grantable, t.typowner
    FROM pg_catalog.pg_type AS t
    JOIN scope AS s ON s.oid = t.typnamespace
    LEFT JOIN pg_catalog.pg_class AS c ON c.oid = t.typrelid
    CROSS JOIN LATERAL pg_catalog.aclexplode(
        coalesce(t.typacl, pg_catalog.acldefault('T', t.typowner))
    ) AS a
    WHERE (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND c.relkind = 'c'))
      AND NOT EXISTS (
          SELECT FROM members AS m
          WHERE m.classid = 'pg_catalog.pg_type'::regclass AND m.objid = t.oid
      )
) AS g
WHERE g.grantee <> g.owner
