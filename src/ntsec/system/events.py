"""The simulated machine's security event log (docs/design.md "The simulated machine"; issue 5).

Every security-relevant step appends one record with its Windows event ID and the fields the
Security log's XML carries for that ID (names as in the event schema shown by Event Viewer's
"Details / XML view" and the Learn pages "4624(S): An account was successfully logged on",
"4625(F) ...", "4634(S) ...", "4648(S) ...", "4672(S) ...", "4688(S) ...", "4656(S, F) ...",
"4663(S) ...", "4673(S, F) ...", "4703(S) ...", under
learn.microsoft.com/windows/security/threat-protection/auditing/). Records are kept in the
machine's SQLite store and can be queried by event ID, account SID and logon session.

Values follow the log's own spelling: logon IDs and process IDs as ``0x...`` hex strings, SIDs as
strings, access masks as ``0x...``, ``ElevatedToken`` as ``%%1842`` (Yes) / ``%%1843`` (No),
``TokenElevationType`` as ``%%1936`` (Type 1, default), ``%%1937`` (Type 2, full) or ``%%1938``
(Type 3, limited), the message-table codes the Learn pages for 4624 and 4688 list.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.model.token import Token, TokenElevationType
from ntsec.system.store import Store

__all__ = [
    "ELEVATION_TYPE_CODES",
    "SPECIAL_PRIVILEGES",
    "Event",
    "EventId",
    "EventLog",
]


class EventId(IntEnum):
    """Security log event IDs the simulated machine writes."""

    LOGON = 4624
    LOGON_FAILED = 4625
    LOGOFF = 4634
    EXPLICIT_CREDENTIALS = 4648
    SPECIAL_PRIVILEGES = 4672
    PROCESS_CREATED = 4688
    PROCESS_EXITED = 4689
    OBJECT_HANDLE_REQUESTED = 4656
    OBJECT_ACCESS_ATTEMPT = 4663
    PRIVILEGED_SERVICE_CALLED = 4673
    TOKEN_RIGHT_ADJUSTED = 4703
    #: Learn "4670(S): Permissions on an object were changed" (ntsec.system.setsecurity).
    OBJECT_PERMISSIONS_CHANGED = 4670


#: The privileges whose presence in a new logon's token makes LSA write 4672 ("Special
#: privileges assigned to new logon"): the list on the Learn page for 4672.
SPECIAL_PRIVILEGES: tuple[Privilege, ...] = (
    Privilege.SeAssignPrimaryTokenPrivilege,
    Privilege.SeAuditPrivilege,
    Privilege.SeBackupPrivilege,
    Privilege.SeCreateTokenPrivilege,
    Privilege.SeDebugPrivilege,
    Privilege.SeEnableDelegationPrivilege,
    Privilege.SeImpersonatePrivilege,
    Privilege.SeLoadDriverPrivilege,
    Privilege.SeRestorePrivilege,
    Privilege.SeSecurityPrivilege,
    Privilege.SeSystemEnvironmentPrivilege,
    Privilege.SeTakeOwnershipPrivilege,
    Privilege.SeTcbPrivilege,
)

#: 4688 TokenElevationType values (Learn "4688(S)": %%1936 Type 1 full token with no
#: privileges removed or groups disabled, %%1937 Type 2 elevated, %%1938 Type 3 limited).
ELEVATION_TYPE_CODES: Mapping[TokenElevationType, str] = {
    TokenElevationType.TokenElevationTypeDefault: "%%1936",
    TokenElevationType.TokenElevationTypeFull: "%%1937",
    TokenElevationType.TokenElevationTypeLimited: "%%1938",
}

#: 4624 ElevatedToken: %%1842 Yes, %%1843 No (Learn "4624(S)", version 2 fields).
_YES, _NO = "%%1842", "%%1843"


@dataclass(frozen=True, slots=True)
class Event:
    """One security log record. ``success`` is the Audit Success / Audit Failure keyword."""

    record_id: int
    event_id: int
    time: float
    success: bool
    account: Sid | None
    logon_id: int | None
    fields: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "event_id": self.event_id,
            "time": self.time,
            "keywords": "Audit Success" if self.success else "Audit Failure",
            "account": None if self.account is None else str(self.account),
            "logon_id": None if self.logon_id is None else f"0x{self.logon_id:x}",
            "fields": dict(self.fields),
        }


def hex_id(value: int | None) -> str:
    """Logon IDs, process IDs and masks as the log prints them (``0x3e7``)."""
    return "0x0" if value is None else f"0x{value:x}"


class EventLog:
    """The Security log of one machine."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def write(self, event_id: int, fields: Mapping[str, Any], *, success: bool = True,
              account: Sid | None = None, logon_id: int | None = None) -> Event:
        """Append one record (in the caller's transaction when there is one)."""
        now = self.clock()
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT INTO events (event_id, time, success, account, logon_id, fields) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (int(event_id), now, int(success), None if account is None else str(account),
                 logon_id, json.dumps(dict(fields), sort_keys=True)),
            )
            record = int(cur.lastrowid or 0)
        return Event(record, int(event_id), now, success, account, logon_id, dict(fields))

    def query(self, event_id: int | Iterable[int] | None = None, *, account: Sid | None = None,
              logon_id: int | None = None, success: bool | None = None,
              since: int = 0, account_name: str | None = None) -> list[Event]:
        """Records in log order, filtered by ID(s), the account SID or logon session they are
        about, the keyword, and records after ``since``.

        A failed logon (4625) names no SID (TargetUserSid is the NULL SID: the name was never
        resolved, Learn "4625(F) An account failed to log on"), so with ``account_name`` the
        account filter also keeps the 4625 records whose TargetUserName is that name (account
        names compare without case).
        """
        where, args = ["record_id > ?"], [since]
        if event_id is not None:
            ids = [int(event_id)] if isinstance(event_id, int) else [int(i) for i in event_id]
            where.append(f"event_id IN ({','.join('?' * len(ids))})")
            args += ids
        if account is not None and account_name is not None:
            where.append("(account = ? OR (account IS NULL AND event_id = ?))")
            args += [str(account), int(EventId.LOGON_FAILED)]  # type: ignore[list-item]
        elif account is not None:
            where.append("account = ?")
            args.append(str(account))  # type: ignore[arg-type]
        if logon_id is not None:
            where.append("logon_id = ?")
            args.append(logon_id)
        if success is not None:
            where.append("success = ?")
            args.append(int(success))
        with self.store.transaction() as db:
            rows = db.execute(
                f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY record_id",  # noqa: S608
                args,
            ).fetchall()
        found = [_event(r) for r in rows]
        if account is not None and account_name is not None:
            wanted = account_name.casefold()
            found = [e for e in found if e.account is not None
                     or str(e.fields.get("TargetUserName", "")).casefold() == wanted]
        return found


def _event(row: sqlite3.Row) -> Event:
    return Event(
        record_id=int(row["record_id"]),
        event_id=int(row["event_id"]),
        time=float(row["time"]),
        success=bool(row["success"]),
        account=None if row["account"] is None else Sid.parse(row["account"]),
        logon_id=None if row["logon_id"] is None else int(row["logon_id"]),
        fields=json.loads(row["fields"]),
    )


def elevated_code(token: Token) -> str:
    """4624 ElevatedToken for the token the logon produced."""
    return _YES if token.is_elevated else _NO


#: Listed in 4672 when present although the Learn page does not name it: Windows 10 admin and
#: SYSTEM logons show it last in their PrivilegeList [O].
_ALSO_LISTED = frozenset({Privilege.SeDelegateSessionUserImpersonatePrivilege})


def special_privileges(token: Token) -> list[str]:
    """The 4672 PrivilegeList: empty unless the token holds one of :data:`SPECIAL_PRIVILEGES`
    (then the event is written); the sensitive privileges in token (LUID) order, as the
    event lists them [O]."""
    special = frozenset(SPECIAL_PRIVILEGES)
    if not any(p.privilege in special for p in token.privileges):
        return []
    return [p.privilege.name for p in token.privileges
            if p.privilege in special or p.privilege in _ALSO_LISTED]
