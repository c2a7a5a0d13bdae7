"""Does the size of an epoch change what early stopping chooses?

A model over several series counts its early-stopping patience, its epoch limit and the
refit's epoch count in passes over the training windows. One pass over Tourism's
monthly category is 281 batches of 128 windows; over M1's, where the defaults were
chosen, 50. If the defaults only work at M1's pass size, a corpus with longer series
trains in another regime, one that M1 never measured. This trial runs
``benchmarks/accuracy.py --pooled`` with every training fit changed in one of two ways:

- ``--repeat R`` feeds each fit its training windows ``R`` times over, so that a pass is
  ``R`` times as many gradient steps on the same data (the refit too: it trains the same
  number of these longer passes);
- ``--cap N`` checks validation (and counts patience and the epoch limit) every
  ``ceil(batches / k)`` steps, ``k = ceil(batches / N)``, instead of once a pass; patience
  and the limit are multiplied by ``k`` so that they stay the same in passes, and the
  refit trains as many of its own ``1/k`` passes as the chosen checkpoint;
- ``--same-steps`` makes the refit train as many gradient steps as the holdout fit
  took to its best epoch, rather than as many passes: its epoch count is scaled by the
  holdout fit's windows over the refit's (on M1 monthly 6,357 over 20,545, since the
  validation part's rows give a short series most of its windows).

Choose on M1 only (../shared/STYLE.md §10). Usage, after ``fcomp_refs.py`` (see
``accuracy.py``):
    .venv/bin/python benchmarks/epoch_size.py --repeat 4 -- M1 --pooled --refs M1.npz --category monthly
    .venv/bin/python benchmarks/epoch_size.py --cap 32 -- M1 --pooled --refs M1.npz --category monthly
    .venv/bin/python benchmarks/epoch_size.py --same-steps -- M1 --pooled --refs M1.npz --category monthly
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def changed_fit(original: Any, repeat: int, cap: int, same_steps: bool) -> Any:
    """``seqcast.model.training.fit`` with longer passes, finer checks or a shorter refit."""
    import seqcast.model.training as training

    # By the group's first seed, from its holdout fit to its refit:
    checks_per_pass: dict[int, int] = {}
    holdout_windows: dict[int, int] = {}

    def fit(model: Any, train: Any, validation: Any, config: Any, **kw: Any) -> Any:
        if not isinstance(train, tuple):
            raise TypeError("epoch_size.py expects windows as arrays (a global model)")
        if repeat > 1:
            train = tuple(np.concatenate([part] * repeat) for part in train)
        batches = training._batches_per_epoch(train, config.batch_size)
        if validation is not None:
            k = max(1, math.ceil(batches / cap)) if cap else 1
            checks_per_pass[config.seed] = k
            holdout_windows[config.seed] = len(train[0])
            config = dataclasses.replace(
                config, epochs=config.epochs * k, patience=config.patience * k
            )
        else:
            k = checks_per_pass.get(config.seed, 1)
            if same_steps:
                share = holdout_windows[config.seed] / len(train[0])
                epochs = max(1, round(config.epochs * share))
                print(
                    f"epoch_size: seeds from {config.seed}: refit for {epochs} "
                    f"epochs, not {config.epochs}",
                    file=sys.stderr,
                )
                config = dataclasses.replace(config, epochs=epochs)
        if k > 1:
            steps = math.ceil(batches / k)
            keras_fit = model.fit

            def fit_in_parts(*args: Any, **kwargs: Any) -> Any:
                return keras_fit(*args, steps_per_epoch=steps, **kwargs)

            model.fit = fit_in_parts
        result = original(model, train, validation, config, **kw)
        if validation is not None:
            print(
                f"epoch_size: seeds from {config.seed}: {len(train[0])} windows, "
                f"{batches} batches a pass, {k} checks a pass; best check "
                f"{result.best_epoch} of {result.epochs_run}",
                file=sys.stderr,
            )
        return result

    return fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="passes fed as one")
    parser.add_argument(
        "--cap", type=int, default=0, help="most steps between checks (0: a pass)"
    )
    parser.add_argument(
        "--same-steps", action="store_true", help="refit for the holdout's steps"
    )
    parser.add_argument("accuracy_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    rest = args.accuracy_args[1:] if args.accuracy_args[:1] == ["--"] else None
    if not rest or args.repeat < 1 or args.cap < 0:
        parser.error(
            "give --repeat 1+ or --cap 0+, then -- and accuracy.py's arguments"
        )

    import seqcast.model.training as training

    training.fit = changed_fit(training.fit, args.repeat, args.cap, args.same_steps)
    # Keras warns each time a pass ends inside a checkpoint's steps; that is intended.
    warnings.filterwarnings("ignore", message="Your input ran out of data")
    import accuracy

    sys.argv = ["accuracy.py", *rest]
    accuracy.main()


if __name__ == "__main__":
    main()
