"""Does a global model forecast better when it reads each series' long-run drift?

The window of a global model (10 quarters on M1's quarterly series) cannot see how a
series has grown over its whole history, which Theta and ETS fit. This trial adds that
as an input: at each point, the mean step of the series from its first point so far,
``(z_t - z_0) / t``, where ``z`` is the log of a positive series or the series over its
mean absolute level otherwise (0 at the first point). The column goes to
``seqcast.train`` as a past covariate (``features``), which the per-window
normalisation leaves as it is; then ``benchmarks/accuracy.py`` runs unchanged.

Stop 29 measured it on M1 quarterly (0.746 against the defaults' 0.716; see
docs/ACCURACY.md), so it was not adopted. Choose on M1 only (../shared/STYLE.md §10).
Usage, after ``fcomp_refs.py`` (see ``accuracy.py``), with accuracy.py's arguments:
    .venv/bin/python benchmarks/drift_input.py M1 --pooled --refs M1.npz --category quarterly --json drift.json
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DRIFT = "drift"


def drift_so_far(values: np.ndarray) -> np.ndarray:
    """The mean step from the first point to each point, in log units when positive.

    Example: ``[1, e, e**3]`` gives ``[0, 1, 1.5]``.
    """
    z = np.log(values) if (values > 0).all() else values / np.mean(np.abs(values))
    out = np.zeros_like(z, dtype=np.float64)
    out[1:] = (z[1:] - z[0]) / np.arange(1, len(z))
    return out


def with_drift(train: Any) -> Any:
    """``seqcast.train`` on a long frame (``id``, ``date``, ``value``) plus the drift."""

    def trained(frame: Any, **kwargs: Any) -> Any:
        frame = frame.copy()
        groups = frame.groupby("id", sort=False)["value"]
        frame[DRIFT] = np.concatenate(
            [drift_so_far(g.to_numpy(np.float64)) for _, g in groups]
        )
        return train(frame, features=(DRIFT,), **kwargs)

    return trained


def main() -> None:
    if len(sys.argv) < 2 or "--pooled" not in sys.argv:
        raise SystemExit("give accuracy.py's arguments, with --pooled (a global model)")
    import seqcast

    seqcast.train = with_drift(seqcast.train)  # accuracy.py calls seqcast.train
    import accuracy

    sys.argv = ["accuracy.py", *sys.argv[1:]]
    accuracy.main()


if __name__ == "__main__":
    main()
