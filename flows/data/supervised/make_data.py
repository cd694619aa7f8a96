"""Write the data of flows/supervised-scoring.json: two training sets and a drifting stream.

Run it from the repository root (``python flows/data/supervised/make_data.py``); the files
it writes are kept in the repository, so the flow needs nothing at run time. The stream's
concept changes at row DRIFT_ROW: before it, the label is ``x1 + x2 > 0`` (what the
champion learned from ``train_early.csv``); from it on, ``x1 - x2 + x3 > 1`` (what the
challenger learned from ``train_late.csv``), and ``x3``'s mean moves from 0 to 1, which
``ml.drift`` sees against the early training data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
ROWS = 6000
DRIFT_ROW = 3000
NOISE = 0.03  # a share of labels flipped, so that no model is perfect


def _rows(rng: np.random.Generator, count: int, late: bool) -> pd.DataFrame:
    frame = pd.DataFrame(rng.normal(size=(count, 4)), columns=["x1", "x2", "x3", "x4"])
    if late:
        frame["x3"] += 1.0
        label = frame["x1"] - frame["x2"] + frame["x3"] > 1
    else:
        label = frame["x1"] + frame["x2"] > 0
    flip = rng.random(count) < NOISE
    frame["target"] = (label ^ flip).astype(int)
    return frame.round(4)


def main() -> None:
    """Write train_early.csv, train_late.csv, stream.csv and labels.csv."""
    rng = np.random.default_rng(7)
    _rows(rng, 2000, late=False).to_csv(HERE / "train_early.csv", index=False)
    _rows(rng, 2000, late=True).to_csv(HERE / "train_late.csv", index=False)
    stream = pd.concat([_rows(rng, DRIFT_ROW, late=False),
                        _rows(rng, ROWS - DRIFT_ROW, late=True)], ignore_index=True)
    stream.insert(0, "id", range(ROWS))
    stream.drop(columns="target").to_csv(HERE / "stream.csv", index=False)
    stream[["id", "target"]].to_csv(HERE / "labels.csv", index=False)


if __name__ == "__main__":
    main()
