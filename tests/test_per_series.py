"""--per-series: one local model per series of a long-format file, in parallel workers.

The strongest check is independent of the per-series code: every series' forecast from
the per-series directory must equal the forecast of a model trained on a file holding
that series alone, with the same flags and seed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import seqcast
from seqcast.cli import app
from seqcast.errors import ArtifactError, ExitCode
from seqcast.model.parallel import run_unordered, threads_per_worker
from seqcast.progress import Step
from seqcast.store.directory import load_artifact
from seqcast.store.layout import is_owned, series_file
from tests.test_bad_input import command_flags, suggested_flags

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

TINY = ["--units", "2", "--epochs", "2", "--horizon", "6", "--seed", "0"]
HELD_BACK = 6  # rows of each series kept out of training, for `evaluate MODEL DATA`
# Lengths chosen so that the automatic window differs per series (15, 9 and 3 for a
# horizon of 6 and season 12), and one series too short for any model.
SERIES = {"north": 66, "south": 36, "east": 30}
TOO_SHORT = ("tiny", 5)


def _frame(name: str, n: int, level: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = level * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * (1 + 0.003 * t)
    y *= 1 + 0.02 * rng.standard_normal(n)
    dates = pd.date_range("2012-01-01", periods=n, freq="MS")
    return pd.DataFrame({"store": name, "month": dates, "sales": y})


def _write(frames: list[pd.DataFrame], path: Path, *, id_col: bool = True) -> Path:
    table = pd.concat(frames)
    if not id_col:
        table = table.drop(columns="store")
    table.to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


def _train(*args: str) -> str:
    result = CliRunner().invoke(app, ["train", *args])
    assert result.exit_code == 0, result.output
    return result.stderr


class Trained:
    """The per-series model (jobs 1), the same with jobs 2, and one model per series alone."""

    def __init__(self, root: Path) -> None:
        frames = {
            name: _frame(name, n, 100.0 * (k + 1) ** 2, k)
            for k, (name, n) in enumerate(SERIES.items())
        }
        short = _frame(*TOO_SHORT, 7.0, 9)
        self.full = _write([*frames.values(), short], root / "full.csv")
        self.frames = {name: f.iloc[:-HELD_BACK] for name, f in frames.items()}
        self.data = _write([*self.frames.values(), short], root / "long.csv")
        flags = ["--id-col", "store", "--target", "sales", *TINY, "--per-series"]
        self.model = root / "per-series"
        self.stderr = _train(
            str(self.data), *flags, "--jobs", "1", "--out", str(self.model)
        )
        self.root = root
        self.flags = flags
        self.alone: dict[str, Path] = {}
        for name, frame in self.frames.items():
            csv = _write([frame], root / f"{name}.csv", id_col=False)
            out = root / f"alone-{name}"
            _train(str(csv), "--target", "sales", *TINY, "-q", "--out", str(out))
            self.alone[name] = out


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return Trained(tmp_path_factory.mktemp("per-series"))


@pytest.mark.slow
def test_each_series_forecasts_as_a_model_trained_on_that_series_alone(
    trained: Trained,
) -> None:
    model = seqcast.load(trained.model)
    assert model.series_ids == tuple(SERIES)
    windows = set()
    for name, path in trained.alone.items():
        alone = seqcast.load(path)
        ours = model.forecast(8, intervals=(0.8,), series=name)
        theirs = alone.forecast(8, intervals=(0.8,))
        np.testing.assert_array_equal(ours.values, theirs.values)
        np.testing.assert_array_equal(ours.bands["80"][0], theirs.bands["80"][0])
        np.testing.assert_array_equal(ours.bands["80"][1], theirs.bands["80"][1])
        assert ours.dates == theirs.dates
        assert (ours.series, ours.id_col, ours.engine) == (name, "store", "numpy")
        # The series' own sizing and scores, as the model of it alone stored them.
        record = next(r for r in model.artifact.meta.series if r.id == name)
        assert record.local is not None
        assert record.local.window == alone.artifact.window
        assert record.local.test == alone.artifact.meta.test
        assert record.local.intervals == alone.artifact.meta.intervals
        windows.add(record.local.window)
    assert len(windows) == 3  # each series was sized for its own length
    # The pooled test part holds every series' test windows.
    pooled = model.artifact.meta.test
    assert pooled is not None
    assert pooled.n_windows == sum(
        seqcast.load(p).artifact.meta.test.n_windows  # type: ignore[union-attr]
        for p in trained.alone.values()
    )


@pytest.mark.slow
def test_two_jobs_give_the_same_forecasts_as_one(trained: Trained) -> None:
    out = trained.root / "two-jobs"
    _train(str(trained.data), *trained.flags, "--jobs", "2", "-q", "--out", str(out))
    one = seqcast.load(trained.model).forecast_all(8, intervals=(0.8,))
    two = seqcast.load(out).forecast_all(8, intervals=(0.8,))
    assert [f.series for f in two] == list(SERIES)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a.values, b.values)
        np.testing.assert_array_equal(a.bands["80"][1], b.bands["80"][1])
    meta = json.loads((out / "seqcast.json").read_text())
    assert meta["config"]["data"]["per_series"] is True
    assert "--jobs" in meta["provenance"]["command"]


@pytest.mark.slow
def test_with_workers_the_parent_never_imports_keras(trained: Trained) -> None:
    # The fits run in the workers; the parent only gathers and saves. Importing Keras
    # there too (for the versions) cost a TensorFlow start-up after the last fit.
    import subprocess
    import sys
    from importlib import metadata

    out = trained.root / "no-keras-parent"
    script = (
        "import sys\n"
        "from seqcast.cli import app\n"
        "try:\n"
        f"    app({['train', str(trained.data), *trained.flags, '--jobs', '2', '-q', '--out', str(out)]!r})\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('keras' in sys.modules, 'tensorflow' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False False"
    # The versions are still recorded: those the workers trained with.
    versions = json.loads((out / "seqcast.json").read_text())["provenance"]["versions"]
    assert versions["keras"] == metadata.version("keras")
    assert versions["backend"] == os.environ.get("KERAS_BACKEND", "tensorflow")


@pytest.mark.slow
def test_a_series_too_short_is_left_out_with_its_id_and_reported(
    trained: Trained,
) -> None:
    reason = "The series has 5 rows, too few to fit any model for horizon=6: it needs at least 7 (window 1 plus one horizon). Use a shorter --horizon, or load more history."
    meta = json.loads((trained.model / "seqcast.json").read_text())
    assert meta["left_out"] == [{"id": "tiny", "reason": reason}]
    assert [r["id"] for r in meta["series"]] == list(SERIES)
    lines = trained.stderr.splitlines()
    assert f"warning: Series 'tiny' was left out: {reason}" in lines
    assert suggested_flags(reason) <= command_flags(["train"])
    # One progress line per finished series, none per epoch.
    done = [line for line in lines if line.startswith("series ")]
    assert [line.split(" (")[0] for line in done] == [
        f"series {k}/4" for k in range(1, 5)
    ]
    assert "series 4/4 (tiny): left out" in done
    assert any(line.startswith("series 1/4 (north): trained 2 epochs") for line in done)
    assert not any(line.startswith("epoch") for line in lines)
    info = CliRunner().invoke(app, ["info", str(trained.model)])
    assert info.exit_code == 0, info.output
    assert (
        "series       3 (id column store): north, south, east; 24 to 60 rows"
        in info.stdout
    )
    assert "one model per series (per_series)" in info.stdout
    assert "window       window=3 to 15 (per series) horizon=6" in info.stdout
    assert f"left out     'tiny': {reason}" in info.stdout


@pytest.mark.slow
def test_forecast_writes_every_series_in_long_format_and_series_narrows(
    trained: Trained,
) -> None:
    runner = CliRunner()
    args = ["forecast", str(trained.model), "--steps", "3", "--format", "csv"]
    result = runner.invoke(app, [*args, "--level", "0.8"])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert list(out.columns) == ["store", "date", "sales", "lower_80", "upper_80"]
    assert list(out["store"]) == [n for n in SERIES for _ in range(3)]
    for name, frame in trained.frames.items():
        rows = out[out["store"] == name]
        want = pd.date_range(frame["month"].iloc[-1], periods=4, freq="MS")[1:]
        assert list(rows["date"]) == [d.strftime("%Y-%m-%d") for d in want]
        assert np.all(rows["lower_80"] <= rows["sales"])
        assert np.all(rows["sales"] <= rows["upper_80"])
    narrowed = runner.invoke(app, [*args, "--series", "east,north"])
    assert narrowed.exit_code == 0, narrowed.output
    assert (
        list(pd.read_csv(io.StringIO(narrowed.stdout))["store"])
        == ["east"] * 3 + ["north"] * 3
    )
    unknown = runner.invoke(app, [*args, "--series", "tiny"])
    assert unknown.exit_code == ExitCode.USER_ERROR
    assert "has no series 'tiny'" in unknown.stderr


@pytest.mark.slow
def test_evaluate_scores_every_series_with_its_own_model(trained: Trained) -> None:
    runner = CliRunner()
    stored = runner.invoke(app, ["evaluate", str(trained.model), "--format", "json"])
    assert stored.exit_code == 0, stored.output
    assert json.loads(stored.stdout)["n_windows"] == sum(
        seqcast.load(p).artifact.meta.test.n_windows  # type: ignore[union-attr]
        for p in trained.alone.values()
    )
    result = runner.invoke(
        app, ["evaluate", str(trained.model), str(trained.full), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    pooled = json.loads(result.stdout)
    # Each series alone, scored on its own rows of the same file.
    alone = [
        seqcast.load(trained.alone[name]).evaluate(
            _write([_frame(name, n, 100.0 * (k + 1) ** 2, k)], trained.root / "x.csv", id_col=False)
        )
        for k, (name, n) in enumerate(SERIES.items())
    ]  # fmt: skip
    windows = [e.n_windows for e in alone]
    assert pooled["n_windows"] == sum(windows)
    maes = [e.scores["model"].mae for e in alone]
    assert pooled["scores"]["model"]["mae"] == pytest.approx(
        np.average(maes, weights=windows)
    )
    folds = runner.invoke(
        app, ["evaluate", str(trained.model), str(trained.full), "--folds", "2"]
    )
    assert folds.exit_code == ExitCode.USER_ERROR
    assert len(folds.stderr.splitlines()) == 1
    assert suggested_flags(folds.stderr) <= command_flags(["evaluate"])


@pytest.mark.slow
def test_the_python_api_mirrors_the_flags(trained: Trained) -> None:
    lines: list[str] = []
    frame = pd.read_csv(trained.data)
    result = seqcast.train(
        frame[frame["store"] != "tiny"],
        id_col="store",
        target="sales",
        per_series=True,
        jobs=1,
        units=(2,),
        epochs=1,
        horizon=6,
        progress=lines.append,
    )
    assert result.path is None
    assert result.meta.per_series
    steps = [line for line in lines if isinstance(line, Step)]
    assert [(s.kind, s.done, s.total) for s in steps] == [
        ("series", k, 3) for k in (1, 2, 3)
    ]


def _crafted(trained: Trained, tmp_path: Path, edit: str) -> Path:
    copy = tmp_path / "crafted"
    shutil.copytree(trained.model, copy)
    meta_path = copy / "seqcast.json"
    meta = json.loads(meta_path.read_text())
    member = meta["series"][1]["local"]["history"]["members"][0]
    if edit == "traversal":
        member["file"] = "../alone-south/model.keras"
    elif edit == "unlisted":
        del meta["files"]["series-1.keras"]
    elif edit == "missing":
        (copy / "series-1.keras").unlink()
    elif edit == "schema-2":
        meta["schema_version"] = 2
    elif edit == "no-local":
        del meta["series"][1]["local"]
    meta_path.write_text(json.dumps(meta))
    return copy


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("traversal", "series[1].local.history.members[0].file must be 'series-1.keras' (series 1, member 0), got '../alone-south/model.keras'. Retrain with `seqcast train`."),
        ("unlisted", "records no checksum for series-1.keras. Retrain with `seqcast train`."),
        ("missing", "series-1.keras is missing, so {model} is not a complete model. Run `seqcast train` first."),
        ("schema-2", "config.data.per_series must be false in a document of schema_version 2 (local models came with version 3), got True. Retrain with `seqcast train`."),
        ("no-local", "series[1].local is missing. Retrain with `seqcast train`."),
    ],
)  # fmt: skip
def test_a_crafted_directory_is_refused_in_one_line(
    trained: Trained, tmp_path: Path, edit: str, message: str
) -> None:
    model = _crafted(trained, tmp_path, edit)
    with pytest.raises(ArtifactError) as info:
        load_artifact(model)
    assert str(info.value).endswith(message.replace("{model}", str(model)))
    for command in (["forecast", str(model)], ["info", str(model)]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == ExitCode.USER_ERROR
        assert isinstance(result.exception, SystemExit)
        assert result.stdout == ""
        assert result.stderr.splitlines() == [f"error: {info.value}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--per-series"], "per_series=True fits one model per series of a long-format file, but no --id-col names the column that keys them. Give --id-col, or drop --per-series."),
        (["--per-series", "--id-col", "store", "--series", "east"], "per_series=True fits every series, but --series 'east' picks one. Drop --series to train them all, or drop --per-series to train 'east' alone."),
        (["--id-col", "store", "--jobs", "2"], "jobs=2 sets the worker processes of per-series training, but per_series is off. Add --per-series (with --id-col), or drop --jobs."),
        (["backtest"], "backtest re-trains one series at a time, so per_series=True does not apply. Drop --per-series, and pick a series with --series."),
    ],
)  # fmt: skip
def test_contradictory_flags_are_refused_before_any_work(
    tmp_path: Path, args: list[str], message: str
) -> None:
    data = _write([_frame("east", 30, 1.0, 0)], tmp_path / "long.csv")
    argv = [
        "train",
        str(data),
        "--target",
        "sales",
        *args,
        "--out",
        str(tmp_path / "m"),
    ]
    if args == ["backtest"]:
        argv = ["backtest", str(data), "--target", "sales", "--id-col", "store"]
        argv += ["--per-series"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr.splitlines() == [f"error: {message}"]
    assert suggested_flags(message) <= command_flags(argv)
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_all_series_failing_is_one_clean_error(tmp_path: Path) -> None:
    data = _write(
        [_frame("a", 5, 1.0, 0), _frame("b", 4, 1.0, 1)], tmp_path / "long.csv"
    )
    result = CliRunner().invoke(
        app,
        ["train", str(data), "--id-col", "store", "--target", "sales", *TINY, "--per-series", "--jobs", "1", "-q", "--out", str(tmp_path / "m")],
    )  # fmt: skip
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr.splitlines() == [
        "error: None of the 2 series could be trained on its own (per_series); the first, 'a': The series has 5 rows, too few to fit any model for horizon=6: it needs at least 7 (window 1 plus one horizon). Use a shorter --horizon, or load more history."
    ]
    assert not (tmp_path / "m").exists()


def test_series_files_are_seqcasts_and_named_by_position() -> None:
    assert series_file(0) == "series-0.keras"
    assert series_file(12, 2) == "series-12-2.keras"
    assert all(is_owned(n) for n in ("series-0.keras", "series-3-1.keras"))
    assert not any(
        is_owned(n) for n in ("series-a.keras", "series-.keras", "series-1.h5")
    )


def test_workers_cap_their_thread_pools_before_importing_keras() -> None:
    assert threads_per_worker(4, cores=16) == 4
    assert threads_per_worker(3, cores=2) == 1
    names = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"]  # fmt: skip
    found = dict(run_unordered(os.getenv, names, jobs=2))
    expected = str(threads_per_worker(2))
    assert [found[i] for i in range(len(names))] == [expected] * len(names)
    # In this process (jobs=1) nothing is capped or changed.
    before = os.environ.get("TF_NUM_INTRAOP_THREADS")
    assert dict(run_unordered(os.getenv, names[2:3], jobs=1)) == {0: before}
