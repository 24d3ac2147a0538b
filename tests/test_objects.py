"""ntsec.system.objects: named securable objects, their inherited descriptors (docs/rules.md
I.10), creation rights on the parent and opens through a token (I.4), and SACL auditing."""

from __future__ import annotations

import pytest

from machine_fixtures import BOB, machine, machine_path, workstation_template
from ntsec.errors import NtStatusError
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.status import NtStatus
from ntsec.system.events import EventId
from ntsec.system.machine import Machine
from ntsec.system.objects import object_type_of, parent_path
from ntsec.system.process import ProcessStatus
from ntsec.system.scenario import ObjectKind

__all__ = ["machine", "machine_path", "workstation_template"]


def dacl(text: str, m: Machine) -> object:
    return SecurityDescriptor.from_sddl(text, domain_sid=m.accounts.machine_sid).dacl


def bob_shell(m: Machine) -> int:
    shell = m.logon(*BOB).shell_pid
    assert shell is not None
    return shell


def test_parents_and_types() -> None:
    assert "C:\\Users\\bob" == parent_path(ObjectKind.DIRECTORY, "C:\\Users\\bob\\Documents")
    assert parent_path(ObjectKind.DIRECTORY, "C:\\Windows") is None  # the volume root
    assert "HKLM\\SOFTWARE" == parent_path(ObjectKind.REGISTRY_KEY, "HKLM\\SOFTWARE\\Foo")
    assert "scmanager" == parent_path(ObjectKind.SERVICE, "Spooler")
    assert ObjectType.SERVICE_CONTROL_MANAGER == object_type_of(ObjectKind.SERVICE, "scmanager")
    assert ObjectType.SERVICE == object_type_of(ObjectKind.SERVICE, "Spooler")
    assert ObjectType.NAMED_PIPE == object_type_of(ObjectKind.NAMED_PIPE, "\\\\.\\pipe\\x")


def test_scenario_directory_inherits_from_its_profile(machine: Machine) -> None:
    """I.10: OI|CI ACEs of the protected profile reach Documents as OICI|ID copies, and the
    child is marked auto-inherited (what icacls shows as (I)(OI)(CI)(F))."""
    alice = machine.accounts.user("alice").sid
    docs = machine.objects.get("C:\\Users\\alice\\Documents")
    assert dacl(f"D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;FA;;;{alice})",
                machine) == docs.sd.dacl


def test_new_file_and_directory_get_inherited_aces(machine: Machine) -> None:
    """I.10 for a standard user creating in C:\\ProgramData (Users may add files and
    subdirectories there: (CI)(WD,AD,WEA,WA)): a directory gets the OI|CI ACEs and the CI-only
    one, CREATOR OWNER splits into an effective ACE for the creator and an inherit-only copy;
    a file gets only the OI ACEs, effective, with CREATOR OWNER replaced and GA mapped to FA."""
    m = machine
    shell = bob_shell(m)
    bob = m.accounts.user("bob").sid
    made = m.create_object(shell, ObjectKind.DIRECTORY, "C:\\ProgramData\\App")
    assert made.allowed
    assert dacl("D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)"
                f"(A;ID;FA;;;{bob})(A;OICIIOID;GA;;;CO)"
                "(A;OICIID;0x1200a9;;;BU)(A;CIID;0x116;;;BU)", m) == made.object.sd.dacl
    assert bob == made.object.sd.owner
    file = m.create_object(shell, ObjectKind.FILE, "C:\\ProgramData\\App\\data.txt")
    assert dacl(f"D:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;FA;;;{bob})(A;ID;0x1200a9;;;BU)",
                m) == file.object.sd.dacl


def test_creating_needs_the_parents_add_right(machine: Machine) -> None:
    """I.4: Users hold only read/execute on System32 (no FILE_ADD_FILE) and KEY_READ on
    HKLM\\SOFTWARE (no KEY_CREATE_SUB_KEY): the create is denied and nothing is made."""
    m = machine
    shell = bob_shell(m)
    denied = m.create_object(shell, ObjectKind.FILE, "C:\\Windows\\System32\\evil.dll")
    assert NtStatus.STATUS_ACCESS_DENIED == denied.status
    assert not m.objects.exists("C:\\Windows\\System32\\evil.dll", ObjectKind.FILE)
    key = m.create_object(shell, ObjectKind.REGISTRY_KEY, "HKLM\\SOFTWARE\\Evil")
    assert NtStatus.STATUS_ACCESS_DENIED == key.status
    with pytest.raises(NtStatusError) as exc:
        m.create_object(shell, ObjectKind.DIRECTORY, "C:\\ProgramData")
    assert ProcessStatus.STATUS_OBJECT_NAME_COLLISION == exc.value.status


def test_pipe_without_parent_gets_the_token_default_dacl(machine: Machine) -> None:
    """I.10: no parent ACL and no creator DACL -> the creator token's default DACL (E.2: the
    user, SYSTEM and the logon SID)."""
    m = machine
    shell = bob_shell(m)
    token = m.processes.primary_token(shell)
    pipe = m.create_pipe(shell, "bobs-pipe")
    assert token.default_dacl is not None
    assert [a.sid for a in token.default_dacl] == [a.sid for a in pipe.sd.dacl or ()]


def test_opens_are_explained_and_audited_per_the_sacl(machine: Machine) -> None:
    """I.4 with the explanation; the SCM's SACL (AU;FA;KA;;;WD) audits failed opens by
    anyone (MS-DTYP 2.4.4.10 SYSTEM_AUDIT_ACE, FAILED_ACCESS_ACE_FLAG): a denied open writes
    4656 Audit Failure, a granted one nothing."""
    m = machine
    shell = bob_shell(m)
    connect = m.open_object(shell, "scmanager", 0x0001)  # SC_MANAGER_CONNECT
    assert connect.allowed
    assert not connect.audited
    full = m.open_object(shell, "scmanager", 0xF003F)
    assert NtStatus.STATUS_ACCESS_DENIED == full.status
    assert full.audited
    assert full.result.explanation is not None
    events = m.events.query(EventId.OBJECT_HANDLE_REQUESTED)
    assert [(False, "scmanager")] == [(e.success, e.fields["ObjectName"]) for e in events]
    with pytest.raises(NtStatusError) as exc:
        m.open_object(shell, "C:\\nowhere", 0x1)
    assert ProcessStatus.STATUS_OBJECT_NAME_NOT_FOUND == exc.value.status
