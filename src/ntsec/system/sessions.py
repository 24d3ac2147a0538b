"""Windows sessions (terminal-services sessions) of the simulated machine: which session an
interactive logon lands in, and the session's own csrss.exe and winlogon.exe.

Session 0 holds the system processes and services only; the first user to log on gets session 1
and later users later sessions ([N] Learn "Application Compatibility: Session 0 Isolation",
learn.microsoft.com/previous-versions/bb756986; [N] Learn "Fast user switching",
windows/win32/shell/fast-user-switching: a second user logs on while the first stays logged on
and both users' applications keep running). Every session has its own csrss.exe and
winlogon.exe, started under SYSTEM by an instance of smss.exe that exits once they run ([I]
Windows Internals 7th ed. part 1 ch. 2 "Session Manager"); the session ID is the process's and
its token's (TokenSessionId, [N] API:TOKEN_INFORMATION_CLASS; docs/rules.md H.5, H.6).

The rule here:

- RemoteInteractive (RDP): always a new session.
- Interactive / Unlock by a user who already holds a session (the user that session's Winlogon
  logged on and still holds the token of): that session (unlocking it, or returning to it as
  fast user switching does).
- Otherwise the console session if nobody holds it, else a session whose logon screen nobody
  has logged on through yet (a failed attempt leaves one), else a new session (fast user
  switching).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ntsec.authz.tokenops import set_information
from ntsec.errors import NtStatusError
from ntsec.model.sid import Sid
from ntsec.model.token import Token, TokenInformationClass
from ntsec.system.accounts import WellKnown
from ntsec.system.lsa import LogonType
from ntsec.system.process import HandleKind, Process

if TYPE_CHECKING:
    from ntsec.system.machine import Machine

__all__ = ["console_session", "interactive_session", "next_session_id", "session_users",
           "winlogon"]

_INTERACTIVE = frozenset({LogonType.Interactive, LogonType.Unlock, LogonType.RemoteInteractive})


def console_session(m: Machine) -> int:
    """The physical console's session: that of the first Winlogon (1 on a fresh boot)."""
    found = m.processes.find("winlogon.exe")
    return found[0].session_id if found else 1


def next_session_id(m: Machine) -> int:
    """A new session's ID: one above every session in use."""
    used = {p.session_id for p in m.processes.processes()}
    return max(used | {console_session(m)}) + 1


def session_users(m: Machine) -> dict[int, set[Sid]]:
    """Session ID -> the users its Winlogon logged on (their tokens are held by it)."""
    interactive = {int(t) for t in _INTERACTIVE}
    users: dict[int, set[Sid]] = {}
    for wl in m.processes.find("winlogon.exe"):
        held = users.setdefault(wl.session_id, set())
        for h in m.processes.handles(wl.pid):
            if h.kind != HandleKind.TOKEN:
                continue
            t = m.processes.token(h.target)
            if t.session_id != wl.session_id or t.user.sid == WellKnown.LOCAL_SYSTEM:
                continue
            try:
                session = m.lsa.logon_session(t.authentication_id)
            except NtStatusError:
                continue
            if session.logon_type in interactive:
                held.add(t.user.sid)
    return users


def interactive_session(m: Machine, name: str, logon_type: LogonType) -> int:
    """The session an interactive logon of ``name`` through Winlogon lands in (the module's
    rule); a new session's number is returned before the session exists (:func:`winlogon`)."""
    if logon_type == LogonType.RemoteInteractive:
        return next_session_id(m)
    users = session_users(m)
    account = name.rpartition("\\")[2]
    user = m.accounts.find_user(account)
    if user is not None:
        for number, holders in sorted(users.items()):
            if user.sid in holders:
                return number
    console = console_session(m)
    if not users.get(console):
        return console
    for number, holders in sorted(users.items()):
        if not holders:
            # A session whose logon screen is still up (a failed attempt left it).
            return number
    return next_session_id(m)


def winlogon(m: Machine, session_id: int) -> Process:
    """The session's Winlogon; a session that has none yet is created: an instance of
    smss.exe in it starts csrss.exe and winlogon.exe under SYSTEM and exits."""
    for wl in m.processes.find("winlogon.exe"):
        if wl.session_id == session_id:
            return wl
    masters = m.processes.find("smss.exe")
    master = masters[0] if masters else None
    base = (m.processes.primary_token(master.pid) if master is not None
            else m.lsa.system_token())
    instance = m._start(master, 0 if master is None else master.pid, "smss.exe",
                        _session_token(m, base, session_id), session_id)
    instance_token = m.processes.primary_token(instance.pid)
    m._start(instance, instance.pid, "csrss.exe",
             _session_token(m, instance_token, session_id), session_id)
    started = m._start(instance, instance.pid, "winlogon.exe",
                       _session_token(m, instance_token, session_id), session_id)
    m.terminate_process(instance.pid)
    return started


def _session_token(m: Machine, parent_token: Token, session_id: int) -> Token:
    """A copy of SYSTEM's token for a session process, with the session's TokenSessionId."""
    token = m._child_token(parent_token)
    if token.session_id != session_id:
        # Setting TokenSessionId needs SeTcbPrivilege, which SYSTEM holds (H.5).
        token = set_information(token, TokenInformationClass.TokenSessionId, session_id,
                                caller=parent_token, allocate_luid=m.lsa.allocate_luid)
    return token
