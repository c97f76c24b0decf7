"""The command line (reconciler/cli): help, messages, the docs/cli.md reference and the
documented JSON Schemas."""
