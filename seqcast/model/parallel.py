"""Independent fits in parallel worker processes, each with a fair share of the cores.

:func:`run_unordered` runs one function over a list of tasks through joblib's ``loky``
backend: fresh worker processes, so each imports Keras and its backend on its own, after
its thread pools are capped. Without a cap, every worker's TensorFlow (and BLAS, and
OpenMP) would start one thread per core, and ``N`` workers would run ``N`` times as many
threads as there are cores. Each worker gets ``cores // workers`` threads (at least 1):
joblib sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` and the
like in the worker's environment before it imports anything (``inner_max_num_threads``),
and the worker sets TensorFlow's own ``TF_NUM_INTRAOP_THREADS`` and
``TF_NUM_INTEROP_THREADS`` before its first Keras import (:func:`cap_threads`).

With ``jobs=1`` (or a single task) everything runs in the calling process, in order,
with no worker and no cap. With ``dask_scheduler``, the tasks run on that Dask
cluster's workers instead, however many there are (:mod:`seqcast.model.cluster`).

The functions and tasks must be picklable: a module-level function and plain data
(arrays, frozen dataclasses). Results come back pickled by joblib from the workers this
module started, never from a file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

TF_THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
"""TensorFlow's thread pool sizes, read once when it starts (joblib does not set them)."""


def available_cores() -> int:
    """Return the cores this process may use (affinity and container quotas counted)."""
    from joblib import cpu_count

    return max(1, int(cpu_count()))


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Return each worker's thread budget: ``cores // workers``, at least 1.

    Example: 16 cores and 4 workers give 4 threads each; 2 cores and 2 workers, 1.
    """
    cores = available_cores() if cores is None else cores
    return max(1, cores // max(1, workers))


def cap_threads(threads: int) -> bool:
    """Cap this process's TensorFlow thread pools at ``threads``, if Keras is not loaded yet.

    Also lets TensorFlow take GPU memory as it needs it rather than all of it at once,
    so that several workers can share one GPU (unless the user set
    ``TF_FORCE_GPU_ALLOW_GROWTH``).

    Returns:
        Whether the cap applies: False when Keras (and so its backend) was already
        imported here, as in a reused worker, whose pools are already sized.
    """
    if "keras" in sys.modules:
        return False
    for name in TF_THREAD_VARIABLES:
        os.environ[name] = str(threads)
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    return True


def _in_worker(
    fn: Callable[[_T], _R], index: int, task: _T, threads: int
) -> tuple[int, _R]:
    """Run one task in a worker process, its thread pools capped first."""
    cap_threads(threads)
    return index, fn(task)


def run_unordered(
    fn: Callable[[_T], _R],
    tasks: Sequence[_T],
    *,
    jobs: int,
    dask_scheduler: str | None = None,
) -> Iterator[tuple[int, _R]]:
    """Yield ``(i, fn(tasks[i]))`` for every task, each as soon as it is done.

    The arguments are checked, and a Dask scheduler connected to, when this is called,
    before the first result is asked for: a caller can announce the run once it has
    started.

    Args:
        fn: A module-level function (workers import it by name).
        tasks: Its arguments, one call each.
        jobs: Worker processes at most (fewer when there are fewer tasks); 1 runs
            every call here, in order. Ignored with ``dask_scheduler``.
        dask_scheduler: A Dask scheduler's address (``tcp://HOST:PORT``) whose
            workers run the tasks instead of local processes.

    Raises:
        ValueError: If ``jobs`` < 1.
        ConfigError: With ``dask_scheduler``, if it is malformed or ``distributed``
            is not installed.
        ClusterError: With ``dask_scheduler``, if the cluster cannot be reached or
            loses its workers (:func:`seqcast.model.cluster.run_on_cluster`).
        Exception: Whatever ``fn`` raises, from the first call that fails; the other
            workers are stopped.
    """
    if jobs < 1:
        raise ValueError(f"jobs={jobs} must be at least 1")
    if dask_scheduler is not None:
        from seqcast.model.cluster import run_on_cluster

        return run_on_cluster(fn, tasks, address=dask_scheduler)
    return _run_here(fn, tasks, jobs)


def _run_here(
    fn: Callable[[_T], _R], tasks: Sequence[_T], jobs: int
) -> Iterator[tuple[int, _R]]:
    """Run the tasks in this process (one worker) or in ``jobs`` loky processes."""
    workers = min(jobs, len(tasks))
    if workers <= 1:
        for i, task in enumerate(tasks):
            yield i, fn(task)
        return
    from joblib import Parallel, delayed, parallel_config

    threads = threads_per_worker(workers)
    with parallel_config(backend="loky", inner_max_num_threads=threads):
        parallel = Parallel(n_jobs=workers, return_as="generator_unordered")
        yield from parallel(
            delayed(_in_worker)(fn, i, task, threads) for i, task in enumerate(tasks)
        )
