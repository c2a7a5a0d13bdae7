"""--dask-scheduler: per-series fits on the workers of a Dask cluster.

A cluster of two worker processes on the loopback interface stands in for remote
hosts. The strongest check is independent of the cluster code: the model directory
trained on the cluster must forecast exactly as one trained with --jobs 1, even when a
worker dies mid-run and its task is run again elsewhere.
"""

from __future__ import annotations

import functools
import hashlib
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402  (installed with distributed)

import seqcast  # noqa: E402
import seqcast.api.per_series  # noqa: E402
from seqcast.cli import app  # noqa: E402
from seqcast.cli.train import _cluster  # noqa: E402
from seqcast.errors import ClusterError, ConfigError, ExitCode  # noqa: E402
from seqcast.evaluation.backtest import BacktestResult  # noqa: E402
from seqcast.model import cluster as cluster_module  # noqa: E402
from seqcast.model.cluster import ENV_SCHEDULER, check_address  # noqa: E402
from seqcast.model.parallel import run_unordered  # noqa: E402
from tests.test_bad_input import command_flags, suggested_flags  # noqa: E402
from tests.test_per_series import TINY, _frame, _write  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

SERIES = {"north": 40, "south": 30}
FLAGS = ["--id-col", "store", "--target", "sales", *TINY, "--per-series"]


class Cluster:
    """A LocalCluster of two single-threaded worker processes, and a client of it."""

    def __init__(self, cluster: distributed.LocalCluster) -> None:
        self.cluster = cluster
        self.address: str = cluster.scheduler_address
        self.client = distributed.Client(cluster, set_as_default=False)

    def healthy(self) -> str:
        """Wait for both workers (a killed one is restarted by its nanny)."""
        self.client.wait_for_workers(2, timeout=60)
        return self.address


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # A task survives one dead worker and fails on the second (the default is 3), so
    # that the test of workers that keep dying is quick.
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as local,
    ):
        ours = Cluster(local)
        yield ours
        ours.client.close()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dask")
    frames = [
        _frame(name, n, 100.0 * (k + 1), k)
        for k, (name, n) in enumerate(SERIES.items())
    ]
    return _write(frames, root / "long.csv")


@pytest.fixture(scope="module")
def reference(data: Path) -> Path:
    """The same per-series model trained in this process (--jobs 1)."""
    out = data.parent / "jobs-1"
    result = CliRunner().invoke(
        app, ["train", str(data), *FLAGS, "--jobs", "1", "-q", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_same_forecasts(a: Path, b: Path) -> None:
    ours = seqcast.load(a).forecast_all(5, intervals=(0.8,))
    theirs = seqcast.load(b).forecast_all(5, intervals=(0.8,))
    assert [f.series for f in ours] == list(SERIES)
    for x, y in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(x.values, y.values)
        np.testing.assert_array_equal(x.bands["80"][0], y.bands["80"][0])
        np.testing.assert_array_equal(x.bands["80"][1], y.bands["80"][1])
        assert x.dates == y.dates


def _digest(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
    }


# Task functions the workers import from this module by name.


def _square(x: int) -> int:
    return x * x


def _die_once(marker: str, fn: object, task: object) -> object:
    """Kill this Dask worker the first time any task runs; then behave as ``fn``.

    Runs in the worker's fitting process, whose parent is the worker process.
    """
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return fn(task)  # type: ignore[operator]
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os.kill(os.getppid(), signal.SIGKILL)
    os._exit(1)


def _always_die(task: object) -> object:
    os.kill(os.getppid(), signal.SIGKILL)
    os._exit(1)


def _exit_fit_process(task: object) -> object:
    os._exit(1)


def _where(seconds: float) -> tuple[int, int, str | None, str | None]:
    time.sleep(seconds)
    return (
        os.getpid(),
        os.getppid(),
        os.environ.get("TF_NUM_INTRAOP_THREADS"),
        os.environ.get("OMP_NUM_THREADS"),
    )


def _gone(pid: int, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


# Training through the cluster.


@pytest.mark.slow
def test_per_series_on_a_cluster_forecasts_as_with_jobs_1(
    cluster: Cluster, data: Path, reference: Path
) -> None:
    out = data.parent / "on-cluster"
    address = cluster.healthy()
    result = CliRunner().invoke(
        app,
        ["train", str(data), *FLAGS, "--dask-scheduler", address, "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert (
        f"training 2 local gru models, one per series, on the Dask cluster at {address}"
        in result.stderr
    )
    assert "series 2/2" in result.stderr
    _assert_same_forecasts(out, reference)
    meta = seqcast.load(out).artifact.meta
    assert "--dask-scheduler" in meta.provenance.command


@pytest.mark.slow
def test_the_environment_variable_names_the_scheduler(
    cluster: Cluster, data: Path, reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_SCHEDULER, cluster.healthy())
    out = data.parent / "from-env"
    result = CliRunner().invoke(app, ["train", str(data), *FLAGS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"on the Dask cluster at {cluster.address}" in result.stderr
    _assert_same_forecasts(out, reference)


@pytest.mark.slow
def test_a_worker_lost_mid_run_has_its_task_run_again_elsewhere(
    cluster: Cluster,
    data: Path,
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = tmp_path / "died"
    dying = functools.partial(_die_once, str(marker), seqcast.api.per_series.fit_task)
    monkeypatch.setattr(seqcast.api.per_series, "fit_task", dying)
    out = tmp_path / "survived"
    seqcast.train(
        data,
        out=out,
        id_col="store",
        target="sales",
        units=(2,),
        epochs=2,
        horizon=6,
        seed=0,
        per_series=True,
        dask_scheduler=cluster.healthy(),
    )
    assert _gone(int(marker.read_text()))  # a worker died, with its fitting process
    _assert_same_forecasts(out, reference)


@pytest.mark.slow
def test_workers_that_keep_dying_end_the_run_and_keep_the_previous_model(
    cluster: Cluster,
    data: Path,
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "model"
    import shutil

    shutil.copytree(reference, out)
    before = _digest(out)
    monkeypatch.setattr(seqcast.api.per_series, "fit_task", _always_die)
    address = cluster.healthy()
    result = CliRunner().invoke(
        app,
        ["train", str(data), *FLAGS, "--dask-scheduler", address, "-q", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == ExitCode.CLUSTER_UNAVAILABLE, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "error: Every Dask worker that ran task 'seqcast-_always_die-"
    )
    assert line.endswith(
        "died while running it (2 workers, the scheduler's distributed.scheduler.allowed-failures plus one), so the run was stopped and nothing was written. Check the workers' memory and logs, or drop --dask-scheduler to train on this machine."
    )
    assert suggested_flags(line) <= command_flags(["train"])
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporaries
    _assert_same_forecasts(out, reference)


# The cluster's behaviour with plain functions (no Keras).


def test_a_lost_worker_is_replaced_and_the_results_are_complete(
    cluster: Cluster, tmp_path: Path
) -> None:
    marker = tmp_path / "died"
    dying = functools.partial(_die_once, str(marker), _square)
    found = dict(
        run_unordered(dying, list(range(6)), jobs=1, dask_scheduler=cluster.healthy())
    )
    assert _gone(int(marker.read_text()))
    assert found == {i: i * i for i in range(6)}


def test_a_fitting_process_that_dies_is_one_clear_error(cluster: Cluster) -> None:
    with pytest.raises(ClusterError) as info:
        dict(
            run_unordered(
                _exit_fit_process, [0], jobs=1, dask_scheduler=cluster.healthy()
            )
        )
    message = str(info.value)
    assert message.startswith(
        "A Dask worker's process fitting task 'seqcast-_exit_fit_process-"
    )
    assert message.endswith(
        "-0' died (out of memory, or killed), so the run was stopped and nothing was written. Check the memory of the workers' hosts, or drop --dask-scheduler to train on this machine."
    )


def test_a_cluster_without_workers_ends_the_run_instead_of_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cluster_module, "NO_WORKERS_TIMEOUT", 1.0)
    with distributed.LocalCluster(
        n_workers=0, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as empty:
        address = empty.scheduler_address
        start = time.monotonic()
        with pytest.raises(ClusterError) as info:
            dict(run_unordered(_square, [1, 2, 3], jobs=1, dask_scheduler=address))
        assert time.monotonic() - start < 10
    assert str(info.value) == (
        f"The Dask scheduler at {address} has had no worker for 1 s with 3 tasks unfinished, so the run was stopped and nothing was written. Start workers with `dask worker {address}`, or drop --dask-scheduler to train on this machine."
    )


def test_tasks_fit_in_processes_of_their_worker_one_thread_each() -> None:
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as local,
        distributed.Client(local, set_as_default=False) as client,
    ):
        [worker] = client.run(os.getpid).values()
        found = dict(
            run_unordered(
                _where, [0.5, 0.5], jobs=1, dask_scheduler=local.scheduler_address
            )
        )
    pids = {found[i][0] for i in (0, 1)}
    # Two processes of the worker, not its threads, and not the worker itself.
    assert len(pids) == 2
    assert worker not in pids
    assert [found[i][1] for i in (0, 1)] == [worker, worker]
    # Two fits at once on a worker of two threads: one thread each.
    assert [found[i][2:] for i in (0, 1)] == [("1", "1"), ("1", "1")]


# Errors, each one line with a documented exit code, before any training.


def test_an_unreachable_scheduler_is_one_line_within_seconds(
    data: Path, tmp_path: Path
) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    result = CliRunner().invoke(
        app,
        ["train", str(data), *FLAGS, "--dask-scheduler", address, "--out", str(tmp_path / "m")],
    )  # fmt: skip
    assert time.monotonic() - start < cluster_module.CONNECT_TIMEOUT + 10
    assert result.exit_code == ExitCode.CLUSTER_UNAVAILABLE
    message = f"Cannot reach the Dask scheduler at {address} within 5 s. Check the address and that `dask scheduler` runs there and accepts connections from this machine, or drop --dask-scheduler to train on this machine."
    assert result.stderr.splitlines() == [f"error: {message}"]
    assert suggested_flags(message) <= command_flags(["train"])
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id-col", "store", "--dask-scheduler", "tcp://127.0.0.1:8786"], "dask_scheduler='tcp://127.0.0.1:8786' sends per-series training to a Dask cluster, but per_series is off. Add --per-series (with --id-col), or drop --dask-scheduler."),
        (["--id-col", "store", "--per-series", "--jobs", "2", "--dask-scheduler", "tcp://127.0.0.1:8786"], "jobs=2 sets the worker processes on this machine, but dask_scheduler='tcp://127.0.0.1:8786' sends the series to the cluster's workers, which decide how many run at once. Drop --jobs, or drop --dask-scheduler."),
    ],
)  # fmt: skip
def test_a_scheduler_where_it_does_not_apply_is_refused(
    data: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    argv = [
        "train",
        str(data),
        "--target",
        "sales",
        *args,
        "--out",
        str(tmp_path / "m"),
    ]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr.splitlines() == [f"error: {message}"]
    assert suggested_flags(message) <= command_flags(argv)
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1:8786", "tcp://127.0.0.1", "http://127.0.0.1:8786", "tcp://:8786", "tcp://h:99999", "tcp://h:port", "tcp://h:8786/x"],
)  # fmt: skip
def test_a_malformed_address_is_a_usage_error(
    data: Path, tmp_path: Path, address: str
) -> None:
    argv = ["train", str(data), *FLAGS, "--dask-scheduler", address]
    result = CliRunner().invoke(app, [*argv, "--out", str(tmp_path / "m")])
    assert result.exit_code == ExitCode.USAGE
    assert "--dask-scheduler" in result.stderr
    assert "Give it as tcp://HOST:PORT" in result.stderr
    with pytest.raises(ConfigError) as info:
        seqcast.train(data, id_col="store", per_series=True, dask_scheduler=address)
    assert str(info.value) == (
        f"dask_scheduler={address!r} is not a Dask scheduler address. Give it as tcp://HOST:PORT, as `dask scheduler` prints it (for example tcp://10.0.0.5:8786)."
    )


def test_well_formed_addresses_pass() -> None:
    for address in ("tcp://10.0.0.5:8786", "tcp://[::1]:8786", "tcp://sched.lan:1"):
        assert check_address(address) == address


def test_the_environment_variable_applies_only_where_the_flag_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_SCHEDULER, "tcp://10.0.0.5:8786")
    assert _cluster(None, applies=True, jobs=None) == "tcp://10.0.0.5:8786"
    assert _cluster(None, applies=False, jobs=None) is None
    assert _cluster(None, applies=True, jobs=2) is None  # --jobs asks for local
    assert _cluster("tcp://h:1", applies=True, jobs=None) == "tcp://h:1"
    monkeypatch.setenv(ENV_SCHEDULER, "")
    assert _cluster(None, applies=True, jobs=None) is None


def test_a_malformed_environment_variable_is_named(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_SCHEDULER, "sched:8786")
    argv = ["train", str(data), *FLAGS, "--out", str(tmp_path / "m")]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr.splitlines() == [
        "error: SEQCAST_DASK_SCHEDULER='sched:8786' is not a Dask scheduler address. Set it to tcp://HOST:PORT, as `dask scheduler` prints it (for example tcp://10.0.0.5:8786), or unset it to train on this machine."
    ]


def test_dask_not_installed_says_which_extra_to_install(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    argv = ["train", str(data), *FLAGS, "--dask-scheduler", "tcp://127.0.0.1:8786"]
    result = CliRunner().invoke(app, [*argv, "--out", str(tmp_path / "m")])
    assert result.exit_code == ExitCode.USER_ERROR
    message = "dask_scheduler='tcp://127.0.0.1:8786' needs Dask's distributed package, which is not installed. Install seqcast[dask] (pip install 'seqcast[dask]'), or drop --dask-scheduler to train on this machine."
    assert result.stderr.splitlines() == [f"error: {message}"]
    assert suggested_flags(message) <= command_flags(argv)


BACKTEST = ["--target", "y", "--window", "8", "--horizon", "3", "--units", "4",
            "--epochs", "2", "--batch-size", "16", "--seed", "0"]  # fmt: skip


def _fold_forecasts(result: BacktestResult) -> list[np.ndarray]:
    return [np.asarray(f.forecasts["model"]) for f in result.folds]


@pytest.mark.slow
def test_backtest_folds_score_alike_in_turn_in_processes_and_on_a_cluster(
    cluster: Cluster, tmp_path: Path
) -> None:
    from tests.conftest import make_sine_frame

    csv = tmp_path / "sine.csv"
    make_sine_frame(90).to_csv(csv, index=False, date_format="%Y-%m-%d")
    options = {
        "target": "y", "window": 8, "horizon": 3, "units": (4,), "epochs": 2,
        "batch_size": 16, "seed": 0, "folds": 3,
    }  # fmt: skip
    in_turn = seqcast.backtest(csv, **options)
    lines: list[str] = []
    on_cluster = seqcast.backtest(
        csv, dask_scheduler=cluster.healthy(), progress=lines.append, **options
    )
    in_processes = seqcast.backtest(csv, jobs=2, **options)
    assert [f.cut for f in in_turn.folds] == [81, 84, 87]
    for other in (on_cluster, in_processes):
        assert [f.cut for f in other.folds] == [81, 84, 87]
        pairs = zip(_fold_forecasts(other), _fold_forecasts(in_turn), strict=True)
        for ours, theirs in pairs:
            np.testing.assert_allclose(ours, theirs, rtol=1e-5)
        assert other.relative_mase() == pytest.approx(in_turn.relative_mase(), rel=1e-4)
    assert str(lines[0]) == f"training 3 folds on {cluster.address}"
    assert sorted(str(line).split(":")[0] for line in lines[1:]) == [
        "fold 1/3", "fold 2/3", "fold 3/3"
    ]  # fmt: skip
    # The command line takes the same flags.
    result = CliRunner().invoke(
        app, ["backtest", str(csv), *BACKTEST, "--folds", "2", "--jobs", "2", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "overall (pooled)" in result.stdout


def test_backtest_refuses_jobs_beside_a_scheduler(tmp_path: Path) -> None:
    from tests.conftest import make_sine_frame

    csv = tmp_path / "sine.csv"
    make_sine_frame(60).to_csv(csv, index=False, date_format="%Y-%m-%d")
    argv = ["backtest", str(csv), *BACKTEST, "--jobs", "2",
            "--dask-scheduler", "tcp://127.0.0.1:8786"]  # fmt: skip
    result = CliRunner().invoke(app, argv)
    message = "jobs=2 sets the worker processes on this machine, but dask_scheduler='tcp://127.0.0.1:8786' sends the folds to the cluster's workers, which decide how many run at once. Drop --jobs, or drop --dask-scheduler."
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr.splitlines() == [f"error: {message}"]
    assert suggested_flags(message) <= command_flags(argv)
