"""The ``train`` pipeline's hashtag words and per-target models, measured on/off.

For SemEval-2016 (TweetEval stance): F_avg (mean F1 of favor and against) in 5-fold
cross-validation on the train split (folds stratified by target and label) and on the val split
(trained on train), for the ``train`` pipeline without either option, with hashtag words, and
with both (``analysis.classifiers.training.user_pipeline``). For RumourEval 2019: 4-class SDQC
macro-F1 and deny F1 on dev (trained on train), without and with both: a dev thread's source
post is a target the per-target models never saw, so only the hashtag words can move it.
C is 2 for SemEval and 0.5 for RumourEval, what ``train`` chooses on those train splits
(docs/benchmarks.md, "Classifier choices"). The test splits are held back.

Usage: ``python benchmarks/train_options.py [--write]`` (puts ``## Train pipeline options`` in
docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import markdown_table as table  # noqa: E402
from _common import write_section  # noqa: E402

from analysis import config  # noqa: E402
from analysis.classifiers import datasets  # noqa: E402
from analysis.classifiers.labelling import predict_with_rules  # noqa: E402
from analysis.classifiers.training import user_pipeline  # noqa: E402

SECTION = "## Train pipeline options"
ARMS = {"neither": {"hashtags": False, "per_target": False},
        "hashtag words": {"hashtags": True, "per_target": False},
        "hashtag words + per-target models": {"hashtags": True, "per_target": True}}
FAVOR_AGAINST = ["favor", "against"]


def fitted_labels(train, test, C: float, options: dict) -> np.ndarray:
    model = user_pipeline(len(train), C=C, **options).fit(train, train["label"].to_numpy())
    return predict_with_rules(model, test)[1]


def semeval_rows(arm: str, options: dict) -> tuple:
    train = datasets.read_semeval_stance("train").reset_index(drop=True)
    val = datasets.read_semeval_stance("val")
    strata = train["target"].astype(str) + "|" + train["label"].astype(str)
    folds = StratifiedKFold(5, shuffle=True, random_state=config.DEFAULT_SEED)
    predicted = np.empty(len(train), dtype=object)
    for fit_rows, test_rows in folds.split(train, strata):
        predicted[test_rows] = fitted_labels(train.iloc[fit_rows], train.iloc[test_rows], 2.0,
                                             options)
    cv = f1_score(train["label"], predicted, labels=FAVOR_AGAINST, average="macro")
    held = f1_score(val["label"], fitted_labels(train, val, 2.0, options),
                    labels=FAVOR_AGAINST, average="macro")
    return arm, f"{cv:.4f}", f"{held:.4f}"


def rumoureval_row(arm: str, options: dict) -> tuple:
    full = datasets.read_rumoureval(("train", "dev"))
    train, dev = full[full["split"] == "train"], full[full["split"] == "dev"]
    labels = fitted_labels(train, dev, 0.5, options)
    macro = f1_score(dev["label"], labels, average="macro")
    deny = f1_score(dev["label"], labels, labels=["deny"], average="macro")
    return arm, f"{macro:.4f}", f"{deny:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    semeval = [semeval_rows(arm, options) for arm, options in ARMS.items()]
    rumour = [rumoureval_row(arm, ARMS[arm]) for arm in ("neither",
                                                         "hashtag words + per-target models")]
    text = (
        "The `train` pipeline with and without its hashtag words and per-target models "
        "(`user_pipeline(hashtags=..., per_target=...)`); validation splits only.\n\n"
        f"Command: `python benchmarks/train_options.py --write`; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs (load average {load:.1f} at the start), "
        f"Python {platform.python_version()}, one thread; date: {dt.date.today().isoformat()}; "
        f"total run {time.perf_counter() - started:.0f} s.\n\n"
        "SemEval-2016 (C 2), F_avg:\n\n"
        + table(("`train` pipeline", "5-fold CV on train (stratified by target and label)",
                 "val (trained on train)"), semeval)
        + "\n\nRumourEval 2019 dev (C 0.5, trained on train):\n\n"
        + table(("`train` pipeline", "macro-F1 (4 SDQC)", "deny F1"), rumour) + "\n")
    print(f"{SECTION}\n\n{text}")
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
