"""Training, cross-validation, evaluation and out-of-group prediction of stance models.

Every function takes a model frame: the X columns (``text``, ``target``, ``context``, ``depth``;
see :func:`model_frame` to build one from any table) plus a label column.
"""

from __future__ import annotations

import numbers
import os
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from analysis import config
from analysis.classifiers import metrics
from analysis.classifiers.datasets import X_COLUMNS, frame_digest
from analysis.classifiers.labelling import (
    apply_text_rules,
    labels_table,
    model_input,
    non_english,
    predict_with_rules,
)
from analysis.classifiers.linear import labels_from_proba, proba_and_weights
from analysis.errors import UserError, check_jobs, check_n_boot, check_table, worker_count


def _column_values(table: pd.DataFrame, col: str, role: str, source: object) -> pd.Series:
    if col not in table.columns:
        raise UserError(f"missing {role} column {col!r} (columns: "
                        f"{', '.join(map(str, table.columns[:12]))}); name it with --{role}-col",
                        source)
    return table[col]


def _as_text(values: pd.Series, role: str, source: object) -> pd.Series:
    """Text column as strings; nulls stay null; numbers and other non-strings are an error."""
    obj = values.astype("object")
    bad = [v for v in obj.dropna().tolist() if not isinstance(v, str)]
    if bad:
        raise UserError(f"{role} column holds non-text values such as {bad[0]!r}; "
                        "convert them to text or drop those rows", source)
    return pd.Series(pd.array(obj.where(obj.notna(), None).tolist(), dtype="string"),
                     index=values.index)


def model_frame(table: pd.DataFrame, *, text_col: str = "text", target_col: str | None = None,
                target: str | None = None, context_col: str | None = None,
                depth_col: str | None = "depth", label_col: str | None = None,
                group_col: str | None = None, source: object = None) -> pd.DataFrame:
    """The frame models read, from any table with the named columns (a new frame).

    Columns: ``text``, ``target`` (``target_col``, or the fixed ``target``, else null),
    ``context``, ``depth`` (from ``depth_col`` when the table has it), and ``label`` / ``group``
    when their columns are named (a blank group is null, as an empty cell; a label loses the
    spaces around it, so ``' favor '`` is ``'favor'``, and keeps its case). ``uid`` is the
    table's ``uid``, else its ``id`` when those are unique (so that labels join back to the
    rows), else the row number.
    """
    out = pd.DataFrame(index=table.index)
    if "uid" in table.columns:
        out["uid"] = table["uid"].astype("string")
    elif "id" in table.columns and table["id"].notna().all() and table["id"].is_unique:
        out["uid"] = table["id"].astype("string")
    else:
        out["uid"] = pd.array([str(i) for i in range(len(table))], dtype="string")
    out["text"] = _as_text(_column_values(table, text_col, "text", source), "text", source)
    if target is not None:
        if not str(target).strip():  # a blank target in a column is no target: so is this one
            raise UserError(f"target (--target) {target!r} is empty; give the target's name or "
                            "text, or leave it out")
        out["target"] = pd.array([target] * len(table), dtype="string")
    elif target_col:
        out["target"] = _as_text(_column_values(table, target_col, "target", source), "target",
                                 source)
    else:
        out["target"] = pd.array([None] * len(table), dtype="string")
    if context_col:
        out["context"] = _as_text(_column_values(table, context_col, "context", source),
                                  "context", source)
    else:
        out["context"] = pd.array([None] * len(table), dtype="string")
    if depth_col and depth_col in table.columns:
        out["depth"] = pd.to_numeric(table[depth_col], errors="coerce").astype("Int16")
    else:
        out["depth"] = pd.array([None] * len(table), dtype="Int16")
    if label_col:
        labels = _column_values(table, label_col, "label", source).astype("object")
        if labels.isna().any():
            raise UserError(f"{int(labels.isna().sum())} rows have no label in {label_col!r}; "
                            "drop them or fill them in", source)
        written = _label_texts(labels, label_col, source)
        stripped = [label_form(label) for label in written]  # ' favor ' is 'favor'
        blank = sum(not label for label in stripped)
        if blank:
            raise UserError(f"{blank} rows have no label in {label_col!r} (only spaces); drop "
                            "them or fill them in", source)
        out["label"] = pd.array(stripped, dtype="string")
        _refuse_label_variants(written, label_col, source)
    if group_col:
        groups = _column_values(table, group_col, "group", source).astype("object")
        named = groups.notna() & (groups.astype(str).str.strip() != "")
        out["group"] = pd.array([str(g) if ok else None for g, ok in zip(groups, named,
                                                                          strict=True)],
                                dtype="string")
    out = out.reset_index(drop=True)
    out.attrs["columns"] = {"text": text_col, "label": label_col, "target": target_col,
                            "fixed_target": target, "context": context_col, "group": group_col}
    return out


def _check_model_frame(frame: object, label_col: str, source: object) -> None:
    """A :class:`UserError` unless ``frame`` is a model frame (a DataFrame, from
    :func:`model_frame`) with the label column ``label_col``."""
    check_table(frame, "frame", "a model frame (a DataFrame from model_frame)", source)
    if label_col not in frame.columns:
        raise UserError(f"the frame has no label column {label_col!r}; make it with "
                        "model_frame(..., label_col=...) (train, evaluate: --label-col)", source)


def _x(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[:, [c for c in X_COLUMNS if c in frame.columns]]


def frame_groups(frame: pd.DataFrame, source: object = None) -> np.ndarray | None:
    """The ``group`` column of a model frame as strings, or None when it has none.

    A row without a group is a :class:`~analysis.errors.UserError`: as one more group, all such
    rows would be one thread to the bootstrap and one block to the cross-validation's folds.
    ``train`` and ``evaluate`` both read groups this way.
    """
    if "group" not in frame.columns:
        return None
    missing = int(frame["group"].isna().sum())
    if missing:
        raise UserError(f"{missing} of {len(frame)} rows have no group; fill the group column "
                        "or leave it out", source)
    return frame["group"].astype(str).to_numpy()


def _label_kind(value: object) -> str:
    """``text``, ``whole number`` (not a boolean) or the name of another type of label value."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return "whole number"
    return "boolean" if isinstance(value, (bool, np.bool_)) else type(value).__name__


def _label_texts(labels: pd.Series, label_col: str, source: object) -> list[str]:
    """The labels of a label column without nulls, as text: strings as they are, and whole
    numbers (label codes in a JSON-lines or Parquet file) as their digits, as a CSV file gives
    them. Booleans, other numbers (``1.0`` reads as another label than ``1``) and a column mixing
    text with numbers are a :class:`~analysis.errors.UserError` naming the column and a row (its
    number among the table's rows): they would be learned silently as labels like ``'True'``."""
    values = labels.tolist()
    kinds = [_label_kind(v) for v in values]
    first = kinds[0] if kinds else "text"
    for row, (value, kind) in enumerate(zip(values, kinds, strict=True), start=1):
        if kind not in ("text", "whole number"):
            raise UserError(f"label column {label_col!r} holds a {kind} value ({value!r} in row "
                            f"{row}); write the labels as text", source)
        if kind != first:
            raise UserError(f"label column {label_col!r} mixes text and numbers (row 1 holds "
                            f"{values[0]!r}, row {row} {value!r}); write the labels as text",
                            source)
    return [v if isinstance(v, str) else str(int(v)) for v in values]


def label_form(label: str) -> str:
    """A label as it is learned and scored: without spaces around it, in Unicode's composed
    form (NFC), so that "négatif" typed on one system and on another are one label."""
    return unicodedata.normalize("NFC", label.strip())


def _refuse_label_variants(labels: Sequence[str], label_col: str, source: object) -> None:
    """A :class:`~analysis.errors.UserError` when two labels, spaces around them dropped (as
    :func:`model_frame` drops them), differ only by case (``none`` and ``None``): they would be
    learned and scored as separate labels. ``labels`` are the labels as written; the message
    shows every spelling of such a label (``'None'``, ``'none'`` and ``'none '``)."""
    spellings: dict[str, dict[str, set[str]]] = {}
    for value in dict.fromkeys(labels):
        stripped = label_form(str(value))
        spellings.setdefault(stripped.casefold(), {}).setdefault(stripped, set()).add(str(value))
    variants = [sorted(set().union(*found.values())) for found in spellings.values()
                if len(found) > 1]
    if variants:
        shown = "; ".join(" and ".join(map(repr, found)) for found in sorted(variants)[:3])
        raise UserError(f"labels in {label_col!r} differ only by case or spaces ({shown}); write "
                        "each label one way (spaces around a label are dropped; case is kept)",
                        source)


def distinct_rows(frame: pd.DataFrame, *, label_col: str = "label",
                  source: object = None) -> np.ndarray:
    """Which rows of a labelled model frame to use: all but exact repeats of a row.

    A post labelled twice would count twice in training and in metrics. Rows that repeat another
    row in every column (uid, texts, label, group) are left out with a warning saying how many;
    a uid on rows that differ (two labels, or two texts) is a
    :class:`~analysis.errors.UserError`, and so is a row without a uid (a null in the table's
    ``uid`` column: as ``label`` refuses it). ``train`` and ``evaluate`` both read labelled rows
    this way.

    Returns
    -------
    numpy.ndarray
        A boolean mask over the rows of ``frame``: True for the rows to use.
    """
    if "uid" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    missing = int(frame["uid"].isna().sum())
    if missing:
        raise UserError(f"{missing} of {len(frame)} rows have no uid; fill them in, or drop the "
                        "uid column to count every row as a post of its own", source)
    repeat = frame.duplicated(keep="first").to_numpy(dtype=bool)
    keep = ~repeat
    uids = frame["uid"][keep]
    clash = uids[uids.duplicated(keep=False)]
    if len(clash):
        same = frame["uid"].eq(clash.iloc[0]).to_numpy(dtype=bool)
        rows = frame[keep & same]
        differ = [c for c in rows.columns if rows[c].nunique(dropna=False) > 1]
        what = "labels" if label_col in differ else ", ".join(differ)
        raise UserError(f"{clash.nunique()} uid(s) are on several rows that differ (e.g. "
                        f"{clash.iloc[0]!r}: different {what}); keep one row per uid", source)
    if repeat.any():
        warnings.warn(f"{int(repeat.sum())} rows repeat another row with the same uid exactly; "
                      "each post is used once", UserWarning, stacklevel=2)
    return keep


def _fit(estimator: object, X: pd.DataFrame, y: np.ndarray) -> object:
    """``clone(estimator).fit(X, y)``; texts without a single word are a UserError."""
    try:
        return clone(estimator).fit(X, y)
    except ValueError as exc:
        if "empty vocabulary" not in str(exc):
            raise
        raise UserError("the texts hold no words to learn from (empty, or only stop words / "
                        "punctuation); check --text-col and drop empty texts") from exc


#: Values of the logistic regression's ``C`` that ``train`` chooses from (by out-of-fold macro-F1
#: of its cross-validation) when ``--C`` is not given. Three values keep training about twice as
#: long as one fit per fold; on the validation splits the choice moved SemEval-2016 F_avg and
#: RumourEval SDQC macro-F1 by about +0.01 (see docs/classifiers.md).
C_GRID = (0.5, 1.0, 2.0)


def _head_and_last(estimator: object) -> tuple[object | None, str, object]:
    """(all steps but the last, or None; the last step's name; the last step) of a pipeline."""
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        return Pipeline(estimator.steps[:-1]), estimator.steps[-1][0], estimator.steps[-1][1]
    return None, "", estimator


def _out_of_fold(estimator: object, frame: pd.DataFrame, settings: Sequence[dict], *,
                 groups: Sequence | None, cv: int, seed: int, jobs: int,
                 label_col: str) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """Out-of-fold (labels, probabilities) for each parameter setting of the last step.

    Per fold, the steps before the last (the features, vocabularies included) are fitted once on
    the training folds only, then the last step once per setting; held-out rows are only ever
    transformed and predicted, with ``label``'s rules for texts without words and repeated
    phrases (:func:`~analysis.classifiers.labelling.predict_with_rules`; not its language rule,
    which moves probabilities only and needs a language the model frame does not carry).
    """
    from joblib import Parallel, delayed

    check_jobs(jobs)
    y = frame[label_col].astype(str).to_numpy()
    classes = sorted(set(y))
    folds = metrics.grouped_folds(groups, len(frame), cv, random_state=seed, y=y)
    for number, (train, _) in enumerate(folds, start=1):
        if len(set(y[train])) < 2:
            raise UserError(f"fold {number} of the cross-validation would train on rows of one "
                            f"label only ({y[train][0]!r}): too few rows per label, or a group "
                            "holding every row of the others; use fewer folds (--cv), another "
                            "--group-col, or --cv 0")
    X = _x(frame)
    head, _, last = _head_and_last(estimator)

    def run(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, list]:
        if head is None:
            fit_x, test_x = X.iloc[train], model_input(X.iloc[test])
        else:
            fitted_head = _fit(head, X.iloc[train], y[train])
            fit_x = fitted_head.transform(X.iloc[train])
            test_x = fitted_head.transform(model_input(X.iloc[test]))
        out = []
        for params in settings:
            model = _fit(clone(last).set_params(**params), fit_x, y[train])
            proba = np.zeros((len(test), len(classes)))
            got, weights = proba_and_weights(model, test_x)
            got, labels = apply_text_rules(
                got, labels_from_proba(got, [str(c) for c in model.classes_], weights),
                X["text"].iloc[test], model)
            for j, c in enumerate(model.classes_):
                proba[:, classes.index(c)] = got[:, j]
            out.append((proba, labels))
        return test, out

    results = Parallel(n_jobs=worker_count(jobs, len(folds)))(
        delayed(run)(tr, te) for tr, te in folds)
    combined = []
    for k in range(len(settings)):
        proba = np.zeros((len(frame), len(classes)))
        pred = np.empty(len(frame), dtype=object)
        for test, out in results:
            proba[test] = out[k][0]
            pred[test] = out[k][1]
        combined.append((pred, proba))
    return combined, classes


def fold_plan(frame: pd.DataFrame, *, groups: Sequence | None = None, cv: int = 5,
              seed: int = config.DEFAULT_SEED, label_col: str = "label",
              estimator: object | None = None) -> dict:
    """How :func:`cross_val_predict` splits ``frame``.

    Returns
    -------
    dict
        ``folds`` (the number made: fewer than ``cv`` when there are fewer groups), ``grouped``
        (whether ``groups`` were given), ``labels_unlearned`` (labels that some fold's training
        part lacks; that fold cannot predict them, so their cross-validated recall is lower
        than a model trained on all rows would reach) and ``texts_in_several_folds`` (rows whose
        text, as ``estimator`` reads it, is also the text of a row in another fold, such as
        retweets and copied replies: a fold is then scored on texts its model was trained on,
        which inflates the cross-validated scores; empty texts do not count).
    """
    y = frame[label_col].astype(str).to_numpy()
    folds = metrics.grouped_folds(groups, len(frame), cv, random_state=seed, y=y)
    everything = set(y)
    missing = set().union(*(everything - set(y[train]) for train, _ in folds))
    return {"folds": len(folds), "grouped": groups is not None,
            "labels_unlearned": sorted(missing),
            "texts_in_several_folds": _texts_in_several_folds(_texts_as_read(estimator, frame),
                                                              folds)}


def _texts_as_read(estimator: object | None, frame: pd.DataFrame) -> pd.Series:
    """``frame["text"]`` as ``estimator`` reads it: with links and @handles replaced
    (:func:`~analysis.classifiers.features.normalize_links`) when a step of it has
    ``normalize`` set, as ``train``'s features do; else as it is."""
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    if any(value is True and (name == "normalize" or name.endswith("__normalize"))
           for name, value in params.items()):
        from analysis.classifiers.features import normalize_links

        return normalize_links(frame[["text"]])["text"]
    return frame["text"]


def _texts_in_several_folds(texts: pd.Series, folds: Sequence[tuple[np.ndarray, np.ndarray]],
                            ) -> int:
    """How many rows share their (non-empty) text with a row held out in another fold."""
    fold_of = np.empty(len(texts), dtype=int)
    for number, (_, test) in enumerate(folds):
        fold_of[test] = number
    values = texts.astype("object").to_numpy()
    worded = np.array([isinstance(v, str) and bool(v.strip()) for v in values], dtype=bool)
    if not worded.any():
        return 0
    folds_per_text = pd.Series(fold_of[worded]).groupby(values[worded]).transform("nunique")
    return int((folds_per_text > 1).sum())


def cross_val_predict(estimator: object, frame: pd.DataFrame, *, groups: Sequence | None = None,
                      cv: int = 5, seed: int = config.DEFAULT_SEED, jobs: int = 1,
                      label_col: str = "label") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Out-of-fold predictions and probabilities (folds grouped by ``groups`` when given).

    Returns (predicted labels, probabilities with columns ``classes``, classes). Each row is
    predicted by a model fitted on the other folds only: vocabularies included.
    """
    [(pred, proba)], classes = _out_of_fold(estimator, frame, [{}], groups=groups, cv=cv,
                                            seed=seed, jobs=jobs, label_col=label_col)
    return pred, proba, classes


def select_C(estimator: object, frame: pd.DataFrame, grid: Sequence[float] = C_GRID, *,
             groups: Sequence | None = None, cv: int = 5, seed: int = config.DEFAULT_SEED,
             jobs: int = 1, label_col: str = "label",
             ) -> tuple[float, dict[str, float], tuple[np.ndarray, np.ndarray, list[str]]]:
    """Choose the last step's ``C`` from ``grid`` by out-of-fold macro-F1 on ``frame`` alone.

    The folds are those of :func:`cross_val_predict` (grouped by ``groups`` when given); each
    fold's features are learned from its training folds only, so the choice never sees a row it
    is scored on. Ties go to the value closest to 1.

    Returns
    -------
    tuple
        (chosen C, {str(C): out-of-fold macro-F1}, (labels, probabilities, classes) of the
        chosen C's out-of-fold predictions).

    Examples
    --------
    >>> from analysis.classifiers.default import make_pipeline
    >>> frame = pd.DataFrame({"text": ["good idea", "great plan", "bad idea", "awful plan"] * 5,
    ...                       "label": ["pro", "pro", "con", "con"] * 5})
    >>> best, scores, _ = select_C(make_pipeline(), frame, cv=2)
    >>> best in C_GRID, sorted(scores)
    (True, ['0.5', '1.0', '2.0'])
    """
    grid = [float(c) for c in grid]
    if not grid or any(not 0 < c < float("inf") for c in grid):
        raise UserError(f"the C grid must hold positive numbers; got {grid}")
    results, classes = _out_of_fold(estimator, frame, [{"C": c} for c in grid], groups=groups,
                                    cv=cv, seed=seed, jobs=jobs, label_col=label_col)
    y = frame[label_col].astype(str).to_numpy()
    scores = [metrics.f_avg(y, pred, classes) for pred, _ in results]  # macro-F1
    best = max(range(len(grid)), key=lambda i: (round(scores[i], 12), -abs(np.log(grid[i]))))
    pred, proba = results[best]
    return grid[best], {repr(c): float(s) for c, s in zip(grid, scores, strict=True)}, \
        (pred, proba, classes)


def cross_validate(estimator: object, frame: pd.DataFrame, *, groups: Sequence | None = None,
                   cv: int = 5, seed: int = config.DEFAULT_SEED, jobs: int = 1,
                   labels: Sequence[str] | None = None, label_col: str = "label",
                   C_grid: Sequence[float] | None = None, n_boot: int = config.N_BOOT,
                   average_over: Sequence[str] | None = None,
                   source: object = None) -> tuple[object, dict]:
    """Cross-validated scores of ``estimator`` on ``frame`` (``cv`` >= 2 folds, grouped by
    ``groups`` when given), as a model card records them.

    With ``C_grid``, the last step's ``C`` is first chosen by :func:`select_C` on the same folds
    and the scores are those of the chosen value (a little optimistic: the best of
    ``len(C_grid)``). ``train`` (through :func:`fit_with_card`) and ``evaluate --cv`` both
    cross-validate this way, so they give the same scores for the same rows, folds and seed.

    Returns
    -------
    tuple
        (``estimator``, with the chosen ``C`` when ``C_grid`` is given; the card's fields:
        ``C`` and ``C_selection`` (out-of-fold macro-F1 per value) with ``C_grid``,
        ``cv_folds``, ``cv_grouped``, ``cv_labels_unlearned`` (when there are some),
        ``cv_texts_in_several_folds`` (see :func:`fold_plan`), ``cv_metrics`` (the
        :func:`~analysis.classifiers.metrics.classification_report` of the out-of-fold
        predictions over ``labels``, default the labels found; ``n_boot`` resamples, of groups
        when grouped), ``cv_confusion`` and ``cv_calibration_ece``).

    ``source``, the file the rows came from, is named in the errors of the cross-validation
    (too many folds, too few groups, a fold of one label, a label in too few groups).
    """
    with _naming(source):
        return _cross_validate(estimator, frame, groups=groups, cv=cv, seed=seed, jobs=jobs,
                               labels=labels, label_col=label_col, C_grid=C_grid,
                               n_boot=n_boot, average_over=average_over)


@contextmanager
def _naming(source: object) -> Iterator[None]:
    """Put ``source`` in front of a :class:`~analysis.errors.UserError` that names no file."""
    try:
        yield
    except UserError as exc:
        if source is None or exc.path is not None:
            raise
        raise UserError(str(exc), source) from exc


def _cross_validate(estimator: object, frame: pd.DataFrame, *, groups: Sequence | None,
                    cv: int, seed: int, jobs: int, labels: Sequence[str] | None,
                    label_col: str, C_grid: Sequence[float] | None, n_boot: int,
                    average_over: Sequence[str] | None) -> tuple[object, dict]:
    y = frame[label_col].astype(str).to_numpy()
    fields: dict = {}
    if C_grid:
        best, scores, (pred, proba, classes) = select_C(
            estimator, frame, C_grid, groups=groups, cv=cv, seed=seed, jobs=jobs,
            label_col=label_col)
        _, last_name, _ = _head_and_last(estimator)
        estimator = clone(estimator).set_params(
            **{f"{last_name}__C" if last_name else "C": best})
        fields["C"] = best
        fields["C_selection"] = scores
    else:
        pred, proba, classes = cross_val_predict(estimator, frame, groups=groups, cv=cv,
                                                 seed=seed, jobs=jobs, label_col=label_col)
    plan = fold_plan(frame, groups=groups, cv=cv, seed=seed, label_col=label_col,
                     estimator=estimator)
    fields["cv_folds"] = plan["folds"]
    fields["cv_grouped"] = plan["grouped"]
    if plan["labels_unlearned"]:
        fields["cv_labels_unlearned"] = plan["labels_unlearned"]
    fields["cv_texts_in_several_folds"] = plan["texts_in_several_folds"]
    fields["cv_metrics"] = metrics.classification_report(
        y, pred, list(labels) if labels is not None else classes, average_over=average_over,
        n_boot=n_boot, random_state=seed, groups=groups)
    fields["cv_confusion"] = fields["cv_metrics"]["confusion"]
    fields["cv_calibration_ece"] = metrics.calibration_error(y, proba, classes)
    return estimator, fields


def fit_with_card(estimator: object, frame: pd.DataFrame, *, groups: Sequence | None = None,
                  cv: int = 5, seed: int = config.DEFAULT_SEED, jobs: int = 1,
                  model_id: str = "model", labels: Sequence[str] | None = None,
                  label_col: str = "label", C_grid: Sequence[float] | None = None,
                  source: object = None,
                  data_file: str | Path | None = None) -> tuple[object, dict]:
    """Cross-validate ``estimator`` on ``frame``, then fit it on all of it; return (model, card).

    The card holds ``model_id``, ``labels``, ``data_sha256`` (the sha256 of ``data_file``'s
    bytes, when the rows were read from that file; absent otherwise), ``rows_sha256`` (a digest
    of the rows as read: the columns of ``frame`` the model reads and the label, see
    :func:`~analysis.classifiers.datasets.frame_digest`; the same rows from a CSV and from a
    Parquet file give the same one), ``seed``, ``versions``,
    ``n_train``, ``label_counts`` and, when ``cv`` >= 2, the fields of :func:`cross_validate`
    (``cv_metrics`` of the out-of-fold predictions, with a thread-level bootstrap when grouped,
    ``cv_confusion``, ``cv_calibration_ece``, ``cv_texts_in_several_folds``, ...).

    With ``C_grid`` (and ``cv`` >= 2), the last step's ``C`` is chosen by :func:`select_C` on the
    same folds; the card then records ``C``, ``C_selection`` (out-of-fold macro-F1 per value) and
    cross-validated metrics of the chosen value (a little optimistic: the best of
    ``len(C_grid)``).
    """
    from analysis.io import sha256_file
    from analysis.provenance import package_versions

    y = frame[label_col].astype(str).to_numpy()
    found = sorted(set(y))
    if len(found) < 2:
        raise UserError(f"training needs at least two labels; found {found}", source)
    labels = list(labels) if labels is not None else found
    card: dict = {
        "model_id": model_id,
        "labels": labels,
        **({"data_sha256": sha256_file(Path(data_file))} if data_file is not None else {}),
        "rows_sha256": frame_digest(frame, [*[c for c in X_COLUMNS if c in frame.columns],
                                            label_col]),
        "seed": seed,
        "versions": package_versions(),
        "n_train": int(len(frame)),
        "label_counts": {k: int(v) for k, v in pd.Series(y).value_counts().sort_index().items()},
    }
    if cv and cv >= 2:
        estimator, fields = cross_validate(estimator, frame, groups=groups, cv=cv, seed=seed,
                                           jobs=jobs, labels=labels, label_col=label_col,
                                           C_grid=C_grid, source=source)
        card.update(fields)
    with _naming(source):  # e.g. texts without words: the error names the file
        model = _fit(estimator, _x(frame), y)
    model.model_id_ = model_id
    return model, card


#: Fewest distinct labelled rows :func:`train_model` learns from (``evaluate --cv`` too).
MIN_TRAINING_ROWS = 10


def check_training_rows(frame: pd.DataFrame, source: object = None) -> None:
    """A :class:`~analysis.errors.UserError` naming ``source`` when ``frame`` (its distinct
    rows) has fewer than :data:`MIN_TRAINING_ROWS` rows to learn from."""
    if len(frame) < MIN_TRAINING_ROWS:
        raise UserError(f"only {len(frame)} labelled rows; training needs at least "
                        f"{MIN_TRAINING_ROWS}", source)


def label_typos(labels: pd.Series) -> list[str]:
    """Warnings for labels that look like a misspelling of another: a label with at most a
    tenth of the rows of a label whose name is nearly the same (difflib ratio of 0.8 or more,
    case and spaces aside), such as ``suport`` beside ``support``. Training would learn it as
    a label of its own.

    >>> label_typos(pd.Series(["support"] * 30 + ["suport"] + ["other"] * 20))
    ["label 'suport' (1 row) looks like a misspelling of 'support' (30 rows); fix it in the data, or the model learns it as a label of its own"]
    """  # noqa: E501 - a doctest's output is one line
    import difflib

    counts = labels.astype(str).value_counts()
    found = []
    for rare, n_rare in counts.items():
        for common, n_common in counts.items():
            key = (str(rare).strip().casefold(), str(common).strip().casefold())
            if rare != common and n_rare * 10 <= n_common and \
                    difflib.SequenceMatcher(None, *key).ratio() >= 0.8:
                found.append(f"label {rare!r} ({n_rare} row{'s' * (n_rare != 1)}) looks like a "
                             f"misspelling of {common!r} ({n_common} rows); fix it in the data, "
                             "or the model learns it as a label of its own")
                break
    return found


def warn_label_typos(labels: pd.Series, source: object = None) -> None:
    """A warning (naming ``source``) for each of :func:`label_typos`: ``train`` and
    ``evaluate --cv`` give them."""
    for note in label_typos(labels):
        warnings.warn(f"{source}: {note}" if source is not None else note, UserWarning,
                      stacklevel=3)


def train_model(frame: pd.DataFrame, *, model_id: str = "model", cv: int = 5,
                seed: int = config.DEFAULT_SEED, jobs: int = 1, C: float | None = None,
                fast: bool = False, estimator: object | None = None,
                source: object = None,
                data_file: str | Path | None = None) -> tuple[object, dict]:
    """Train a target-aware model on a model frame with any label set; return (model, card).

    Parameters
    ----------
    frame
        From :func:`model_frame`, with ``label`` (and ``group`` to group the CV folds). Rows
        repeated exactly are used once; a uid on rows that differ, or a row without a group,
        is a :class:`~analysis.errors.UserError` (see :func:`distinct_rows`,
        :func:`frame_groups`).
    model_id
        Name recorded in the card and in labels' ``labeler_id``: ASCII letters, digits, ``-``,
        ``_`` and ``.`` (:func:`~analysis.classifiers.persistence.check_model_id`).
    cv
        Folds of the card's cross-validation (0: none).
    C
        Inverse regularisation of the logistic regression. Default: chosen from
        :data:`C_GRID` by the card's cross-validation (out-of-fold macro-F1, folds grouped by
        ``group``), or the default model's when ``cv`` is 0.
    fast
        Leave out the character n-grams: about twice as fast prediction (the default model's
        features), somewhat less accurate (see docs/classifiers.md).
    estimator
        Any unfitted scikit-learn classifier over the model frame, instead of the default
        pipeline.
    source
        The file the rows came from, named in errors about them.
    data_file
        The file the rows were read from, when they were: the card's ``data_sha256`` is the
        sha256 of its bytes (see :func:`fit_with_card`).
    """
    from analysis.classifiers.default import DEFAULT_C
    from analysis.classifiers.persistence import card_model_version, check_model_id

    check_model_id(model_id, what="model id")
    _check_model_frame(frame, "label", source)
    columns = frame.attrs.get("columns")
    frame = frame[distinct_rows(frame, source=source)].reset_index(drop=True)
    check_training_rows(frame, source)
    warn_label_typos(frame["label"], source)
    if C is not None and not 0 < C < float("inf"):
        raise UserError(f"C (--C) must be a positive number; got {C}")
    C_grid = None
    if estimator is None:
        estimator = user_pipeline(len(frame), C=C if C is not None else DEFAULT_C, seed=seed,
                                  fast=fast)
        C_grid = C_GRID if C is None and cv and cv >= 2 else None
    groups = frame_groups(frame, source)
    model, card = fit_with_card(estimator, frame, groups=groups, cv=cv, seed=seed, jobs=jobs,
                                model_id=model_id, C_grid=C_grid, source=source,
                                data_file=data_file)
    card.setdefault("C", float(C if C is not None else DEFAULT_C))
    card["features"] = "fast (no character n-grams)" if fast else \
        "full (with character 2-5-grams)"
    if data_file is not None:
        card["source_file"] = Path(data_file).name
    if isinstance(columns, dict):  # label and label_posts apply them (labelling.model_inputs)
        card["columns"] = dict(columns)
    model.version_ = card_model_version(card)  # as the model saved with this card loads
    return model, card


def user_pipeline(n_rows: int, *, C: float = 1.0, seed: int = config.DEFAULT_SEED,
                  fast: bool = False, hashtags: bool = True, per_target: bool = True) -> object:
    """The unfitted pipeline ``train`` fits: the default model's features plus, unless ``fast``,
    character 2-5-grams (measured on SemEval val / RumourEval dev: F_avg +0.02, SDQC macro-F1
    +0.02, deny F1 +0.05, prediction about half as fast), with links and @handles replaced and,
    with the character n-grams, every term seen in training kept (``min_df=1``); see
    docs/classifiers.md for both. Unlike the default model it also reads the text's shape and the
    cue counts split by whether a reply answers the root or another reply (the ``shape`` and
    ``cuedepth`` blocks of :class:`~analysis.classifiers.features.StanceFeatures`; in 5-fold
    cross-validation on the train splits, RumourEval SDQC macro-F1 +0.010 per fold (sd 0.008),
    SemEval F_avg +0.003 (sd 0.010)).

    ``hashtags``: each hashtag's words are added to the text ("#feelthebern": "feel the bern";
    :func:`~analysis.classifiers.features.segment_hashtag`). ``per_target``: the probabilities
    are the mean of a model over all rows and one per target with enough rows
    (:class:`~analysis.classifiers.linear.PooledAndPerTarget`); targets not seen in training
    get the pooled model alone. Both together: 5-fold CV F_avg on SemEval-2016 train 0.665 ->
    0.691 (``benchmarks/train_options.py``; docs/benchmarks.md, "Train pipeline options")."""
    from analysis.classifiers.default import DEFAULT_WEIGHTS, make_pipeline
    from analysis.classifiers.linear import PooledAndPerTarget

    weights = dict(DEFAULT_WEIGHTS, char=0.0 if fast else 1.0, shape=1.0, cuedepth=1.0)
    pipeline = make_pipeline(C, weights=weights, random_state=seed,
                             min_target_count=max(20, n_rows // 100), strata=False,
                             min_df=2 if fast else 1, normalize=True)
    pipeline.set_params(features__hashtags=hashtags, features__target_index=per_target)
    if per_target:
        pipeline.steps[-1] = ("clf", PooledAndPerTarget(
            C=C, random_state=seed, min_target_count=max(20, n_rows // 100)))
    return pipeline


def evaluate_model(frame: pd.DataFrame, model: object, *,
                   average_over: Sequence[str] | None = None,
                   n_boot: int = config.N_BOOT, seed: int = config.DEFAULT_SEED,
                   label_col: str = "label", predicted: Sequence[str] | None = None,
                   source: object = None) -> dict:
    """Metrics of a fitted model's predictions against ``frame[label_col]`` (a JSON-ready dict).
    ``model``: a fitted model, or ``"default"``, ``"vader"`` or a ``.skops`` path.

    ``predicted``: the model's labels of the rows when already made (``evaluate`` passes those of
    :func:`~analysis.classifiers.labelling.label_posts`, so that it scores exactly what ``label``
    writes); by default those of :func:`~analysis.classifiers.labelling.predict_with_rules`,
    which are the same. With a ``group`` column, the bootstrap resamples groups. ``source``: the
    file the rows came from, named in errors about them.

    A label in the data that the model cannot predict, or a label of ``average_over`` that it
    does not predict, is a :class:`~analysis.errors.UserError`: the label sets differ. A model
    label with no row in the data and no prediction has no F1 and is left out of macro-F1 and
    F_avg (see :func:`~analysis.classifiers.metrics.classification_report`). So are a row
    without a group (see :func:`frame_groups`) and a uid on rows that differ; rows
    repeated exactly are scored once (see :func:`distinct_rows`).
    """
    check_n_boot(n_boot)
    _check_model_frame(frame, label_col, source)
    if isinstance(model, str | os.PathLike):  # "default", "vader" or a .skops path
        from analysis.classifiers import get_model

        model = get_model(os.fspath(model))
    keep = distinct_rows(frame, label_col=label_col, source=source)
    if predicted is not None:
        predicted = np.asarray(predicted, dtype=object)[keep]
    frame = frame[keep].reset_index(drop=True)
    groups = frame_groups(frame, source)
    classes = [str(c) for c in model.classes_]
    y = frame[label_col].astype(str).to_numpy()
    unknown = sorted(set(y) - set(classes))
    if unknown:
        raise UserError(f"labels {unknown[:5]} in the data are not among the model's labels "
                        f"{classes}; map them first", source)
    if average_over:
        bad = sorted(set(average_over) - set(classes))
        if bad:
            raise UserError(f"average_over (--average-over) names {bad} that the model does "
                            f"not predict ({classes})", source)
    if predicted is None:
        predicted = predict_with_rules(model, _x(frame))[1]
    pred = np.asarray(predicted, dtype=object).astype(str)
    return metrics.classification_report(y, pred, classes, average_over=average_over,
                                         n_boot=n_boot, random_state=seed, groups=groups)


def predict_out_of_group(frame: pd.DataFrame, model: object, groups: Sequence | str, *,
                         random_state: int = config.DEFAULT_SEED, label_col: str = "label",
                         extra: pd.DataFrame | None = None, jobs: int = 1) -> pd.DataFrame:
    """Label every row with a model trained without its group (leave-one-group-out).

    Parameters
    ----------
    frame
        Model frame with the X columns, ``label_col`` (labels in the model's label set, e.g.
        RumourEval mapped to support / criticism / other) and ``uid``.
    model
        ``"default"`` (the default recipe: each fold is trained on the other groups of
        ``frame`` plus SemEval-2016 train+val, unless ``extra`` is given), ``"vader"`` (nothing
        to train: plain predictions) or an unfitted scikit-learn estimator (cloned per fold).
    groups
        One group per row (e.g. the RumourEval event), or the name of a column of ``frame``.
    extra
        Labelled rows added to every fold's training data (they are never predicted).

    Returns
    -------
    pandas.DataFrame
        The labels table (see :func:`analysis.classifiers.labelling.labels_table`) in the order
        of ``frame``, plus a ``group`` column. Rows are labelled as ``label`` labels them
        (:func:`~analysis.classifiers.labelling.predict_with_rules`; which texts are not in
        English: ``frame``'s ``lang_detected`` or ``lang`` column, else the language detector).
    """
    from joblib import Parallel, delayed

    g = frame[groups] if isinstance(groups, str) else pd.Series(list(groups), index=frame.index)
    if len(g) != len(frame):
        raise ValueError(f"{len(g)} groups for {len(frame)} rows")
    g = g.astype("object").where(g.notna(), "<none>").astype(str).to_numpy()
    data = frame.reset_index(drop=True)
    if isinstance(model, str) and model == "vader":
        from analysis.classifiers import get_model

        fitted = get_model("vader")
        proba, labels = predict_with_rules(fitted, _x(data),
                                           foreign=non_english(data, data["text"]))
        out = labels_table(data["uid"], proba, list(fitted.classes_),
                           labeler_type="lexicon", labeler_id=_labeler_id(fitted), labels=labels)
        out["group"] = pd.array(g, dtype="string")
        return out
    if isinstance(model, str) and model == "default":
        from analysis.classifiers.datasets import map_labels, read_semeval_stance
        from analysis.classifiers.default import make_pipeline

        estimator = make_pipeline(random_state=random_state)
        if extra is None:
            extra = map_labels(read_semeval_stance(("train", "val")), "semeval2016")
        model_id = "default-out-of-group"
    elif isinstance(model, str):
        raise UserError(f"predict_out_of_group needs 'default', 'vader' or an unfitted "
                        f"estimator, not {model!r}")
    else:
        estimator = model
        model_id = getattr(model, "model_id_", type(model).__name__)
    if isinstance(model, str) and model == "default":
        from analysis.classifiers.datasets import drop_thread_info

        train_data = drop_thread_info(data)  # as the default recipe trains; predictions see all
    else:
        train_data = data
    X_fit = _x(train_data)
    y = data[label_col].astype(str).to_numpy()
    extra_x = _x(extra) if extra is not None else None
    extra_y = extra[label_col].astype(str).to_numpy() if extra is not None else None
    X = _x(data)
    foreign = non_english(data, data["text"])
    held = sorted(set(g))
    if len(held) < 2:
        raise UserError("leave-one-group-out needs at least two groups")

    def run(group: str) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
        test = np.flatnonzero(g == group)
        train = np.flatnonzero(g != group)
        X_train, y_train = X_fit.iloc[train], y[train]
        if extra_x is not None:
            X_train = pd.concat([X_train, extra_x], ignore_index=True)
            y_train = np.concatenate([y_train, extra_y])
        fitted = clone(estimator)
        if hasattr(fitted, "random_state"):
            fitted.set_params(random_state=random_state)
        fitted.fit(X_train, y_train)
        proba, labels = predict_with_rules(fitted, X.iloc[test], foreign=foreign[test])
        return test, proba, [str(c) for c in fitted.classes_], labels

    results = Parallel(n_jobs=worker_count(jobs, len(held)))(
        delayed(run)(group) for group in held)
    classes = sorted(set().union(*(set(c) for _, _, c, _ in results)) | set(y))
    proba = np.zeros((len(data), len(classes)))
    labels = np.empty(len(data), dtype=object)
    for test, p, cls, lab in results:
        labels[test] = lab
        for j, c in enumerate(cls):
            proba[test, classes.index(c)] = p[:, j]
    from analysis.schema import STANCE_LABELS

    if set(classes) <= set(STANCE_LABELS):
        classes_order = [c for c in STANCE_LABELS if c in classes]
        proba = proba[:, [classes.index(c) for c in classes_order]]
        classes = classes_order
    out = labels_table(data["uid"], proba, classes, labeler_type="model",
                       labeler_id=f"{model_id}@logo-seed{random_state}", labels=labels)
    out["group"] = pd.array(g, dtype="string")
    return out


def _labeler_id(model: object) -> str:
    return f"{getattr(model, 'model_id_', type(model).__name__)}@{getattr(model, 'version_', '0')}"
