"""ntsec.audit (see DESIGN.md)."""
