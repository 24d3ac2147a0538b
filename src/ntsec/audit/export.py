"""Exports of a finished audit: BloodHound OpenGraph edges, and the findings read back.

OpenGraph (SpecterOps, "OpenGraph schema", bloodhound.specterops.io/opengraph) is a JSON
document ``{"metadata": {"source_kind": ...}, "graph": {"nodes": [...], "edges": [...]}}``;
a node has ``id``, ``kinds`` and ``properties``; an edge has ``kind``, ``start`` and ``end``
(``{"value": ID, "match_by": "id"}``) and ``properties``. Principals are identified by their SID
(BloodHound's own object identifier for users and groups, so the edges attach to collected AD
nodes); objects by their path or DN. The file is written as the parts are read (edges
streamed), the node list at the end.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ntsec.audit.outputs import read_part

__all__ = ["SOURCE_KIND", "findings", "write_opengraph"]

SOURCE_KIND = "NTSec"
_OBJECT_KINDS = {
    "file": "NTSecFile",
    "directory": "NTSecFile",
    "key": "NTSecRegistryKey",
    "service": "NTSecService",
    "scm": "NTSecService",
    "ds": "NTSecDirectoryObject",
}


def findings(part_files: Iterable[str | Path]) -> Iterator[dict[str, Any]]:
    """Every finding of a run, part by part."""
    for f in part_files:
        yield from read_part(Path(f))


def write_opengraph(part_files: Iterable[str | Path], out: Path, edge_kind: str | None) -> int:
    """Write the findings as OpenGraph edges ``principal -[edge_kind]-> object``; returns the
    number of edges. ``edge_kind=None``: each finding's rule kind (``--rules``), as
    ``NTSec<Kind>``."""
    principals: dict[str, str] = {}
    objects: dict[str, str] = {}
    n = 0
    with open(out, "w", encoding="utf-8") as f:
        head = json.dumps({"metadata": {"source_kind": SOURCE_KIND}})
        f.write(head[:-1] + ', "graph": {"edges": [')
        for rec in findings(part_files):
            sid, path = str(rec["principal_sid"]), str(rec["path"])
            principals.setdefault(sid, str(rec["principal"]))
            objects.setdefault(path, str(rec["object_type"]))
            kind = edge_kind
            if kind is None:
                rule = str(rec["rights"]).split(":", 1)[0]
                kind = "NTSec" + "".join(c for c in rule if c.isalnum())
            edge = {
                "kind": kind,
                "start": {"value": sid, "match_by": "id"},
                "end": {"value": path, "match_by": "id"},
                "properties": {"granted": int(rec["granted"]), "rights": rec["rights"],
                               "deciding": rec["deciding"]},
            }
            f.write(("," if n else "") + json.dumps(edge))
            n += 1
        f.write('], "nodes": [')
        first = True
        for sid, name in principals.items():
            node = {"id": sid, "kinds": ["NTSecPrincipal", SOURCE_KIND],
                    "properties": {"name": name, "objectid": sid}}
            f.write(("" if first else ",") + json.dumps(node))
            first = False
        for path, kind in objects.items():
            node = {"id": path, "kinds": [_OBJECT_KINDS.get(kind, "NTSecObject"), SOURCE_KIND],
                    "properties": {"name": path, "object_type": kind}}
            f.write(("" if first else ",") + json.dumps(node))
            first = False
        f.write("]}}\n")
    return n
