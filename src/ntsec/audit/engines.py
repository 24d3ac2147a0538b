"""Where an audit's jobs run: in this process, in a standard library process pool, or on Dask.

An engine runs two kinds of work, both plain functions of picklable values: reading the
inputs (``ntsec.audit.ingest.ingest_job``, results wanted in job order, so that the merge
numbers descriptors as one pass would) and deciding the partitions
(``ntsec.audit.task.run_shared_partition``, results taken as they finish). There is no
scheduler here: ``concurrent.futures.ProcessPoolExecutor`` or a ``distributed.Client``
schedules, and this module only adapts the two to one interface.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from ntsec.audit.gcpause import gc_frozen
from ntsec.audit.task import (
    PartResult,
    TaskSpec,
    install_shared,
    run_partition,
    run_pickled_partition,
    run_shared_partition,
)

__all__ = ["Engine", "open_engine"]

T = TypeVar("T")
R = TypeVar("R")


class Engine(Protocol):
    name: str
    dashboard: str | None
    startup_seconds: float
    teardown_seconds: float

    def ordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        """``fn`` over ``items``, results in order (an exception where its item failed)."""

    def partitions(self, todo: list[TaskSpec], done: Callable[[PartResult], None]) -> None:
        """Run the partitions; ``done`` is called for each as it finishes."""

    def close(self) -> None: ...


def open_engine(workers: int, scheduler: str | None, *, dask_processes: bool = True,
                dashboard: bool = False) -> Engine:
    """The engine for ``workers`` local processes, or for a Dask ``scheduler`` (``"local"``:
    a LocalCluster of ``workers`` workers)."""
    if scheduler is not None:
        return _Dask(workers, scheduler, dask_processes=dask_processes, dashboard=dashboard)
    if workers <= 1:
        return _InProcess()
    return _Pool(workers)


class _InProcess:
    name = "in-process"
    dashboard: str | None = None
    startup_seconds = 0.0
    teardown_seconds = 0.0

    def ordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        return (fn(x) for x in items)

    def partitions(self, todo: list[TaskSpec], done: Callable[[PartResult], None]) -> None:
        # The ingest's long-lived objects, frozen: the partitions' garbage collections no
        # longer traverse them (as in the pool's forked workers).
        with gc_frozen():
            for spec in todo:
                done(run_partition(spec))

    def close(self) -> None:
        pass


class _Pool:
    dashboard: str | None = None
    startup_seconds = 0.0
    teardown_seconds = 0.0

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.name = f"process pool ({workers} workers)"

    def ordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        if len(items) <= 1:  # one input read whole: no process to start
            yield from (fn(x) for x in items)
            return
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(items)))
        try:
            futures = [pool.submit(fn, x) for x in items]
            for f in futures:
                yield f.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def partitions(self, todo: list[TaskSpec], done: Callable[[PartResult], None]) -> None:
        if len(todo) <= 1:
            _InProcess().partitions(todo, done)
            return
        # The spec's shared part (principals, shapes) goes to each worker once, not per task.
        pool = ProcessPoolExecutor(max_workers=self.workers, initializer=install_shared,
                                   initargs=(todo[0],))
        # Forked workers inherit this process's heap (the parsed inputs' caches): frozen, the
        # workers' garbage collections skip those objects instead of traversing them and
        # copying their pages on write (the gc.freeze documentation's advice for fork).
        with gc_frozen():
            try:
                pending: set[Future[PartResult]] = {
                    pool.submit(run_shared_partition, s.part, s.out) for s in todo
                }
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in finished:
                        done(f.result())
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        pool.shutdown()

    def close(self) -> None:
        pass


class _Dask:
    teardown_seconds = 0.0

    def __init__(self, workers: int, scheduler: str, *, dask_processes: bool,
                 dashboard: bool) -> None:
        import dask  # noqa: PLC0415  (the dask extra)
        from distributed import Client, LocalCluster  # noqa: PLC0415

        started = time.perf_counter()
        self.cluster: Any = None
        if scheduler == "local":
            # Without a dashboard nobody sees the workers' statistical profiler (a stack
            # sample of the running task every 10 ms) or GIL monitor (every 1 ms): off. Nor
            # the system monitor's samples, and the event loops' tick (every 20 ms in the
            # scheduler, nannies and workers) and the workers' memory checks need not wake so
            # often: each wake-up takes Python's lock from a running task. An idle cluster of
            # 2 used 0.66 CPU-s in 8 s with Dask's intervals and 0.12 with these; the AD
            # estate's findings rules (benchmarks/bench_audit.py --ad-rules, two rounds each)
            # 21.7-22.7 CPU-s in 11.7-12.5 s against 20.3-20.8 CPU-s in 11.0-11.2 s.
            quiet = {} if dashboard else {
                "distributed.worker.profile.enabled": False,
                "distributed.admin.system-monitor.gil.enabled": False,
                "distributed.admin.system-monitor.interval": "5s",
                "distributed.admin.tick.interval": "1s",
                "distributed.worker.memory.monitor-interval": "1s",
            }
            start = {"distributed.worker.multiprocessing-method": _worker_start_method()}
            # Frozen: forked workers inherit this heap (the principals above all) and never
            # traverse it in their collections, as the pool's workers (gc.freeze's advice).
            with dask.config.set({**quiet, **start}), gc_frozen():
                self.cluster = LocalCluster(
                    n_workers=max(1, workers), threads_per_worker=1, processes=dask_processes,
                    dashboard_address=":0" if dashboard else None,
                    # Workers closing at the end log connection errors that are not failures.
                    silence_logs=logging.CRITICAL,
                )
            self.client = Client(self.cluster)
            self.name = f"dask LocalCluster ({max(1, workers)} workers)"
        else:
            self.client = Client(scheduler)
            self.name = f"dask {scheduler}"
        try:
            self.client.run(_warm)  # workers import the task's modules before the clock runs
        except BaseException:
            self.close()
            raise
        self.startup_seconds = time.perf_counter() - started
        # A LocalCluster without a dashboard has no link.
        self.dashboard = self.client.dashboard_link if (self.cluster is None or dashboard) \
            else None

    def ordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        futures = self.client.map(fn, list(items), pure=False)
        try:
            for f in futures:
                yield f.result()
        finally:
            self.client.cancel(futures)

    def partitions(self, todo: list[TaskSpec], done: Callable[[PartResult], None]) -> None:
        from distributed import as_completed  # noqa: PLC0415

        # The shared part of the spec goes once to every worker, pickled here: scattered as an
        # object, Dask unpickled it on one worker, pickled it again there and sent it on to
        # the next (a broadcast is replication), which took 0.7-1.0 s for the AD estate's
        # 2.8 MB spec before any partition could start; bytes are copied as they are, and
        # each worker unpickles them once (run_pickled_partition).
        blob = pickle.dumps(todo[0], protocol=pickle.HIGHEST_PROTOCOL)
        shared = self.client.scatter(blob, broadcast=True, hash=False)  # no tokenizing
        futures = [self.client.submit(run_pickled_partition, s.part, s.out, shared, pure=False)
                   for s in todo]
        try:
            for fut in as_completed(futures):
                done(fut.result())
        except BaseException:
            self.client.cancel(futures)
            raise

    def close(self) -> None:
        stopping = time.perf_counter()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.teardown_seconds = time.perf_counter() - stopping


def _worker_start_method() -> str:
    """How a LocalCluster's nannies start their worker processes.

    Fork where this platform's process pool forks too (Linux before Python 3.12): a forked
    worker has the coordinator's modules imported already, where a spawned one imports Dask,
    pyarrow and ntsec again. Measured on this 2-core machine: the cluster up and ready in 0.11 s
    instead of 0.6-0.74 s, and closed in 0.02 s instead of 0.10-0.19 s. Elsewhere Dask's own
    default, spawn: Python 3.12 warns that forking a process with threads (the cluster's event
    loop runs in one) may deadlock the child, and 3.14 no longer forks by default on Linux."""
    if sys.version_info < (3, 12) and multiprocessing.get_start_method() == "fork":
        return "fork"
    return "spawn"


def _warm() -> None:
    import pyarrow.parquet  # noqa: F401, PLC0415

    import ntsec.audit.ingest  # noqa: PLC0415
    import ntsec.audit.task  # noqa: F401, PLC0415
