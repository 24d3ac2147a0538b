"""ntsec.system (see docs/design.md)."""
