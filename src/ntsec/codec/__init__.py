"""Formats <-> model values: binary self-relative structures, SDDL, conditional-ACE
expressions, claims, whoami text."""
