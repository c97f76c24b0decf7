-- What the other kinds leave out but a plan's probes may read, summed catalog by catalog over
-- the whole database (every schema, kind and extension; temporary objects apart): a view of
-- a table in an excluded schema, a foreign table or an extension's own, a default calling a
-- function there. One row per catalog: its rows' count and, modulo 2^32, their xmins summed.
-- Committed DDL anywhere writes new row versions (a new xmin) or removes some, so a plan the
-- cache remembered as "no changes" is worked out afresh (project/cache.py, tree_plan.py).
-- xmin is read through age() (the text cast costs five times as much): within one snapshot
-- age(x) is now - x modulo 2^32, so over the n rows of a normal xmin sum(age(xmin)) - n *
-- age('3') is 3 * n - sum(xmin) modulo 2^32, the same in every snapshot while no row changes
-- (age() reads 2147483647 for the rows initdb wrote, whatever the snapshot: left out). The
-- enabled state of an event trigger is a row version too (pg_event_trigger).
WITH temp AS (
    SELECT n.oid FROM pg_catalog.pg_namespace AS n WHERE n.nspname ~ '^pg_(toast_)?temp_'
),
temp_rel AS (
    SELECT c.oid FROM pg_catalog.pg_class AS c WHERE c.relnamespace IN (SELECT oid FROM temp)
),
sums (catalog, rows, normal, ages) AS (
    SELECT 'pg_namespace', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647)
    FROM pg_catalog.pg_namespace AS x WHERE x.oid NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'pg_class', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647)
    FROM pg_catalog.pg_class AS x WHERE x.relnamespace NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'pg_attribute', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647)
    FROM pg_catalog.pg_attribute AS x WHERE x.attrelid NOT IN (SELECT oid FROM temp_rel)
    UNION ALL
    SELECT 'pg_type', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647)
    FROM pg_catalog.pg_type AS x WHERE x.typnamespace NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'pg_proc', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647)
    FROM pg_catalog.pg_proc AS x WHERE x.pronamespace NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'pg_constraint', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647)
    FROM pg_catalog.pg_constraint AS x WHERE x.connamespace NOT IN (SELECT oid FROM temp)
    UNION ALL
    SELECT 'pg_operator', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647) FROM pg_catalog.pg_operator AS x
    UNION ALL
    SELECT 'pg_cast', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647) FROM pg_catalog.pg_cast AS x
    UNION ALL
    SELECT 'pg_collation', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647) FROM pg_catalog.pg_collation AS x
    UNION ALL
    SELECT 'pg_enum', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647) FROM pg_catalog.pg_enum AS x
    UNION ALL
    SELECT 'pg_opclass', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647) FROM pg_catalog.pg_opclass AS x
    UNION ALL
    SELECT 'pg_extension', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647) FROM pg_catalog.pg_extension AS x
    UNION ALL
    SELECT 'pg_language', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647) FROM pg_catalog.pg_language AS x
    UNION ALL
    SELECT 'pg_event_trigger', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647) FROM pg_catalog.pg_event_trigger AS x
    UNION ALL
    SELECT 'pg_ts_config', count(*), count(*) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647), sum(pg_catalog.age(x.xmin)::int8) FILTER (WHERE pg_catalog.age(x.xmin) < 2147483647) FROM pg_catalog.pg_ts_config AS x
)
SELECT
    s.catalog,
    s.rows,
    ((coalesce(s.ages, 0) - s.normal * pg_catalog.age('3'::xid)::int8) %% 4294967296
        + 4294967296)::int8 %% 4294967296 AS xmins
FROM sums AS s
