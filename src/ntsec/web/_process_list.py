"""Search, filter and sort for the process list (``/processes``), from query parameters.

The page works without script: ``?q=`` searches image, user and PID, ``integrity=``,
``elevation=`` and ``user=`` keep only matching rows, ``sort=`` (a column) and ``dir=desc``
order them. The tree is shown as a tree only when nothing is filtered or sorted; otherwise the
rows are a flat list (a child without its parent has nowhere to hang). static/app.js does the
same in the browser without a reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from ntsec.web._machine_views import ProcessRow

__all__ = ["COLUMNS", "ProcessQuery", "apply_query"]

#: Sortable columns: key -> (header, the row value it sorts by).
COLUMNS: dict[str, str] = {
    "image": "Process",
    "pid": "PID",
    "user": "User",
    "session": "Session",
    "integrity": "Integrity",
    "elevation": "Elevation",
}

# Integrity levels in their order (Learn "Mandatory Integrity Control"), for sorting.
_LEVELS = ("Untrusted", "Low", "Medium", "Medium Plus", "High", "System", "Protected Process")


@dataclass(frozen=True, slots=True)
class ProcessQuery:
    """The list's search, filters and order as the query string gave them."""

    q: str = ""
    integrity: str = ""
    elevation: str = ""
    user: str = ""
    sort: str = ""
    desc: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ProcessQuery:
        sort = params.get("sort", "")
        return cls(
            q=params.get("q", "").strip(),
            integrity=params.get("integrity", ""),
            elevation=params.get("elevation", ""),
            user=params.get("user", ""),
            sort=sort if sort in COLUMNS else "",
            desc=params.get("dir", "") == "desc",
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.integrity or self.elevation or self.user or self.sort)

    def sort_link(self, column: str) -> str:
        """The query string of a column header: sort by it, the other way when it already
        sorts the list ascending."""
        desc = self.sort == column and not self.desc
        fields = {"q": self.q, "integrity": self.integrity, "elevation": self.elevation,
                  "user": self.user, "sort": column, "dir": "desc" if desc else ""}
        return "?" + urlencode({k: v for k, v in fields.items() if v})

    def order(self, column: str) -> str:
        """aria-sort for a column header."""
        if self.sort != column:
            return "none"
        return "descending" if self.desc else "ascending"


def _key(column: str, row: dict[str, Any]) -> tuple[int, str | int]:
    if column == "pid":
        return (int(row["pid"]), "")
    if column == "session":
        return (int(row["session"]), "")
    if column == "integrity":
        level = row["integrity"]
        return (_LEVELS.index(level) if level in _LEVELS else len(_LEVELS), level)
    value = row["elevation_type"] if column == "elevation" else row[column]
    return (0, str(value).lower())


def _matches(query: ProcessQuery, row: dict[str, Any]) -> bool:
    if query.integrity and row["integrity"] != query.integrity:
        return False
    if query.elevation and row["elevation_type"] != query.elevation:
        return False
    if query.user and row["user"] != query.user:
        return False
    if query.q:
        needle = query.q.lower()
        hay = (str(row["image"]).lower(), str(row["user"]).lower(), str(row["pid"]))
        return any(needle in h for h in hay)
    return True


def apply_query(tree: list[ProcessRow], query: ProcessQuery) -> tuple[list[ProcessRow],
                                                                       dict[str, list[str]]]:
    """The rows to show, and the values each filter offers (every value in the whole list)."""
    options = {
        "integrity": sorted({r.row["integrity"] for r in tree},
                            key=lambda v: _key("integrity", {"integrity": v})),
        "elevation": sorted({r.row["elevation_type"] for r in tree}),
        "user": sorted({r.row["user"] for r in tree}, key=str.lower),
    }
    if not query.active:
        return tree, options
    rows = [replace(r, depth=0) for r in tree if _matches(query, r.row)]
    if query.sort:
        rows.sort(key=lambda r: _key(query.sort, r.row), reverse=query.desc)
    return rows, options
