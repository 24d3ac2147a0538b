"""The ntsec web app, ``ntsec serve`` (docs/design.md "Front ends"; needs the ``web`` extra).

:func:`create_app` builds the Starlette application for :class:`Settings`; the ``serve``
command binds the socket, prints the address (and the access key off loopback) and runs it
under uvicorn. Pages: the access-check explorer, the SDDL decoder and the whoami page, which
need nothing but the library, and the simulated machine's pages (``_machine.py`` opens the
machine, ``_machine_routes.py`` and ``_machine_views.py`` serve it): the process tree and each
process's Security, Permissions and Threads tabs, logon and UAC prompts, named pipes,
objects, the security log and account administration; and ``/audit``, the runs of
``ntsec audit`` registered with ``ntsec serve --audit`` (``_audit_routes.py``).
"""

from __future__ import annotations

from ntsec.web._app import Settings, create_app

__all__ = ["Settings", "create_app"]
