"""Network logons on a domain member: the tokens a machine's LSA builds for a domain account that
arrives from the network, and for a null session (docs/rules.md E.1, E.2, G.7).

:func:`network_logon` is what the member's LSA does with a Kerberos service ticket or an NTLM
response the domain controller vouched for: it takes the account and its global groups (the
PAC, [N] MS-PAC 2.5; docs/rules.md E.2 step 2) and assembles the token locally: the machine's own
aliases computed over the user and those groups (E.2 step 4; after a domain join BUILTIN\\Users
holds Domain Users), the automatic groups of a Network logon (Everyone, NETWORK, Authenticated
Users, This Organization: capture tests/vectors/whoami/10, a domain user's network logon), the
package SID (NTLM Authentication S-1-5-64-10 for NTLM as in capture 10; "Authentication authority
asserted identity" S-1-18-1 for Kerberos, E.2 step 2), privileges from the machine's policy with
every one enabled (network logons, capture 10), and the integrity label. The logon right
"Access this computer from the network" is checked first (deny wins, B.4).

:func:`anonymous_logon` is the null session a machine accepts from a caller that has no
credentials to offer (the double hop without delegation, G.7): ANONYMOUS LOGON over NTLM, in a
logon session of its own (logonsessions listings show a Network session per null session [O];
KB 4090105's sample 4624 shows one with its own Logon ID [N]).

Not modelled: cached and interactive logons of domain accounts, the UAC split of domain
administrators, claims and device groups, resource (domain-local) groups, logon SIDs on network
tokens (capture 10 has none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ntsec.authz.impersonation import AuthenticationPackage
from ntsec.errors import NtStatusError
from ntsec.model.ace import Ace, AceType
from ntsec.model.acl import Acl
from ntsec.model.privileges import LogonRight, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import (
    DEFAULT_GROUP_ATTRIBUTES,
    INTEGRITY_GROUP_ATTRIBUTES,
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenMandatoryPolicy,
    TokenSource,
    TokenType,
)
from ntsec.system.accounts import WellKnown
from ntsec.system.domain import DomainAccount
from ntsec.system.lsa import (
    SYSTEM_LUID,
    LogonSession,
    LogonStatus,
    LogonType,
    Lsa,
    is_admin_token,
    nt_create_token,
)

__all__ = [
    "AUTHENTICATION_AUTHORITY_ASSERTED",
    "NetworkLogon",
    "anonymous_logon",
    "network_logon",
]

#: S-1-18-1 "Authentication authority asserted identity" (docs/rules.md A.3, E.2 step 2).
AUTHENTICATION_AUTHORITY_ASSERTED = Sid.parse("S-1-18-1")

_G = GroupAttributes
_DEFAULT_GROUP = DEFAULT_GROUP_ATTRIBUTES
_LABEL = INTEGRITY_GROUP_ATTRIBUTES
_MANDATORY_POLICY = (TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NO_WRITE_UP
                     | TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NEW_PROCESS_MIN)
_GENERIC_ALL = 0x10000000


@dataclass(frozen=True, slots=True)
class NetworkLogon:
    """A network logon a machine accepted: the token, its logon session, the package and the
    names 4624 prints."""

    token: Token
    session: LogonSession
    package: AuthenticationPackage
    account_name: str
    account_domain: str


def _package_sid(package: AuthenticationPackage) -> Sid:
    return (AUTHENTICATION_AUTHORITY_ASSERTED if package == AuthenticationPackage.KERBEROS
            else WellKnown.NTLM_AUTHENTICATION)


def _source(package: AuthenticationPackage, lsa: Lsa) -> TokenSource:
    # The source name is the package's logon process: "Kerberos" or "NtLmSsp " (4624
    # LogonProcessName, Learn "4624(S)" and KB 4090105's sample).
    name = "Kerberos" if package == AuthenticationPackage.KERBEROS else "NtLmSsp "
    return TokenSource(name, lsa.allocate_luid())


def _check_network_right(lsa: Lsa, sids: Sequence[Sid], account: str,
                         package: AuthenticationPackage) -> NtStatusError | None:
    rights = lsa.accounts.rights_of_all(sids)
    s = LogonStatus
    if LogonRight.SeDenyNetworkLogonRight.value in rights:
        return lsa._fail(account, LogonType.Network, s.STATUS_LOGON_TYPE_NOT_GRANTED,
                         s.STATUS_SUCCESS, "SeDenyNetworkLogonRight denies this logon type")
    if LogonRight.SeNetworkLogonRight.value not in rights:
        return lsa._fail(account, LogonType.Network, s.STATUS_LOGON_TYPE_NOT_GRANTED,
                         s.STATUS_SUCCESS, "SeNetworkLogonRight not granted")
    return None


def network_logon(lsa: Lsa, account: DomainAccount, domain_groups: Sequence[Sid],
                  package: AuthenticationPackage, level: ImpersonationLevel) -> NetworkLogon:
    """LSA's Network logon of a domain account the DC vouched for, with the impersonation
    level the connection allows (Impersonation, or Delegation when the client's ticket was
    forwarded, docs/rules.md G.6/G.7). Raises NtStatusError (recorded for 4625) when the logon
    right refuses it."""
    automatic = [WellKnown.EVERYONE, WellKnown.NETWORK, WellKnown.AUTHENTICATED_USERS,
                 WellKnown.THIS_ORGANIZATION]
    with lsa.store.transaction():
        aliases = lsa.accounts.alias_memberships(account.sid, [*domain_groups, *automatic])
        failure = _check_network_right(
            lsa, [account.sid, *domain_groups, *aliases, *automatic], account.name, package)
        if failure is not None:
            raise failure
        sids = [WellKnown.EVERYONE, *aliases, WellKnown.NETWORK, WellKnown.AUTHENTICATED_USERS,
                WellKnown.THIS_ORGANIZATION, *domain_groups, _package_sid(package)]
        groups = [SidAndAttributes(s, _DEFAULT_GROUP) for s in sids]
        privileges = lsa._privileges(account.sid, groups, LogonType.Network)
        admin = is_admin_token(groups, privileges)
        if admin:
            # As for a local administrator's full token (docs/rules.md D.2): Administrators
            # may own objects. Remote UAC filters local accounts only (F.1), not domain ones.
            groups = [SidAndAttributes(g.sid, g.attributes | _G.SE_GROUP_OWNER)
                      if g.sid == WellKnown.ADMINISTRATORS else g for g in groups]
        groups.append(SidAndAttributes(WellKnown.HIGH_LABEL if admin
                                       else WellKnown.MEDIUM_LABEL, _LABEL))
        session = lsa._new_session(account.sid, account.name, account.domain,
                                   logon_type=LogonType.Network, package=package.value,
                                   logon_sid=None, origin=SYSTEM_LUID)
        token = _network_token(
            lsa, session, package, level, user=account.sid, groups=tuple(groups),
            privileges=privileges, owner=WellKnown.ADMINISTRATORS if admin else account.sid,
            primary_group=account.sid.domain.child(account.primary_group_rid))
    return NetworkLogon(token, session, package, account.name, account.domain)


def anonymous_logon(lsa: Lsa) -> NetworkLogon:
    """A null session: user ANONYMOUS LOGON, NETWORK [U], Everyone only when "Let Everyone
    permissions apply to anonymous users" is enabled ([N] API:ImpersonateAnonymousToken), no
    privileges, no label (the kernel's anonymous token has none, docs/rules.md E.4), in a new
    Network logon session over NTLM. A deny of network logon to ANONYMOUS LOGON refuses it [U]."""
    with lsa.store.transaction():
        rights = lsa.accounts.rights_of(WellKnown.ANONYMOUS)
        if LogonRight.SeDenyNetworkLogonRight.value in rights:
            raise lsa._fail("ANONYMOUS LOGON", LogonType.Network,
                            LogonStatus.STATUS_LOGON_TYPE_NOT_GRANTED, LogonStatus.STATUS_SUCCESS,
                            "SeDenyNetworkLogonRight denies this logon type")
        sids = [WellKnown.EVERYONE] if lsa.accounts.setting("EveryoneIncludesAnonymous") else []
        sids.append(WellKnown.NETWORK)
        session = lsa._new_session(WellKnown.ANONYMOUS, "ANONYMOUS LOGON", "NT AUTHORITY",
                                   logon_type=LogonType.Network,
                                   package=AuthenticationPackage.NTLM.value, logon_sid=None,
                                   origin=SYSTEM_LUID)
        token = _network_token(
            lsa, session, AuthenticationPackage.NTLM, ImpersonationLevel.SecurityImpersonation,
            user=WellKnown.ANONYMOUS,
            groups=tuple(SidAndAttributes(s, _DEFAULT_GROUP) for s in sids), privileges=(),
            owner=WellKnown.ANONYMOUS, primary_group=WellKnown.ANONYMOUS)
    return NetworkLogon(token, session, AuthenticationPackage.NTLM, "ANONYMOUS LOGON",
                        "NT AUTHORITY")


def _network_token(lsa: Lsa, session: LogonSession, package: AuthenticationPackage,
                   level: ImpersonationLevel, *, user: Sid,
                   groups: tuple[SidAndAttributes, ...],
                   privileges: tuple[PrivilegeEntry, ...], owner: Sid,
                   primary_group: Sid) -> Token:
    """The impersonation token of the Network logon ``session``, created through
    NtCreateToken: what every Network logon shares (new token and modified IDs, session 0,
    the owner's default DACL, the mandatory policy) around the caller's identity."""
    # Built before lsa._creator() is asked, which may allocate LUIDs on its first call.
    token = Token(
        user=SidAndAttributes(user),
        groups=groups,
        privileges=privileges,
        owner=owner,
        primary_group=primary_group,
        default_dacl=_default_dacl(owner),
        source=_source(package, lsa),
        token_type=TokenType.TokenImpersonation,
        impersonation_level=level,
        token_id=lsa.allocate_luid(),
        authentication_id=session.luid,
        modified_id=lsa.allocate_luid(),
        originating_logon_session=SYSTEM_LUID,
        session_id=0,
        mandatory_policy=_MANDATORY_POLICY,
    )
    return nt_create_token(lsa._creator(), token)


def _default_dacl(owner: Sid) -> Acl:
    """As LSA's default DACL for the tokens it builds (ntsec.system.lsa; docs/rules.md Z.15:
    unconfirmed) [U]: the owner and SYSTEM full control; network tokens have no logon SID."""
    return Acl((Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=_GENERIC_ALL, sid=owner),
                Ace(AceType.ACCESS_ALLOWED_ACE_TYPE, mask=_GENERIC_ALL,
                    sid=WellKnown.LOCAL_SYSTEM)))
