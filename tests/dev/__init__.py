"""Developer tooling: the local servers (reconciler/dev), the benchmark smoke run and the import
contracts `make lint` checks (tools/import_contracts.py)."""
