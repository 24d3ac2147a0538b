"""ntsec.web (see DESIGN.md)."""
