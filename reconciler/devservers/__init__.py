"""The throwaway PostgreSQL and Redis servers behind `reconciler dev` and the test suite.

Owns, one concept per module: `launch` (free loopback ports, live-pid checks, server logs),
`users` (the OS user a server runs as, and running tools as that user), `postgres` and `redis`
(finding, starting and stopping each server). `reconciler.dev` builds `dev up/down/status` on
them and is the import path for everyone else.

Must not: listen on anything but 127.0.0.1, touch a server it did not start, or hold data anyone
should care about. Library code only: failures are ReconcilerError sentences, nothing prints.
"""
