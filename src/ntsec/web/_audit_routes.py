"""The audit pages (``/audit``, ``/audit/<run id>``): finished or partial runs of ``ntsec audit``
that ``ntsec serve --audit DIR`` registered when it started - never a path from a request (the
app may be reachable with an access key). The reading and counting is
:mod:`ntsec.audit.report`'s; this module picks the run, calls it off the event loop and renders
(the bar chart is inline SVG drawn here: no script, no chart library).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ntsec.audit.report import RunInfo, find_runs, findings_page, open_run, summarise
from ntsec.web._offload import run_cpu

__all__ = ["AuditRuns", "Chart", "audit_routes", "bar_chart"]

PAGE_SIZE = 50
_FILTER_MAX = 200  # characters of a filter text


class AuditRuns:
    """The registered run directories, by id (the directory's name, made unique)."""

    def __init__(self, dirs: Sequence[Path]) -> None:
        self.paths: dict[str, Path] = {}
        for d in dirs:
            for run in find_runs(d):
                base = re.sub(r"[^A-Za-z0-9._-]+", "-", run.resolve().name).strip("-.") or "run"
                rid, n = base, 1
                while rid in self.paths:
                    n += 1
                    rid = f"{base}-{n}"
                self.paths[rid] = run

    def info(self, run_id: str) -> RunInfo:
        """The run as it is now (a partial run may have more parts since the start)."""
        return open_run(self.paths[run_id], run_id)

    def all(self) -> list[RunInfo]:
        return [self.info(rid) for rid in self.paths]


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    desc: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_height: int


def bar_chart(title: str, items: Sequence[tuple[str, int]], *, width: int = 720) -> Chart:
    """A horizontal bar chart's geometry: one bar per (label, value), scaled to the largest."""
    label_width, bar_height, gap, value_room = 300, 22, 8, 70
    top = max((v for _, v in items), default=0) or 1
    span = width - label_width - value_room
    bars = [
        Bar(label, value, i * (bar_height + gap), max(1, round(value * span / top)) if value else 0)
        for i, (label, value) in enumerate(items)
    ]
    desc = "; ".join(f"{label}: {value}" for label, value in items) or "no findings"
    return Chart(title, desc, bars, width, max(1, len(bars) * (bar_height + gap)), label_width,
                 bar_height)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def audit_routes(runs: AuditRuns, render: Callable[..., Response]) -> list[Route]:
    """The audit pages' routes; ``render`` is the app's template renderer."""

    async def index(request: Request) -> Response:
        infos = await run_cpu(runs.all)
        return render(request, "audit.html", {"active": "audit", "runs": infos})

    async def run_page(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        if run_id not in runs.paths:
            raise HTTPException(404)
        q = request.query_params
        filters = {k: q.get(k, "")[:_FILTER_MAX] for k in ("principal", "path", "rights")}
        info = await run_cpu(runs.info, run_id)
        report = await run_cpu(summarise, info)
        page = await run_cpu(findings_page, info, page=_int(q.get("page"), 1),
                             size=PAGE_SIZE, **filters)
        chart = bar_chart("Objects per right", [(k.kind, k.objects) for k in report.kinds[:12]])
        context = {"active": "audit", "run": info, "report": report, "page": page,
                   "filters": filters, "chart": chart}
        return await run_cpu(render, request, "audit_run.html", context)

    return [
        Route("/audit", index, methods=["GET"], name="audit"),
        Route("/audit/{run_id}", run_page, methods=["GET"], name="audit_run"),
    ]
