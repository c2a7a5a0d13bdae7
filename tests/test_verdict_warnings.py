"""Tests for the warnings train gives when the network kept its first epoch or loses on validation."""

from __future__ import annotations

import pytest

from seqcast.api.local import verdict_warnings
from seqcast.evaluation.scoring import Evaluation, Scores
from seqcast.model.training import FitResult


def _evaluation(model_mase: float, naive_mase: float) -> Evaluation:
    def scores(mase: float) -> Scores:
        return Scores(mae=mase, rmse=mase, mape=1.0, smape=1.0, mase=mase)

    return Evaluation(
        n_windows=3,
        horizon=2,
        season=1,
        first_date="2020-01-01",
        last_date="2020-01-05",
        scores={"model": scores(model_mase), "naive": scores(naive_mase)},
    )


def _fit(val_loss: tuple[float, ...], best: int, initial: float | None) -> FitResult:
    return FitResult(
        loss=tuple(1.0 for _ in val_loss),
        val_loss=val_loss,
        best_epoch=best,
        epochs_run=len(val_loss),
        stopped_early=True,
        seconds=1.0,
        initial_val_loss=initial,
    )


WINS = _evaluation(0.5, 1.0)


def test_a_first_epoch_that_improved_on_the_untrained_network_says_so() -> None:
    found = verdict_warnings(WINS, _fit((0.30, 0.35, 0.40), 1, initial=0.50), 50)
    assert [name for name, _ in found] == ["first_epoch_only"]
    message = found[0][1]
    assert "best_epoch=1 of 3" in message
    assert "fell from 0.5 untrained to 0.3" in message
    assert "--lr" in message
    assert "naive one" not in message  # it learned something: not a naive forecast


@pytest.mark.parametrize("initial", [0.25, 0.30])
def test_a_first_epoch_no_better_than_untrained_learned_nothing(initial: float) -> None:
    found = verdict_warnings(WINS, _fit((0.30, 0.35), 1, initial=initial), 50)
    assert [name for name, _ in found] == ["first_epoch"]
    message = found[0][1]
    assert "no gain from training" in message
    assert f"validation loss 0.3 after it, {initial:.4g} untrained" in message
    assert "naive one" in message


def test_without_the_untrained_loss_the_warning_claims_no_figures() -> None:
    found = verdict_warnings(WINS, _fit((0.30, 0.35), 1, initial=None), 50)
    assert [name for name, _ in found] == ["first_epoch"]
    assert "untrained" not in found[0][1]


def test_later_best_epochs_and_one_epoch_runs_do_not_warn() -> None:
    assert verdict_warnings(WINS, _fit((0.4, 0.3, 0.35), 2, initial=0.5), 50) == []
    # With --epochs 1 the first epoch is the only one: nothing was kept over others.
    assert verdict_warnings(WINS, _fit((0.3,), 1, initial=0.2), 1) == []


def test_losing_on_validation_names_what_it_loses_to() -> None:
    found = verdict_warnings(_evaluation(1.2, 0.9), _fit((0.4, 0.3), 2, 0.5), 50)
    assert [name for name, _ in found] == ["loses_on_validation"]
    assert "(MASE 1.2) loses to naive (MASE 0.9)" in found[0][1]


def test_many_series_pool_every_verdict_in_one_message() -> None:
    from seqcast.api.per_series import _VERDICTS

    names = {
        name
        for fit, evaluation in [
            (_fit((0.3, 0.4), 1, initial=0.5), WINS),
            (_fit((0.3, 0.4), 1, initial=0.2), WINS),
            (_fit((0.4, 0.3), 2, initial=0.5), _evaluation(1.2, 0.9)),
        ]
        for name, _ in verdict_warnings(evaluation, fit, 50)
    }
    assert names == {"first_epoch", "first_epoch_only", "loses_on_validation"}
    for name in names:
        text = _VERDICTS[name].format(k=2, n=5, ids="'a', 'b'")
        assert text.startswith(("2 of 5 series", "On their validation windows"))
        assert "'a', 'b'" in text
