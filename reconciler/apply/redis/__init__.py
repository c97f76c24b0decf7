"""Applying a plan's Redis changes."""
