"""ntsec.live (see DESIGN.md)."""
