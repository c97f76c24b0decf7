"""Benchmarks of the reconciler CLI against a throwaway PostgreSQL: `python -m bench`.

Modules: schema_gen (deterministic SQL of N tables), cluster (the bench server and its
databases), snapshot (a frozen copy of the code under test), measure (one command as a
process: wall time, CPU time and peak RSS), verify (checks of every result), querylog
(statements counted from the server log), phases and profiling (where a command spends its
time), machine (what it ran on), runner (the whole run), report (ratios, growth, JSON and the
terminal table) and docgen (docs/benchmarks.md).
"""
