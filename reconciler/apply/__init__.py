"""Applying plans: the lock that serializes runs, and the execution of a plan under it.

Owns: the session-level advisory lock (lock.py) taken on the same connection that then runs the
apply transaction, and the executor that runs a plan's statements and records state in that
same transaction.

Must not: plan, diff or introspect (it receives a finished plan), print (the CLI renders), or
commit state separately from the change it describes.
"""
