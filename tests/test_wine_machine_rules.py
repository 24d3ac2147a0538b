"""The machine-layer rules of tests/vectors/wine-windows.json "token_rules" (Wine's
dlls/advapi32/tests/security.c, run on Windows): logon tokens, the UAC split, a token object's
own descriptor, and SetKernelObjectSecurity / SetNamedSecurityInfo on the simulated machine's
objects. Each test quotes its rule with ``wine("...")``, which also checks the rule text is in
the vector file; tests/test_tokenops.py lists these tests in TOKEN_RULES_ELSEWHERE."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from machine_fixtures import ALICE, machine, machine_path, workstation_template
from ntsec.authz.tokenops import set_information
from ntsec.model.ace import AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import (
    SecurityDescriptor,
    SecurityDescriptorControl,
    SecurityInformation,
)
from ntsec.model.names import SidNameUse
from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import TokenInformationClass
from ntsec.system.calls import token_descriptor
from ntsec.system.machine import Machine
from ntsec.system.scenario import ObjectKind

__all__ = ["machine", "machine_path", "workstation_template"]

SI = SecurityInformation
C = SecurityDescriptorControl
OWNER = SI.OWNER_SECURITY_INFORMATION
GROUP = SI.GROUP_SECURITY_INFORMATION
DACL = SI.DACL_SECURITY_INFORMATION
LABEL = SI.LABEL_SECURITY_INFORMATION
NO_WRITE_UP = 0x1
FILE_ALL_ACCESS = 0x001F01FF
BUILTIN_ADMINISTRATORS = Sid.parse("S-1-5-32-544")
MEDIUM, HIGH = Sid.parse("S-1-16-8192"), Sid.parse("S-1-16-12288")

_VECTORS = Path(__file__).parent / "vectors" / "wine-windows.json"
_RULES: dict[str, str] = {
    r["rule"]: r["expected"] for r in json.loads(_VECTORS.read_text("utf-8"))["token_rules"]
}


def wine(rule: str) -> str:
    """The Windows-observed expectation of ``rule`` (the test fails if the rule is missing)."""
    return _RULES[rule]


def sd(m: Machine, text: str) -> SecurityDescriptor:
    return SecurityDescriptor.from_sddl(text, domain_sid=m.accounts.machine_sid)


def alice_explorer(m: Machine) -> int:
    """The workstation's explorer.exe Winlogon started for alice (her filtered token)."""
    alice = m.accounts.user("alice").sid
    return next(
        p.pid
        for p in m.processes.find("explorer.exe")
        if m.processes.primary_token(p.pid).user.sid == alice
    )


def elevated_alice(m: Machine) -> int:
    """alice's "Run as administrator" (consent): her full token, High."""
    return m.run_elevated(alice_explorer(m), "cmd.exe", consent=True).pid


def admin_directory(m: Machine, admin: int, name: str = "WineDir") -> str:
    path = f"C:\\ProgramData\\{name}"
    made = m.create_object(admin, ObjectKind.DIRECTORY, path)
    assert made.allowed
    return made.object.path


# ------------------------------------------------------------------ logon tokens


def test_primary_group_of_an_interactive_local_user(machine: Machine) -> None:
    """Wine "TokenPrimaryGroup of an interactive local user": the primary group shares the
    user's domain prefix (EqualPrefixSid) and LookupAccountSid names it SidTypeGroup "None"
    (<machine>-513)."""
    expected = wine("TokenPrimaryGroup of an interactive local user")
    assert "SidTypeGroup 'None'" in expected
    assert "<machine>-513" in expected
    m = machine
    token = m.logon(*ALICE).token
    group, user = token.primary_group, token.user.sid
    assert group is not None
    # EqualPrefixSid: same revision and authority, same sub-authorities but the last.
    assert (user.authority, user.sub_authorities[:-1]) == (
        group.authority,
        group.sub_authorities[:-1],
    )
    assert m.accounts.machine_sid.child(513) == group
    resolved = m.accounts.lookup(group)
    assert resolved is not None
    assert (m.accounts.computer_name, "None", SidNameUse.SidTypeGroup) == (
        resolved.domain,
        resolved.name,
        resolved.use,
    )


def test_default_dacl_of_both_halves_is_not_empty(machine: Machine) -> None:
    """Wine "TokenDefaultDacl of a limited/full admin token": non-empty (AceCount > 0) on the
    filtered and on the full half of an administrator's split logon."""
    assert "AceCount > 0" in wine("TokenDefaultDacl of a limited/full admin token")
    m = machine
    limited = m.processes.primary_token(alice_explorer(m))
    full = m.processes.linked_token(limited)
    assert full is not None
    assert (HIGH, MEDIUM) == (full.integrity_sid, limited.integrity_sid)
    for half in (limited, full):
        assert half.default_dacl is not None
        assert len(half.default_dacl.aces) > 0


def test_linked_token_ignores_changes_to_the_source_token(machine: Machine) -> None:
    """Wine "Linked token after modifying the source token": the linked token does not reflect
    SE_PRIVILEGE_REMOVED of SeChangeNotifyPrivilege nor an emptied default DACL of the token
    it was queried from (it is built from the logon session, not from the source)."""
    assert "does not reflect SE_PRIVILEGE_REMOVED" in wine(
        "Linked token after modifying the source token"
    )
    m = machine
    pid = alice_explorer(m)
    m.adjust_privileges(pid, remove=[Privilege.SeChangeNotifyPrivilege])
    source = m.processes.primary_token(pid)
    source = set_information(source, TokenInformationClass.TokenDefaultDacl, Acl(()))
    m.processes.put_token(source)
    source = m.processes.primary_token(pid)
    # The source really was changed ...
    assert source.privilege(Privilege.SeChangeNotifyPrivilege) is None
    assert source.default_dacl is not None
    assert not source.default_dacl.aces
    # ... and its linked token keeps what the logon gave it.
    linked = m.processes.linked_token(source)
    assert linked is not None
    entry = linked.privilege(Privilege.SeChangeNotifyPrivilege)
    assert entry is not None
    assert entry.enabled
    assert linked.default_dacl is not None
    assert len(linked.default_dacl.aces) > 0


# ------------------------------------------------------------------ the token object's SD


@pytest.mark.parametrize(("elevated", "level"), [(False, MEDIUM), (True, HIGH)])
def test_process_token_label(machine: Machine, elevated: bool, level: Sid) -> None:
    """Wine "Token object's own SD (LABEL_SECURITY_INFORMATION query on process token)": control
    SE_SELF_RELATIVE|SE_SACL_AUTO_INHERITED|SE_SACL_PRESENT; the SACL has 1 ML ACE, flags 0,
    mask NO_WRITE_UP (0x1), SID Medium or High.

    Not expressed: "no owner/group; ... DACL not present" describe the reply to a LABEL-only
    query, and ntsec has no GetKernelObjectSecurity that filters a descriptor by
    SECURITY_INFORMATION; the token object's full descriptor has them."""
    expected = wine("Token object's own SD (LABEL_SECURITY_INFORMATION query on process token)")
    assert "SACL has 1 ML ACE, flags 0, mask NO_WRITE_UP (0x1)" in expected
    m = machine
    pid = elevated_alice(m) if elevated else alice_explorer(m)
    token_sd = token_descriptor(m.processes.primary_token(pid))
    sacl_bits = C.SE_SELF_RELATIVE | C.SE_SACL_AUTO_INHERITED | C.SE_SACL_PRESENT
    assert sacl_bits == token_sd.control & (sacl_bits | C.SE_SACL_PROTECTED | C.SE_SACL_DEFAULTED)
    assert token_sd.sacl is not None
    (ace,) = token_sd.sacl.aces
    assert (AceType.SYSTEM_MANDATORY_LABEL_ACE_TYPE, AceFlags(0), NO_WRITE_UP, level) == (
        ace.type,
        ace.flags,
        ace.mask,
        ace.sid,
    )


# ------------------------------------------------------------------ SetKernelObjectSecurity


def test_set_kernel_object_security_dacl_not_present_or_null(machine: Machine) -> None:
    """Wine "SetKernelObjectSecurity checks": DACL_SECURITY_INFORMATION with the DACL not
    present or NULL -> success; setting the DACL keeps owner and group.

    Not expressed here (the revision rule has its own test below):
    "SACL_SECURITY_INFORMATION on a handle without ACCESS_SYSTEM_SECURITY -> ERROR_ACCESS_DENIED"
    - set_object_security opens the object itself for the rights the parts need, and ntsec
    models no handle opened earlier with fewer rights."""
    expected = wine("SetKernelObjectSecurity checks")
    assert "DACL not present or NULL -> success" in expected
    m = machine
    admin = elevated_alice(m)
    path = admin_directory(m, admin)
    before = m.objects.get(path).sd
    not_present = m.set_object_security(admin, path, SecurityDescriptor(), DACL)
    assert not_present.allowed
    null = m.set_object_security(admin, path, SecurityDescriptor(control=C.SE_DACL_PRESENT), DACL)
    assert null.allowed
    after = m.objects.get(path).sd
    assert (before.owner, before.group) == (after.owner, after.group)


@pytest.mark.parametrize("part", [OWNER, GROUP])
def test_set_kernel_object_security_missing_owner_or_group(machine: Machine, part: SI) -> None:
    """Wine "SetKernelObjectSecurity checks": OWNER_SECURITY_INFORMATION or GROUP_SECURITY_
    INFORMATION with the field missing -> ERROR_INVALID_SECURITY_DESCR."""
    assert "with the field missing -> ERROR_INVALID_SECURITY_DESCR" in wine(
        "SetKernelObjectSecurity checks"
    )
    m = machine
    admin = elevated_alice(m)
    path = admin_directory(m, admin)
    before = m.objects.get(path).sd
    r = m.set_object_security(admin, path, SecurityDescriptor(), part)
    assert NtStatus.STATUS_INVALID_SECURITY_DESCR == r.status
    assert 1338 == NtStatus.STATUS_INVALID_SECURITY_DESCR.win32  # ERROR_INVALID_SECURITY_DESCR
    assert before == m.objects.get(path).sd


def test_set_kernel_object_security_revision_0(machine: Machine) -> None:
    """Wine "SetKernelObjectSecurity checks": SD Revision 0 -> ERROR_UNKNOWN_REVISION."""
    assert "SD Revision 0 -> ERROR_UNKNOWN_REVISION" in wine("SetKernelObjectSecurity checks")
    m = machine
    admin = elevated_alice(m)
    path = admin_directory(m, admin)
    r = m.set_object_security(admin, path, SecurityDescriptor(revision=0), DACL)
    assert 0xC0000058 == r.status  # STATUS_UNKNOWN_REVISION ([MS-ERREF] 2.3.1)
    assert 1305 == NtStatus(r.status).win32  # ERROR_UNKNOWN_REVISION ([MS-ERREF] 2.2)


def test_administrator_sets_directory_owner_to_administrators(machine: Machine) -> None:
    """Wine "Administrator sets directory owner to BUILTIN\\Administrators (group with
    SE_GROUP_OWNER) via SetKernelObjectSecurity": succeeds; sub-directory creation afterwards
    still works."""
    expected = wine(
        "Administrator sets directory owner to BUILTIN\\Administrators (group with "
        "SE_GROUP_OWNER) via SetKernelObjectSecurity"
    )
    assert "succeeds; sub-directory creation afterwards still works" == expected
    m = machine
    admin = elevated_alice(m)
    token = m.processes.primary_token(admin)
    (ba,) = [g for g in token.groups if g.sid == BUILTIN_ADMINISTRATORS]
    assert ba.attributes & 0x8  # SE_GROUP_OWNER
    path = admin_directory(m, admin)
    r = m.set_object_security(admin, path, SecurityDescriptor(owner=BUILTIN_ADMINISTRATORS), OWNER)
    assert NtStatus.STATUS_SUCCESS == r.status
    assert BUILTIN_ADMINISTRATORS == m.objects.get(path).sd.owner
    sub = m.create_object(admin, ObjectKind.DIRECTORY, path + "\\Sub")
    assert sub.allowed


def _labelled_directory(m: Machine) -> tuple[int, str]:
    """A directory the elevated administrator created and labelled Medium NO_WRITE_UP."""
    admin = elevated_alice(m)
    path = admin_directory(m, admin)
    assert m.set_object_security(admin, path, sd(m, "S:(ML;;NW;;;ME)"), LABEL).allowed
    return admin, path


def test_set_label_without_sacl_removes_the_labels(machine: Machine) -> None:
    """Wine "SetKernelObjectSecurity(LABEL_SECURITY_INFORMATION) semantics": SACL not present ->
    labels removed, query returns present empty SACL."""
    assert "SACL not present -> labels removed, query returns present empty SACL" in wine(
        "SetKernelObjectSecurity(LABEL_SECURITY_INFORMATION) semantics"
    )
    m = machine
    admin, path = _labelled_directory(m)
    assert m.set_object_security(admin, path, SecurityDescriptor(), LABEL).allowed
    after = m.objects.get(path).sd
    assert after.control & C.SE_SACL_PRESENT
    assert after.sacl is not None
    assert () == after.sacl.aces


def test_set_label_ignores_non_label_aces(machine: Machine) -> None:
    """Wine "SetKernelObjectSecurity(LABEL_SECURITY_INFORMATION) semantics": non-label ACEs in
    the SACL are ignored (result: empty SACL)."""
    assert "non-label ACEs in the SACL are ignored (result: empty SACL)" in wine(
        "SetKernelObjectSecurity(LABEL_SECURITY_INFORMATION) semantics"
    )
    m = machine
    admin, path = _labelled_directory(m)
    assert m.set_object_security(admin, path, sd(m, "S:(AU;SA;FA;;;WD)"), LABEL).allowed
    after = m.objects.get(path).sd
    assert after.sacl is not None
    assert () == after.sacl.aces


def test_set_label_keeps_two_label_aces_in_order(machine: Machine) -> None:
    """Wine "SetKernelObjectSecurity(LABEL_SECURITY_INFORMATION) semantics": replaces all label
    ACEs with those in the new SACL (2 ACEs kept in order)."""
    assert "(2 ACEs kept in order)" in wine(
        "SetKernelObjectSecurity(LABEL_SECURITY_INFORMATION) semantics"
    )
    m = machine
    admin, path = _labelled_directory(m)
    new = sd(m, "S:(ML;;NW;;;LW)(ML;;NR;;;ME)")
    assert m.set_object_security(admin, path, new, LABEL).allowed
    after = m.objects.get(path).sd
    assert after.sacl is not None
    assert new.sacl is not None
    assert new.sacl.aces == after.sacl.aces


def test_set_label_keeps_the_acl_revision(machine: Machine) -> None:
    """Wine "SetKernelObjectSecurity(LABEL_SECURITY_INFORMATION) semantics": ACL revision of
    the supplied SACL (3) is kept."""
    assert "ACL revision of the supplied SACL (3) is kept" in wine(
        "SetKernelObjectSecurity(LABEL_SECURITY_INFORMATION) semantics"
    )
    m = machine
    admin, path = _labelled_directory(m)
    label = sd(m, "S:(ML;;NW;;;LW)")
    assert label.sacl is not None
    new = dataclasses.replace(label, sacl=Acl(label.sacl.aces, revision=3))
    assert m.set_object_security(admin, path, new, LABEL).allowed
    after = m.objects.get(path).sd
    assert after.sacl is not None
    assert 3 == after.sacl.revision


# ------------------------------------------------------------------ SetNamedSecurityInfo


def test_set_named_security_info_maps_generic_all_on_a_file(machine: Machine) -> None:
    """Wine "SetNamedSecurityInfo(DACL [ALLOW user GA, ALLOW BA GA], flags 0) on a file":
    stored ACEs flags 0, mask 0x1f01ff (FILE_ALL_ACCESS: GENERIC_ALL mapped)."""
    assert "stored ACEs flags 0, mask 0x1f01ff" == wine(
        "SetNamedSecurityInfo(DACL [ALLOW user GA, ALLOW BA GA], flags 0) on a file"
    )
    m = machine
    admin = elevated_alice(m)
    user = m.processes.primary_token(admin).user.sid
    path = "C:\\ProgramData\\wine.txt"
    assert m.create_object(admin, ObjectKind.FILE, path).allowed
    new = sd(m, f"D:(A;;GA;;;{user})(A;;GA;;;BA)")
    assert m.set_object_security(admin, path, new, DACL).allowed
    dacl = m.objects.get(path).sd.dacl
    assert dacl is not None
    explicit = [a for a in dacl.aces if not a.flags & AceFlags.INHERITED_ACE]
    assert [
        (AceType.ACCESS_ALLOWED_ACE_TYPE, AceFlags(0), FILE_ALL_ACCESS, user),
        (AceType.ACCESS_ALLOWED_ACE_TYPE, AceFlags(0), FILE_ALL_ACCESS, BUILTIN_ADMINISTRATORS),
    ] == [(a.type, a.flags, a.mask, a.sid) for a in explicit]
