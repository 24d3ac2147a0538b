"""Decisions over values: access check, inheritance, token operations."""
