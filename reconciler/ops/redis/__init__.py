"""Typed Redis changes and the RESP encoding of their commands."""
