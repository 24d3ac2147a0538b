"""ntsec.audit (see docs/design.md)."""
