"""What reading a pasted artefact gives: its kind, the token or descriptors, and the repairs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ntsec.codec.paste_text import Repair
from ntsec.codec.whoami_report import WhoamiReport
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid

__all__ = ["PasteKind", "Pasted", "PastedDescriptor"]


class PasteKind(StrEnum):
    """What a paste was recognised as."""

    WHOAMI = "whoami"  # whoami.exe output, any switches and format
    TOKEN_JSON = "token-json"  # noqa: S105 - a kind name; ntsec's own `whoami --json` / `token analyze --json`
    SDDL = "sddl"  # SDDL text, however wrapped or quoted, or a bare ACE list
    GET_ACL = "get-acl"  # PowerShell `Get-Acl ... | Format-List`
    SC_SDSHOW = "sc-sdshow"  # `sc sdshow NAME`: a service's descriptor
    ICACLS = "icacls"  # `icacls PATH`
    ICACLS_SAVE = "icacls-save"  # the file `icacls PATH /save FILE` writes
    BINARY = "binary"  # a self-relative descriptor as hex, base64 or raw bytes


@dataclass(frozen=True, slots=True)
class PastedDescriptor:
    """One descriptor of a paste: the object's path or name as shown (None when the artefact
    does not say), the descriptor, and the object type the artefact implies (None: unknown)."""

    path: str | None
    descriptor: SecurityDescriptor
    object_type: ObjectType | None = None


@dataclass(frozen=True, slots=True)
class Pasted:
    """A paste read: ``report`` for a token (WHOAMI, TOKEN_JSON; ``report.token``), or
    ``descriptors``; every change made to read it in ``repairs``; the domain SID used for
    domain-relative SDDL aliases (given, or inferred and then recorded as a repair)."""

    kind: PasteKind
    report: WhoamiReport | None = None
    descriptors: tuple[PastedDescriptor, ...] = ()
    repairs: tuple[Repair, ...] = ()
    domain_sid: Sid | None = None
    #: SIDs the artefact gave by name (icacls trustees), with the name as it spelled them.
    names: tuple[tuple[Sid, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The kind, the repairs and what was read, for JSON output."""
        return {
            "kind": self.kind.value,
            "repairs": [r.to_dict() for r in self.repairs],
            "domain_sid": None if self.domain_sid is None else str(self.domain_sid),
            "descriptors": [
                {
                    "path": d.path,
                    "object_type": None if d.object_type is None else d.object_type.value,
                    "sddl": d.descriptor.to_sddl(domain_sid=self.domain_sid),
                }
                for d in self.descriptors
            ],
        }
