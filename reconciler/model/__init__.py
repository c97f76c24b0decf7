"""The value model: the same frozen types describe desired and live state.

Owns: addresses, Postgres and Redis object types, snapshots with normalize/fingerprint.
Must not: talk to servers or read files.
"""
