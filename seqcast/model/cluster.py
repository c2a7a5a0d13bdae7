"""Independent fits on a Dask cluster: connect, submit, collect, and fail cleanly.

:func:`run_on_cluster` sends each task to the workers of a ``distributed`` scheduler
and yields ``(i, fn(tasks[i]))`` as each finishes, like the local processes of
:func:`seqcast.model.parallel.run_unordered` (which calls it when given an address).
The caller's machine only submits and collects: each task carries its data, so the
workers need the same seqcast (and Keras, and backend) installed but no files.

It uses ``distributed``'s futures directly rather than joblib's Dask backend, which
waits without a limit when the cluster has no worker left and groups tasks into
batches (a lost batch re-runs all of them). Here every task is one future:

- A worker that dies while running a task (killed, out of memory, host lost) makes
  the scheduler run the task again on another worker; after
  ``distributed.scheduler.allowed-failures`` such deaths (3 by default, the
  scheduler's setting) the task fails with ``KilledWorker``, reported here as a
  :class:`~seqcast.errors.ClusterError`.
- A cluster left with no worker for :data:`NO_WORKERS_TIMEOUT` seconds (all of them
  gone, or none started) ends the run with a :class:`~seqcast.errors.ClusterError`
  rather than waiting for one forever.
- A task that raises stops the run: the other tasks are cancelled and the exception
  propagates, as with local processes.

Processes and threads: a Dask worker runs its tasks in threads, beside its own event
loop, and Keras draws every layer's initial seed from Python's global ``random`` state
(``keras.utils.set_random_seed`` seeds that state, shared by every thread), which
``distributed``'s own threads also draw from (message compression, connection
retries). A fit in a worker thread would then get weights that depend on timing. So
each task runs in a process of its own, started by the worker and kept for the next
task (a loky executor of ``--nthreads`` processes in each worker process, as the local
``jobs`` workers are), where nothing else draws from those generators: the models are
those of ``jobs=1``. Each such process is capped at one thread (BLAS, OpenMP and
TensorFlow's ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS``), since a worker's
``--nthreads`` is its share of the host's cores: ``dask worker --nworkers 2 --nthreads
4`` on 8 cores runs 8 fits at once, 8 threads in all, not one TensorFlow pool per core
per fit. A fitting process that dies (out of memory, killed) fails the run with a
:class:`~seqcast.errors.ClusterError`.

Results come back pickled by ``distributed`` from the workers of the scheduler the
user named: connect only to a cluster you control (its workers run seqcast's code,
and any code, with your data).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from seqcast.errors import ClusterError, ConfigError

if TYPE_CHECKING:
    from distributed import Client, Future

_T = TypeVar("_T")
_R = TypeVar("_R")

_WORKER_IMPORTS = threading.Lock()
"""Held while a Dask worker thread first imports joblib's loky (see :func:`on_worker`)."""

ENV_SCHEDULER = "SEQCAST_DASK_SCHEDULER"
"""The environment variable giving ``--dask-scheduler``'s default for per-series runs."""

CONNECT_TIMEOUT = 5.0
"""Seconds to wait for the scheduler to answer before giving up."""

NO_WORKERS_TIMEOUT = 30.0
"""Seconds a run waits with no worker in the cluster (time for one to restart)."""

_POLL = 0.5  # seconds between checks of the cluster while waiting for results


def check_address(address: str) -> str:
    """Return ``address`` if it reads as a scheduler address, ``tcp://HOST:PORT``.

    Example: ``tcp://10.0.0.5:8786``, ``tcp://[::1]:8786``.

    Raises:
        ConfigError: If it is not ``tcp://`` followed by a host and a port.
    """
    hint = f"dask_scheduler={address!r} is not a Dask scheduler address. Give it as tcp://HOST:PORT, as `dask scheduler` prints it (for example tcp://10.0.0.5:8786)."
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        raise ConfigError(hint) from None
    if parts.scheme != "tcp" or not parts.hostname or port is None:
        raise ConfigError(hint)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(hint)
    return address


def connect(address: str) -> Client:
    """Return a client of the scheduler at ``address``, within :data:`CONNECT_TIMEOUT`.

    Raises:
        ConfigError: If ``distributed`` is not installed, or ``address`` is malformed.
        ClusterError: If the scheduler does not answer in time.
    """
    check_address(address)
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(
            f"dask_scheduler={address!r} needs Dask's distributed package, which is not installed. Install seqcast[dask] (pip install 'seqcast[dask]'), or drop --dask-scheduler to train on this machine."
        ) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError):
        raise ClusterError(
            f"Cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT:g} s. Check the address and that `dask scheduler` runs there and accepts connections from this machine, or drop --dask-scheduler to train on this machine."
        ) from None


FIT_PROCESS_IDLE = 10.0
"""Seconds a worker's fitting process waits for another task before it exits.

A run's tasks follow each other, so a process serves many; and a process whose worker
has died (or closed) exits after this long idle, since it does not notice sooner.
"""

_CAPPED_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


class FitProcessDied(Exception):
    """A worker's fitting process died while running a task (raised on the worker)."""


def on_worker(fn: Callable[[_T], _R], index: int, task: _T) -> tuple[int, _R]:
    """Run one task from a Dask worker thread in one of the worker's fitting processes."""
    from distributed import get_worker

    # A worker runs tasks on several threads at once. Two of them importing joblib
    # for the first time together can take its modules' import locks in opposite
    # orders (a package and its submodules: CPython gh-83065, fixed only in newer
    # Pythons), and the import system's deadlock escape then hands one of them a
    # half-initialised module (seen once under the fast tests on Python 3.11:
    # "partially initialized module 'joblib.externals.loky.backend.resource_tracker'
    # has no attribute '_CLEANUP_FUNCS'"). One thread at a time imports them here.
    with _WORKER_IMPORTS:
        from joblib.externals.loky import get_reusable_executor
        from joblib.externals.loky.process_executor import BrokenProcessPool

        from seqcast.model.parallel import TF_THREAD_VARIABLES

    # A nanny starts its worker as a daemon process, and multiprocessing forbids a
    # daemon to have children. A worker started with `distributed.worker.daemon: false`
    # is not one; this does the same for this worker process alone. Its fitting
    # processes outlive it by at most FIT_PROCESS_IDLE (or the fit they are running).
    multiprocessing.current_process().daemon = False
    slots = max(1, int(get_worker().state.nthreads))
    env = dict.fromkeys((*_CAPPED_VARIABLES, *TF_THREAD_VARIABLES), "1")
    executor = get_reusable_executor(
        max_workers=slots, timeout=FIT_PROCESS_IDLE, env=env
    )
    try:
        done: tuple[int, _R] = executor.submit(
            _in_fit_process, fn, index, task
        ).result()
    except BrokenProcessPool as exc:
        raise FitProcessDied(str(exc)) from None
    return done


def _in_fit_process(fn: Callable[[_T], _R], index: int, task: _T) -> tuple[int, _R]:
    """Run one task in a fitting process, its TensorFlow pools capped first."""
    from seqcast.model.parallel import cap_threads

    cap_threads(1)
    return index, fn(task)


def run_on_cluster(
    fn: Callable[[_T], _R], tasks: Sequence[_T], *, address: str
) -> Iterator[tuple[int, _R]]:
    """Submit every task to the cluster at ``address``; yield ``(i, fn(tasks[i]))``.

    Connects and submits now, so that an unreachable scheduler fails at once; the
    results come as the returned iterator is read, which closes the connection
    when it ends (or is closed).

    Args:
        fn: A module-level function (workers import it by name), or a
            ``functools.partial`` of one with plain arguments.
        tasks: Its arguments, one call each, sent with the call (nothing is scattered,
            so a task whose worker dies can run again elsewhere).
        address: The scheduler, ``tcp://HOST:PORT``.

    Raises:
        ConfigError: If ``distributed`` is missing or ``address`` is malformed.
        ClusterError: If the scheduler cannot be reached or the connection to it is
            lost, if a task's workers kept dying, or if the cluster had no worker for
            :data:`NO_WORKERS_TIMEOUT` seconds.
        Exception: Whatever ``fn`` raises, from the first call that fails; the other
            tasks are cancelled.
    """
    client = connect(address)
    try:
        run = uuid.uuid4().hex[:8]
        name = getattr(fn, "__name__", "task")
        futures = [
            client.submit(on_worker, fn, i, task, key=f"seqcast-{name}-{run}-{i}")
            for i, task in enumerate(tasks)
        ]
    except BaseException:
        client.close(timeout=CONNECT_TIMEOUT)
        raise
    return _collect(client, futures, address)


def _collect(
    client: Client, futures: list[Future], address: str
) -> Iterator[tuple[int, _R]]:
    """Yield each future's result as it arrives; stop the rest on the first failure.

    Cancels what is left and closes ``client`` when done, failed or closed.
    """
    from distributed import wait
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    pending = set(futures)
    alone_since: float | None = None
    try:
        while pending:
            try:
                with client.as_current():  # ``wait`` asks for a current client
                    done, pending = wait(
                        pending, timeout=_POLL, return_when="FIRST_COMPLETED"
                    )
            except TimeoutError:
                done = set()
            for future in done:
                try:
                    yield future.result()
                except KilledWorker as exc:
                    raise ClusterError(
                        f"Every Dask worker that ran task {exc.task!r} died while running it ({exc.allowed_failures + 1} workers, the scheduler's distributed.scheduler.allowed-failures plus one), so the run was stopped and nothing was written. Check the workers' memory and logs, or drop --dask-scheduler to train on this machine."
                    ) from None
                except FitProcessDied:
                    raise ClusterError(
                        f"A Dask worker's process fitting task {future.key!r} died (out of memory, or killed), so the run was stopped and nothing was written. Check the memory of the workers' hosts, or drop --dask-scheduler to train on this machine."
                    ) from None
                except FutureCancelledError:
                    raise ClusterError(
                        f"The connection to the Dask scheduler at {address} was lost before every task finished, so nothing was written. Check that `dask scheduler` still runs there, then retry, or drop --dask-scheduler to train on this machine."
                    ) from None
            alone_since = _check_workers(client, address, alone_since, len(pending))
    finally:
        if pending:
            client.cancel(list(pending))
        client.close(timeout=CONNECT_TIMEOUT)


def _check_workers(
    client: Client, address: str, alone_since: float | None, unfinished: int
) -> float | None:
    """Return since when the cluster has had no worker (None if it has some).

    Raises:
        ClusterError: If that has lasted :data:`NO_WORKERS_TIMEOUT` seconds.
    """
    if not unfinished:
        return None
    try:
        workers = len(client.nthreads())
    except (OSError, TimeoutError):
        workers = 0
    if workers:
        return None
    now = time.monotonic()
    if alone_since is None:
        return now
    if now - alone_since >= NO_WORKERS_TIMEOUT:
        raise ClusterError(
            f"The Dask scheduler at {address} has had no worker for {NO_WORKERS_TIMEOUT:g} s with {unfinished} tasks unfinished, so the run was stopped and nothing was written. Start workers with `dask worker {address}`, or drop --dask-scheduler to train on this machine."
        )
    return alone_since
