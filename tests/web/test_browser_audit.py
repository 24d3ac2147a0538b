"""The audit pages in a real browser: the list of runs, a run's summary, its SVG chart and its
findings table, the filter form and the pager (headless Debian chromium driven by Playwright;
the ``page`` fixture fails a test on any console error, page error or dialog, a
Content-Security-Policy violation included)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyarrow", reason="the audit pages read parts with pyarrow (audit extra)")

from conftest import LiveServer
from test_audit_page import make_run, part_rows

from ntsec.web import Settings


@pytest.fixture(scope="module")
def audit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("browser-audit")
    make_run(base / "share-audit", base / "acl.csv", "parquet")
    with LiveServer(Settings(audit_dirs=(base / "share-audit",))) as server:
        server.run_dir = base / "share-audit"  # type: ignore[attr-defined]
        yield server


def fits(page: Any) -> None:
    """No horizontal scrolling at the laptop width the fixture sets."""
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_run_list_run_page_chart_and_findings(
    audit_server: Any, page: Any, screenshot: Any
) -> None:
    run_dir: Path = audit_server.run_dir
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    found = part_rows(run_dir)
    page.goto(f"{audit_server.url}/audit")
    row = page.locator('#runs tr[data-run="share-audit"]')
    assert "finished" == row.locator("td.status").inner_text()
    fits(page)
    row.locator("a").click()
    page.wait_for_selector("#chart")
    assert page.url.endswith("/audit/share-audit")
    assert f"{summary['findings']:,}" == page.inner_text("#total-findings")
    # The chart: one drawn bar per right in the table (up to 12), values written as text,
    # named for assistive technology.
    kinds = page.locator("#kinds tbody tr").count()
    bars = page.locator("#chart g.bar rect")
    assert bars.count() == min(12, kinds) > 0
    assert bars.first.bounding_box()["width"] > 100
    assert "Objects per right" == page.text_content("#chart-title")
    first_value = page.locator("#chart text.bar-value").first.text_content()
    assert first_value == page.locator("#kinds tbody tr").first.locator("td").nth(1).inner_text()
    # The findings table: the first page of 50, then the filter form.
    assert 50 == page.locator("#findings tbody tr").count()
    assert f"page 1 of {-(-len(found) // 50)}" in page.inner_text(".pager >> nth=0")
    fits(page)
    page.fill("#f-rights", "WRITE_DAC")
    page.click("#apply")
    page.wait_for_selector("#findings")
    expected = sum("WRITE_DAC" in f["rights"] for f in found)
    assert f"{expected:,} findings" in page.inner_text(".pager >> nth=0")
    cells = page.locator("#findings tbody tr td:nth-child(3)").all_inner_texts()
    assert cells
    assert all("WRITE_DAC" in c for c in cells)
    assert "WRITE_DAC" == page.input_value("#f-rights")
    fits(page)
    screenshot(page, "audit-run")  # filtered: one page of findings, for README


def test_pager_walks_the_pages(audit_server: Any, page: Any) -> None:
    found = part_rows(audit_server.run_dir)
    page.goto(f"{audit_server.url}/audit/share-audit")
    firsts = []
    for n in range(1, 4):
        assert f"page {n} of" in page.inner_text(".pager >> nth=0")
        firsts.append(page.locator("#findings tbody tr").first.inner_text())
        page.locator(".pager >> nth=0").locator("a[rel=next]").click()
        page.wait_for_selector("#findings")
    assert len(set(firsts)) == 3
    assert len(found) > 150
