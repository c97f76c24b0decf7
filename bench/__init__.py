"""Benchmarks of the reconciler CLI against a throwaway PostgreSQL and Redis: `python -m bench`.

Modules: schema_gen (deterministic SQL of N tables), cluster (the bench's temporary directory,
its PostgreSQL server and databases), snapshot (a frozen copy of the code under test), measure
(one command as a process: wall time, CPU time and peak RSS), verify (checks of every result),
querylog (statements counted from the server log), phases and profiling (where a command spends
its time), machine (what it ran on), runner (the workspace and the Postgres run), report
(ratios, growth, targets, JSON and the terminal tables) and docgen (docs/benchmarks.md).
Redis: keyspace_gen (a deterministic keyspace of N keys as RESP, and its key specs),
redis_bench (the Redis run), redis_verify (checks of every Redis result) and docgen_redis (the
Redis sections of the page). Beyond one server: beyond (its options, measured parts, ratios and
target), beyond_fleet (fleet drift against single-database drift runs), beyond_cluster (a scan
of a Redis Cluster against a single server) and docgen_beyond (its sections of the page).
"""
