"""The locks that serialize runs (PostgreSQL advisory lock, Redis lock key), the Redis apply
journal, and what putting an interrupted run back needs: the guarded Redis commands
(redis_guarded.py) and the ACL passwords kept in Redis (redis_acl_kept.py).

Must not: import apply/ or pipeline/: pipeline/ settles the journal, apply/ runs plans with the
same guarded commands; both import from here."""
