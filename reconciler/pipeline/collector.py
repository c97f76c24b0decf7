"""Python's cyclic garbage collector paused over work that builds many objects, all of which
stay alive until it ends, and no reference cycles: the models of a plan (the files' values,
the catalog's rows, the change objects). The collector would walk the same live objects again
and again and free nothing: 4-7 % of a first plan of 1,000 tables, even at the thresholds the
command line sets (cli/__init__.py).

After the block the objects it made are left to the collector again, which walks all of them
once at its next collection: a process that ends soon after (the command line) sets
`freeze_after`, and they are frozen instead — never walked again, still freed when nothing
refers to them, as every object without a cycle is.

Owns: `collector_paused`, `freeze_after`.
Must not: be used around work whose garbage is unbounded (a Redis keyspace scan streams a
million keys): reference counting frees what has no cycle, but a cycle made per key would
then never be collected.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Set by the command line for its run (its process ends after one command).
freeze_after = {"on": False}


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block; the collector as it was after it."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze_after["on"]:
            gc.freeze()
        if was_on:
            gc.enable()
