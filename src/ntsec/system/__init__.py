"""ntsec.system (see DESIGN.md)."""
