"""Developer tooling: the local servers (reconciler/dev) and the benchmark smoke run."""
