"""Named securable objects of the simulated machine: files and directories, registry keys,
services (and the service control manager), named pipes (issue 5 "Objects").

Each object has a security descriptor. A new object's descriptor comes from the inheritance
rules of docs/rules.md I.10 (:func:`ntsec.authz.inherit.create_security_descriptor`) applied to
its parent, the creator's descriptor and the creator's token; creating a child needs the
parent's "add" right (FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY, KEY_CREATE_SUB_KEY,
SC_MANAGER_CREATE_SERVICE). Opening one is :func:`ntsec.authz.access.access_check` with the
token the facade passes (the thread's impersonation token, else the process's primary token,
docs/rules.md G.2), always explained. The SACL's audit ACEs say whether the attempt is audited
(the facade then writes event 4656).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ntsec.authz.access import AccessResult, access_check
from ntsec.authz.inherit import AutoInheritFlags, create_security_descriptor
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.ace import AceFlags, AceType
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.status import NtStatus
from ntsec.model.token import Token
from ntsec.system.process import ProcessStatus
from ntsec.system.scenario import ObjectKind
from ntsec.system.store import Store

__all__ = [
    "CREATE_CHILD_RIGHT",
    "NamedObject",
    "ObjectNamespace",
    "OpenResult",
    "object_type_of",
    "parent_path",
]

#: The right on the parent that creating a child needs (winnt.h / winsvc.h values; Learn
#: fileio/file-security-and-access-rights, sysinfo/registry-key-security-and-access-rights,
#: services/service-security-and-access-rights).
FILE_ADD_FILE = 0x0002
FILE_ADD_SUBDIRECTORY = 0x0004
KEY_CREATE_SUB_KEY = 0x0004
SC_MANAGER_CREATE_SERVICE = 0x0002
CREATE_CHILD_RIGHT: dict[ObjectKind, int] = {
    ObjectKind.FILE: FILE_ADD_FILE,
    ObjectKind.DIRECTORY: FILE_ADD_SUBDIRECTORY,
    ObjectKind.REGISTRY_KEY: KEY_CREATE_SUB_KEY,
    ObjectKind.SERVICE: SC_MANAGER_CREATE_SERVICE,
}
#: The SCM's own object (`sc sdshow scmanager`).
SCMANAGER = "scmanager"

_CONTAINERS = frozenset({ObjectKind.DIRECTORY, ObjectKind.REGISTRY_KEY})
_FLAGS = AutoInheritFlags.SEF_DACL_AUTO_INHERIT | AutoInheritFlags.SEF_SACL_AUTO_INHERIT


def object_type_of(kind: ObjectKind, path: str) -> ObjectType:
    """The ObjectType (generic mapping, right names) of an object of ``kind``."""
    if kind is ObjectKind.SERVICE:
        return (ObjectType.SERVICE_CONTROL_MANAGER if path.lower() == SCMANAGER
                else ObjectType.SERVICE)
    return {
        ObjectKind.FILE: ObjectType.FILE,
        ObjectKind.DIRECTORY: ObjectType.DIRECTORY,
        ObjectKind.REGISTRY_KEY: ObjectType.REGISTRY_KEY,
        ObjectKind.NAMED_PIPE: ObjectType.NAMED_PIPE,
    }[kind]


def parent_path(kind: ObjectKind, path: str) -> str | None:
    """The container a new object is created in: the directory or key above it; services are
    created through the SCM; named pipes have no parent in this model."""
    if kind is ObjectKind.SERVICE:
        return None if path.lower() == SCMANAGER else SCMANAGER
    if kind is ObjectKind.NAMED_PIPE:
        return None
    head, sep, _ = path.rstrip("\\").rpartition("\\")
    if not sep or not head or head.endswith(":"):
        # "C:" is the volume: its root directory is not part of the modelled namespace.
        return None
    return head


def _key(kind: ObjectKind, path: str) -> str:
    # Files, keys, services and pipes are named case-insensitively (Win32 namespaces).
    family = "fs" if kind in (ObjectKind.FILE, ObjectKind.DIRECTORY) else kind.value
    return f"{family}:{path.rstrip(chr(92)) if kind is not ObjectKind.NAMED_PIPE else path}".lower()


@dataclass(frozen=True, slots=True)
class NamedObject:
    path: str
    kind: ObjectKind
    sd: SecurityDescriptor
    server_pid: int | None = None

    @property
    def object_type(self) -> ObjectType:
        return object_type_of(self.kind, self.path)


@dataclass(frozen=True, slots=True)
class OpenResult:
    """An open's decision: the object, the access check's result (with its explanation) and
    whether the SACL asks for the attempt to be audited."""

    object: NamedObject
    result: AccessResult
    desired: int
    audited: bool

    @property
    def allowed(self) -> bool:
        return self.result.allowed

    @property
    def granted(self) -> int:
        return self.result.granted

    @property
    def status(self) -> NtStatus:
        return self.result.status


class ObjectNamespace:
    """The machine's named objects, in its store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, path: str, kind: ObjectKind | None = None) -> NamedObject:
        kinds = [kind] if kind is not None else list(ObjectKind)
        with self.store.transaction() as db:
            for k in kinds:
                row = db.execute("SELECT * FROM objects WHERE key = ?", (_key(k, path),)
                                 ).fetchone()
                if row is not None:
                    return _object(row)
        raise NtStatusError(ProcessStatus.STATUS_OBJECT_NAME_NOT_FOUND,
                            f"no such object: {path}")

    def exists(self, path: str, kind: ObjectKind) -> bool:
        with self.store.transaction() as db:
            return db.execute("SELECT 1 FROM objects WHERE key = ?",
                              (_key(kind, path),)).fetchone() is not None

    def all(self, kind: ObjectKind | None = None) -> list[NamedObject]:
        with self.store.transaction() as db:
            if kind is None:
                rows = db.execute("SELECT * FROM objects ORDER BY key").fetchall()
            else:
                rows = db.execute("SELECT * FROM objects WHERE kind = ? ORDER BY key",
                                  (kind.value,)).fetchall()
        return [_object(r) for r in rows]

    def put(self, obj: NamedObject) -> NamedObject:
        """Store an object as given (scenarios; the descriptor is already final)."""
        with self.store.transaction() as db:
            if self.exists(obj.path, obj.kind):
                raise NtStatusError(ProcessStatus.STATUS_OBJECT_NAME_COLLISION,
                                    f"{obj.path} already exists")
            db.execute("INSERT INTO objects (key, path, kind, sd, server_pid) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (_key(obj.kind, obj.path), obj.path, obj.kind.value, obj.sd.to_bytes(),
                        obj.server_pid))
        return obj

    def set_server(self, path: str, server_pid: int) -> NamedObject:
        """The process now serving a named pipe (a new server instance)."""
        with self.store.transaction() as db:
            obj = self.get(path, ObjectKind.NAMED_PIPE)
            db.execute("UPDATE objects SET server_pid = ? WHERE key = ?",
                       (server_pid, _key(ObjectKind.NAMED_PIPE, path)))
        return NamedObject(obj.path, obj.kind, obj.sd, server_pid)

    def replace_descriptor(self, obj: NamedObject, sd: SecurityDescriptor) -> NamedObject:
        """Store a new descriptor for an existing object (the decision is the caller's:
        :mod:`ntsec.system.setsecurity` checks the access first)."""
        with self.store.transaction() as db:
            self.get(obj.path, obj.kind)
            db.execute("UPDATE objects SET sd = ? WHERE key = ?",
                       (sd.to_bytes(), _key(obj.kind, obj.path)))
        return NamedObject(obj.path, obj.kind, sd, obj.server_pid)

    def remove(self, path: str, kind: ObjectKind) -> None:
        with self.store.transaction() as db:
            self.get(path, kind)
            db.execute("DELETE FROM objects WHERE key = ?", (_key(kind, path),))

    def inherited_descriptor(self, kind: ObjectKind, path: str, token: Token,
                             creator: SecurityDescriptor | None = None, *,
                             owner_from_parent: bool = False) -> SecurityDescriptor:
        """The descriptor a new object at ``path`` gets (docs/rules.md I.10)."""
        parent = parent_path(kind, path)
        parent_sd = None
        if parent is not None and kind is not ObjectKind.SERVICE:
            parent_kind = (ObjectKind.DIRECTORY if kind in (ObjectKind.FILE, ObjectKind.DIRECTORY)
                           else kind)
            if self.exists(parent, parent_kind):
                parent_sd = self.get(parent, parent_kind).sd
        flags = _FLAGS
        if owner_from_parent:
            flags |= (AutoInheritFlags.SEF_DEFAULT_OWNER_FROM_PARENT
                      | AutoInheritFlags.SEF_DEFAULT_GROUP_FROM_PARENT)
        return create_security_descriptor(parent_sd, creator, kind in _CONTAINERS, token,
                                          object_type_of(kind, path), auto_inherit_flags=flags)

    def create(self, kind: ObjectKind, path: str, token: Token,
               creator: SecurityDescriptor | None = None, *,
               server_pid: int | None = None) -> OpenResult:
        """Create an object as ``token``: the parent's add right is checked first (a denial is
        returned, not raised), then the new object gets its inherited descriptor. The result
        describes the check made on the parent (or, without a parent, the new object's
        descriptor granting its creator what it has)."""
        with self.store.transaction():
            if self.exists(path, kind):
                raise NtStatusError(ProcessStatus.STATUS_OBJECT_NAME_COLLISION,
                                    f"{path} already exists")
            parent = parent_path(kind, path)
            right = CREATE_CHILD_RIGHT.get(kind)
            if parent is not None and right is not None:
                parent_kind = ObjectKind.SERVICE if kind is ObjectKind.SERVICE else (
                    ObjectKind.DIRECTORY if kind in (ObjectKind.FILE, ObjectKind.DIRECTORY)
                    else kind)
                if self.exists(parent, parent_kind):
                    check = self.open(parent, token, right, parent_kind)
                    if not check.allowed:
                        return check
                elif "\\" in parent:
                    raise NtStatusError(ProcessStatus.STATUS_OBJECT_NAME_NOT_FOUND,
                                        f"the parent {parent} does not exist")
            sd = self.inherited_descriptor(kind, path, token, creator)
            obj = self.put(NamedObject(path, kind, sd, server_pid))
            result = access_check(sd, token, 0x02000000, obj.object_type, explain=True)
            return OpenResult(obj, result, 0x02000000, False)

    def open(self, path: str, token: Token, desired: int, kind: ObjectKind | None = None,
             ) -> OpenResult:
        """Open an existing object with ``desired`` access as ``token`` (explained)."""
        obj = self.get(path, kind)
        result = access_check(obj.sd, token, desired, obj.object_type, explain=True)
        return OpenResult(obj, result, desired, audit_matches(obj, token, desired, result))


def audit_matches(obj: NamedObject, token: Token, desired: int, result: AccessResult) -> bool:
    """Does the object's SACL ask for this attempt to be audited? A SYSTEM_AUDIT_ACE applies
    when its SID is in the token (user, or a group enabled or deny-only), its mask (mapped)
    meets the requested access, and it carries SUCCESSFUL_ACCESS_ACE_FLAG for a granted open or
    FAILED_ACCESS_ACE_FLAG for a denied one (MS-DTYP 2.4.4.10, L:secauthz/audit-generation)."""
    sacl = obj.sd.sacl
    if sacl is None:
        return False
    mapping = obj.object_type.mapping
    wanted = mapping.map(desired) if desired & 0xF0000000 else desired
    flag = AceFlags.SUCCESSFUL_ACCESS_ACE_FLAG if result.allowed else (
        AceFlags.FAILED_ACCESS_ACE_FLAG)
    sids = token.compiled().deny_sids
    for ace in sacl:
        if ace.type != AceType.SYSTEM_AUDIT_ACE_TYPE or ace.flags & AceFlags.INHERIT_ONLY_ACE:
            continue
        mask = mapping.map(ace.mask) if ace.mask & 0xF0000000 else ace.mask
        if ace.sid in sids and ace.flags & flag and mask & (wanted | result.granted):
            return True
    return False


def _object(row: sqlite3.Row) -> NamedObject:
    try:
        kind = ObjectKind(row["kind"])
    except ValueError:
        raise InvalidValueError(f"unknown object kind in the store: {row['kind']!r}") from None
    return NamedObject(str(row["path"]), kind, SecurityDescriptor.from_bytes(bytes(row["sd"])),
                       row["server_pid"])
