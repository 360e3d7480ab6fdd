"""Evaluation metrics of a labelling: accuracy, macro-F1 (with a bootstrap interval), per-class
precision / recall / F1, the confusion matrix, F_avg over chosen labels, and grouped
cross-validation.

Pure functions over arrays of true and predicted labels. F_avg is the SemEval-2016 Task 6 metric:
the mean F1 of the labels it names (favor and against), ignoring the rest.

A label with no true and no predicted instance has no F1 (0 / 0): it is left out of macro-F1,
of F_avg and of every bootstrap resample's macro-F1, and its per-class scores are null. When
none of the labels averaged over has an instance, there is no average to give: the functions
say so (a :class:`~analysis.errors.UserError`, or null in the report) instead of returning 0.

Examples
--------
>>> report = classification_report(["a", "a", "b", "c"], ["a", "b", "b", "c"], n_boot=0)
>>> report["accuracy"], round(report["macro_f1"], 4)
(0.75, 0.7778)
>>> report["confusion"]["matrix"]
[[1, 1, 0], [0, 1, 0], [0, 0, 1]]
>>> f_avg(["a", "b", "c"], ["a", "b", "b"], ["a", "b"])
0.8333333333333333
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from analysis import config
from analysis.errors import UserError
from analysis.trend import MIN_THREADS


def _arrays(y_true: Sequence, y_pred: Sequence) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(list(y_true), dtype=object)
    p = np.asarray(list(y_pred), dtype=object)
    if t.shape != p.shape:
        raise ValueError(f"{len(t)} true labels but {len(p)} predictions")
    if len(t) == 0:
        raise ValueError("no labels to evaluate")
    return t, p


def present_labels(y_true: Sequence, y_pred: Sequence, labels: Sequence[str]) -> list[str]:
    """Those of ``labels`` with a true or a predicted instance: the labels that have an F1."""
    found = set(np.asarray(list(y_true), dtype=object).tolist()) | \
        set(np.asarray(list(y_pred), dtype=object).tolist())
    return [label for label in labels if label in found]


def _no_instance(labels: Sequence[str]) -> UserError:
    return UserError(f"no true or predicted instance of {', '.join(map(repr, labels))}: they "
                     "have no F1 to average; name labels that occur in the data or among the "
                     "predictions")


def f_avg(y_true: Sequence, y_pred: Sequence, labels: Sequence[str]) -> float:
    """Mean F1 of ``labels`` (SemEval-2016 F_avg with labels favor, against).

    A label with no true and no predicted instance has no F1 and is left out of the mean; when
    none of ``labels`` has one, a :class:`~analysis.errors.UserError`.
    """
    t, p = _arrays(y_true, y_pred)
    present = present_labels(t, p, labels)
    if not present:
        raise _no_instance(labels)
    return float(f1_score(t, p, labels=present, average="macro", zero_division=0))


def confusion(y_true: Sequence, y_pred: Sequence, labels: Sequence[str]) -> dict:
    """``{"labels": [...], "matrix": [[...]]}``: rows are true labels, columns predicted."""
    t, p = _arrays(y_true, y_pred)
    matrix = confusion_matrix(t, p, labels=list(labels))
    return {"labels": list(labels), "matrix": matrix.astype(int).tolist()}


#: Draws of a grouped bootstrap per resample kept, at most: resamples that lack some label's
#: true rows are drawn again, and more than this many draws per interval resample means the label
#: sits in too few groups for a grouped interval.
MAX_DRAWS_PER_RESAMPLE = 50


def bootstrap_ci(y_true: Sequence, y_pred: Sequence, labels: Sequence[str], *,
                 n_boot: int = config.N_BOOT, ci: float = 0.95, random_state: int = 0,
                 groups: Sequence | None = None) -> list[float]:
    """Percentile bootstrap interval of the macro-F1 that :func:`classification_report` gives.

    Every resample's macro-F1 follows the point estimate's rule: the mean F1 of those of
    ``labels`` that occur among the resample's true labels or predictions (a label predicted
    but never true counts, with F1 0, only in the resamples that draw a row predicting it). So
    that every true label has rows in every resample, the resampling is stratified: each true
    label's rows are resampled among themselves (every label keeps its support). With
    ``groups`` the resampling units are the groups (threads), not the rows, and a resample that
    lacks some label's true rows is drawn again; a label held by so few groups that this fails
    more than :data:`MAX_DRAWS_PER_RESAMPLE` times per resample is a
    :class:`~analysis.errors.UserError`, and fewer than :data:`analysis.trend.MIN_THREADS`
    groups a warning (the interval is too narrow).

    Examples
    --------
    >>> y = ["a"] * 40 + ["b"] * 40 + ["c"] * 2
    >>> p = ["a"] * 30 + ["b"] * 10 + ["b"] * 35 + ["a"] * 5 + ["c", "a"]
    >>> low, high = bootstrap_ci(y, p, ["a", "b", "c"], n_boot=200)
    >>> low <= classification_report(y, p, n_boot=0)["macro_f1"] <= high
    True
    """
    if n_boot < 1:
        raise UserError(f"n_boot (--n-boot) must be at least 1 for an interval (got {n_boot}); "
                        "use 0 for no interval")
    t, p = _arrays(y_true, y_pred)
    rng = np.random.default_rng(random_state)
    labels = list(labels)
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    # per-row codes; rows whose labels are outside `labels` still count as errors
    tc = np.array([index.get(v, k) for v in t])
    pc = np.array([index.get(v, k) for v in p])
    if not np.isin(np.arange(k), np.concatenate([tc, pc])).any():
        raise _no_instance(labels)
    draw = _group_draws(groups, tc, labels, rng, n_boot) if groups is not None else \
        _stratified_draws(tc, rng)
    scores = np.empty(n_boot)
    for b in range(n_boot):
        rows = next(draw)
        cm = np.bincount(tc[rows] * (k + 1) + pc[rows], minlength=(k + 1) ** 2)
        cm = cm.reshape(k + 1, k + 1)
        tp = np.diag(cm)[:k].astype(float)
        denom = cm[:, :k].sum(axis=0) + cm[:k, :].sum(axis=1)
        f1 = np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)
        scores[b] = f1[denom > 0].mean()  # labels with an instance in this resample
    alpha = (1 - ci) / 2
    return [float(np.quantile(scores, alpha)), float(np.quantile(scores, 1 - alpha))]


def _stratified_draws(codes: np.ndarray, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Endless row resamples, each true label's rows drawn with replacement among themselves."""
    strata = [np.flatnonzero(codes == c) for c in np.unique(codes)]
    while True:
        yield np.concatenate([rows[rng.integers(0, len(rows), size=len(rows))]
                              for rows in strata])


def _group_draws(groups: Sequence, codes: np.ndarray, labels: list[str],
                 rng: np.random.Generator, n_boot: int) -> Iterator[np.ndarray]:
    """Endless row resamples made of groups drawn with replacement, each holding every true
    label of the whole sample (resamples that lack one are drawn again)."""
    g = np.asarray(list(groups), dtype=object).astype(str)
    if len(g) != len(codes):
        raise ValueError(f"{len(g)} groups for {len(codes)} rows")
    names, unit = np.unique(g, return_inverse=True)
    if len(names) < 2:  # every resample is the sample itself: an interval of width 0
        raise UserError(f"all rows are in one group ({str(names[0])!r}): a grouped bootstrap "
                        "interval needs at least two groups; leave out --group-col, or give "
                        "--n-boot 0 for no interval")
    if len(names) < MIN_THREADS:  # the trend stage flags its bins for the same reason
        warnings.warn(f"the bootstrap interval of macro-F1 resamples only {len(names)} groups; "
                      f"over fewer than {MIN_THREADS} it is too narrow (its coverage falls well "
                      "below 95%: docs/statistics.md, \"Flags\"); read it as a rough lower bound "
                      "on the uncertainty", stacklevel=2)
    members = [np.flatnonzero(unit == i) for i in range(len(names))]
    needed = np.unique(codes[codes < len(labels)])
    holds = np.zeros((len(names), len(labels) + 1), dtype=bool)  # group x label code
    holds[unit, codes] = True
    budget = MAX_DRAWS_PER_RESAMPLE * n_boot
    while True:
        pick = rng.integers(0, len(names), size=len(names))
        budget -= 1
        if holds[pick][:, needed].any(axis=0).all():
            yield np.concatenate([members[i] for i in pick])
        elif budget <= 0:
            rare = min(needed, key=lambda c: holds[:, c].sum())
            raise UserError(f"label {labels[rare]!r} is in only {int(holds[:, rare].sum())} of "
                            f"{len(names)} groups: too few for a grouped bootstrap interval of "
                            "macro-F1 over all labels; group more finely (--group-col), or with "
                            "evaluate give --n-boot 0 for no interval")


def classification_report(y_true: Sequence, y_pred: Sequence, labels: Sequence[str] | None = None,
                          *, average_over: Sequence[str] | None = None,
                          n_boot: int = config.N_BOOT,
                          ci: float = 0.95, random_state: int = 0,
                          groups: Sequence | None = None) -> dict:
    """Everything ``evaluate --json`` prints, as a JSON-ready dict.

    Keys: ``n``, ``accuracy``, ``macro_f1`` (the mean F1 of the labels that occur among the true
    labels or the predictions: a label that is neither has no F1 and does not count),
    ``macro_f1_ci`` ([low, high], bootstrap; null when ``n_boot`` is 0), ``per_class`` ({label:
    {precision, recall, f1, support}}; precision, recall and f1 null for a label that is neither
    true nor predicted), ``confusion`` ({labels, matrix}, rows true) and with ``average_over``,
    ``f_avg`` (the mean F1 of those of its labels that occur; null when none does),
    ``f_avg_labels`` and, when some of them do not occur, ``f_avg_labels_absent``.

    None of ``labels`` occurring among the true labels or the predictions is a
    :class:`~analysis.errors.UserError`.
    """
    if n_boot < 0:
        raise UserError(f"n_boot (--n-boot) must be 0 (no interval) or more; got {n_boot}")
    t, p = _arrays(y_true, y_pred)
    if labels is None:
        labels = sorted(set(t.tolist()) | set(p.tolist()), key=str)
    labels = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        t, p, labels=labels, zero_division=0)
    present = present_labels(t, p, labels)
    if not present:
        raise _no_instance(labels)
    seen = np.isin(labels, present)
    report = {
        "n": int(len(t)),
        "accuracy": float(np.mean(t == p)),
        "macro_f1": float(np.mean(f1[seen])),
        "per_class": {
            label: {"precision": float(precision[i]) if seen[i] else None,
                    "recall": float(recall[i]) if seen[i] else None,
                    "f1": float(f1[i]) if seen[i] else None, "support": int(support[i])}
            for i, label in enumerate(labels)
        },
        "confusion": confusion(t, p, labels),
    }
    report["macro_f1_ci"] = bootstrap_ci(t, p, labels, n_boot=n_boot, ci=ci,
                                         random_state=random_state,
                                         groups=groups) if n_boot else None
    if average_over:
        counted = present_labels(t, p, average_over)
        report["f_avg"] = f_avg(t, p, counted) if counted else None
        report["f_avg_labels"] = list(average_over)
        absent = [label for label in average_over if label not in counted]
        if absent:
            report["f_avg_labels_absent"] = absent
    return report


def calibration_error(y_true: Sequence, proba: np.ndarray, classes: Sequence[str],
                      n_bins: int = 10) -> float:
    """Expected calibration error of the top-class probability (equal-width bins)."""
    t = np.asarray(list(y_true), dtype=object)
    proba = np.asarray(proba, dtype=float)
    top = proba.argmax(axis=1)
    conf = proba.max(axis=1)
    correct = np.asarray(classes, dtype=object)[top] == t
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)


def grouped_folds(groups: Sequence | None, n: int, k: int, *, random_state: int = 0,
                  y: Sequence | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs for ``k``-fold CV; folds never split a group.

    Without groups, folds are stratified by ``y`` when given. Deterministic given the seed.
    """
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

    X = np.zeros((n, 1))
    if groups is not None:
        g = np.asarray(list(groups), dtype=object).astype(str)
        n_groups = len(np.unique(g))
        if n_groups < 2:
            raise UserError("grouped cross-validation needs at least two groups; "
                            "name another --group-col or leave it out")
        splitter = GroupKFold(n_splits=min(k, n_groups), shuffle=True,
                              random_state=random_state)
        return [(tr, te) for tr, te in splitter.split(X, groups=g)]
    if y is not None:
        yy = np.asarray(list(y), dtype=object).astype(str)
        smallest = min(np.unique(yy, return_counts=True)[1])
        if smallest >= k:
            splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
            return [(tr, te) for tr, te in splitter.split(X, yy)]
    if k > n:
        raise UserError(f"cv (--cv) = {k} asks for more folds than there are rows ({n}); "
                        "use fewer folds")
    splitter = KFold(n_splits=k, shuffle=True, random_state=random_state)
    return [(tr, te) for tr, te in splitter.split(X)]
