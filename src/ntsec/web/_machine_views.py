"""What the machine pages show, arranged from the simulated machine's answers.

Every function here takes the :class:`~ntsec.system.machine.Machine` and plain form values,
makes the facade's calls and returns plain structures for a template. They block on SQLite, so
the routes run them in a worker thread. Nothing here decides anything about security: the
tokens, descriptors, decisions and their explanations are the library's, shown as they are;
what this module adds is names for SIDs (the machine's own LookupAccountSid), words for flags
and the order of rows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ntsec.authz.impersonation import ImpersonationResult
from ntsec.codec.whoami_render import attribute_text
from ntsec.errors import Error, InvalidValueError, NtStatusError, error_text
from ntsec.model.ace import Ace, AceFlags, AceType
from ntsec.model.acl import Acl
from ntsec.model.descriptor import (
    SecurityDescriptor,
    SecurityDescriptorControl,
    SecurityInformation,
)
from ntsec.model.privileges import LogonRight, Privilege, PrivilegeAttributes
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.token import ImpersonationLevel, Token, TokenElevationType
from ntsec.system.calls import PipeConnection, process_descriptor
from ntsec.system.events import Event
from ntsec.system.lsa import LogonType
from ntsec.system.machine import Machine
from ntsec.system.scenario import ObjectKind
from ntsec.ui.describe import describe
from ntsec.web._paste_views import name_sids

__all__ = [
    "ACE_INHERITANCE",
    "IMPERSONATION_LEVELS",
    "LOGON_TYPES",
    "OBJECT_KINDS",
    "SECURITY_PARTS",
    "ProcessRow",
    "SecurityEdit",
    "account_name",
    "accounts_view",
    "describe_descriptor",
    "events_view",
    "impersonation_view",
    "object_detail",
    "objects_view",
    "pipes_view",
    "process_detail",
    "process_tree",
    "prompt_for",
    "set_object_security",
]

#: Logon types offered on the logon page: (form value, label, LogonType).
LOGON_TYPES: tuple[tuple[str, str, LogonType], ...] = (
    ("interactive", "Interactive (2): console, Winlogon starts the shell", LogonType.Interactive),
    (
        "remote-interactive",
        "Remote interactive (10): Remote Desktop, a new session",
        LogonType.RemoteInteractive,
    ),
    ("network", "Network (3): SMB, WinRM", LogonType.Network),
    ("batch", "Batch (4): scheduled task", LogonType.Batch),
    ("service", "Service (5): a service's account", LogonType.Service),
)

#: SQOS impersonation levels offered on the pipe page: (form value, ImpersonationLevel).
IMPERSONATION_LEVELS: tuple[tuple[str, ImpersonationLevel], ...] = tuple(
    (level.name.removeprefix("Security").lower(), level) for level in ImpersonationLevel
)

#: Object kinds in browsing order: (ObjectKind, heading).
OBJECT_KINDS: tuple[tuple[ObjectKind, str], ...] = (
    (ObjectKind.DIRECTORY, "Directories"),
    (ObjectKind.FILE, "Files"),
    (ObjectKind.REGISTRY_KEY, "Registry keys"),
    (ObjectKind.SERVICE, "Services"),
    (ObjectKind.NAMED_PIPE, "Named pipes"),
)

_SYSTEM = Sid.parse("S-1-5-18")
_SERVICE_ACCOUNTS = frozenset({Sid.parse("S-1-5-19"), Sid.parse("S-1-5-20")})
_ELEVATION_WORDS = {
    TokenElevationType.TokenElevationTypeDefault: "Default",
    TokenElevationType.TokenElevationTypeFull: "Full",
    TokenElevationType.TokenElevationTypeLimited: "Limited",
}


def account_name(m: Machine, sid: Sid) -> str | None:
    """``DOMAIN\\name`` for a SID the machine can name (LookupAccountSid), else None."""
    hit = m.resolver().lookup(sid)
    if hit is None:
        return None
    return f"{hit.domain}\\{hit.name}" if hit.domain else hit.name


def _sid_name(m: Machine, sid: str) -> str | None:
    """The machine's name for a SID written in text (None: not a SID it can name)."""
    try:
        return account_name(m, Sid.parse(sid))
    except Error:
        return None


def _level_word(level: ImpersonationLevel) -> str:
    return level.name.removeprefix("Security")


def _integrity(m: Machine, token: Token) -> tuple[str, str]:
    sid = token.integrity_sid
    if sid is None:
        return ("no label", "")
    return (account_name(m, sid) or str(sid), str(sid))


# ----------------------------------------------------------------------------- processes


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """One line of the process tree (``Machine.ps()``'s row, its depth and its colours)."""

    row: dict[str, Any]
    depth: int
    classes: tuple[str, ...]
    impersonating: tuple[tuple[int, str, str], ...] = ()  # (tid, whom, level)

    @property
    def pid(self) -> int:
        return int(self.row["pid"])


def _classes(row: dict[str, Any]) -> tuple[str, ...]:
    # Process Explorer's colours: services (pink), the SYSTEM account's processes, elevated
    # processes of a user, and threads that impersonate.
    # One colour per process, services first as in Process Explorer; "elevated" is a user's
    # elevated process (service accounts' tokens are elevated too, F.1, but show as services).
    sid = Sid.parse(row["sid"])
    out = []
    if row["services"] or sid in _SERVICE_ACCOUNTS:
        out.append("service")
    elif sid == _SYSTEM:
        out.append("system")
    elif row["elevated"]:
        out.append("elevated")
    if row["impersonating"]:
        out.append("impersonating")
    return tuple(out)


def process_tree(m: Machine) -> list[ProcessRow]:
    """The processes in tree order (children under their parent, in start order)."""
    rows = m.ps()
    pids = {r["pid"] for r in rows}
    children: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        children.setdefault(r["ppid"] if r["ppid"] in pids else 0, []).append(r)
    out: list[ProcessRow] = []

    def walk(ppid: int, depth: int) -> None:
        for r in children.get(ppid, []):
            imp = tuple(
                (i["tid"], account_name(m, Sid.parse(i["user"])) or i["user"], i["level"])
                for i in r["impersonating"]
            )
            out.append(ProcessRow(r, depth, _classes(r), imp))
            walk(r["pid"], depth + 1)

    walk(0, 0)
    return out


@dataclass(frozen=True, slots=True)
class GroupRow:
    name: str
    sid: str
    flags: str  # the words whoami prints (Mandatory group, Enabled by default, ...)
    deny_only: bool
    enabled: bool


@dataclass(frozen=True, slots=True)
class PrivilegeRow:
    name: str
    flags: str  # Process Explorer's words: Default Enabled, Enabled, Disabled


@dataclass(frozen=True, slots=True)
class ThreadRow:
    tid: int
    impersonating: bool
    user: str
    user_sid: str
    level: str
    integrity: str


@dataclass(slots=True)
class ProcessDetail:
    row: dict[str, Any]
    parent: dict[str, Any] | None
    children: list[dict[str, Any]]
    user: str
    user_sid: str
    session: int
    logon_id: str
    logon_session: str
    linked_logon_id: str | None
    token_type: str
    elevation_type: str
    elevated: bool
    virtualization: str
    integrity: tuple[str, str]
    owner: str
    primary_group: str
    groups: list[GroupRow]
    privileges: list[PrivilegeRow]
    descriptor: dict[str, Any]
    threads: list[ThreadRow]
    whoami_all: str


def describe_descriptor(m: Machine, sd: SecurityDescriptor, kind: ObjectType) -> dict[str, Any]:
    """The CLI's description of a descriptor, with the machine's names for its local SIDs."""
    info = describe(sd, kind, m.accounts.machine_sid)
    for principal in (info["owner"], info["group"]):
        _name_principal(m, principal)
    for acl in (info["dacl"], info["sacl"]):
        for ace in acl.get("aces") or ():
            _name_principal(m, ace.get("trustee"))
    return info


def _name_principal(m: Machine, principal: dict[str, Any] | None) -> None:
    if principal and not principal.get("name"):
        try:
            principal["name"] = account_name(m, Sid.parse(principal["sid"]))
        except Error:
            principal["name"] = None  # an unparsable trustee simply stays unnamed


def _privilege_words(attributes: PrivilegeAttributes) -> str:
    enabled = bool(attributes & PrivilegeAttributes.SE_PRIVILEGE_ENABLED)
    default = bool(attributes & PrivilegeAttributes.SE_PRIVILEGE_ENABLED_BY_DEFAULT)
    if enabled and default:
        return "Default Enabled"
    if enabled:
        return "Enabled"
    return "Disabled"


def process_detail(m: Machine, pid: int) -> ProcessDetail:
    """A process's Security tab, Threads tab and whoami /all (NtStatusError: no such process)."""
    with m.store.transaction():
        rows = m.ps()
        row = next((r for r in rows if r["pid"] == pid), None)
        if row is None:
            m.processes.process(pid)  # raises the library's "no such process"
            raise AssertionError  # pragma: no cover - ps() lists every process
        token = m.processes.primary_token(pid)
        try:
            session = m.lsa.logon_session(token.authentication_id)
            logon_session = f"{session.domain}\\{session.user_name}, " + (
                f"{LogonType(session.logon_type).name} logon ({session.logon_type}), "
                f"{session.package}"
            )
            linked = None if session.linked_luid is None else f"0x{session.linked_luid:x}"
        except NtStatusError:
            logon_session = "a session of the computer itself (made at boot, E.3)"
            linked = None
        groups = [
            GroupRow(
                name=account_name(m, g.sid) or "",
                sid=str(g.sid),
                flags=attribute_text(g.attributes),
                deny_only=g.deny_only,
                enabled=g.enabled,
            )
            for g in token.groups
        ]
        privileges = [
            PrivilegeRow(p.privilege.name, _privilege_words(p.attributes)) for p in token.privileges
        ]
        threads = []
        for th in m.processes.threads(pid):
            imp = m.processes.thread_token(th.tid)
            shown = imp or token
            threads.append(
                ThreadRow(
                    tid=th.tid,
                    impersonating=imp is not None,
                    user=account_name(m, shown.user.sid) or str(shown.user.sid),
                    user_sid=str(shown.user.sid),
                    level="" if imp is None else _level_word(imp.impersonation_level),
                    integrity=_integrity(m, shown)[0],
                )
            )
        virtualization = (
            "Not allowed"
            if not token.virtualization_allowed
            else ("Enabled" if token.virtualization_enabled else "Disabled")
        )
        sd = process_descriptor(token)
        return ProcessDetail(
            row=row,
            parent=next((r for r in rows if r["pid"] == row["ppid"]), None),
            children=[r for r in rows if r["ppid"] == pid],
            user=account_name(m, token.user.sid) or str(token.user.sid),
            user_sid=str(token.user.sid),
            session=token.session_id,
            logon_id=f"0x{token.authentication_id:x}",
            logon_session=logon_session,
            linked_logon_id=linked,
            token_type=token.token_type.name.removeprefix("Token"),
            elevation_type=_ELEVATION_WORDS.get(token.elevation_type, str(token.elevation_type)),
            elevated=token.is_elevated,
            virtualization=virtualization,
            integrity=_integrity(m, token),
            owner=account_name(m, token.effective_owner) or str(token.effective_owner),
            primary_group=""
            if token.primary_group is None
            else (account_name(m, token.primary_group) or str(token.primary_group)),
            groups=groups,
            privileges=privileges,
            descriptor=describe_descriptor(m, sd, ObjectType.PROCESS),
            threads=threads,
            whoami_all=m.whoami("/all", pid=pid, line_end="\n"),
        )


def prompt_for(m: Machine, pid: int) -> str:
    """Which dialog "Run as administrator" shows for this process (docs/rules.md F.3, the
    prompt behaviours the machine's UAC policy holds): ``consent``, ``credentials``, or
    ``none`` when no prompt appears (already elevated, UAC off, behaviour 0). The outcome is
    the library's (``Machine.run_elevated``); this only picks the form to show."""
    with m.store.transaction():
        token = m.processes.primary_token(pid)
        uac = m.accounts.uac_policy()
    if token.is_elevated or not uac.enable_lua:
        return "none"
    if token.elevation_type == TokenElevationType.TokenElevationTypeLimited:
        behavior = uac.consent_prompt_behavior_admin
        if behavior in (2, 4, 5):
            return "consent"
        return "none" if behavior == 0 else "credentials"
    return "none" if uac.consent_prompt_behavior_user == 0 else "credentials"


# ----------------------------------------------------------------------------- pipes


@dataclass(frozen=True, slots=True)
class ImpersonationView:
    """What ImpersonateNamedPipeClient gave the server's thread, and why."""

    tid: int
    user: str
    user_sid: str
    level: str
    requested_level: str
    downgraded: bool
    allowed: bool
    rule: str
    reason: str
    steps: tuple[str, ...]


def impersonation_view(m: Machine, pid: int, result: ImpersonationResult) -> ImpersonationView:
    thread = m.processes.main_thread(pid).tid
    token = result.token
    return ImpersonationView(
        tid=thread,
        user=account_name(m, token.user.sid) or str(token.user.sid),
        user_sid=str(token.user.sid),
        level=_level_word(result.level),
        requested_level=_level_word(result.requested_level),
        downgraded=result.downgraded,
        allowed=result.decision.allowed,
        rule=f"G.4 step {result.decision.rule.step}: {result.decision.rule.text}",
        reason=result.reason,
        steps=tuple(str(s) for s in result.decision.steps),
    )


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    id: int
    pipe: str
    server: str
    client: str
    client_tid: int
    level: str
    dynamic: bool
    effective_only: bool


@dataclass(slots=True)
class PipesView:
    pipes: list[dict[str, Any]]
    connections: list[ConnectionRow]
    processes: list[ProcessRow]
    impersonation: ImpersonationView | None = None
    connected: PipeConnection | None = None
    message: str | None = None
    error: str | None = None
    form: dict[str, str] = field(default_factory=dict)  # the last form's choices, kept


def _process_label(rows: dict[int, dict[str, Any]], pid: int) -> str:
    r = rows.get(pid)
    return f"{pid} (ended)" if r is None else f"{r['image']} ({pid}, {r['user']})"


def pipes_view(m: Machine) -> PipesView:
    tree = process_tree(m)
    by_pid = {r.pid: r.row for r in tree}
    pipes = [
        {
            "path": o.path,
            "server": None if o.server_pid is None else _process_label(by_pid, o.server_pid),
            "serving": o.server_pid in by_pid,
            "sddl": o.sd.to_sddl(domain_sid=m.accounts.machine_sid),
        }
        for o in m.objects.all(ObjectKind.NAMED_PIPE)
    ]
    connections = [
        ConnectionRow(
            id=c.id,
            pipe=c.pipe,
            server=_process_label(by_pid, c.server_pid),
            client=_process_label(by_pid, c.client_pid),
            client_tid=c.client_tid,
            level=_level_word(c.sqos.impersonation_level),
            dynamic=c.sqos.dynamic,
            effective_only=c.sqos.effective_only,
        )
        for c in m.pipe_connections()
    ]
    return PipesView(pipes, connections, tree)


# ----------------------------------------------------------------------------- objects


def objects_view(m: Machine) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Every named object by kind: (kind value, heading, rows)."""
    out = []
    for kind, heading in OBJECT_KINDS:
        rows = [
            {
                "path": o.path,
                "kind": o.kind.value,
                "type": o.object_type.value,
                "owner": None
                if o.sd.owner is None
                else (account_name(m, o.sd.owner) or str(o.sd.owner)),
                "aces": 0 if o.sd.dacl is None else len(o.sd.dacl),
                "sddl": o.sd.to_sddl(domain_sid=m.accounts.machine_sid),
            }
            for o in m.objects.all(kind)
        ]
        out.append((kind.value, heading, rows))
    return out


def object_detail(m: Machine, path: str, kind: str) -> dict[str, Any]:
    """One object: its descriptor described (NtStatusError when there is no such object)."""
    obj = m.objects.get(path, _kind(kind))
    return {
        "path": obj.path,
        "kind": obj.kind.value,
        "type": obj.object_type.value,
        "server_pid": obj.server_pid,
        "descriptor": describe_descriptor(m, obj.sd, obj.object_type),
        "sddl": obj.sd.to_sddl(domain_sid=m.accounts.machine_sid),
    }


def _kind(value: str) -> ObjectKind | None:
    try:
        return ObjectKind(value)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- events


@dataclass(slots=True)
class EventsView:
    events: list[EventRow]
    total: int
    ids: list[int]
    event_id: str = ""
    account: str = ""
    logon_id: str = ""
    failures: bool = False
    errors: dict[str, str] = field(default_factory=dict)


#: Newest records shown (the log itself keeps everything).
EVENT_LIMIT = 500

#: The first line of each event's message, as Event Viewer shows it (the titles of the Learn
#: pages "4624(S): An account was successfully logged on." and so on).
EVENT_TITLES: dict[int, str] = {
    4624: "An account was successfully logged on.",
    4625: "An account failed to log on.",
    4634: "An account was logged off.",
    4648: "A logon was attempted using explicit credentials.",
    4656: "A handle to an object was requested.",
    4663: "An attempt was made to access an object.",
    4672: "Special privileges assigned to new logon.",
    4673: "A privileged service was called.",
    4688: "A new process has been created.",
    4689: "A process has exited.",
    4703: "A token right was adjusted.",
}


@dataclass(frozen=True, slots=True)
class EventRow:
    event: Event
    title: str
    when: str
    account: str | None


def events_view(
    m: Machine, *, event_id: str, account: str, logon_id: str, failures: bool
) -> EventsView:
    """The log, newest first, filtered as the ``ntsec events`` command filters it."""
    from ntsec.system.scenario import resolve_account  # noqa: PLC0415

    view = EventsView([], 0, [], event_id, account, logon_id, failures)
    ids: list[int] | None = None
    if event_id.strip():
        try:
            ids = [int(x) for x in event_id.replace(",", " ").split()]
        except ValueError:
            view.errors["id"] = f"not an event ID: {event_id!r} (e.g. 4624 or 4624, 4625)"
    sid = None
    if account.strip():
        try:
            sid = resolve_account(m.accounts, account.strip())
        except Error as exc:
            view.errors["account"] = error_text(exc)
    luid = None
    if logon_id.strip():
        try:
            luid = int(logon_id.strip(), 0)
        except ValueError:
            view.errors["logon_id"] = f"not a logon ID: {logon_id!r} (e.g. 0x3e7)"
    if view.errors:
        return view
    found = m.events.query(ids, account=sid, logon_id=luid, success=False if failures else None)
    view.total = len(found)
    names: dict[Sid, str | None] = {}
    for e in reversed(found[-EVENT_LIMIT:]):
        if e.account is not None and e.account not in names:
            names[e.account] = account_name(m, e.account)
        when = datetime.fromtimestamp(e.time, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        who = None if e.account is None else names[e.account]
        view.events.append(EventRow(e, EVENT_TITLES.get(e.event_id, ""), when, who))
    view.ids = sorted({e.event_id for e in m.events.query()})
    return view


# ----------------------------------------------------------------------------- accounts


def all_rights() -> list[str]:
    """Every privilege and logon right name LSA knows."""
    return sorted(p.name for p in Privilege) + sorted(r.value for r in LogonRight)


def accounts_view(m: Machine) -> dict[str, Any]:
    with m.store.transaction():
        users = []
        for u in m.accounts.users():
            member_of = [account_name(m, s) or str(s) for s in m.accounts.alias_memberships(u.sid)]
            users.append({"user": u, "member_of": member_of})
        groups = [
            {
                "group": g,
                "members": [account_name(m, s) or str(s) for s in m.accounts.members(g.sid)],
            }
            for g in m.accounts.groups()
        ]
        rights = []
        for name in all_rights():
            holders = m.accounts.holders_of(name)
            if holders:
                rights.append((name, [account_name(m, s) or str(s) for s in holders]))
        return {
            "users": users,
            "groups": groups,
            "rights": rights,
            "all_rights": all_rights(),
            "uac": m.accounts.uac_policy(),
        }


# ----------------------------------------------------------------------------- explorer


def explorer_choices(m: Machine) -> dict[str, Any]:
    """The subjects (processes) and targets (named objects and processes) the explorer offers."""
    tree = process_tree(m)
    subjects = [
        (r.pid, f"{'  ' * r.depth}{r.row['image']} ({r.pid}) {r.row['user']}, {r.row['integrity']}")
        for r in tree
    ]
    targets = [
        (f"object:{o.kind.value}:{o.path}", f"{o.kind.value.replace('_', ' ')}: {o.path}")
        for kind, _ in OBJECT_KINDS
        for o in m.objects.all(kind)
    ]
    targets += [(f"process:{r.pid}", f"process: {r.row['image']} ({r.pid})") for r in tree]
    return {"subjects": subjects, "targets": targets}


def explore_machine(m: Machine, *, pid: str, tid: str, target: str, rights: str) -> Any:
    """The explorer on the simulated machine: a process (or one of its threads: its effective
    token, G.2) opens an object or a process with the rights asked for, through the facade
    (``open_object``, ``process_access``), and the decision is shown ACE by ACE."""
    from ntsec.codec import whoami  # noqa: PLC0415
    from ntsec.model.rights import parse_rights  # noqa: PLC0415
    from ntsec.web._views import ExplorerView, fill_decision, token_view  # noqa: PLC0415

    view = ExplorerView(
        subject_pid=pid, subject_tid=tid, target=target, rights=rights, machine_mode=True
    )
    errors = view.errors
    subject = _int(pid, "subject_pid", "Pick the process that opens the object.", errors)
    thread = (
        None if not tid.strip() else _int(tid, "subject_tid", "A thread ID is a number.", errors)
    )
    kind_value, _, rest = target.partition(":")
    if kind_value not in ("object", "process") or not rest:
        errors["target"] = "Pick an object or a process to open."
    target_pid = 0
    if kind_value == "process":
        target_pid = _int(rest, "target", f"not a process ID: {rest!r}", errors) or 0
    if errors or subject is None:
        return view
    machine_sid = m.accounts.machine_sid
    try:
        with m.store.transaction():
            token = m.effective_token(subject, thread)
            capture = m.whoami("/all", pid=subject, tid=thread, line_end="\n")
            report = whoami.parse(capture)
            # The pasted form below gets the same token and descriptor, to try variations.
            view.whoami_text, view.token_source = capture, "paste"
            view.token = token_view(report)
            view.subject_label = _subject_label(m, subject, thread, token)
            if kind_value == "process":
                object_type = ObjectType.PROCESS
                sd = process_descriptor(m.processes.primary_token(target_pid))
                view.target_label = (
                    f"process {m.processes.process(target_pid).image} ({target_pid})"
                )
            else:
                kind_text, _, path = rest.partition(":")
                obj = m.objects.get(path, _kind(kind_text))
                object_type = obj.object_type
                sd = obj.sd
                view.target_label = f"{obj.kind.value.replace('_', ' ')} {obj.path}"
            view.object_type = object_type.value
            view.sddl = sd.to_sddl(domain_sid=machine_sid)
            view.descriptor = describe_descriptor(m, sd, object_type)
            view.dacl = view.descriptor["dacl"]
            if not rights.strip():
                errors["rights"] = "Name the rights to ask for, e.g. GENERIC_READ or 0x120089."
                return view
            desired = parse_rights(rights, object_type)
            if kind_value == "process":
                result = m.process_access(subject, target_pid, desired, tid=thread)
            else:
                result = m.open_object(subject, obj.path, desired, kind=obj.kind, tid=thread).result
    except Error as exc:
        # The library's refusal (no such process or object, rights it cannot parse).
        errors["machine"] = error_text(exc)
        return view

    def names(sid: str) -> str | None:
        return account_name(m, Sid.parse(sid))

    fill_decision(
        view, result, desired=desired, kind=object_type, report=report, dom=machine_sid, names=names
    )
    return view


def _subject_label(m: Machine, pid: int, tid: int | None, token: Token) -> str:
    image = m.processes.process(pid).image
    who = account_name(m, token.user.sid) or str(token.user.sid)
    thread = "" if tid is None else f", thread {tid}"
    kind = (
        f"impersonating at {_level_word(token.impersonation_level)}"
        if token.is_impersonation
        else "primary token"
    )
    return f"{image} ({pid}{thread}): {who}, {_integrity(m, token)[0]}, {kind}"


def _int(text: str, name: str, message: str, errors: dict[str, str]) -> int | None:
    try:
        return int(text.strip(), 0)
    except ValueError:
        errors[name] = message
        return None


# ----------------------------------------------------------------------------- object security

#: The parts the edit form may name: (form value, SECURITY_INFORMATION bit, label).
SECURITY_PARTS: tuple[tuple[str, SecurityInformation, str], ...] = (
    ("owner", SecurityInformation.OWNER_SECURITY_INFORMATION, "owner"),
    ("group", SecurityInformation.GROUP_SECURITY_INFORMATION, "group"),
    ("dacl", SecurityInformation.DACL_SECURITY_INFORMATION, "DACL"),
    ("sacl", SecurityInformation.SACL_SECURITY_INFORMATION, "SACL (audit)"),
    ("label", SecurityInformation.LABEL_SECURITY_INFORMATION, "label"),
)
#: Inheritance choices of the "add an ACE" row: (form value, ACE flags, label).
ACE_INHERITANCE: tuple[tuple[str, AceFlags, str], ...] = (
    ("none", AceFlags(0), "this object only"),
    ("oici", AceFlags.OBJECT_INHERIT_ACE | AceFlags.CONTAINER_INHERIT_ACE,
     "this object, subcontainers and files"),
    ("ci", AceFlags.CONTAINER_INHERIT_ACE, "this object and subcontainers"),
    ("oi", AceFlags.OBJECT_INHERIT_ACE, "this object and files"),
)


@dataclass(slots=True)
class SecurityEdit:
    """The edit form's values (shown again after a step) and the outcome of the step."""

    pid: str = ""
    tid: str = ""
    sddl: str = ""
    parts: list[str] = field(default_factory=list)
    protect: str = ""
    ace_type: str = "allow"
    ace_trustee: str = ""
    ace_rights: str = ""
    ace_inherit: str = "none"
    remove: str = ""
    error: str | None = None
    outcome: dict[str, Any] | None = None


def _trustee(m: Machine, ref: str) -> Sid:
    """A SID string, an account of this machine, or an SDDL alias (BU, WD, OW...)."""
    from ntsec.system.scenario import resolve_account  # noqa: PLC0415

    text = ref.strip()
    if not text:
        raise InvalidValueError("name the trustee: a SID, an account or an SDDL alias")
    try:
        return resolve_account(m.accounts, text)
    except InvalidValueError:
        owner = SecurityDescriptor.from_sddl(f"O:{text}", domain_sid=m.accounts.machine_sid).owner
        if owner is None:  # pragma: no cover - "O:x" always has an owner when it parses
            raise
        return owner


def _edited_dacl(m: Machine, edit: SecurityEdit, base: SecurityDescriptor,
                 object_type: ObjectType, action: str) -> SecurityDescriptor:
    """``base`` with one ACE added (deny ACEs first, allow ACEs after the explicit ones, before
    the inherited ones: the canonical order, L:secauthz/order-of-aces-in-a-dacl) or removed."""
    from ntsec.model.rights import parse_rights  # noqa: PLC0415

    aces = list(base.dacl.aces if base.dacl is not None else ())
    if action == "remove":
        try:
            index = int(edit.remove)
            del aces[index]
        except (ValueError, IndexError):
            raise InvalidValueError("pick the ACE to remove") from None
    else:
        if not edit.ace_rights.strip():
            raise InvalidValueError("name the rights of the new ACE, e.g. FILE_GENERIC_READ")
        flags = {v: f for v, f, _ in ACE_INHERITANCE}.get(edit.ace_inherit, AceFlags(0))
        deny = edit.ace_type == "deny"
        ace = Ace(AceType.ACCESS_DENIED_ACE_TYPE if deny else AceType.ACCESS_ALLOWED_ACE_TYPE,
                  flags, parse_rights(edit.ace_rights, object_type), _trustee(m, edit.ace_trustee))
        explicit = [i for i, a in enumerate(aces) if not a.flags & AceFlags.INHERITED_ACE]
        at = 0 if deny else explicit[-1] + 1 if explicit else 0
        aces.insert(at, ace)
    revision = base.dacl.revision if base.dacl is not None else 2  # ACL_REVISION
    return dataclasses.replace(base, dacl=Acl(tuple(aces), revision),
                               control=base.control | SecurityDescriptorControl.SE_DACL_PRESENT)


def set_object_security(m: Machine, path: str, kind: str, action: str,
                        edit: SecurityEdit) -> int:
    """One step of the edit form: "set" applies the SDDL (the parts ticked, else the parts it
    carries), "add" / "remove" change one DACL entry; the facade's SetSecurityInfo decides
    (WRITE_DAC, WRITE_OWNER, privileges) and ``edit.outcome`` shows its answer. Returns the
    HTTP status: 200 when set, 403 when Windows refused, 400 for unusable input."""
    from ntsec.system.setsecurity import information_for  # noqa: PLC0415

    machine_sid = m.accounts.machine_sid
    try:
        pid = int(edit.pid.strip(), 0)
        tid = int(edit.tid.strip(), 0) if edit.tid.strip() else None
    except ValueError:
        edit.error = "Pick the process (and optionally a thread ID) that sets the descriptor."
        return 400
    try:
        with m.store.transaction():
            obj = m.objects.get(path, _kind(kind))
            if action in ("add", "remove"):
                # One entry of the object's DACL as it is now (the list the page shows).
                sd = _edited_dacl(m, edit, obj.sd, obj.object_type, action)
                si = SecurityInformation.DACL_SECURITY_INFORMATION
            elif action == "set":
                sd = (SecurityDescriptor.from_sddl(edit.sddl, domain_sid=machine_sid)
                      if edit.sddl.strip() else obj.sd)
                si = SecurityInformation(0)
                for value, bit, _ in SECURITY_PARTS:
                    if value in edit.parts:
                        si |= bit
                if not si:
                    si = information_for(sd)
            else:
                raise InvalidValueError(f"no such step: {action!r}")
            if edit.protect in ("protect", "unprotect"):
                on = edit.protect == "protect"
                if si & SecurityInformation.DACL_SECURITY_INFORMATION:
                    si |= (SecurityInformation.PROTECTED_DACL_SECURITY_INFORMATION if on
                           else SecurityInformation.UNPROTECTED_DACL_SECURITY_INFORMATION)
                if si & SecurityInformation.SACL_SECURITY_INFORMATION:
                    si |= (SecurityInformation.PROTECTED_SACL_SECURITY_INFORMATION if on
                           else SecurityInformation.UNPROTECTED_SACL_SECURITY_INFORMATION)
            token = m.effective_token(pid, tid)
            result = m.set_object_security(pid, obj.path, sd, si, tid=tid, kind=obj.kind)
    except Error as exc:
        edit.error = error_text(exc)
        return 404 if isinstance(exc, NtStatusError) else 400
    outcome = result.to_json(machine_sid)
    outcome["subject"] = _subject_label(m, pid, tid, token)
    outcome["explanation"] = (name_sids(result.check.explanation.to_text(),
                                        lambda sid: _sid_name(m, sid))
                              if result.check.explanation is not None else None)
    edit.outcome = outcome
    if result.allowed:
        edit.sddl = outcome["new_sddl"]
    return 200 if result.allowed else 403
