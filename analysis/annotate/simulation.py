"""SIMULATED coders, for demonstrations and tests only: never a substitute for human coding.

Each simulated coder copies a known label (for instance a dataset's gold label) and, with its own
error rate, replaces it by another allowed label drawn at random; the disagreement between
simulated coders is made by this code, deliberately, so that the agreement and adjudication steps
have something to measure. :func:`fill_sheets` writes the simulated labels into the CSV sheets of a
sheets folder, as coders would.

Examples
--------
>>> assignments = pd.DataFrame({"uid": ["1", "1", "2"], "coder": ["A", "B", "A"]})
>>> truth = pd.DataFrame({"uid": ["1", "2"], "label": ["support", "other"]})
>>> simulate_coders(assignments, truth, error_rates={"A": 0.0, "B": 0.0},
...                 random_state=0)["label"].tolist()
['support', 'support', 'other']
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.annotate.sheets import SHEET_PREFIX, read_design
from analysis.errors import UserError
from analysis.io import atomic_path
from analysis.schema import STANCE_LABELS

#: RumourEval's SDQC labels mapped onto support / criticism / other (as the default model does).
SDQC_TO_STANCE = {"support": "support", "deny": "criticism", "query": "other",
                  "comment": "other"}


def simulate_coders(assignments: pd.DataFrame, truth: pd.DataFrame, *,
                    error_rates: Mapping[str, float] | float = 0.15,
                    allowed: Sequence[str] = STANCE_LABELS,
                    random_state: int | np.random.Generator | None = None) -> pd.DataFrame:
    """SIMULATED labels: each coder's label is the true one, flipped at the coder's error rate.

    Parameters
    ----------
    assignments
        ``uid`` and ``coder`` (:func:`analysis.annotate.assign_coders`).
    truth
        ``uid`` and ``label``: the labels the simulated coders start from.
    error_rates
        One rate for all coders, or one per coder: the chance of replacing the label by another
        allowed label chosen uniformly.
    allowed
        The labels a coder may give.
    random_state
        Seed or generator.

    Returns
    -------
    pandas.DataFrame
        ``uid``, ``coder``, ``label`` (one row per assignment; posts without a true label are
        left unlabelled, as a coder who skipped them), ``simulated_error`` (bool).
    """
    rng = np.random.default_rng(random_state)
    known = dict(zip(truth["uid"].astype(str), truth["label"].astype(str), strict=True))
    allowed = list(allowed)
    rows = []
    for uid, coder in zip(assignments["uid"].astype(str), assignments["coder"].astype(str),
                          strict=True):
        rate = error_rates if isinstance(error_rates, int | float) else error_rates.get(coder, 0.0)
        label = known.get(uid)
        flipped = False
        if label is not None and rng.random() < rate:
            others = [v for v in allowed if v != label]
            label = others[int(rng.integers(len(others)))]
            flipped = True
        rows.append({"uid": uid, "coder": coder, "label": label, "simulated_error": flipped})
    return pd.DataFrame(rows, columns=["uid", "coder", "label", "simulated_error"])


def fill_sheets(folder: str | os.PathLike, coded: pd.DataFrame) -> list[Path]:
    """Write (SIMULATED) labels into the CSV sheets of a sheets folder, as coders would.

    Parameters
    ----------
    folder
        A sheets folder written by :func:`analysis.annotate.write_sheets`.
    coded
        ``uid``, ``coder``, ``label`` (:func:`simulate_coders`).

    Returns
    -------
    list of pathlib.Path
        The sheets written.
    """
    folder = Path(folder)
    design = read_design(folder)
    written = []
    for coder in design["coders"]:
        path = folder / f"{SHEET_PREFIX}{coder}.csv"
        if not path.is_file():
            raise UserError("no CSV sheet for this coder", path)
        sheet = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        mine = coded[coded["coder"].astype(str) == coder]
        labels = dict(zip(mine["uid"].astype(str), mine["label"], strict=True))
        sheet["label"] = [labels.get(uid) or "" for uid in sheet["uid"]]
        with atomic_path(path) as tmp:
            sheet.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        written.append(path)
    return written
