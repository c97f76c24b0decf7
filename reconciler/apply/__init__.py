"""Applying plans: running a saved plan's statements and commands, and recording what was done.

Owns: the PostgreSQL execution (pg/: rounds of statements in one transaction, online steps,
undo of what committed), the Redis execution (redis/: guarded commands, put back step by step),
the record written in the same transaction as the change (recorded.py: the state row, the
inventory read back after the change, the attempt's outcome) and rollbacks (rollback_*.py).

Must not: take the locks itself (locks/ does, through pipeline.planner.open_targets), decide
what to change (it receives a finished plan), print (the CLI renders), or commit state apart
from the change it describes.
"""
