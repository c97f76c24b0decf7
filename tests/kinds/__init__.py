"""Every object kind end to end: loaded from YAML or SQL, planned, applied, re-planned and
rolled back on a real server; the data-driven cases (tests/cases) and the schema-pair corpus
(tests/corpus, tests/histories)."""
