"""Scenarios: TOML descriptions of a simulated machine (docs/design.md "The simulated machine").

A scenario names the computer, overrides policy settings, and lists users, local groups, group
memberships, account rights, securable objects (files, directories, registry keys, services,
named pipes; each with SDDL or inheriting from its parent) and processes to start. :func:`load`
reads and validates one (stdlib ``tomllib``), :func:`builtin` loads one shipped with ntsec
("workstation"), and :func:`apply_accounts` writes the SAM and policy part into a machine.
Objects and processes are kept as validated specs for the object and process layers.

Schema (every table optional except ``[machine]``)::

    [machine]            computer_name = "NAME"; machine_sid = "S-1-5-21-x-y-z" (optional)
    [policy]             SETTING = integer            (ntsec.system.accounts.DEFAULT_SETTINGS)
    [[users]]            name, password (omit for blank), full_name, description, enabled,
                         password_never_expires, groups = ["Administrators", ...]
    [[groups]]           name, description, members = ["bob", "S-1-5-4", ...]
    [[rights]]           right = "SeBatchLogonRight", grant = [...], revoke = [...]
    [[objects]]          type = file|directory|registry_key|service|named_pipe, path,
                         sddl = "..." or inherit = true, source = "where the SDDL comes from"
    [[processes]]        image, user, parent (image), session, services = [...],
                         logon_type, elevated

Account references are SID strings or names in the machine's SAM (users, local groups, BUILTIN
aliases). In SDDL, ``{sid:NAME}`` stands for the SID of the SAM account NAME.
"""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ntsec.errors import Error, InvalidValueError
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import LogonRight, Privilege
from ntsec.model.sid import Sid
from ntsec.system.accounts import DEFAULT_SETTINGS, Accounts

__all__ = [
    "GroupSpec",
    "ObjectKind",
    "ObjectSpec",
    "ProcessSpec",
    "RightSpec",
    "Scenario",
    "UserSpec",
    "apply_accounts",
    "builtin",
    "from_mapping",
    "load",
    "loads",
    "resolve_account",
    "resolve_sddl",
]


class ObjectKind(Enum):
    """Securable objects a scenario may describe."""

    FILE = "file"
    DIRECTORY = "directory"
    REGISTRY_KEY = "registry_key"
    SERVICE = "service"
    NAMED_PIPE = "named_pipe"


@dataclass(frozen=True, slots=True)
class UserSpec:
    name: str
    password: str | None
    full_name: str = ""
    description: str = ""
    enabled: bool = True
    password_never_expires: bool = False
    groups: tuple[str, ...] = ()

    def __repr__(self) -> str:
        # Scenario passwords never appear in logs or tracebacks.
        return f"UserSpec(name={self.name!r}, password=<hidden>, groups={self.groups!r})"


@dataclass(frozen=True, slots=True)
class GroupSpec:
    name: str
    description: str = ""
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RightSpec:
    right: str
    grant: tuple[str, ...] = ()
    revoke: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """A securable object: ``sddl`` (with ``{sid:NAME}`` placeholders) or ``inherit``."""

    kind: ObjectKind
    path: str
    sddl: str | None
    inherit: bool
    source: str


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    image: str
    user: str
    parent: str | None = None
    session: int = 0
    services: tuple[str, ...] = ()
    logon_type: str = "service"
    elevated: bool = False


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    computer_name: str
    machine_sid: Sid | None
    policy: Mapping[str, int]
    users: tuple[UserSpec, ...]
    groups: tuple[GroupSpec, ...]
    rights: tuple[RightSpec, ...]
    objects: tuple[ObjectSpec, ...]
    processes: tuple[ProcessSpec, ...]


# ---------------------------------------------------------------------- reading
def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidValueError(f"{p.stem}: not UTF-8 text ({exc.reason})") from None
    return loads(text, name=p.stem)


def builtin(name: str = "workstation") -> Scenario:
    """A scenario shipped in ntsec/system/scenarios/ (the default machine is "workstation")."""
    if not re.fullmatch(r"[a-z0-9_-]+", name):
        raise InvalidValueError(f"no built-in scenario {name!r}")
    resource = importlib.resources.files("ntsec.system").joinpath("scenarios", f"{name}.toml")
    if not resource.is_file():
        raise InvalidValueError(f"no built-in scenario {name!r}")
    return loads(resource.read_text(encoding="utf-8"), name=name)


def sample_accounts(name: str = "workstation") -> tuple[str, tuple[UserSpec, ...]]:
    """The computer name of a built-in scenario and its accounts that can log on (enabled, with
    a password): the practice machine's documented sample credentials, which front ends show
    on its logon page."""
    scenario = builtin(name)
    return scenario.computer_name, tuple(u for u in scenario.users if u.enabled and u.password)


def loads(text: str, name: str = "scenario") -> Scenario:
    """Parse scenario TOML. Malformed TOML or a field of the wrong kind raises
    InvalidValueError naming the table and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValueError(f"{name}: not valid TOML: {exc}") from None
    return from_mapping(data, name)


def from_mapping(data: Mapping[str, Any], name: str = "scenario") -> Scenario:
    """A scenario from already-parsed TOML tables (a domain scenario's ``[[machines]]`` entries
    use the same schema, ntsec.system.network)."""
    _only(data, "scenario", {"machine", "policy", "users", "groups", "rights", "objects",
                             "processes"})
    machine = _table(data, "machine", "scenario")
    _only(machine, "[machine]", {"computer_name", "machine_sid"})
    machine_sid = _opt_str(machine, "machine_sid", "[machine]")
    policy = _table(data, "policy", "scenario", required=False)
    for key, value in policy.items():
        if key not in DEFAULT_SETTINGS or not isinstance(value, int) or isinstance(value, bool):
            raise InvalidValueError(f"{name}: [policy] {key} must be a known integer setting")
    return Scenario(
        name=name,
        computer_name=_str(machine, "computer_name", "[machine]"),
        machine_sid=None if machine_sid is None else Sid.parse(machine_sid),
        policy=dict(policy),
        users=tuple(_user(u) for u in _array(data, "users")),
        groups=tuple(_group(g) for g in _array(data, "groups")),
        rights=tuple(_right(r) for r in _array(data, "rights")),
        objects=tuple(_object(o) for o in _array(data, "objects")),
        processes=tuple(_process(p) for p in _array(data, "processes")),
    )


def _user(t: dict[str, Any]) -> UserSpec:
    where = "[[users]]"
    _only(t, where, {"name", "password", "full_name", "description", "enabled",
                     "password_never_expires", "groups"})
    return UserSpec(
        name=_str(t, "name", where),
        password=_opt_str(t, "password", where),
        full_name=_opt_str(t, "full_name", where) or "",
        description=_opt_str(t, "description", where) or "",
        enabled=_bool(t, "enabled", where, True),
        password_never_expires=_bool(t, "password_never_expires", where, False),
        groups=_strs(t, "groups", where),
    )


def _group(t: dict[str, Any]) -> GroupSpec:
    where = "[[groups]]"
    _only(t, where, {"name", "description", "members"})
    return GroupSpec(_str(t, "name", where), _opt_str(t, "description", where) or "",
                     _strs(t, "members", where))


_RIGHT_NAMES = frozenset(p.name for p in Privilege) | frozenset(r.value for r in LogonRight)


def _right(t: dict[str, Any]) -> RightSpec:
    where = "[[rights]]"
    _only(t, where, {"right", "grant", "revoke"})
    right = _str(t, "right", where)
    if right not in _RIGHT_NAMES:
        raise InvalidValueError(f"{where}: no such privilege or logon right {right!r}")
    return RightSpec(right, _strs(t, "grant", where), _strs(t, "revoke", where))


def _object(t: dict[str, Any]) -> ObjectSpec:
    where = "[[objects]]"
    _only(t, where, {"type", "path", "sddl", "inherit", "source"})
    kind_text = _str(t, "type", where)
    try:
        kind = ObjectKind(kind_text)
    except ValueError:
        raise InvalidValueError(f"{where}: unknown object type {kind_text!r}") from None
    sddl = _opt_str(t, "sddl", where)
    inherit = _bool(t, "inherit", where, False)
    if (sddl is None) == (not inherit):
        raise InvalidValueError(f"{where} {t.get('path')!r}: give exactly one of sddl / inherit")
    return ObjectSpec(kind, _str(t, "path", where), sddl, inherit,
                      _opt_str(t, "source", where) or "")


def _process(t: dict[str, Any]) -> ProcessSpec:
    where = "[[processes]]"
    _only(t, where, {"image", "user", "parent", "session", "services", "logon_type",
                     "elevated"})
    session = t.get("session", 0)
    if not isinstance(session, int) or isinstance(session, bool) or session < 0:
        raise InvalidValueError(f"{where}: session must be a non-negative integer")
    return ProcessSpec(
        image=_str(t, "image", where),
        user=_str(t, "user", where),
        parent=_opt_str(t, "parent", where),
        session=session,
        services=_strs(t, "services", where),
        logon_type=_opt_str(t, "logon_type", where) or "service",
        elevated=_bool(t, "elevated", where, False),
    )


# ---------------------------------------------------------------------- applying
def apply_accounts(scenario: Scenario, accounts: Accounts, *,
                   extra: Callable[[str], Sid | None] | None = None) -> None:
    """Create the scenario's machine identity, policy, users, groups, memberships and rights in
    one transaction (a scenario applies completely or not at all). ``extra`` names accounts the
    SAM does not hold (a domain member's domain accounts, ``CONTOSO\\carol``)."""
    with accounts.store.transaction():
        accounts.initialize(scenario.computer_name, scenario.machine_sid)
        for key, value in scenario.policy.items():
            accounts.set_setting(key, value)
        for u in scenario.users:
            accounts.create_user(u.name, u.password, full_name=u.full_name,
                                 description=u.description, enabled=u.enabled,
                                 password_never_expires=u.password_never_expires)
        for g in scenario.groups:
            accounts.create_group(g.name, g.description)
        for u in scenario.users:
            sid = accounts.user(u.name).sid
            for group in u.groups:
                accounts.add_member(group, sid)
        for g in scenario.groups:
            for member in g.members:
                accounts.add_member(g.name, resolve_account(accounts, member, extra=extra))
        for r in scenario.rights:
            for holder in r.grant:
                accounts.grant_right(resolve_account(accounts, holder, extra=extra), r.right)
            for holder in r.revoke:
                accounts.revoke_right(resolve_account(accounts, holder, extra=extra), r.right)


def resolve_account(accounts: Accounts, ref: str, *,
                    extra: Callable[[str], Sid | None] | None = None) -> Sid:
    """A SID string, or the name of a SAM user, local group or BUILTIN alias (or an account
    ``extra`` knows, tried first for ``DOMAIN\\name`` references)."""
    if ref.upper().startswith("S-"):
        return Sid.parse(ref)
    if extra is not None:
        found = extra(ref)
        if found is not None:
            return found
    user = accounts.find_user(ref)
    if user is not None:
        return user.sid
    try:
        return accounts.group(ref).sid
    except Error:
        raise InvalidValueError(f"no account named {ref!r} on this machine") from None


_PLACEHOLDER = re.compile(r"\{sid:([^{}]+)\}")


def resolve_sddl(spec: ObjectSpec, accounts: Accounts, *,
                 extra: Callable[[str], Sid | None] | None = None) -> SecurityDescriptor:
    """The object's descriptor: ``{sid:NAME}`` replaced, domain-relative aliases (LA, LG...)
    resolved against the machine SID."""
    if spec.sddl is None:
        raise InvalidValueError(f"{spec.path} inherits its descriptor from its parent")
    text = _PLACEHOLDER.sub(lambda m: str(resolve_account(accounts, m.group(1), extra=extra)),
                            spec.sddl)
    return SecurityDescriptor.from_sddl(text, domain_sid=accounts.machine_sid)


# ---------------------------------------------------------------------- field helpers
def _only(t: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    extra = set(t) - allowed
    if extra:
        raise InvalidValueError(f"{where}: unknown field(s) {', '.join(sorted(extra))}")


def _table(t: Mapping[str, Any], key: str, where: str, required: bool = True) -> dict[str, Any]:
    value = t.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InvalidValueError(f"{where}: [{key}] must be a table")
    return value


def _array(t: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = t.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidValueError(f"scenario: {key} must be an array of tables ([[{key}]])")
    return value


def _str(t: Mapping[str, Any], key: str, where: str) -> str:
    value = t.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"{where}: {key} must be a non-empty string")
    return value


def _opt_str(t: Mapping[str, Any], key: str, where: str) -> str | None:
    value = t.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidValueError(f"{where}: {key} must be a string")
    return value


def _bool(t: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = t.get(key, default)
    if not isinstance(value, bool):
        raise InvalidValueError(f"{where}: {key} must be true or false")
    return value


def _strs(t: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = t.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidValueError(f"{where}: {key} must be an array of strings")
    return tuple(value)
