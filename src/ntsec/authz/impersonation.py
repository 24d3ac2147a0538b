"""Impersonation as the kernel decides it (docs/rules.md G; API:ImpersonateLoggedOnUser,
API:ImpersonateNamedPipeClient, L:secauthz/impersonation-levels; WSI ch.4).

Pure decisions over :class:`~ntsec.model.token.Token` values; the simulated machine
(``ntsec.system``) keeps threads and handles and calls these:

* :func:`can_impersonate` is SeTokenCanImpersonate: may a thread of the process whose primary
  token is given use ``token`` at ``level``? Every step of G.4 is recorded with its outcome.
* :func:`impersonate` is what PsImpersonateClient gives the thread: the token at the level asked
  for, or, when the check fails, an Identification-level copy. The call never fails (G.5).
* :class:`SecurityQualityOfService` and :func:`capture_client` are the client side (G.6): the
  level, tracking mode and effective-only flag a client grants, the CreateFile SECURITY_* flags
  that carry them, and SeCreateClientSecurity's capture of the client's token.
* :func:`open_object_allowed`, :func:`access_check_allowed` and :func:`open_thread_token_allowed`
  say what a thread may do with a token of each level (G.1, I.0).
* :func:`second_hop` is the double hop of G.7: which identity reaches a second machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum, IntFlag

from ntsec.authz.tokenops import duplicate
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.privileges import Privilege
from ntsec.model.sid import Sid
from ntsec.model.status import NtStatus
from ntsec.model.token import ImpersonationLevel, Token, TokenType

__all__ = [
    "ANONYMOUS_LOGON_LUID",
    "DEFAULT_SQOS",
    "AuthenticationPackage",
    "ClientContext",
    "DelegationOutcome",
    "ImpersonationDecision",
    "ImpersonationEnvironment",
    "ImpersonationResult",
    "ImpersonationRule",
    "ImpersonationStep",
    "RemoteIdentity",
    "SecurityContextTracking",
    "SecurityQualityOfService",
    "SecuritySqosFlags",
    "StepOutcome",
    "access_check_allowed",
    "can_impersonate",
    "capture_client",
    "impersonate",
    "open_object_allowed",
    "open_thread_token_allowed",
    "second_hop",
]

_L = ImpersonationLevel

#: The ANONYMOUS LOGON session (docs/rules.md E.3, G.4 step 1).
ANONYMOUS_LOGON_LUID = 0x3E6

#: App container package SIDs live under S-1-15-2 (L:secauthz/well-known-sids, APPLICATION
#: PACKAGE AUTHORITY); a child package SID extends its parent's with more sub-authorities.
_APP_PACKAGE_AUTHORITY = 15
_APP_PACKAGE_BASE_RID = 2


# ------------------------------------------------------------------ SeTokenCanImpersonate


class ImpersonationRule(Enum):
    """The steps of SeTokenCanImpersonate (docs/rules.md G.4), in the order the kernel runs them.

    The value is the step number and a short statement of the rule, for explanations.
    """

    LEVEL_BELOW_IMPERSONATION = (1, "a level below Impersonation is always allowed")
    ANONYMOUS_LOGON_TOKEN = (1, "a token of the ANONYMOUS LOGON session (0x3e6) is allowed")
    IMPERSONATE_PRIVILEGE = (2, "SeImpersonatePrivilege enabled in the process token allows")
    INTEGRITY_LEVEL = (3, "the process integrity level must dominate the token's")
    ORIGINATING_LOGON_SESSION = (
        4,
        "a token whose logon session was created by the process's logon session is allowed",
    )
    SAME_USER = (5, "the token's user must be the process's user")
    ELEVATION = (
        6,
        "with UAC on, a non-elevated process of a split-token session cannot use an elevated token",
    )
    SANDBOX = (7, "a lowbox, restricted or write-restricted process needs a token as sandboxed")
    SESSION = (8, "a process outside session 0 cannot use a session-0 token")
    DEFAULT = (9, "otherwise allowed")

    @property
    def step(self) -> int:
        return int(self.value[0])

    @property
    def text(self) -> str:
        return str(self.value[1])


class StepOutcome(Enum):
    """What one step of :func:`can_impersonate` concluded."""

    ALLOW = "allow"
    DENY = "deny"
    CONTINUE = "continue"  # the step did not decide; the next one runs


@dataclass(frozen=True, slots=True)
class ImpersonationStep:
    """One evaluated step: its rule, what it concluded and the values it compared."""

    rule: ImpersonationRule
    outcome: StepOutcome
    detail: str

    def __str__(self) -> str:
        return f"G.4 step {self.rule.step} ({self.rule.text}): {self.outcome.value} - {self.detail}"


@dataclass(frozen=True, slots=True)
class ImpersonationDecision:
    """SeTokenCanImpersonate's answer with the steps that led to it (the last one decided)."""

    allowed: bool
    level: ImpersonationLevel
    steps: tuple[ImpersonationStep, ...]

    @property
    def rule(self) -> ImpersonationRule:
        """The rule that decided."""
        return self.steps[-1].rule

    def explain(self) -> str:
        verdict = "allowed" if self.allowed else "denied"
        lines = [f"impersonation at {self.level.name}: {verdict}"]
        lines.extend(f"  {step}" for step in self.steps)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ImpersonationEnvironment:
    """Facts the check needs that a :class:`Token` value does not carry.

    ``uac_enabled``: EnableLUA (step 6 only runs with UAC on, Windows 10+).
    ``process_split_session`` / ``token_split_session``: the flag DEC shows on a logon session,
    read as "this session belongs to a UAC split-token logon" (docs/rules.md Z.13: inferred).
    None derives it from the token: a Full or Limited elevation type means a split logon.
    ``process_package_sid`` / ``token_package_sid``: the lowbox (app container) package SIDs;
    None means not a lowbox token. Capabilities are not compared (G.4 step 7).
    """

    uac_enabled: bool = True
    process_split_session: bool | None = None
    token_split_session: bool | None = None
    process_package_sid: Sid | None = None
    token_package_sid: Sid | None = None


_DEFAULT_ENV = ImpersonationEnvironment()


def _is_same_or_child_package(parent: Sid, candidate: Sid) -> bool:
    """``candidate`` is ``parent`` or one of its child packages (a longer SID under it)."""
    if candidate == parent:
        return True
    return (
        parent.authority == _APP_PACKAGE_AUTHORITY
        and bool(parent.sub_authorities)
        and parent.sub_authorities[0] == _APP_PACKAGE_BASE_RID
        and len(candidate.sub_authorities) > len(parent.sub_authorities)
        and candidate.startswith(parent)
    )


def _il(token: Token) -> str:
    return f"0x{token.integrity:04x}"


def can_impersonate(
    process_token: Token,
    token: Token,
    level: ImpersonationLevel,
    *,
    env: ImpersonationEnvironment = _DEFAULT_ENV,
) -> ImpersonationDecision:
    """SeTokenCanImpersonate (docs/rules.md G.4 [I] WSI ch.4 "Assigning an Impersonation Token",
    [I] DEC:SeTokenCanImpersonate; the documented 4-condition summary is [N]
    API:ImpersonateLoggedOnUser).

    ``process_token`` is the primary token of the process that owns the thread being given
    ``token`` (P in G.4), ``token`` the token to impersonate (T), ``level`` the level asked for.
    Steps 6-8 come from WSI plus decompiled code (docs/rules.md Z.13). Windows 11 extras
    (DefaultAccount, constrained-impersonation capabilities, process trust level) are not
    modelled (G.4 end note), nor the package check DEC applies to lowbox callers of an
    anonymous-session token (step 1).
    """
    level = _L(level)
    steps: list[ImpersonationStep] = []

    def done(rule: ImpersonationRule, allowed: bool, detail: str) -> ImpersonationDecision:
        outcome = StepOutcome.ALLOW if allowed else StepOutcome.DENY
        steps.append(ImpersonationStep(rule, outcome, detail))
        return ImpersonationDecision(allowed, level, tuple(steps))

    def passed(rule: ImpersonationRule, detail: str) -> None:
        steps.append(ImpersonationStep(rule, StepOutcome.CONTINUE, detail))

    # Step 1: Anonymous and Identification need no permission; nor does the anonymous session.
    if level < _L.SecurityImpersonation:
        return done(ImpersonationRule.LEVEL_BELOW_IMPERSONATION, True, f"{level.name} requested")
    passed(ImpersonationRule.LEVEL_BELOW_IMPERSONATION, f"{level.name} requested")
    if token.authentication_id == ANONYMOUS_LOGON_LUID:
        return done(
            ImpersonationRule.ANONYMOUS_LOGON_TOKEN, True, "the token's AuthenticationId is 0x3e6"
        )
    passed(
        ImpersonationRule.ANONYMOUS_LOGON_TOKEN,
        f"the token's AuthenticationId is 0x{token.authentication_id:x}",
    )

    # Step 2: SeImpersonatePrivilege, present *and enabled*, in the process's primary token.
    # The integrity level is not compared on this path (WSI ch.4: the "potato" attacks).
    if process_token.has_privilege(Privilege.SeImpersonatePrivilege):
        return done(
            ImpersonationRule.IMPERSONATE_PRIVILEGE,
            True,
            "SeImpersonatePrivilege is enabled in the process token",
        )
    held = process_token.privilege(Privilege.SeImpersonatePrivilege) is not None
    passed(
        ImpersonationRule.IMPERSONATE_PRIVILEGE,
        "SeImpersonatePrivilege is present but disabled"
        if held
        else "the process token lacks SeImpersonatePrivilege",
    )

    # Step 3: SidDominates(IL(P), IL(T)) [N] MS-DTYP 2.5.3.1.2; integrity SIDs compare by RID,
    # and a token without a label counts as Untrusted (Token.integrity).
    if process_token.integrity < token.integrity:
        return done(
            ImpersonationRule.INTEGRITY_LEVEL,
            False,
            f"process level {_il(process_token)} is below the token's {_il(token)}",
        )
    passed(
        ImpersonationRule.INTEGRITY_LEVEL,
        f"process level {_il(process_token)} dominates the token's {_il(token)}",
    )

    # Step 4: the token's logon session was created from the process's logon session: SYSTEM
    # (0x3e7, origin of every interactive session) and a LogonUser caller pass here.
    if token.originating_logon_session == process_token.authentication_id:
        return done(
            ImpersonationRule.ORIGINATING_LOGON_SESSION,
            True,
            f"the token's OriginatingLogonSession 0x{token.originating_logon_session:x}"
            " is the process's AuthenticationId",
        )
    passed(
        ImpersonationRule.ORIGINATING_LOGON_SESSION,
        f"OriginatingLogonSession 0x{token.originating_logon_session:x} is not the process's"
        f" AuthenticationId 0x{process_token.authentication_id:x}",
    )

    # Step 5: same user SID.
    if process_token.user.sid != token.user.sid:
        return done(
            ImpersonationRule.SAME_USER,
            False,
            f"token user {token.user.sid} is not process user {process_token.user.sid}",
        )
    passed(ImpersonationRule.SAME_USER, f"both are {token.user.sid}")

    # Step 6: UAC. Only for a process whose logon session carries the split-token flag: it
    # may not use an elevated token unless itself elevated, nor a token from a session
    # without the flag (docs/rules.md G.4 step 6, Z.13).
    if env.uac_enabled:
        p_split = (
            process_token.is_split
            if env.process_split_session is None
            else env.process_split_session
        )
        t_split = token.is_split if env.token_split_session is None else env.token_split_session
        if p_split and token.is_elevated and not process_token.is_elevated:
            return done(
                ImpersonationRule.ELEVATION,
                False,
                "the token is elevated and the process (split-token session) is not",
            )
        if p_split and not t_split:
            return done(
                ImpersonationRule.ELEVATION,
                False,
                "the process's session is a split-token session and the token's is not",
            )
        passed(
            ImpersonationRule.ELEVATION,
            "the process's session is not a split-token session"
            if not p_split
            else "elevation is compatible",
        )
    else:
        passed(ImpersonationRule.ELEVATION, "UAC is off")

    # Step 7: a sandboxed process can only use a token sandboxed the same way.
    p_pkg, t_pkg = env.process_package_sid, env.token_package_sid
    if p_pkg is not None and (t_pkg is None or not _is_same_or_child_package(p_pkg, t_pkg)):
        return done(
            ImpersonationRule.SANDBOX,
            False,
            f"the process is lowbox ({p_pkg}) and the token is "
            + ("not lowbox" if t_pkg is None else f"of package {t_pkg}"),
        )
    if process_token.is_restricted and not token.is_restricted:
        return done(
            ImpersonationRule.SANDBOX, False, "the process token is restricted and the token is not"
        )
    if process_token.is_write_restricted and not token.is_write_restricted:
        return done(
            ImpersonationRule.SANDBOX,
            False,
            "the process token is write-restricted and the token is not",
        )
    passed(ImpersonationRule.SANDBOX, "sandboxing is compatible")

    # Step 8: a session-0 token is refused to a process in another session.
    if token.session_id == 0 and process_token.session_id != 0:
        return done(
            ImpersonationRule.SESSION,
            False,
            f"the token is in session 0, the process in session {process_token.session_id}",
        )
    passed(
        ImpersonationRule.SESSION,
        f"token session {token.session_id}, process session {process_token.session_id}",
    )

    return done(ImpersonationRule.DEFAULT, True, "no rule refused")


# ------------------------------------------------------------------ Security Quality of Service


class SecurityContextTracking(IntEnum):
    """SECURITY_CONTEXT_TRACKING_MODE (winnt.h: SECURITY_DYNAMIC_TRACKING is TRUE)."""

    SECURITY_STATIC_TRACKING = 0
    SECURITY_DYNAMIC_TRACKING = 1


class SecuritySqosFlags(IntFlag):
    """CreateFile's dwFlagsAndAttributes SQOS bits (docs/rules.md G.6 [I] winbase.h copies).

    The level is ``ImpersonationLevel << 16`` in bits 16-17, so SECURITY_DELEGATION shares its
    bits with IDENTIFICATION and IMPERSONATION and SECURITY_ANONYMOUS is 0.
    """

    SECURITY_ANONYMOUS = 0x00000000
    SECURITY_IDENTIFICATION = 0x00010000
    SECURITY_IMPERSONATION = 0x00020000
    SECURITY_DELEGATION = 0x00030000
    SECURITY_CONTEXT_TRACKING = 0x00040000
    SECURITY_EFFECTIVE_ONLY = 0x00080000
    SECURITY_SQOS_PRESENT = 0x00100000
    SECURITY_VALID_SQOS_FLAGS = 0x001F0000


_LEVEL_SHIFT = 16
_LEVEL_MASK = 0x00030000


@dataclass(frozen=True, slots=True)
class SecurityQualityOfService:
    """SECURITY_QUALITY_OF_SERVICE: what a client lets a server do with its identity (G.6).

    The default, used when a client gives none, is Impersonation, static tracking, not
    effective-only ([I] WSI ch.4; [N] L:ipc/impersonating-a-named-pipe-client).
    """

    impersonation_level: ImpersonationLevel = _L.SecurityImpersonation
    context_tracking: SecurityContextTracking = SecurityContextTracking.SECURITY_STATIC_TRACKING
    effective_only: bool = False

    def __post_init__(self) -> None:
        # Plain ints are accepted and normalised; anything outside the enums is refused as
        # SeCreateClientSecurity refuses it (STATUS_INVALID_PARAMETER, ROS ntoskrnl/se/client.c).
        try:
            object.__setattr__(self, "impersonation_level", _L(self.impersonation_level))
            object.__setattr__(
                self, "context_tracking", SecurityContextTracking(self.context_tracking)
            )
        except ValueError:
            raise InvalidValueError(
                f"invalid SQOS level {self.impersonation_level!r} or tracking "
                f"{self.context_tracking!r}"
            ) from None

    @property
    def dynamic(self) -> bool:
        return self.context_tracking == SecurityContextTracking.SECURITY_DYNAMIC_TRACKING

    @classmethod
    def from_create_file_flags(cls, flags: int) -> SecurityQualityOfService:
        """The SQOS CreateFile builds from dwFlagsAndAttributes.

        Without SECURITY_SQOS_PRESENT the SQOS bits are not read (they overlap other flags) and
        the default applies (G.6).
        """
        f = SecuritySqosFlags
        if not flags & f.SECURITY_SQOS_PRESENT:
            return DEFAULT_SQOS
        return cls(
            _L((flags & _LEVEL_MASK) >> _LEVEL_SHIFT),
            SecurityContextTracking.SECURITY_DYNAMIC_TRACKING
            if flags & f.SECURITY_CONTEXT_TRACKING
            else SecurityContextTracking.SECURITY_STATIC_TRACKING,
            bool(flags & f.SECURITY_EFFECTIVE_ONLY),
        )

    def to_create_file_flags(self) -> SecuritySqosFlags:
        """The dwFlagsAndAttributes SQOS bits for this SQOS (SECURITY_SQOS_PRESENT included)."""
        f = SecuritySqosFlags
        flags = f.SECURITY_SQOS_PRESENT | f(int(self.impersonation_level) << _LEVEL_SHIFT)
        if self.dynamic:
            flags |= f.SECURITY_CONTEXT_TRACKING
        if self.effective_only:
            flags |= f.SECURITY_EFFECTIVE_ONLY
        return flags


DEFAULT_SQOS = SecurityQualityOfService()


@dataclass(frozen=True, slots=True)
class ClientContext:
    """SECURITY_CLIENT_CONTEXT: the client identity a server captured (SeCreateClientSecurity).

    ``token`` is a copy at the SQOS level for static tracking, or the client's own effective
    token for dynamic tracking; ``effective_only`` is what impersonation will apply.
    """

    token: Token
    sqos: SecurityQualityOfService
    effective_only: bool
    direct: bool
    server_is_remote: bool = False

    @property
    def level(self) -> ImpersonationLevel:
        return self.sqos.impersonation_level


def capture_client(
    client_primary: Token,
    client_thread_token: Token | None = None,
    *,
    sqos: SecurityQualityOfService | None = None,
    server_is_remote: bool = False,
    thread_effective_only: bool = False,
    new_token_id: int | None = None,
) -> ClientContext:
    """SeCreateClientSecurity: capture the client's effective token with its SQOS (G.6).

    The effective token is the client thread's impersonation token if it has one, else its
    process's primary token. A client that is itself impersonating must do so at Impersonation
    or Delegation, at least at the SQOS level, and at Delegation when the server is remote, or
    the capture fails with STATUS_BAD_IMPERSONATION_LEVEL even when the SQOS asks only for
    Identification ([N] WDK SeCreateClientSecurity return values; [I] WSI ch.4; [I] ROS
    ntoskrnl/se/client.c SepCreateClientSecurity for the order). Effective-only then comes from
    the thread or the SQOS. Static tracking copies the token at the SQOS level now; dynamic
    tracking keeps a reference so later changes are seen ([N] WDK SeCreateClientSecurity).
    ``new_token_id`` is the TokenId of the static copy (fresh when omitted).
    """
    qos = DEFAULT_SQOS if sqos is None else sqos
    if client_thread_token is not None:
        thread_level = client_thread_token.impersonation_level
        if qos.impersonation_level > thread_level:
            raise NtStatusError(
                NtStatus.STATUS_BAD_IMPERSONATION_LEVEL,
                f"the SQOS asks for {qos.impersonation_level.name} and the client"
                f" thread impersonates at {thread_level.name}",
            )
        if thread_level < _L.SecurityImpersonation:
            raise NtStatusError(
                NtStatus.STATUS_BAD_IMPERSONATION_LEVEL,
                f"the client thread impersonates at {thread_level.name}",
            )
        if server_is_remote and thread_level != _L.SecurityDelegation:
            raise NtStatusError(
                NtStatus.STATUS_BAD_IMPERSONATION_LEVEL,
                "a remote server needs a client impersonating at Delegation",
            )
        effective = client_thread_token
        effective_only = thread_effective_only or qos.effective_only
    else:
        effective = client_primary
        effective_only = qos.effective_only
    if qos.dynamic:
        token = effective
    else:
        token = duplicate(
            effective, TokenType.TokenImpersonation, qos.impersonation_level, token_id=new_token_id
        )
    return ClientContext(token, qos, effective_only, qos.dynamic, server_is_remote)


# ------------------------------------------------------------------ PsImpersonateClient


@dataclass(frozen=True, slots=True)
class ImpersonationResult:
    """What the impersonating thread really holds.

    ``token`` is its impersonation token, ``level`` that token's level, ``requested_level`` the
    level the call asked for (capped by the SQOS and by an impersonation token's own level),
    ``downgraded`` true when SeTokenCanImpersonate refused and the thread got an
    Identification copy instead (the API still reports success, G.5), ``copied`` true when the
    token is a new token object rather than ``client_token`` itself.
    """

    token: Token
    level: ImpersonationLevel
    requested_level: ImpersonationLevel
    decision: ImpersonationDecision
    downgraded: bool
    copied: bool
    reason: str

    @property
    def status(self) -> NtStatus:
        """The impersonation API's own status: always success (G.5)."""
        return NtStatus.STATUS_SUCCESS

    def explain(self) -> str:
        return f"{self.reason}\n{self.decision.explain()}"


def _requested(
    client_token: Token,
    requested_level: ImpersonationLevel | None,
    sqos: SecurityQualityOfService | None,
) -> ImpersonationLevel:
    # A primary token (ImpersonateLoggedOnUser) is duplicated at SecurityImpersonation [I]
    # WSI ch.4; an impersonation token is used at its own level, never above it (H.1: a copy
    # cannot raise the level); the client's SQOS caps whatever the server asks (G.6).
    levels = [
        client_token.impersonation_level
        if client_token.is_impersonation
        else _L.SecurityImpersonation
    ]
    if requested_level is not None:
        levels.append(_L(requested_level))
    if sqos is not None:
        levels.append(sqos.impersonation_level)
    return min(levels)


def impersonate(
    process_token: Token,
    client_token: Token,
    requested_level: ImpersonationLevel | None = None,
    *,
    sqos: SecurityQualityOfService | None = None,
    effective_only: bool | None = None,
    env: ImpersonationEnvironment = _DEFAULT_ENV,
    new_token_id: int | None = None,
) -> ImpersonationResult:
    """PsImpersonateClient: the token a thread of ``process_token``'s process gets (G.3-G.5).

    Every way of impersonating (SetThreadToken, ImpersonateLoggedOnUser, ImpersonateNamedPipeClient,
    RpcImpersonateClient, NtImpersonateThread...) ends here (G.3). The level is the lowest of
    ``requested_level``, the SQOS level and, for an impersonation token, its own level (a
    primary token is used at Impersonation). When :func:`can_impersonate` refuses, the thread
    gets an Identification-level copy and the call still succeeds (G.5 [I] WSI ch.4,
    DEC:PsImpersonateClient); Anonymous stays Anonymous. ``effective_only`` (default: the
    SQOS's) makes the copy drop disabled groups and privileges (G.6). ``new_token_id`` is the
    TokenId of a copy (fresh when omitted). H.8's extra Administrators ACE on the copy's object
    security is not modelled (unconfirmed).
    """
    level = _requested(client_token, requested_level, sqos)
    eff = (
        (sqos.effective_only if sqos is not None else False)
        if effective_only is None
        else effective_only
    )
    decision = can_impersonate(process_token, client_token, level, env=env)
    if decision.allowed:
        granted = level
        reason = f"impersonating at {level.name}: {decision.steps[-1]}"
    else:
        granted = min(level, _L.SecurityIdentification)
        reason = (
            f"{level.name} refused ({decision.steps[-1]}); the thread silently gets an "
            f"{granted.name}-level copy (G.5)"
        )
    reuse = (
        client_token.is_impersonation and client_token.impersonation_level == granted and not eff
    )
    token = (
        client_token
        if reuse
        else duplicate(
            client_token,
            TokenType.TokenImpersonation,
            granted,
            effective_only=eff,
            token_id=new_token_id,
        )
    )
    return ImpersonationResult(
        token, granted, level, decision, not decision.allowed, not reuse, reason
    )


# ------------------------------------------------------------------ what a level allows


def open_object_allowed(level: ImpersonationLevel) -> NtStatus:
    """Opening a secured object while impersonating at ``level`` (G.1, I.0 last row).

    Anonymous and Identification fail with STATUS_BAD_IMPERSONATION_LEVEL before any DACL is
    read (not access denied) [I] WSI ch.4 listing 4-3, ROS SeAccessCheck.
    """
    if _L(level) < _L.SecurityImpersonation:
        return NtStatus.STATUS_BAD_IMPERSONATION_LEVEL
    return NtStatus.STATUS_SUCCESS


def access_check_allowed(level: ImpersonationLevel) -> NtStatus:
    """AccessCheck with a client token of ``level`` (G.1, I.0): an Anonymous-level token fails
    with STATUS_BAD_IMPERSONATION_LEVEL; Identification is what AccessCheck is for."""
    if _L(level) == _L.SecurityAnonymous:
        return NtStatus.STATUS_BAD_IMPERSONATION_LEVEL
    return NtStatus.STATUS_SUCCESS


def open_thread_token_allowed(thread_token: Token | None) -> NtStatus:
    """OpenThreadToken's outcome before the access check on the token object (G.1, G.2).

    A thread not impersonating has no token: STATUS_NO_TOKEN (ERROR_NO_TOKEN). An
    Anonymous-level token cannot be opened: STATUS_CANT_OPEN_ANONYMOUS
    (ERROR_CANT_OPEN_ANONYMOUS 1347) [N] API:OpenThreadToken; Wine test_impersonation_level
    (ImpersonateSelf(SecurityAnonymous) then OpenThreadToken), run on Windows.
    """
    if thread_token is None:
        return NtStatus.STATUS_NO_TOKEN
    if thread_token.impersonation_level == _L.SecurityAnonymous:
        return NtStatus.STATUS_CANT_OPEN_ANONYMOUS
    return NtStatus.STATUS_SUCCESS


# ------------------------------------------------------------------ delegation (double hop)


class AuthenticationPackage(Enum):
    """How the client authenticated to the first server (G.7)."""

    KERBEROS = "Kerberos"
    NTLM = "NTLM"
    SCHANNEL = "Schannel"


class RemoteIdentity(Enum):
    """Who the second machine sees when the impersonating server reaches it."""

    CLIENT_NETWORK_LOGON = "client via network logon"
    ANONYMOUS_LOGON = "fails / ANONYMOUS LOGON"
    NONE = "no network access (the level does not allow opening objects)"


@dataclass(frozen=True, slots=True)
class DelegationOutcome:
    """The double-hop answer: the identity that arrives, the local status of the attempt, and
    why (the requirements that failed, if any)."""

    identity: RemoteIdentity
    status: NtStatus
    reason: str
    unmet: tuple[str, ...] = field(default=())


def second_hop(
    level: ImpersonationLevel,
    *,
    package: AuthenticationPackage = AuthenticationPackage.KERBEROS,
    client_sensitive: bool = False,
    server_trusted_for_delegation: bool = False,
    client_is_local: bool = False,
) -> DelegationOutcome:
    """What reaches a second machine when a server thread impersonating a client at ``level``
    opens a resource there (docs/rules.md G.7, G.1).

    - Below Impersonation the thread cannot open anything (STATUS_BAD_IMPERSONATION_LEVEL, G.1).
    - ``client_is_local``: the client logged on at the server's own machine, so its logon
      session holds credentials; at Impersonation the server "can access network resources as
      the client" [N] L:com/impersonation-levels (impersonate).
    - A remote client is a network logon without credentials: at Impersonation the server
      "can access only resources that are on the same computer as the server" [N]
      L:com/impersonation-levels; the redirector then connects with no credentials, a null
      session, i.e. ANONYMOUS LOGON ([I] Windows Internals 6th ed. ch.6: without delegation a
      network share is reachable only if it "supports null sessions").
    - Delegation reaches the second machine as the client through a network logon only with
      Kerberos, a client not marked "sensitive and cannot be delegated" and a server trusted
      for delegation [N] L:wmisdk/connecting-to-a-3rd-computer-delegation,
      L:cossdk/server-side-requirements-for-impersonation ("otherwise, delegation will fail");
      NTLM delegates only across threads and processes of one machine [N] L:com/ntlmssp,
      Schannel not at all (G.7). Otherwise it falls back to ANONYMOUS LOGON as above.
    """
    level = _L(level)
    if level < _L.SecurityImpersonation:
        return DelegationOutcome(
            RemoteIdentity.NONE,
            NtStatus.STATUS_BAD_IMPERSONATION_LEVEL,
            f"an {level.name}-level thread cannot open objects (G.1)",
            ("level Impersonation or Delegation",),
        )
    if client_is_local:
        return DelegationOutcome(
            RemoteIdentity.CLIENT_NETWORK_LOGON,
            NtStatus.STATUS_SUCCESS,
            "the client's own logon session on this machine has "
            "credentials; the server uses them for the network logon",
        )
    unmet: list[str] = []
    if level != _L.SecurityDelegation:
        unmet.append("Delegation level (Impersonation reaches only the first machine)")
    if package != AuthenticationPackage.KERBEROS:
        unmet.append(f"Kerberos ({package.value} cannot delegate across machines)")
    if client_sensitive:
        unmet.append("a client account not marked 'sensitive and cannot be delegated'")
    if not server_trusted_for_delegation:
        unmet.append("a server account trusted for delegation")
    if unmet:
        return DelegationOutcome(
            RemoteIdentity.ANONYMOUS_LOGON,
            NtStatus.STATUS_SUCCESS,
            "the server holds no usable client credentials; the second "
            "machine sees a null session (ANONYMOUS LOGON)",
            tuple(unmet),
        )
    return DelegationOutcome(
        RemoteIdentity.CLIENT_NETWORK_LOGON,
        NtStatus.STATUS_SUCCESS,
        "Kerberos delegation: the client's forwarded ticket logs it on to "
        "the second machine (network logon)",
    )
