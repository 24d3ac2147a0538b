"""Processes, threads, handles and the token objects they hold, kept in the machine's store
(docs/rules.md E.2, G.2, H.6, H.7; docs/design.md "The simulated machine").

A process has one primary token; a thread may hold an impersonation token (G.2); a handle names
a token, process or thread object with the access granted when it was opened. Tokens are
stored as token objects keyed by their TokenId. A token lives while something references it (a
process, a thread, a handle, a captured named-pipe client, or, for the full half of a UAC split,
the filtered half's logon session, which is how LSA keeps the linked token); a logon session
ends when its last token goes (docs/rules.md E.2 last bullet, H.7). :meth:`ProcessTable.collect`
finds the tokens and logon sessions that have gone; the facade records the logoffs.

Tokens are serialised as JSON with descriptors and ACLs in their binary self-relative form
(MS-DTYP 2.4.6), so a stored token reads back equal to the value that was stored.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any

from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.acl import Acl
from ntsec.model.descriptor import SecurityDescriptor, SecurityDescriptorControl
from ntsec.model.privileges import PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenElevationType,
    TokenMandatoryPolicy,
    TokenSource,
    TokenType,
)
from ntsec.system.store import Store

__all__ = [
    "Handle",
    "HandleKind",
    "Process",
    "ProcessStatus",
    "ProcessTable",
    "Thread",
    "token_from_json",
    "token_to_json",
]


class ProcessStatus(IntEnum):
    """NTSTATUS values of the process layer that ntsec.model.status does not list ([MS-ERREF]
    2.3.1)."""

    STATUS_INVALID_HANDLE = 0xC0000008
    STATUS_INVALID_CID = 0xC000000B
    STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034
    STATUS_OBJECT_NAME_COLLISION = 0xC0000035
    STATUS_NOT_SUPPORTED = 0xC00000BB
    STATUS_CANCELLED = 0xC0000120
    STATUS_PIPE_NOT_AVAILABLE = 0xC00000AC
    #: CreateProcess of an image whose manifest asks for more than the token has; Win32
    #: ERROR_ELEVATION_REQUIRED 740 (0x2E4) (docs/rules.md F.3).
    STATUS_ELEVATION_REQUIRED = 0xC000042C


class HandleKind:
    """What a handle refers to (the object type name as the kernel's handle table spells it)."""

    TOKEN = "Token"  # noqa: S105 (an object type name)
    PROCESS = "Process"
    THREAD = "Thread"


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    ppid: int
    image: str
    session_id: int
    token_id: int
    created: float
    command_line: str
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Thread:
    tid: int
    pid: int
    token_id: int | None  # the impersonation token, None when not impersonating


@dataclass(frozen=True, slots=True)
class Handle:
    pid: int
    value: int
    kind: str
    target: int
    access: int


# ---------------------------------------------------------------------- token <-> JSON
def _acl_bytes(acl: Acl | None) -> str | None:
    if acl is None:
        return None
    sd = SecurityDescriptor(dacl=acl, control=SecurityDescriptorControl.SE_SELF_RELATIVE
                            | SecurityDescriptorControl.SE_DACL_PRESENT)
    return sd.to_bytes().hex()


def _acl_from(text: str | None) -> Acl | None:
    return None if text is None else SecurityDescriptor.from_bytes(bytes.fromhex(text)).dacl


def _saa(items: tuple[SidAndAttributes, ...]) -> list[list[Any]]:
    return [[str(g.sid), int(g.attributes)] for g in items]


def _saa_from(items: list[list[Any]]) -> tuple[SidAndAttributes, ...]:
    return tuple(SidAndAttributes(Sid.parse(s), GroupAttributes(a)) for s, a in items)


def token_to_json(token: Token) -> str:
    """A token as JSON text (every field of :class:`Token`; claims are not stored)."""
    if token.user_claims or token.device_claims:
        # Tokens of this local machine never carry claims (no Kerberos PAC, docs/rules.md E.2).
        raise InvalidValueError("the simulated machine does not store tokens with claims")
    sd = token.security_descriptor
    data = {
        "user": [str(token.user.sid), int(token.user.attributes)],
        "groups": _saa(token.groups),
        "privileges": [[int(p.privilege), int(p.attributes)] for p in token.privileges],
        "owner": None if token.owner is None else str(token.owner),
        "primary_group": None if token.primary_group is None else str(token.primary_group),
        "default_dacl": _acl_bytes(token.default_dacl),
        "source": [token.source.name, token.source.luid],
        "token_type": int(token.token_type),
        "impersonation_level": int(token.impersonation_level),
        "token_id": token.token_id,
        "authentication_id": token.authentication_id,
        "modified_id": token.modified_id,
        "parent_token_id": token.parent_token_id,
        "originating_logon_session": token.originating_logon_session,
        "expiration": token.expiration,
        "session_id": token.session_id,
        "restricted_sids": _saa(token.restricted_sids),
        "write_restricted": token.write_restricted,
        "mandatory_policy": int(token.mandatory_policy),
        "elevation_type": int(token.elevation_type),
        "linked_token_id": token.linked_token_id,
        "filtered": token.filtered,
        "virtualization_allowed": token.virtualization_allowed,
        "virtualization_enabled": token.virtualization_enabled,
        "ui_access": token.ui_access,
        "sandbox_inert": token.sandbox_inert,
        "device_groups": _saa(token.device_groups),
        "security_descriptor": None if sd is None else sd.to_bytes().hex(),
    }
    return json.dumps(data, sort_keys=True)


def token_from_json(text: str) -> Token:
    d = json.loads(text)
    sd = d["security_descriptor"]
    return Token(
        user=SidAndAttributes(Sid.parse(d["user"][0]), GroupAttributes(d["user"][1])),
        groups=_saa_from(d["groups"]),
        privileges=tuple(PrivilegeEntry(p, PrivilegeAttributes(a)) for p, a in d["privileges"]),
        owner=None if d["owner"] is None else Sid.parse(d["owner"]),
        primary_group=None if d["primary_group"] is None else Sid.parse(d["primary_group"]),
        default_dacl=_acl_from(d["default_dacl"]),
        source=TokenSource(d["source"][0], d["source"][1]),
        token_type=TokenType(d["token_type"]),
        impersonation_level=ImpersonationLevel(d["impersonation_level"]),
        token_id=d["token_id"],
        authentication_id=d["authentication_id"],
        modified_id=d["modified_id"],
        parent_token_id=d["parent_token_id"],
        originating_logon_session=d["originating_logon_session"],
        expiration=d["expiration"],
        session_id=d["session_id"],
        restricted_sids=_saa_from(d["restricted_sids"]),
        write_restricted=d["write_restricted"],
        mandatory_policy=TokenMandatoryPolicy(d["mandatory_policy"]),
        elevation_type=TokenElevationType(d["elevation_type"]),
        linked_token_id=d["linked_token_id"],
        filtered=d["filtered"],
        virtualization_allowed=d["virtualization_allowed"],
        virtualization_enabled=d["virtualization_enabled"],
        ui_access=d["ui_access"],
        sandbox_inert=d["sandbox_inert"],
        device_groups=_saa_from(d["device_groups"]),
        security_descriptor=None if sd is None else SecurityDescriptor.from_bytes(
            bytes.fromhex(sd)),
    )


# Every Token field must be covered by the JSON form (a new field would otherwise be lost).
_STORED = {"user", "groups", "privileges", "owner", "primary_group", "default_dacl", "source",
           "token_type", "impersonation_level", "token_id", "authentication_id", "modified_id",
           "parent_token_id", "originating_logon_session", "expiration", "session_id",
           "restricted_sids", "write_restricted", "mandatory_policy", "elevation_type",
           "linked_token_id", "filtered", "virtualization_allowed", "virtualization_enabled",
           "ui_access", "sandbox_inert", "device_groups", "security_descriptor",
           "user_claims", "device_claims", "_compiled"}
assert {f.name for f in fields(Token)} <= _STORED, "ntsec.system.process: new Token field"


# ---------------------------------------------------------------------- the table
class ProcessTable:
    """Processes, threads, handles and token objects of one machine."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ ids
    def new_client_id(self) -> int:
        """A process or thread ID: one counter for both, multiples of 4, System is 4 (the
        kernel hands out client IDs from one handle table, so they share a number space)."""
        return 4 * self.store.next_counter("client_id", 1)

    def _new_handle_value(self) -> int:
        return 4 * self.store.next_counter("handle", 1)

    # ------------------------------------------------------------------ tokens
    def put_token(self, token: Token, *, pin_luid: int | None = None) -> Token:
        """Store a token object (replacing one with the same TokenId). ``pin_luid`` keeps it
        alive while that logon session has tokens (the full half of a UAC split)."""
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO tokens (token_id, authentication_id, data, pin_luid) VALUES "
                "(?, ?, ?, ?) ON CONFLICT (token_id) DO UPDATE SET data = excluded.data, "
                "authentication_id = excluded.authentication_id, "
                "pin_luid = COALESCE(excluded.pin_luid, tokens.pin_luid)",
                (token.token_id, token.authentication_id, token_to_json(token), pin_luid),
            )
        return token

    def token(self, token_id: int) -> Token:
        with self.store.transaction() as db:
            row = db.execute("SELECT data FROM tokens WHERE token_id = ?",
                             (token_id,)).fetchone()
        if row is None:
            raise NtStatusError(ProcessStatus.STATUS_INVALID_HANDLE,
                                f"no token object 0x{token_id:x}")
        return token_from_json(row[0])

    def tokens_of_session(self, luid: int) -> list[Token]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT data FROM tokens WHERE authentication_id = ? "
                              "ORDER BY token_id", (luid,)).fetchall()
        return [token_from_json(r[0]) for r in rows]

    def linked_token(self, token: Token) -> Token | None:
        """The other half of a UAC split, if its token object still exists."""
        if token.linked_token_id is None:
            return None
        with self.store.transaction() as db:
            row = db.execute("SELECT data FROM tokens WHERE token_id = ?",
                             (token.linked_token_id,)).fetchone()
        return None if row is None else token_from_json(row[0])

    # ------------------------------------------------------------------ processes
    def insert_process(self, *, ppid: int, image: str, token: Token, session_id: int,
                       created: float, command_line: str = "",
                       services: tuple[str, ...] = (), pid: int | None = None) -> Process:
        """A new process with ``token`` as its primary token and one thread."""
        if not token.is_primary:
            raise InvalidValueError("a process's token must be a primary token")
        with self.store.transaction() as db:
            self.put_token(token)
            pid = self.new_client_id() if pid is None else pid
            db.execute(
                "INSERT INTO processes (pid, ppid, image, token_id, session_id, created, "
                "command_line, services) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (pid, ppid, image, token.token_id, session_id, created, command_line,
                 ",".join(services)),
            )
            db.execute("INSERT INTO threads (tid, pid, token_id) VALUES (?, ?, NULL)",
                       (self.new_client_id(), pid))
            return self.process(pid)

    def process(self, pid: int) -> Process:
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM processes WHERE pid = ?", (pid,)).fetchone()
        if row is None:
            raise NtStatusError(ProcessStatus.STATUS_INVALID_CID, f"no process with id {pid}")
        return _process(row)

    def processes(self) -> list[Process]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT * FROM processes ORDER BY pid").fetchall()
        return [_process(r) for r in rows]

    def find(self, image: str) -> list[Process]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT * FROM processes WHERE image = ? COLLATE NOCASE "
                              "ORDER BY pid", (image,)).fetchall()
        return [_process(r) for r in rows]

    def primary_token(self, pid: int) -> Token:
        return self.token(self.process(pid).token_id)

    def set_primary_token(self, pid: int, token: Token) -> None:
        """Replace a process's primary token object (AdjustTokenPrivileges and other changes to
        the token itself keep its TokenId)."""
        with self.store.transaction() as db:
            self.put_token(token)
            db.execute("UPDATE processes SET token_id = ? WHERE pid = ?", (token.token_id, pid))

    def delete_process(self, pid: int) -> None:
        with self.store.transaction() as db:
            self.process(pid)
            db.execute("DELETE FROM pipe_connections WHERE client_pid = ? OR server_pid = ?",
                       (pid, pid))
            db.execute("DELETE FROM handles WHERE pid = ?", (pid,))
            db.execute("DELETE FROM threads WHERE pid = ?", (pid,))
            db.execute("DELETE FROM processes WHERE pid = ?", (pid,))

    # ------------------------------------------------------------------ threads
    def threads(self, pid: int) -> list[Thread]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT * FROM threads WHERE pid = ? ORDER BY tid",
                              (pid,)).fetchall()
        return [Thread(int(r["tid"]), int(r["pid"]), r["token_id"]) for r in rows]

    def thread(self, tid: int) -> Thread:
        with self.store.transaction() as db:
            r = db.execute("SELECT * FROM threads WHERE tid = ?", (tid,)).fetchone()
        if r is None:
            raise NtStatusError(ProcessStatus.STATUS_INVALID_CID, f"no thread with id {tid}")
        return Thread(int(r["tid"]), int(r["pid"]), r["token_id"])

    def main_thread(self, pid: int) -> Thread:
        threads = self.threads(pid)
        if not threads:
            raise NtStatusError(ProcessStatus.STATUS_INVALID_CID, f"process {pid} has no thread")
        return threads[0]

    def create_thread(self, pid: int) -> Thread:
        with self.store.transaction() as db:
            self.process(pid)
            tid = self.new_client_id()
            db.execute("INSERT INTO threads (tid, pid, token_id) VALUES (?, ?, NULL)", (tid, pid))
            return self.thread(tid)

    def set_thread_token(self, tid: int, token: Token | None) -> None:
        """Give a thread an impersonation token, or None to revert (RevertToSelf)."""
        if token is not None and not token.is_impersonation:
            raise InvalidValueError("a thread token must be an impersonation token")
        with self.store.transaction() as db:
            self.thread(tid)
            if token is not None:
                self.put_token(token)
            db.execute("UPDATE threads SET token_id = ? WHERE tid = ?",
                       (None if token is None else token.token_id, tid))

    def thread_token(self, tid: int) -> Token | None:
        t = self.thread(tid)
        return None if t.token_id is None else self.token(t.token_id)

    # ------------------------------------------------------------------ handles
    def add_handle(self, pid: int, kind: str, target: int, access: int) -> Handle:
        with self.store.transaction() as db:
            value = self._new_handle_value()
            db.execute("INSERT INTO handles (pid, handle, kind, target, access) "
                       "VALUES (?, ?, ?, ?, ?)", (pid, value, kind, target, access))
        return Handle(pid, value, kind, target, access)

    def handle(self, pid: int, value: int, kind: str | None = None) -> Handle:
        with self.store.transaction() as db:
            r = db.execute("SELECT * FROM handles WHERE pid = ? AND handle = ?",
                           (pid, value)).fetchone()
        if r is None or (kind is not None and r["kind"] != kind):
            raise NtStatusError(ProcessStatus.STATUS_INVALID_HANDLE,
                                f"process {pid} has no {kind or ''} handle 0x{value:x}".replace(
                                    "  ", " "))
        return Handle(int(r["pid"]), int(r["handle"]), str(r["kind"]), int(r["target"]),
                      int(r["access"]))

    def handles(self, pid: int) -> list[Handle]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT * FROM handles WHERE pid = ? ORDER BY handle",
                              (pid,)).fetchall()
        return [Handle(int(r["pid"]), int(r["handle"]), str(r["kind"]), int(r["target"]),
                       int(r["access"])) for r in rows]

    def close_handle(self, pid: int, value: int) -> None:
        with self.store.transaction() as db:
            self.handle(pid, value)
            db.execute("DELETE FROM handles WHERE pid = ? AND handle = ?", (pid, value))

    # ------------------------------------------------------------------ lifetime
    def collect(self) -> list[int]:
        """Delete token objects nothing references any more and return the logon sessions
        (LUIDs) that have no token left (docs/rules.md E.2: a session ends with its last
        token). References: processes, threads, token handles, captured pipe clients, and a
        linked token pinned by a logon session that still has tokens."""
        with self.store.transaction() as db:
            direct = {int(r[0]) for r in db.execute(
                "SELECT token_id FROM processes UNION SELECT token_id FROM threads "
                "WHERE token_id IS NOT NULL UNION SELECT target FROM handles WHERE kind = ? "
                "UNION SELECT token_id FROM pipe_connections", (HandleKind.TOKEN,))}
            rows = db.execute("SELECT token_id, authentication_id, pin_luid FROM tokens"
                              ).fetchall()
            live_sessions = {int(r[1]) for r in rows if int(r[0]) in direct}
            keep = direct | {int(r[0]) for r in rows
                             if r[2] is not None and int(r[2]) in live_sessions}
            for r in rows:
                if int(r[0]) not in keep:
                    db.execute("DELETE FROM tokens WHERE token_id = ?", (int(r[0]),))
            remaining = {int(r[0]) for r in db.execute(
                "SELECT DISTINCT authentication_id FROM tokens")}
            sessions = [int(r[0]) for r in db.execute("SELECT luid FROM logon_sessions")]
            return [luid for luid in sessions if luid not in remaining]


def _process(row: sqlite3.Row) -> Process:
    services = str(row["services"])
    return Process(
        pid=int(row["pid"]), ppid=int(row["ppid"]), image=str(row["image"]),
        session_id=int(row["session_id"]), token_id=int(row["token_id"]),
        created=float(row["created"]), command_line=str(row["command_line"]),
        services=tuple(services.split(",")) if services else (),
    )
