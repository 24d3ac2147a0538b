"""ntsec.audit.engines: what a LocalCluster's workers run with."""

from __future__ import annotations

import pytest

from ntsec.audit.engines import open_engine

_KEYS = (
    "distributed.worker.profile.enabled",
    "distributed.admin.tick.interval",
    "distributed.admin.system-monitor.interval",
    "distributed.worker.memory.monitor-interval",
)


def _settings() -> tuple[object, ...]:
    import dask

    return tuple(dask.config.get(k) for k in _KEYS)


def test_a_local_cluster_without_a_dashboard_runs_its_workers_quietly() -> None:
    """The settings are in force in the worker processes themselves (they must be set before
    the nannies start them, not only in this process), and only without a dashboard: with one,
    its profiler and system graphs keep Dask's defaults."""
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    defaults = tuple(dask.config.get(k) for k in _KEYS)
    assert defaults[0] is True  # Dask's own default: the profiler samples every task
    engine = open_engine(1, "local")
    try:
        on_workers = set(engine.client.run(_settings).values())  # type: ignore[attr-defined]
    finally:
        engine.close()
    assert on_workers == {(False, "1s", "5s", "1s")}
    # This process's configuration is left as it was.
    assert tuple(dask.config.get(k) for k in _KEYS) == defaults
    engine = open_engine(1, "local", dashboard=True)
    try:
        shown = set(engine.client.run(_settings).values())  # type: ignore[attr-defined]
    finally:
        engine.close()
    assert shown == {defaults}
