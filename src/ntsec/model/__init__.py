"""Values of the Windows security model. Standard library only; no I/O; never imports codec,
authz, system or front ends."""
