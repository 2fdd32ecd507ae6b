"""Helpers shared by tests (databases, settings, signed requests)."""
