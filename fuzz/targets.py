"""Fuzz targets: each takes the fuzzer's bytes and raises :class:`FindingError` when ntsec breaks a
rule it promises for every input.

The promises checked (issue 10, "Hardening"):

* bad input raises an :class:`ntsec.Error` subclass, never another exception (a
  ``RecursionError``, ``KeyError``, ``struct.error`` ... is a finding);
* whatever is accepted survives the round trips unchanged: SDDL -> bytes -> SDDL -> bytes
  gives the same bytes twice, and the binary and SDDL forms of a descriptor describe one value;
* the access check's two paths (the compiled fast path and the explained slow path) agree, and
  MAXIMUM_ALLOWED grants at least what any single request is granted.

The targets are the ones Samba runs on OSS-Fuzz for its security descriptor code
(lib/fuzzing/fuzz_sddl_parse.c, fuzz_sddl_access_check.c, fuzz_conditional_ace_blob.c,
fuzz_security_token_vs_descriptor.c) plus ntsec's own binary descriptor, whoami and paste
readers. They import nothing but ntsec, so pytest can run them over the seed corpus
(tests/test_fuzz_targets.py) and ``scripts/fuzz`` can run them under atheris.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TypeVar

import ntsec
from ntsec import ObjectType, SecurityDescriptor, Sid, access_check, paste, whoami
from ntsec.codec import binary, condition, sddl, whoami_report
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.token import GroupAttributes, SidAndAttributes, Token

#: The domain the SDDL targets resolve DA, DU, ... against (the one the Windows host of Samba's
#: vectors used, tests/vectors/samba-windows.json "meta").
T = TypeVar("T")

DOMAIN = Sid.parse("S-1-5-21-2457507606-2709100691-398136650")


class FindingError(AssertionError):
    """ntsec broke one of its promises on this input."""


def clear_caches() -> None:
    """Empty the codecs' parse memos, so an input is parsed rather than looked up."""
    sddl.clear_cache()
    binary.clear_cache()


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _guard(what: str, call: Callable[[], T]) -> T:
    """Run ``call``; an ntsec.Error is an answer, anything else is a finding."""
    try:
        return call()
    except ntsec.Error:
        raise
    except Exception as exc:  # every other exception type is exactly what a fuzzer looks for
        raise FindingError(f"{what} raised {type(exc).__name__}: {exc!r:.300}") from exc


def _accepted(what: str, call: Callable[[], T]) -> T | None:
    """``call``'s value, or None when it refused the input with an ntsec.Error."""
    try:
        return _guard(what, call)
    except ntsec.Error:
        return None


def _must(what: str, call: Callable[[], T]) -> T:
    """``call`` on a value ntsec itself produced: any exception at all is a finding."""
    try:
        return _guard(what, call)
    except ntsec.Error as exc:
        raise FindingError(f"{what} refused ntsec's own output: {exc}") from exc


def _stable(sd: SecurityDescriptor, origin: str) -> None:
    """SDDL and binary forms of an accepted descriptor round-trip to themselves."""
    raw = _must(f"{origin}: to_bytes", sd.to_bytes)
    # Some binary descriptors have no SDDL form (an allowed-compound ACE, for one); refusing them
    # with an ntsec.Error is the documented answer, as ConvertSecurityDescriptorToString... fails.
    text = _accepted(f"{origin}: to_sddl", lambda: sd.to_sddl(DOMAIN))
    back = _must(f"{origin}: from_bytes(to_bytes)", lambda: SecurityDescriptor.from_bytes(raw))
    if back != sd:
        raise FindingError(f"{origin}: bytes -> descriptor changed the value")
    if not isinstance(text, str):
        return
    again: SecurityDescriptor | None
    if origin == "sddl":
        again = _must("from_sddl(to_sddl)", lambda: SecurityDescriptor.from_sddl(text, DOMAIN))
    else:
        # Bytes can hold what Windows' SDDL parser refuses although its printer writes it (a SID
        # without sub-authorities prints as "S-1-5", which ConvertStringSidToSid rejects): only
        # the SDDL-first round trip is promised for every input.
        again = _accepted("from_sddl(to_sddl)", lambda: SecurityDescriptor.from_sddl(text, DOMAIN))
    if again is None:
        return
    raw2 = _must("to_bytes after SDDL", again.to_bytes)
    text2 = _must("to_sddl after SDDL", lambda: again.to_sddl(DOMAIN))
    if text2 != text:
        raise FindingError(
            f"{origin}: SDDL is not a fixed point: {text[:200]!r} -> {text2[:200]!r}"
        )
    third = _must("from_sddl twice", lambda: SecurityDescriptor.from_sddl(text2, DOMAIN))
    if _must("to_bytes twice", third.to_bytes) != raw2:
        raise FindingError(
            f"{origin}: SDDL -> bytes -> SDDL -> bytes is unstable for {text[:200]!r}"
        )


# ----------------------------------------------------------------------------- tokens
_SID_POOL = tuple(
    Sid.parse(s)
    for s in (
        "S-1-1-0", "S-1-5-11", "S-1-5-32-544", "S-1-5-32-545", "S-1-5-18", "S-1-3-4",
        "S-1-3-0", "S-1-5-10", "S-1-5-12", "S-1-5-33", "S-1-5-4", "S-1-5-2",
        f"{DOMAIN}-512", f"{DOMAIN}-513", f"{DOMAIN}-1001", f"{DOMAIN}-1002",
    )
)
_PRIVILEGES = (8, 9, 17, 18, 23, 32)  # SeSecurity, SeTakeOwnership, SeBackup, SeRestore, ...
_LABELS = (0x1000, 0x2000, 0x3000, 0x4000)


def _token(data: bytes) -> Token:
    """A token whose user, groups, attributes, privileges and label come from ``data``."""
    data = data.ljust(8, b"\0")
    user = _SID_POOL[data[0] % len(_SID_POOL)]
    groups = []
    for i, byte in enumerate(data[1:9]):
        sid = _SID_POOL[(byte >> 4) % len(_SID_POOL) if i else byte % len(_SID_POOL)]
        # Enabled, disabled or deny-only: the three states AccessCheck tells apart.
        attrs = (0x7, 0x0, 0x10, 0xF)[byte & 3]
        groups.append(SidAndAttributes(sid, GroupAttributes(attrs)))
    label = Sid.from_parts(16, _LABELS[data[1] % len(_LABELS)])
    groups.append(
        SidAndAttributes(
            label,
            GroupAttributes.SE_GROUP_INTEGRITY | GroupAttributes.SE_GROUP_INTEGRITY_ENABLED,
        )
    )
    privs = tuple(
        PrivilegeEntry(Privilege(luid), PrivilegeAttributes.SE_PRIVILEGE_ENABLED)
        for bit, luid in enumerate(_PRIVILEGES)
        if data[2] >> bit & 1
    )
    restricted = tuple(SidAndAttributes(s) for s in _SID_POOL[: data[3] % 4]) if data[3] & 8 else ()
    return Token(
        user=SidAndAttributes(user),
        groups=tuple(groups),
        privileges=privs,
        restricted_sids=restricted,
    )


_TYPES = (ObjectType.FILE, ObjectType.DIRECTORY, ObjectType.REGISTRY_KEY, ObjectType.PROCESS,
          ObjectType.SERVICE, ObjectType.DS_OBJECT)
_MAXIMUM_ALLOWED = 0x02000000


def _check_agrees(sd: SecurityDescriptor, token: Token, desired: int, kind: ObjectType) -> None:
    fast = _guard("access_check", lambda: access_check(sd, token, desired, kind))
    slow = _guard("access_check(explain)",
                  lambda: access_check(sd, token, desired, kind, explain=True))
    if (fast.granted, fast.status) != (slow.granted, slow.status):
        raise FindingError(
            f"fast path {fast.granted:#x} {fast.status.name} != explained path "
            f"{slow.granted:#x} {slow.status.name} for {desired:#x} on {sd.to_sddl()[:200]!r}"
        )
    if fast.status.name == "STATUS_SUCCESS" and not desired & _MAXIMUM_ALLOWED:
        most = _guard("access_check(MAXIMUM_ALLOWED)",
                      lambda: access_check(sd, token, _MAXIMUM_ALLOWED | desired, kind))
        if fast.granted & ~most.granted:
            raise FindingError(f"MAXIMUM_ALLOWED {most.granted:#x} lacks granted {fast.granted:#x}")


def _request(data: bytes) -> tuple[int, ObjectType]:
    desired, kind = struct.unpack("<IB", data[:5].ljust(5, b"\0"))
    # Generic bits are mapped by access_check itself; keep every other bit as the fuzzer chose.
    return desired, _TYPES[kind % len(_TYPES)]


# ----------------------------------------------------------------------------- the targets
def sddl_parse(data: bytes) -> None:
    """SDDL text in (Samba's fuzz_sddl_parse): refuse with SDDLError or round-trip stably."""
    sd = _accepted("from_sddl", lambda: SecurityDescriptor.from_sddl(_text(data), DOMAIN))
    if isinstance(sd, SecurityDescriptor):
        _stable(sd, "sddl")


def sddl_access_check(data: bytes) -> None:
    """An access request, a token and SDDL (Samba's fuzz_sddl_access_check)."""
    head, text = data[:16], data[16:]
    sd = _accepted("from_sddl", lambda: SecurityDescriptor.from_sddl(_text(text), DOMAIN))
    if not isinstance(sd, SecurityDescriptor):
        return
    _check_request(sd, head)


def _check_request(sd: SecurityDescriptor, head: bytes) -> None:
    """The access check of the request and token ``head`` describes; refusals are answers."""
    desired, kind = _request(head)
    try:
        _check_agrees(sd, _token(head[5:]), desired, kind)
    except ntsec.Error:
        return


def conditional_ace_blob(data: bytes) -> None:
    """Conditional-ACE application data (Samba's fuzz_conditional_ace_blob): decode, encode and
    decode again to the same program; print as SDDL and parse back to a program that prints the
    same and encodes stably. (Bytes may hold spellings SDDL never produces, such as int8
    literals, which Windows' SDDL parser writes as int64: the SDDL side is compared after one
    normalising pass.)"""
    blob = b"artx" + data
    expr = _accepted("condition decode", lambda: condition.decode(blob))
    if expr is None:
        return
    raw = _must("condition encode", lambda: condition.encode(expr))
    if _must("condition decode(encode)", lambda: condition.decode(raw)) != expr:
        raise FindingError("condition bytes -> program -> bytes -> program changed the program")
    _must("condition ==/hash", lambda: hash(expr))
    # Bytes can hold programs SDDL cannot write (an attribute name with characters SDDL cannot
    # spell, a bare literal program): printing refuses them with a ConditionError.
    text = _accepted("condition to_sddl", lambda: condition.to_sddl(expr, DOMAIN))
    if text is None:
        return
    # As for descriptors, the printer writes what Windows' would (a SID literal without
    # sub-authorities as SID(S-1-5)) even where the SDDL parser then refuses it: only the
    # SDDL-first round trip (sddl_parse) is promised for every input.
    again = _accepted("condition parse(to_sddl)", lambda: condition.parse(text, DOMAIN))
    if again is None:
        return
    if _must("condition to_sddl again", lambda: condition.to_sddl(again, DOMAIN)) != text:
        raise FindingError(f"condition {text[:200]!r} is not an SDDL fixed point")
    first = _must("condition encode(parse)", lambda: condition.encode(again))
    back = _must("condition decode(encode(parse))", lambda: condition.decode(first))
    if _must("condition to_sddl(decode)", lambda: condition.to_sddl(back, DOMAIN)) != text:
        raise FindingError(f"condition {text[:200]!r}: SDDL -> bytes -> SDDL changed it")


def token_vs_descriptor(data: bytes) -> None:
    """A token and a binary descriptor (Samba's fuzz_security_token_vs_descriptor)."""
    head, raw = data[:16], data[16:]
    sd = _accepted("from_bytes", lambda: SecurityDescriptor.from_bytes(raw))
    if not isinstance(sd, SecurityDescriptor):
        return
    _check_request(sd, head)


def binary_descriptor(data: bytes) -> None:
    """Self-relative descriptor bytes: refuse with BinaryFormatError or round-trip stably."""
    sd = _accepted("from_bytes", lambda: SecurityDescriptor.from_bytes(data))
    if isinstance(sd, SecurityDescriptor):
        _must("==/hash", lambda: (sd == SecurityDescriptor.from_bytes(data), hash(sd)))
        _stable(sd, "binary")


def _switches(report: whoami.WhoamiReport) -> str:
    """The switches that print every section ``report`` holds (the tabular ones together)."""
    tabular = [s.value for s in report.sections if s in whoami_report.TABULAR_SECTIONS]
    if tabular == ["claims"]:
        # The claims part alone is whoami's message (or nothing), not a token to read back.
        return ""
    if tabular:
        return " ".join(f"/{s}" for s in tabular)
    return f"/{report.sections[0].value}" if report.sections else ""


def whoami_parse(data: bytes) -> None:
    """whoami output: refuse with a WhoamiParseError, or what it read renders and reads back to
    the same token and the same text."""
    report = _accepted("whoami.parse", lambda: whoami.parse(_text(data)))
    if not isinstance(report, whoami.WhoamiReport) or not report.sections:
        return
    switches = _switches(report)
    if switches in {"", "/name"}:
        return  # plain ``whoami`` has no switch of its own to render it with
    text = _must(f"whoami.render {switches}", lambda: whoami.render(report, switches))
    again = _must("whoami.parse(render)", lambda: whoami.parse(text))
    if again.token != report.token:
        raise FindingError(f"whoami {switches}: rendering and reading back changed the token")
    text2 = _must("whoami.render twice", lambda: whoami.render(again, switches))
    if text2 != text:
        raise FindingError(f"whoami {switches}: rendering is not a fixed point")


def paste_read(data: bytes) -> None:
    """Anything pasted (ntsec.paste.read detects whoami, SDDL, Get-Acl, sc sdshow, icacls,
    icacls /save, hex/base64): refuse with a ParseError, or every descriptor it read encodes,
    prints, and reads back through paste as the same descriptor."""
    pasted = _accepted("paste.read", lambda: paste.read(data))
    if pasted is None:
        return
    for item in pasted.descriptors:
        _pasted_reads_back(item.descriptor)


def _pasted_reads_back(sd: SecurityDescriptor) -> None:
    raw = _must("pasted descriptor to_bytes", sd.to_bytes)
    text = _accepted("pasted descriptor to_sddl", lambda: sd.to_sddl(DOMAIN))
    if not text:
        return  # an empty descriptor prints as "", which a paste cannot tell from nothing
    again = _must("paste.read(to_sddl)", lambda: paste.read(text, domain_sid=DOMAIN))
    if [d.descriptor.to_bytes() for d in again.descriptors] != [raw]:
        raise FindingError(f"pasted descriptor {text[:200]!r} does not read back the same")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "sddl_parse": sddl_parse,
    "sddl_access_check": sddl_access_check,
    "conditional_ace_blob": conditional_ace_blob,
    "token_vs_descriptor": token_vs_descriptor,
    "binary_descriptor": binary_descriptor,
    "whoami_parse": whoami_parse,
    "paste_read": paste_read,
}
