"""Data-safety tests: each drives the CLI against real servers and proves that no path of
plan, apply or rollback loses data, leaves an unrecorded change or prints a secret
(docs/reliability.md, "Data safety")."""
