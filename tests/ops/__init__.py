"""The SQL that operations write (reconciler/ops, reconciler/sql): re-run guards and names or
text that try to smuggle SQL."""
