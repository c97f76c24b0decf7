-- What the other kinds leave out but a plan's probes may read, summed catalog by catalog over
-- the whole database (every schema, kind and extension; temporary objects apart): a view of
-- a table in an excluded schema, a foreign table or an extension's own, a default calling a
-- function there. One row per catalog that has rows: their count and, modulo 2^32, their xmins summed.
-- Committed DDL anywhere writes new row versions (a new xmin) or removes some, so a plan the
-- cache remembered as "no changes" is worked out afresh (project/cache.py, tree_plan.py).
-- xmin is read through age() (the text cast costs five times as much): within one snapshot
-- age(x) is now - x modulo 2^32, so over the n rows of a normal xmin sum(age(xmin)) - n *
-- age('3') is 3 * n - sum(xmin) modulo 2^32, the same in every snapshot while no row changes
-- (age() reads 2147483647 for the rows initdb wrote, whatever the snapshot: left out). The
-- enabled state of an event trigger is a row version too (pg_event_trigger). Role memberships
-- and this database's row (its ACL: CREATE, which the probes need) are shared catalogs, read
-- the same way.
-- What no catalog of the database shows but the probes run under: the session's settings
-- however they were set (ALTER DATABASE / ROLE … SET, the configuration file after a reload,
-- PGOPTIONS), hashed, but for those at their built-in value and those naming this very
-- session or transaction; the server's
-- date in UTC ('today'::date in a default is spelled as that day) and its start (a tzdata
-- update or a new build comes with a restart), as the `clock` row.
WITH temp AS (
    SELECT n.oid FROM pg_catalog.pg_namespace AS n WHERE n.nspname ~ '^pg_(toast_)?temp_'
),
temp_rel AS (
    SELECT c.oid FROM pg_catalog.pg_class AS c WHERE c.relnamespace IN (SELECT oid FROM temp)
),
versions (catalog, age) AS (
    SELECT 'pg_namespace', pg_catalog.age(x.xmin) FROM pg_catalog.pg_namespace AS x
    WHERE x.oid NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'pg_class', pg_catalog.age(x.xmin) FROM pg_catalog.pg_class AS x
    WHERE x.relnamespace NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'pg_attribute', pg_catalog.age(x.xmin) FROM pg_catalog.pg_attribute AS x
    WHERE x.attrelid NOT IN (SELECT oid FROM temp_rel)
    UNION ALL
    SELECT 'pg_type', pg_catalog.age(x.xmin) FROM pg_catalog.pg_type AS x
    WHERE x.typnamespace NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'pg_proc', pg_catalog.age(x.xmin) FROM pg_catalog.pg_proc AS x
    WHERE x.pronamespace NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'pg_constraint', pg_catalog.age(x.xmin) FROM pg_catalog.pg_constraint AS x
    WHERE x.connamespace NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'pg_operator', pg_catalog.age(x.xmin) FROM pg_catalog.pg_operator AS x
    UNION ALL
    SELECT 'pg_cast', pg_catalog.age(x.xmin) FROM pg_catalog.pg_cast AS x
    UNION ALL
    SELECT 'pg_collation', pg_catalog.age(x.xmin) FROM pg_catalog.pg_collation AS x
    UNION ALL
    SELECT 'pg_enum', pg_catalog.age(x.xmin) FROM pg_catalog.pg_enum AS x
    UNION ALL
    SELECT 'pg_opclass', pg_catalog.age(x.xmin) FROM pg_catalog.pg_opclass AS x
    UNION ALL
    SELECT 'pg_extension', pg_catalog.age(x.xmin) FROM pg_catalog.pg_extension AS x
    UNION ALL
    SELECT 'pg_language', pg_catalog.age(x.xmin) FROM pg_catalog.pg_language AS x
    UNION ALL
    SELECT 'pg_event_trigger', pg_catalog.age(x.xmin) FROM pg_catalog.pg_event_trigger AS x
    UNION ALL
    SELECT 'pg_ts_config', pg_catalog.age(x.xmin) FROM pg_catalog.pg_ts_config AS x
    UNION ALL
    SELECT 'pg_auth_members', pg_catalog.age(x.xmin) FROM pg_catalog.pg_auth_members AS x
    UNION ALL
    SELECT 'pg_database', pg_catalog.age(x.xmin) FROM pg_catalog.pg_database AS x
    WHERE x.datname = pg_catalog.current_database()
),
sums (catalog, rows, normal, ages) AS (
    SELECT
        v.catalog,
        count(*),
        count(*) FILTER (WHERE v.age < 2147483647),
        coalesce(sum(v.age::int8) FILTER (WHERE v.age < 2147483647), 0)
    FROM versions AS v
    GROUP BY v.catalog
)
SELECT
    s.catalog,
    s.rows,
    ((s.ages - s.normal * pg_catalog.age('3'::xid)::int8) %% 4294967296
        + 4294967296)::int8 %% 4294967296 AS xmins
FROM sums AS s
UNION ALL
SELECT
    'settings',
    count(*),
    pg_catalog.hashtextextended(
        pg_catalog.string_agg(g.name || '=' || g.setting, E'\n' ORDER BY g.name COLLATE "C"), 0
    )
FROM pg_catalog.pg_settings AS g
-- A setting at its built-in value follows from the server's version, however it was set; a
-- library a probe loads (PL/pgSQL, an extension's) adds its own settings to the session at
-- theirs, and the verdict's second read would otherwise differ from its first. How often a
-- session looks for its client (which the read ahead of pipeline/prefetch.py sets on its
-- own) says nothing of how text is read or spelled.
WHERE g.setting IS DISTINCT FROM g.boot_val
  AND g.name NOT IN (
    'application_name', 'transaction_isolation', 'transaction_read_only',
    'transaction_deferrable', 'client_connection_check_interval'
)
UNION ALL
SELECT
    'clock',
    CURRENT_DATE - DATE '2000-01-01',
    pg_catalog.date_part('epoch', pg_catalog.pg_postmaster_start_time())::int8
