"""The double hop end to end (issue 5 "Delegation"; docs/rules.md G.6, G.7): the built-in CONTOSO
network (src/ntsec/system/scenarios/networks/contoso.toml) with a domain, an application server
APPSRV whose service (NETWORK SERVICE, i.e. the computer account APPSRV$) impersonates pipe
clients, and a file server FILESRV whose Payroll report only CONTOSO\\Payroll may read.

Each test cites the rule it checks. The Windows behaviour is that of the documents G.7 names:
- [N] L:com/impersonation-levels: at Impersonation "if the server is remote, it can access only
  resources that are on the same computer as the server"; Delegation reaches other machines.
- [N] L:secauthz/impersonation-levels: for a remote pipe the client's CreateFile SQOS flags are
  ignored; the level follows the server account's delegation flag in the directory.
- [N] KB 2443455 / KB 4090105: without delegation the back end sees NT AUTHORITY\\ANONYMOUS
  LOGON, a Network logon over NTLM (NtLmSsp, "NTLM V1").
- [N] L:wmisdk/connecting-to-a-3rd-computer-delegation, docs/rules.md G.7: delegation needs
  Kerberos, a server account trusted for delegation, a client not "sensitive and cannot be
  delegated"; NTLM delegates only within one machine.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ntsec.authz.impersonation import (
    AuthenticationPackage,
    RemoteIdentity,
    SecurityQualityOfService,
)
from ntsec.codec.whoami import parse as parse_whoami
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import ImpersonationLevel, Token
from ntsec.system.events import EventId
from ntsec.system.machine import Machine
from ntsec.system.network import Network, RemoteOpen, builtin_network, loads_network

L = ImpersonationLevel
CAPTURE_10 = Path(__file__).parent / "vectors" / "whoami" / "10_domain-user_all_list_winrm.txt"
FILE_GENERIC_READ = 0x00120089
REPORT = "D:\\Payroll\\report.xlsx"
CAROL = ("CONTOSO\\carol", "Carol-Passw0rd!")
DAVE = ("CONTOSO\\dave", "Dave-Passw0rd!")
ERIN = ("CONTOSO\\erin", "Erin-Passw0rd!")
ANONYMOUS = Sid.parse("S-1-5-7")
EVERYONE = Sid.parse("S-1-1-0")
NETWORK = Sid.parse("S-1-5-2")
AUTHENTICATED_USERS = Sid.parse("S-1-5-11")
THIS_ORGANIZATION = Sid.parse("S-1-5-15")
BUILTIN_USERS = Sid.parse("S-1-5-32-545")
NTLM_AUTHENTICATION = Sid.parse("S-1-5-64-10")
ASSERTED_IDENTITY = Sid.parse("S-1-18-1")
STATUS_LOGON_TYPE_NOT_GRANTED = 0xC000015B


@pytest.fixture(scope="session")
def network_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("network") / "contoso"
    Network.create(path, builtin_network("contoso")).close()
    return path


@pytest.fixture
def net(network_template: Path, tmp_path: Path) -> Iterator[Network]:
    path = tmp_path / "contoso"
    shutil.copytree(network_template, path)
    n = Network.open(path)
    yield n
    n.close()


def service(net: Network) -> tuple[Machine, int]:
    app = net.machine("APPSRV")
    return app, app.process_by_image("payroll-app.exe").pid


def first_hop(net: Network, credentials: tuple[str, str], *,
              package: AuthenticationPackage = AuthenticationPackage.KERBEROS) -> Token:
    """The client reaches APPSRV's pipe; the service impersonates it (ImpersonateNamedPipeClient)
    and returns the thread's token."""
    app, pid = service(net)
    app.create_pipe(pid, "payroll-app")
    conn = net.connect_pipe_as(*credentials, "APPSRV", "payroll-app", workstation="WS01",
                               package=package)
    app.impersonate_pipe_client(pid, conn.id)
    return app.effective_token(pid)


def second_hop(net: Network, path: str = REPORT) -> RemoteOpen:
    _, pid = service(net)
    return net.open_remote("APPSRV", pid, "FILESRV", path, FILE_GENERIC_READ)


def group_sids(token: Token) -> list[Sid]:
    return [g.sid for g in token.groups]


def last_event(machine: Machine, event_id: int) -> dict[str, object]:
    return dict(machine.events.query(event_id)[-1].fields)


# ---------------------------------------------------------------------- without delegation
def test_without_delegation_the_second_hop_arrives_as_anonymous_logon(net: Network) -> None:
    """G.7 (single hop): APPSRV$ not trusted for delegation -> the client reaches APPSRV at
    Impersonation level (G.6: the level of a remote connection follows the server account's
    flag), acts as carol there, but FILESRV sees a null session: ANONYMOUS LOGON over NTLM
    (KB 2443455's "Login failed for user 'NT AUTHORITY\\ANONYMOUS LOGON'", KB 4090105's 4624:
    logon type 3, NtLmSsp, NTLM, "NTLM V1"), which the report's DACL refuses. Anonymous tokens
    carry no Everyone by default (API:ImpersonateAnonymousToken)."""
    net.domain.set_delegation("APPSRV$", trusted_for_delegation=False)
    token = first_hop(net, CAROL)
    carol = net.domain.account("carol").sid
    assert (carol, L.SecurityImpersonation) == (token.user.sid, token.impersonation_level)

    hop = second_hop(net)
    assert RemoteIdentity.ANONYMOUS_LOGON == hop.outcome.identity
    assert any("Delegation level" in u for u in hop.outcome.unmet)
    assert any("trusted for delegation" in u for u in hop.outcome.unmet)
    assert hop.token is not None
    assert ANONYMOUS == hop.token.user.sid
    assert EVERYONE not in group_sids(hop.token)
    assert NtStatus.STATUS_ACCESS_DENIED == hop.status

    event = last_event(net.machine("FILESRV"), EventId.LOGON)
    assert ("S-1-5-7", "ANONYMOUS LOGON", "NT AUTHORITY", 3, "NtLmSsp", "NTLM", "NTLM V1",
            "S-1-0-0") == (
        event["TargetUserSid"], event["TargetUserName"], event["TargetDomainName"],
        event["LogonType"], event["LogonProcessName"], event["AuthenticationPackageName"],
        event["LmPackageName"], event["SubjectUserSid"])


def test_the_client_sqos_does_not_set_a_remote_level(net: Network) -> None:
    """G.6 / L:secauthz/impersonation-levels: "if the server is enabled for delegation, the
    client's impersonation level will also be set to delegation even if the flags passed to
    CreateFile specify the identification level". A client on FILESRV (its SYSTEM, i.e. the
    computer account FILESRV$) asks for Identification and still gets Delegation at APPSRV."""
    app, pid = service(net)
    app.create_pipe(pid, "payroll-app")
    fs = net.machine("FILESRV")
    conn = net.connect_pipe("FILESRV", fs.process_by_image("services.exe").pid, "APPSRV",
                            "payroll-app",
                            sqos=SecurityQualityOfService(L.SecurityIdentification))
    assert L.SecurityDelegation == conn.sqos.impersonation_level
    token = app.processes.token(conn.token_id)
    assert net.domain.account("FILESRV$").sid == token.user.sid


# ---------------------------------------------------------------------- with delegation
def test_with_delegation_the_client_arrives_through_a_network_logon(net: Network) -> None:
    """G.7: Kerberos + APPSRV$ trusted for delegation + carol not sensitive -> Delegation level
    at APPSRV (4624 ImpersonationLevel %%1840, Learn "4624(S)") and carol arrives at FILESRV
    through a Network logon its own LSA builds (E.1 NETWORK; E.2: Authenticated Users, the
    domain groups from the PAC, S-1-18-1 for Kerberos and no NTLM Authentication; BUILTIN\\Users
    through Domain Users after the join). 4624 on FILESRV: logon type 3, package Kerberos, key
    length 0 (Learn "4624(S)": always 0 for Kerberos)."""
    token = first_hop(net, CAROL)
    assert L.SecurityDelegation == token.impersonation_level
    app_event = last_event(net.machine("APPSRV"), EventId.LOGON)
    assert ("carol", "Kerberos", "%%1840", "WS01") == (
        app_event["TargetUserName"], app_event["AuthenticationPackageName"],
        app_event["ImpersonationLevel"], app_event["WorkstationName"])

    hop = second_hop(net)
    domain = net.domain
    assert RemoteIdentity.CLIENT_NETWORK_LOGON == hop.outcome.identity
    assert hop.token is not None
    assert domain.account("carol").sid == hop.token.user.sid
    groups = group_sids(hop.token)
    for expected in (EVERYONE, BUILTIN_USERS, NETWORK, AUTHENTICATED_USERS, THIS_ORGANIZATION,
                     domain.sid.child(513), domain.resolve("Payroll"), ASSERTED_IDENTITY):
        assert expected in groups
    assert NTLM_AUTHENTICATION not in groups
    assert NtStatus.STATUS_SUCCESS == hop.status
    assert hop.opened is not None
    assert FILE_GENERIC_READ == hop.opened.granted

    fs = net.machine("FILESRV")
    event = last_event(fs, EventId.LOGON)
    assert (str(hop.token.user.sid), "carol", "CONTOSO", 3, "Kerberos", "Kerberos", 0,
            "APPSRV") == (
        event["TargetUserSid"], event["TargetUserName"], event["TargetDomainName"],
        event["LogonType"], event["LogonProcessName"], event["AuthenticationPackageName"],
        event["KeyLength"], event["WorkstationName"])
    # The session exists on FILESRV as a Network logon with the Kerberos package (E.3).
    session = fs.lsa.logon_session(hop.token.authentication_id)
    assert (3, "Kerberos") == (session.logon_type, session.package)


def test_the_access_check_on_the_second_machine_uses_the_client_groups(net: Network) -> None:
    """G.7 + I.4: the delegated identity is the client's: erin, delegated the same way but not
    in CONTOSO\\Payroll, is refused the report the DACL grants only to Payroll."""
    first_hop(net, ERIN)
    hop = second_hop(net)
    assert RemoteIdentity.CLIENT_NETWORK_LOGON == hop.outcome.identity
    assert hop.token is not None
    assert net.domain.account("erin").sid == hop.token.user.sid
    assert NtStatus.STATUS_ACCESS_DENIED == hop.status


def test_sensitive_account_is_not_delegated(net: Network) -> None:
    """G.7: "Account is sensitive and cannot be delegated" (NOT_DELEGATED, MS-ADTS 2.2.16)
    keeps dave at Impersonation level even though APPSRV$ is trusted; FILESRV sees ANONYMOUS
    LOGON and refuses the report dave could read himself (he is in Payroll)."""
    token = first_hop(net, DAVE)
    assert L.SecurityImpersonation == token.impersonation_level
    hop = second_hop(net)
    assert RemoteIdentity.ANONYMOUS_LOGON == hop.outcome.identity
    assert any("sensitive" in u for u in hop.outcome.unmet)
    assert hop.token is not None
    assert ANONYMOUS == hop.token.user.sid
    assert NtStatus.STATUS_ACCESS_DENIED == hop.status


def test_ntlm_does_not_delegate_across_computers(net: Network) -> None:
    """G.7: NTLM supports delegate level only across threads/processes of one machine. carol
    authenticated with NTLM reaches APPSRV at Impersonation level (its token carries NTLM
    Authentication, as capture 10 of a domain user's NTLM network logon does) and FILESRV sees
    ANONYMOUS LOGON."""
    token = first_hop(net, CAROL, package=AuthenticationPackage.NTLM)
    assert L.SecurityImpersonation == token.impersonation_level
    assert NTLM_AUTHENTICATION in group_sids(token)
    assert ASSERTED_IDENTITY not in group_sids(token)
    assert "NTLM" == last_event(net.machine("APPSRV"), EventId.LOGON)[
        "AuthenticationPackageName"]
    hop = second_hop(net)
    assert RemoteIdentity.ANONYMOUS_LOGON == hop.outcome.identity
    assert any("Kerberos" in u for u in hop.outcome.unmet)
    assert hop.token is not None
    assert ANONYMOUS == hop.token.user.sid


# ---------------------------------------------------------------------- edges
def test_a_domain_network_logon_has_capture_10s_shape(net: Network) -> None:
    """E.1/E.2 against capture 10 (tests/vectors/whoami/10_domain-user_all_list_winrm.txt, a
    domain user's NTLM network logon on Windows): the SIDs both tokens have come in the same
    order, all Mandatory/Enabled by default/Enabled (0x7); the label is last; there is no logon
    SID; every privilege is enabled. (Capture 10 was taken on a DC, so its DC-only aliases are
    not expected on a member server; its label is Medium Plus, WinRM's, so only the label's
    position and attributes are compared.)"""
    capture = parse_whoami(CAPTURE_10.read_text(encoding="utf-8")).token
    token = first_hop(net, CAROL, package=AuthenticationPackage.NTLM)
    ours = group_sids(token)
    common = [g.sid for g in capture.groups if g.sid in ours and g.sid.authority != 16]
    assert [EVERYONE, BUILTIN_USERS, NETWORK, AUTHENTICATED_USERS, THIS_ORGANIZATION,
            NTLM_AUTHENTICATION] == common
    assert common == [s for s in ours if s in common]
    assert all(0x7 == g.attributes for g in token.groups[:-1])
    assert (16, 0x60) == (token.groups[-1].sid.authority, int(token.groups[-1].attributes))
    assert token.logon_sid is None
    assert all(p.enabled for p in token.privileges)


def test_disconnecting_ends_the_second_machines_logon_session(net: Network) -> None:
    """E.2: a logon session ends with its last token; when the server's SMB session to FILESRV
    closes, FILESRV's LSA ends carol's network logon and logs 4634."""
    first_hop(net, CAROL)
    hop = second_hop(net)
    assert hop.token is not None
    luid = hop.token.authentication_id
    net.disconnect("FILESRV", luid)
    fs = net.machine("FILESRV")
    assert luid not in [s.luid for s in fs.lsa.logon_sessions()]
    assert hex(luid) == last_event(fs, EventId.LOGOFF)["TargetLogonId"]


def test_an_identification_level_thread_sends_nothing(net: Network) -> None:
    """G.1: a thread impersonating at Identification cannot open objects
    (STATUS_BAD_IMPERSONATION_LEVEL); nothing reaches FILESRV (no 4624 there)."""
    app, pid = service(net)
    before = len(net.machine("FILESRV").events.query(EventId.LOGON))
    app.impersonate_self(pid, L.SecurityIdentification)
    hop = second_hop(net)
    assert (RemoteIdentity.NONE, NtStatus.STATUS_BAD_IMPERSONATION_LEVEL, None) == (
        hop.outcome.identity, hop.status, hop.logon)
    assert before == len(net.machine("FILESRV").events.query(EventId.LOGON))


def test_the_service_itself_presents_the_computer_account(net: Network) -> None:
    """E.4: NETWORK SERVICE presents the computer account on the network. Not impersonating,
    the service reaches FILESRV as CONTOSO\\APPSRV$ (member of Domain Computers, 515), which
    the report's DACL does not admit."""
    hop = second_hop(net)
    assert RemoteIdentity.CLIENT_NETWORK_LOGON == hop.outcome.identity
    assert hop.token is not None
    assert net.domain.account("APPSRV$").sid == hop.token.user.sid
    assert net.domain.sid.child(515) in group_sids(hop.token)
    assert NtStatus.STATUS_ACCESS_DENIED == hop.status


def test_a_denied_network_logon_is_4625_on_the_second_machine(net: Network) -> None:
    """B.4 (deny wins) on the second machine: FILESRV denies "access this computer from the
    network" to CONTOSO\\Payroll; carol's delegated logon fails there with
    STATUS_LOGON_TYPE_NOT_GRANTED and 4625 (logon type 3, Learn "4625(F)")."""
    fs = net.machine("FILESRV")
    fs.accounts.grant_right(net.domain.resolve("Payroll"), "SeDenyNetworkLogonRight")
    first_hop(net, CAROL)
    hop = second_hop(net)
    assert (STATUS_LOGON_TYPE_NOT_GRANTED, None) == (hop.status, hop.logon)
    event = last_event(fs, EventId.LOGON_FAILED)
    assert ("carol", "CONTOSO", 3, "0xc000015b") == (
        event["TargetUserName"], event["TargetDomainName"], event["LogonType"],
        event["Status"])


def test_a_wrong_password_fails_the_first_hop(net: Network) -> None:
    """E.3 / 4625: the domain controller rejects the credentials; the server records a failed
    network logon with STATUS_LOGON_FAILURE and no token is made."""
    app, pid = service(net)
    app.create_pipe(pid, "payroll-app")
    with pytest.raises(NtStatusError) as err:
        net.connect_pipe_as("CONTOSO\\carol", "wrong", "APPSRV", "payroll-app")
    assert 0xC000006D == int(err.value.status)
    event = last_event(app, EventId.LOGON_FAILED)
    assert ("carol", 3, "0xc000006d") == (event["TargetUserName"], event["LogonType"],
                                          event["Status"])


def test_members_resolve_domain_names_and_reopen_their_domain(net: Network) -> None:
    """LookupAccountSid on a member asks its domain (A.3 names): FILESRV names carol's SID
    CONTOSO\\carol. A member opened on its own finds its domain again."""
    fs = net.machine("FILESRV")
    carol = net.domain.account("carol").sid
    assert ("carol", "CONTOSO") == fs.account_name(carol)
    with Machine.open(fs.store.path) as again:
        assert again.domain is not None
        assert net.domain.sid == again.domain.sid


def test_domain_scenarios_are_validated() -> None:
    """Scenario format: an unknown field is refused with the table's name."""
    with pytest.raises(InvalidValueError):
        loads_network('[domain]\nname = "X"\ncolour = "blue"\n')
    with pytest.raises(InvalidValueError):
        loads_network('[[machines]]\n[machines.machine]\ncomputer_name = "A"\n')
