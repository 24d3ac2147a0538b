"""ntsec.cli (see DESIGN.md)."""
