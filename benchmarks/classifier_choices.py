"""Why the classifiers are built as they are: cross-validated comparisons over train + val/dev.

The validation splits are small (SemEval-2016 val 294 tweets, RumourEval 2019 dev 82 denials),
so a choice that looks better on them alone may be noise. This script compares the choices in a
5-fold cross-validation over train + val/dev (SemEval stratified by label, since its test split
shares its targets; RumourEval grouped by event), with the ``train`` pipeline's features learned
once on all rows (the same for every arm; the comparison is between arms, not an estimate of
accuracy):

- the logistic regression's C (0.5, 1, 2: what ``train`` chooses from);
- per-class decision weights tuned on out-of-fold probabilities of each training part (inner
  5-fold, stratified or grouped by target / event) to maximise macro-F1, against the balanced
  decision: tried and left out;
- the ``train`` pipeline's text handling: vocabularies with ``min_df`` 2 and links and @handles
  as written (before) against ``min_df`` 1 with links and @handles replaced (now); here each
  fold learns its own features (:func:`analysis.classifiers.training.cross_val_predict`), since
  the choice is about the vocabulary;
- the default recipe with classes balanced over all rows (recipe 5) or within each kind of
  target (recipe 6): the card's cross-validation (folds grouped by SemEval target / RumourEval
  event) split by source.

Usage: ``python benchmarks/classifier_choices.py [--write]`` (about 15 minutes on one core; the
test splits are never read).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import write_section  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import GroupKFold, StratifiedKFold  # noqa: E402

from analysis import config  # noqa: E402
from analysis.classifiers import datasets  # noqa: E402
from analysis.classifiers.linear import BalancedLogisticRegression  # noqa: E402
from analysis.classifiers.training import C_GRID, user_pipeline  # noqa: E402

SECTION = "## Classifier choices"
SEED = config.DEFAULT_SEED
#: Multipliers of the balanced decision weights searched per class (coordinate ascent).
WEIGHT_GRID = np.exp(np.linspace(-1.5, 1.5, 13))


def _fit(X, y, C: float = 1.0) -> BalancedLogisticRegression:
    return BalancedLogisticRegression(C=C, tol=1e-3, random_state=SEED).fit(X, y)


def _macro(y, pred) -> float:
    return float(f1_score(y, pred, average="macro"))


def tuned_weights(X, y, classes: np.ndarray, prior: np.ndarray, folds: list) -> np.ndarray:
    """Decision weights maximising out-of-fold macro-F1 on (X, y) alone, from the balanced ones."""
    proba = np.zeros((len(y), len(classes)))
    for tr, te in folds:
        model = _fit(X[tr], y[tr])
        got = model.predict_proba(X[te])
        for j, c in enumerate(model.classes_):
            proba[te, list(classes).index(c)] = got[:, j]
    weights = 1.0 / prior
    best = _macro(y, classes[(proba * weights).argmax(axis=1)])
    for _ in range(3):
        changed = False
        for k in range(len(classes)):
            for factor in WEIGHT_GRID:
                trial = weights.copy()
                trial[k] = factor / prior[k]
                score = _macro(y, classes[(proba * trial).argmax(axis=1)])
                if score > best + 1e-12:
                    best, weights, changed = score, trial, True
        if not changed:
            break
    return weights


#: Per dataset: its rows' name in the table, what its groups are, and the C ``train`` chooses on
#: its train split (docs/benchmarks.md, Classifiers).
DATASETS = {
    "semeval": ("SemEval-2016 train+val, 5-fold stratified", "target", 2.0),
    "rumoureval": ("RumourEval 2019 train+dev, 5-fold grouped by event", "event", 0.5),
}


def _data(name: str) -> tuple:
    """(frame, labels, groups) of train + val/dev of ``name``."""
    frame = (datasets.read_semeval_stance(("train", "val")) if name == "semeval"
             else datasets.read_rumoureval(("train", "dev")))
    return frame, frame["label"].astype(str).to_numpy(), frame["group"].astype(str).to_numpy()


def _scores(name: str, y, pred) -> tuple[str, str]:
    """(metric, value): F_avg and macro-F1 for SemEval, macro-F1 and deny F1 for RumourEval."""
    if name == "semeval":
        return "F_avg / macro-F1", (
            f"{f1_score(y, pred, labels=['favor', 'against'], average='macro'):.4f} / "
            f"{_macro(y, pred):.4f}")
    return "macro-F1 (4 SDQC) / deny F1", (
        f"{_macro(y, pred):.4f} / {f1_score(y, pred, labels=['deny'], average='macro'):.4f}")


def compare(name: str, rows: list) -> None:
    frame, y, groups = _data(name)
    label, group_kind, _ = DATASETS[name]
    if name == "semeval":  # its test split shares its targets
        outer = list(StratifiedKFold(5, shuffle=True, random_state=SEED).split(frame, y))
    else:
        outer = list(GroupKFold(5, shuffle=True, random_state=SEED).split(frame, y, groups))
    inner_groups = {f"grouped by {group_kind}": groups}
    X = user_pipeline(int(len(frame) * 0.8), seed=SEED)[:-1].fit(frame, y).transform(frame)
    arms = {f"C {c:g}": np.empty(len(y), dtype=object) for c in C_GRID}
    tuned = {"balanced decision (C 1)": np.empty(len(y), dtype=object),
             "tuned weights, stratified inner folds": np.empty(len(y), dtype=object)}
    for kind in inner_groups:
        tuned[f"tuned weights, inner folds {kind}"] = np.empty(len(y), dtype=object)
    for tr, te in outer:
        for c in C_GRID:
            arms[f"C {c:g}"][te] = _fit(X[tr], y[tr], c).predict(X[te])
        model = _fit(X[tr], y[tr])
        proba = model.predict_proba(X[te])
        classes = model.classes_
        tuned["balanced decision (C 1)"][te] = model.predict(X[te])
        for kind, pred in tuned.items():
            if not kind.startswith("tuned"):
                continue
            if "stratified" in kind:
                folds = list(StratifiedKFold(5, shuffle=True, random_state=SEED)
                             .split(X[tr], y[tr]))
            else:
                g = next(v for k, v in inner_groups.items() if k in kind)[tr]
                folds = list(GroupKFold(5, shuffle=True, random_state=SEED)
                             .split(X[tr], y[tr], g))
            weights = tuned_weights(X[tr], y[tr], classes, model.class_prior_, folds)
            pred[te] = classes[(proba * weights).argmax(axis=1)]
    for arm, pred in {**arms, **tuned}.items():
        rows.append((label, f"`train` pipeline, {arm}", *_scores(name, y, pred)))


#: The ``train`` pipeline's text handling, before and now (``features`` parameters).
TEXT_HANDLING = {
    "min_df 2, links and @handles as written (before)": {"min_df": 2, "normalize": False},
    "min_df 1, links and @handles replaced (now)": {"min_df": 1, "normalize": True},
}


def text_handling(rows: list) -> None:
    from analysis.classifiers.training import cross_val_predict

    for name, (label, _, C) in DATASETS.items():
        frame, y, groups = _data(name)
        for arm, params in TEXT_HANDLING.items():
            pipeline = user_pipeline(int(len(frame) * 0.8), C=C, seed=SEED).set_params(
                **{f"features__{key}": value for key, value in params.items()})
            pred, _, _ = cross_val_predict(pipeline, frame, cv=5, seed=SEED,
                                           groups=None if name == "semeval" else groups)
            rows.append((f"{label}, features learned per fold",
                         f"`train` pipeline (C {C:g}, as `train` chooses on train), {arm}",
                         *_scores(name, y, pred)))


def recipe_strata(rows: list) -> None:
    from analysis.classifiers.default import CV_FOLDS, fold_groups, make_pipeline, training_frame
    from analysis.classifiers.training import cross_val_predict

    frame = training_frame()
    y = frame["label"].astype(str).to_numpy()
    for strata, name in ((False, "recipe 5: balanced over all rows"),
                         (True, "recipe 6: balanced within each kind of target")):
        pred, _, _ = cross_val_predict(make_pipeline(strata=strata), frame,
                                       groups=fold_groups(frame), cv=CV_FOLDS, seed=SEED)
        parts = [f"all {_macro(y, pred):.4f}"]
        for source in ("semeval2016", "rumoureval2019"):
            s = (frame["source"] == source).to_numpy()
            crit = f1_score(y[s], pred[s], labels=["criticism"], average="macro")
            parts.append(f"{source} {_macro(y[s], pred[s]):.4f} (criticism {crit:.4f})")
        rows.append(("default training data (train + val/dev), the card's 5-fold CV grouped by "
                     "SemEval target / RumourEval event", f"default {name}", "macro-F1",
                     "; ".join(parts)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    started = time.perf_counter()
    load = os.getloadavg()[0]
    rows: list = []
    compare("semeval", rows)
    compare("rumoureval", rows)
    text_handling(rows)
    recipe_strata(rows)
    lines = ["| data (folds) | model, choice | metric | value |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    text = (
        "Cross-validated comparisons behind the classifiers' design (train + val/dev only; the "
        "features of the `train` pipeline are learned once on all rows, the same for every arm, "
        "so compare arms with each other rather than with the validation scores).\n\n"
        f"Command: `python benchmarks/classifier_choices.py --write`; machine: "
        f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs (load average "
        f"{load:.1f} at the start), Python {platform.python_version()}, one thread; date: "
        f"{dt.date.today().isoformat()}; total run {time.perf_counter() - started:.0f} s.\n\n"
        + "\n".join(lines) + "\n"
    )
    print(f"{SECTION}\n\n{text}")
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
