"""Tests that attack apply, the lock, the state and the inputs (docs/reliability.md)."""
