-- Everything in scope that the model cannot express (_unmodelled.sql), and what those objects
-- need of the objects the model does hold, as pg_depend records it. Rows of
-- (kind, name, address, via), address and via the parts of a modelled object's address
-- (model/address.py, without "pg"):
--   (kind, name, NULL, NULL)        the object itself, reported by plan and export as
--                                   "unsupported: <kind> <name>" instead of passed over;
--   (kind, name, address, NULL)     the object (or one of its own parts) needs `address`;
--   (NULL, NULL, address, via)      the modelled object `via` needs `address`: it matters
--                                   when `via` is kept for an unmodelled object's sake.
-- Nothing needed may be dropped or broken by a plan (diff/unmodeled.py decides).
--
-- The walk reads what an object and its own parts depend on (its parts: what depends on it
-- automatically or internally, such as a table's indexes, constraints and column defaults, or
-- a publication's table entries), from every unmodelled object and then from every modelled
-- object reached. It stops at objects the model does not hold (walked as unmodelled objects
-- of their own) and at an extension's members (the extension is what is needed). A
-- dependency of deptype 'n' or 'a' is a need: dropping what it points at fails, or silently
-- takes the dependent (or part of it) along.
WITH RECURSIVE /*@scope*/,
/*@unmodelled*/,
-- every modelled object needed, directly or through others: each read once, however many
-- paths lead to it (one row per object and the address it is needed by)
nodes (classid, objid, address) AS (
    SELECT f.classid::oid, f.objid, NULL::text[] COLLATE "C"  -- the collation of `name`
    FROM found AS f
    WHERE f.classid IS NOT NULL
    UNION
    SELECT a.classid, a.objid, a.address
    FROM nodes AS w
    /*@needs_of*/
)
SELECT d.kind, d.name, d.address, d.via
FROM (
    SELECT f.kind, f.name, NULL::text[] COLLATE "C" AS address, NULL::text[] COLLATE "C" AS via
    FROM found AS f
    UNION
    SELECT w.kind, w.name, a.address, NULL
    FROM found AS w
    /*@needs_of*/
    UNION
    SELECT NULL, NULL, a.address, w.address
    FROM nodes AS w
    /*@needs_of*/
    WHERE w.address IS NOT NULL
) AS d
ORDER BY d.kind COLLATE "C", d.name COLLATE "C", d.address, d.via
