"""Regenerate ``src/ntsec/model/ad_schema.tsv`` from Microsoft's published AD schema files.

Usage (paths to a Samba source tree, which redistributes Microsoft's files unchanged)::

    python scripts/gen_ad_schema.py SAMBA_TREE [ADSCHEMA_DIR] > src/ntsec/model/ad_schema.tsv

Inputs, all facts published by Microsoft:

* ``source4/setup/ad-schema/AD_DS_Attributes_Windows_Server_v1903.ldf`` and
  ``AD_DS_Classes_Windows_Server_v1903.ldf``: the Windows Server v1903 AD DS schema as LDIF, as
  published with the MS-ADA1/MS-ADA2/MS-ADA3 (attributes) and MS-ADSC (classes) open
  specifications. Gives ``lDAPDisplayName``, ``cn``, ``schemaIDGUID`` and
  ``attributeSecurityGUID`` (the property set an attribute belongs to).
* ``source4/setup/extended-rights.ldif``: the controlAccessRight objects of MS-ADTS 6.1.1.2.7
  (Extended-Rights container), with the Windows Server 2012/2016 additions taken from
  Microsoft's Schema-Updates.md (MicrosoftDocs/windowsserverdocs). ``validAccesses`` tells the
  kind: 0x100 (RIGHT_DS_CONTROL_ACCESS) an extended right, 0x30 (READ/WRITE_PROPERTY) a property
  set, 0x8 (RIGHT_DS_WRITE_PROPERTY_EXTENDED) a validated write (MS-ADTS 5.1.3.2).

ADSCHEMA_DIR, optional, is ``desktop-src/ADSchema`` of MicrosoftDocs/win32 (the "Active
Directory Schema" reference on Microsoft Learn); when given, every right's Rights-GUID there is
compared with the one generated, and any difference is reported on stderr and fails the run;
the Display-Name shown there replaces the LDIF's ``displayName`` (Samba's file spells some of the
Windows 2000 rights' display names its own way).
"""

from __future__ import annotations

import base64
import re
import sys
import uuid
from pathlib import Path

_ATTRS = "source4/setup/ad-schema/AD_DS_Attributes_Windows_Server_v1903.ldf"
_CLASSES = "source4/setup/ad-schema/AD_DS_Classes_Windows_Server_v1903.ldf"
_RIGHTS = "source4/setup/extended-rights.ldif"
_KIND_BY_VALID_ACCESSES = {"256": "EXTENDED_RIGHT", "48": "PROPERTY_SET", "8": "VALIDATED_WRITE"}


def _records(text: str) -> list[dict[str, list[str]]]:
    """LDIF records as {attribute: [values]} (base64 ``::`` values kept as ``b64:...``)."""
    text = re.sub(r"^\$\{INC\d+\}", "", text, flags=re.MULTILINE)
    text = text.replace("\r\n", "\n").replace("\n ", "")  # LDIF line folding (RFC 2849)
    out: list[dict[str, list[str]]] = []
    for block in text.split("\n\n"):
        rec: dict[str, list[str]] = {}
        for line in block.split("\n"):
            if not line or line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            if value.startswith(":"):
                value = "b64:" + value[1:].strip()
            rec.setdefault(key.strip().lower(), []).append(value.strip())
        if "dn" in rec:
            out.append(rec)
    return out


def _guid(value: str) -> str:
    """A GUID attribute value (LDIF base64 of the little-endian GUID bytes, or text)."""
    if value.startswith("b64:"):
        return str(uuid.UUID(bytes_le=base64.b64decode(value[4:])))
    return str(uuid.UUID(value))


def _schema_rows(path: Path, kind: str, source: str) -> list[list[str]]:
    rows = []
    for rec in _records(path.read_text(encoding="latin-1")):
        if "schemaidguid" not in rec or "ldapdisplayname" not in rec:
            continue
        pset = rec.get("attributesecurityguid", [""])[0]
        rows.append(
            [
                kind,
                _guid(rec["schemaidguid"][0]),
                rec["ldapdisplayname"][0],
                rec["cn"][0],
                _guid(pset) if pset else "",
                "",
                source,
            ]
        )
    return rows


def _rights_rows(path: Path) -> list[list[str]]:
    rows = []
    for rec in _records(path.read_text(encoding="utf-8")):
        if "rightsguid" not in rec:
            continue
        cn = rec["dn"][0].split(",")[0].removeprefix("CN=")
        kind = _KIND_BY_VALID_ACCESSES[rec["validaccesses"][0]]
        display = rec["displayname"][0]
        applies = ",".join(sorted(_guid(v) for v in rec.get("appliesto", [])))
        rows.append([kind, _guid(rec["rightsguid"][0]), cn, display, "", applies, "ADTS-6.1.1.2.7"])
    return rows


def _docs_row(text: str, cn: str, guid: str, rows: list[list[str]]) -> list[str]:
    """A right documented in the win32 ADSchema reference but absent from the LDIF."""
    display = re.search(r"Display-Name\s*\|\s*([^|]+?)\s*\|", text)
    class_by_cn = {r[3].lower(): r[1] for r in rows if r[0] == "CLASS"}
    applies = re.search(r"Applies-To\s*\|([^\n]*)", text)
    names = re.findall(r"\*\*([^*]+)\*\*", applies.group(1)) if applies else []
    guids = sorted(class_by_cn[n.lower()] for n in names if n.lower() in class_by_cn)
    kind = "PROPERTY_SET" if "Property Set Members" in text else "EXTENDED_RIGHT"
    shown = display.group(1) if display else cn
    return [kind, str(uuid.UUID(guid)), cn, shown, "", ",".join(guids), "ADSchema-docs"]


def _cross_check(rows: list[list[str]], docs: Path) -> int:
    """Compare each right with the Rights-GUID of its page in the win32 ADSchema reference."""
    failures = 0
    by_name = {r[2].lower(): r for r in rows if r[0] not in ("ATTRIBUTE", "CLASS")}
    checked = 0
    for page in sorted(docs.glob("r-*.md")):
        text = page.read_text(encoding="utf-8")
        cn = re.search(r"^\|\s*CN\s*\|\s*(\S+)", text, re.MULTILINE)
        guid = re.search(r"Rights-GUID\s*\|\s*([0-9a-fA-F-]{36})", text)
        if not cn or not guid:
            continue
        row = by_name.get(cn.group(1).lower())
        if row is None:
            rows.append(_docs_row(text, cn.group(1), guid.group(1), rows))
            print(f"added from {page.name}: {cn.group(1)}", file=sys.stderr)
            continue
        checked += 1
        display = re.search(r"Display-Name\s*\|\s*([^|]+?)\s*\|", text)
        if display:  # Windows' own display name (Samba's file spells some differently)
            row[3] = display.group(1)
        if row[1] != str(uuid.UUID(guid.group(1))):
            print(f"MISMATCH {cn.group(1)}: {row[1]} vs {guid.group(1)}", file=sys.stderr)
            failures += 1
    print(f"cross-checked {checked} rights against {docs}", file=sys.stderr)
    return failures


def main(argv: list[str]) -> int:
    tree = Path(argv[1])
    rows = _schema_rows(tree / _CLASSES, "CLASS", "ADSC-v1903")
    rows += _schema_rows(tree / _ATTRS, "ATTRIBUTE", "ADA-v1903")
    rows += _rights_rows(tree / _RIGHTS)
    if len(argv) > 2 and _cross_check(rows, Path(argv[2])):
        return 1
    print("# kind\tguid\tname\tdisplay_name\tproperty_set\tapplies_to\tsource")
    for row in rows:
        print("\t".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
