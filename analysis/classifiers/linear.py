"""A logistic regression whose labels weigh every class equally and whose probabilities stay
calibrated to the label mix it was trained on.

Balanced class weights help minority stances (deny, criticism) get predicted at all, but they
inflate those classes' probabilities: averaged over RumourEval dev, a balanced model put 0.11 on
criticism where the gold share is 0.056. :class:`BalancedLogisticRegression` fits the balanced
model and then undoes the reweighting in :meth:`~BalancedLogisticRegression.predict_proba`
(multiplying by the training class frequencies and renormalising, the prior correction of Saerens
et al. 2002, with factors that make the mean probability on the training rows equal the label mix:
the bias-corrected calibration of Alexandari et al. 2020), while
:meth:`~BalancedLogisticRegression.predict` keeps the balanced decision. The most probable class
and the predicted label can therefore differ: labels are chosen with equal cost per class,
probabilities estimate how likely each class is.

Examples
--------
>>> import numpy as np
>>> X = np.array([[0.0], [0.1], [0.2], [0.3], [1.0], [1.1]])
>>> y = np.array(["a", "a", "a", "a", "b", "b"])
>>> model = BalancedLogisticRegression(C=10.0).fit(X, y)
>>> x = np.array([[0.65]])
>>> str(model.predict(x)[0]), bool(model.predict_proba(x)[0, 0] > 0.5)  # label b, yet a likelier
('b', True)
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

#: Stopping tolerance of the logistic regression's solver (lbfgs: the largest gradient entry).
#: A loose tolerance stops the solver where the rounding of the CPU's BLAS kernels decides the
#: path: with 1e-3 the default study's labels differed in 15 of 6,683 replies (probabilities by
#: up to 0.087) between OpenBLAS's Haswell and Sandybridge kernels on one machine, with 1e-6 in
#: 1 (0.0025). 1e-6 was not kept: it made training 2 to 5 times slower (the classifier
#: benchmarks 401 -> 2,125 s, leave-one-event-out 56 -> 139 s) and no validation score better
#: (RumourEval dev, ``train`` pipeline macro-F1 0.554 -> 0.549, default recipe 0.537 -> 0.529).
#: See README.md, "Across machines".
TOL = 1e-3


class BalancedLogisticRegression(ClassifierMixin, BaseEstimator):
    """Balanced-weight logistic regression with prior-corrected probabilities.

    Parameters
    ----------
    C, tol, max_iter, random_state
        Passed to :class:`sklearn.linear_model.LogisticRegression`.
    n_strata_columns
        0 (default): classes are balanced over all rows. k > 0: the last k columns of X are a
        one-hot stratum (e.g. :class:`~analysis.classifiers.features.StanceFeatures`'
        ``strata`` block, the kind of target); they are not used as features. Classes are then
        balanced *within* each stratum and probabilities corrected back to each stratum's own
        label mix (add-one smoothed; a stratum without training rows gets the pooled mix). This
        is for training data pooled from sources whose label mixes differ (the default model:
        SemEval, against-heavy, and RumourEval, where deny is rare).

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    class_prior_ : ndarray
        Share of each class in the training labels.
    stratum_prior_ : ndarray of shape (n_strata, n_classes)
        Each stratum's smoothed class shares (one row of ``class_prior_`` without strata).
    stratum_scale_ : ndarray of shape (n_strata, n_classes)
        What the balanced probabilities are multiplied by (then renormalised) in
        :meth:`predict_proba`: the label mix, corrected so that the mean probability over each
        stratum's training rows equals its label mix.
    decision_weights_ : ndarray
        ``1 / stratum_scale_[0]``: without strata the predicted label is
        ``argmax(predict_proba * decision_weights_)``; with strata the weights are per row
        (:meth:`row_decision_weights`).
    """

    def __init__(self, C: float = 1.0, tol: float = TOL, max_iter: int = 1000,
                 random_state: int | None = None, n_strata_columns: int = 0) -> None:
        self.C = C
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_strata_columns = n_strata_columns

    def _split(self, X: object) -> tuple[object, np.ndarray | None]:
        """(features, stratum index per row or None)."""
        k = int(self.n_strata_columns)
        if not k:
            return X, None
        n_cols = X.shape[1]
        onehot = X[:, n_cols - k:]
        onehot = onehot.toarray() if hasattr(onehot, "toarray") else np.asarray(onehot)
        return X[:, :n_cols - k], np.asarray(onehot).argmax(axis=1)

    def fit(self, X: object, y: object) -> BalancedLogisticRegression:
        """Fit the balanced model and record the training class frequencies.

        The fit runs on one thread (BLAS and OpenMP): with several, the order of floating-point
        sums, and so the last digits of the coefficients, would depend on the machine's cores
        and on how many worker processes share them (``--jobs``).
        """
        with threadpool_limits(limits=1):
            return self._fit(X, y)

    def _fit(self, X: object, y: object) -> BalancedLogisticRegression:
        if int(self.n_strata_columns) < 0:
            raise ValueError("n_strata_columns must be 0 or a positive number of columns")
        features, strata = self._split(X)
        y_arr = np.asarray(y)
        self.classes_ = np.unique(y_arr)
        counts = np.array([(y_arr == c).sum() for c in self.classes_], dtype=float)
        self.class_prior_ = counts / counts.sum()
        self.decision_weights_ = 1.0 / self.class_prior_
        if strata is None:
            self.stratum_prior_ = self.class_prior_[None, :]
            self.model_ = LogisticRegression(C=self.C, tol=self.tol, max_iter=self.max_iter,
                                             class_weight="balanced",
                                             random_state=self.random_state).fit(features, y_arr)
        else:
            code = np.searchsorted(self.classes_, y_arr)
            table = np.zeros((int(self.n_strata_columns), len(self.classes_)))
            np.add.at(table, (strata, code), 1.0)
            seen = table.sum(axis=1) > 0
            smoothed = table + 1.0
            prior = smoothed / smoothed.sum(axis=1, keepdims=True)
            prior[~seen] = self.class_prior_
            self.stratum_prior_ = prior
            # balanced within each stratum, each stratum weighing as many rows as it has
            weight = 1.0 / (prior[strata, code] * len(self.classes_))
            self.model_ = LogisticRegression(C=self.C, tol=self.tol, max_iter=self.max_iter,
                                             random_state=self.random_state).fit(
                features, y_arr, sample_weight=weight / weight.mean())
        self.stratum_scale_ = self._fit_scale(features, strata, y_arr)
        if strata is None:
            self.decision_weights_ = 1.0 / self.stratum_scale_[0]
        self.n_features_in_ = X.shape[1]
        return self

    def _fit_scale(self, features: object, strata: np.ndarray | None,
                   y: np.ndarray) -> np.ndarray:
        """Per stratum, the factors that turn balanced probabilities into probabilities whose
        mean over the stratum's training rows equals its label mix.

        Multiplying by the label mix alone (Saerens et al. 2002) is exact only when the balanced
        model's mean probabilities are equal across classes; a regularised model that also has no
        intercept per stratum falls short for rare classes (RumourEval rows of the default model:
        mean criticism probability 0.044 against a share of 0.070). The factors are the
        bias-corrected calibration of Alexandari, Kundaje & Shrikumar (2020), fitted on the
        training rows (:func:`analysis.quantify.bias_correction`).
        """
        from analysis.quantify import bias_correction

        balanced = self.model_.predict_proba(features)
        index = np.zeros(len(y), dtype=int) if strata is None else strata
        scale = self.stratum_prior_.copy()
        for stratum in np.unique(index):
            rows = index == stratum
            mix = np.array([(y[rows] == c).mean() for c in self.classes_])
            start = balanced[rows] * self.stratum_prior_[stratum]
            start /= start.sum(axis=1, keepdims=True)
            factor = bias_correction(start, mix)
            scale[stratum] = self.stratum_prior_[stratum] * factor
        return scale / scale.sum(axis=1, keepdims=True)

    def decision_function(self, X: object) -> np.ndarray:
        """The balanced model's decision scores."""
        check_is_fitted(self, "model_")
        return self.model_.decision_function(self._split(X)[0])

    def _balanced_proba(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        features, strata = self._split(X)
        scale = self.stratum_scale_[np.zeros(X.shape[0], dtype=int) if strata is None
                                    else strata]
        return self.model_.predict_proba(features), scale

    def predict_proba(self, X: object) -> np.ndarray:
        """Class probabilities corrected back to the training label mix (of each row's
        stratum)."""
        return self.balanced_and_corrected(X)[1]

    def balanced_and_corrected(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """The balanced model's probabilities (what :meth:`predict` takes the argmax of) and
        :meth:`predict_proba`'s, from one pass of the model over X."""
        check_is_fitted(self, "model_")
        balanced, scale = self._balanced_proba(X)
        proba = balanced * scale
        return balanced, proba / proba.sum(axis=1, keepdims=True)

    def proba_and_row_weights(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_proba` and :meth:`row_decision_weights` of X."""
        return self.predict_proba(X), self.row_decision_weights(X)

    def row_decision_weights(self, X: object) -> np.ndarray:
        """Per-row decision weights: ``argmax(predict_proba(X) * row_decision_weights(X))`` is
        :meth:`predict`."""
        check_is_fitted(self, "model_")
        _, strata = self._split(X)
        if strata is None:
            return np.broadcast_to(self.decision_weights_, (X.shape[0], len(self.classes_)))
        return 1.0 / self.stratum_scale_[strata]

    def predict(self, X: object) -> np.ndarray:
        """Labels of the balanced model (equal cost per class)."""
        check_is_fitted(self, "model_")
        return self.classes_[self._balanced_proba(X)[0].argmax(axis=1)]


class PooledAndPerTarget(ClassifierMixin, BaseEstimator):
    """The average of one :class:`BalancedLogisticRegression` over all rows and one per target.

    The last column of X is the target's index (1, 2, ...; 0: none), as
    :class:`~analysis.classifiers.features.StanceFeatures` with ``target_index=True`` appends
    it. Targets with at least ``min_target_count`` training rows of two labels or more get their
    own model; a row's probabilities are the mean of the pooled model's and its target's model's
    (the pooled model's alone for other rows), and so are the balanced probabilities its label is
    the argmax of. A target not seen in training (a new thread's source post) gets the pooled
    model alone. With hashtag words (:class:`~analysis.classifiers.features.StanceFeatures`
    ``hashtags``), 5-fold CV F_avg on SemEval-2016 train +0.026 over the ``train`` pipeline
    before them (docs/benchmarks.md, "Train pipeline options").
    """

    def __init__(self, C: float = 1.0, tol: float = TOL, max_iter: int = 1000,
                 random_state: int | None = None, min_target_count: int = 20) -> None:
        self.C = C
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.min_target_count = min_target_count

    def _member(self) -> BalancedLogisticRegression:
        return BalancedLogisticRegression(C=self.C, tol=self.tol, max_iter=self.max_iter,
                                          random_state=self.random_state)

    @staticmethod
    def _split(X: object) -> tuple[object, np.ndarray]:
        last = X[:, X.shape[1] - 1]
        last = last.toarray() if hasattr(last, "toarray") else np.asarray(last)
        return X[:, :X.shape[1] - 1], np.asarray(last).ravel().astype(int)

    def fit(self, X: object, y: object) -> PooledAndPerTarget:
        features, target = self._split(X)
        y = np.asarray(y)
        self.pooled_ = self._member().fit(features, y)
        self.classes_ = self.pooled_.classes_
        self.class_prior_ = self.pooled_.class_prior_
        self.targets_, self.members_, self.member_columns_ = [], [], []
        for t in np.unique(target[target > 0]):
            rows = target == t
            if rows.sum() < self.min_target_count or len(np.unique(y[rows])) < 2:
                continue
            columns = _active_columns(features[rows])
            if len(columns):
                self.targets_.append(int(t))
                self.member_columns_.append(columns)
                self.members_.append(self._member().fit(features[rows][:, columns], y[rows]))
        self.n_features_in_ = X.shape[1]
        return self

    def _member_features(self, features: object, rows: np.ndarray, i: int) -> object:
        """The features of ``rows`` that member ``i`` reads: the columns not all zero in its
        target's training rows (models saved before members read fewer columns: all)."""
        columns = getattr(self, "member_columns_", None)
        return features[rows] if columns is None else features[rows][:, columns[i]]

    def _probas(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """(balanced, corrected) probabilities averaged over the pooled and target models."""
        check_is_fitted(self, "pooled_")
        features, target = self._split(X)
        balanced, corrected = self.pooled_.balanced_and_corrected(features)
        for i, (t, member) in enumerate(zip(self.targets_, self.members_, strict=True)):
            rows = np.flatnonzero(target == t)
            if not len(rows):
                continue
            # the members' labels as the pooled model's (``classes_`` may be renamed on load:
            # persistence.compose_classes)
            cols = np.searchsorted(self.pooled_.classes_, member.classes_)
            own = member.balanced_and_corrected(self._member_features(features, rows, i))
            for mine, out in zip(own, (balanced, corrected), strict=True):
                full = np.zeros((len(rows), len(self.classes_)))
                full[:, cols] = mine
                out[rows] = (out[rows] + full) / 2
        return balanced, corrected

    def predict_proba(self, X: object) -> np.ndarray:
        return self._probas(X)[1]

    def proba_and_row_weights(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_proba` and :meth:`row_decision_weights` of X, from one pass of the
        models over it."""
        balanced, corrected = self._probas(X)
        return corrected, balanced / np.maximum(corrected, 1e-12)

    def row_decision_weights(self, X: object) -> np.ndarray:
        """``argmax(predict_proba(X) * row_decision_weights(X))`` is :meth:`predict`."""
        return self.proba_and_row_weights(X)[1]

    def predict(self, X: object) -> np.ndarray:
        return self.classes_[self._probas(X)[0].argmax(axis=1)]


def _active_columns(X: object) -> np.ndarray:
    """The columns of X (sparse or dense) with a value other than zero in some row. A logistic
    regression's L2-penalised weight of a column that is zero in every training row is zero, so
    a model fitted without such columns is the same model, smaller and faster to fit."""
    return np.flatnonzero(np.asarray((X != 0).sum(axis=0)).ravel())


def decision_weights(model: object) -> np.ndarray | None:
    """``decision_weights_`` of a model or of a pipeline's last step (None when it has none)."""
    step = model
    if hasattr(model, "steps"):
        step = model.steps[-1][1]
    weights = getattr(step, "decision_weights_", None)
    return None if weights is None else np.asarray(weights, dtype=float)


def proba_and_weights(model: object, X: object) -> tuple[np.ndarray, np.ndarray | None]:
    """``model.predict_proba(X)`` and the decision weights for these rows (one per row when the
    classifier has :meth:`~BalancedLogisticRegression.proba_and_row_weights`, else
    :func:`decision_weights`); a pipeline's features are computed once, and so are the
    classifier's probabilities."""
    step, features = model, X
    if hasattr(model, "steps"):
        step = model.steps[-1][1]
        if len(model.steps) > 1:
            features = model[:-1].transform(X)
    if hasattr(step, "proba_and_row_weights"):
        proba, weights = step.proba_and_row_weights(features)
        return np.asarray(proba, dtype=float), np.asarray(weights, dtype=float)
    return np.asarray(step.predict_proba(features), dtype=float), decision_weights(step)


def labels_from_proba(proba: np.ndarray, classes: list[str],
                      weights: np.ndarray | None) -> np.ndarray:
    """Predicted labels from probabilities: argmax, after ``weights`` when given (one row of
    weights for all rows, or one per row)."""
    scores = proba if weights is None else proba * weights
    return np.asarray(classes, dtype=object)[scores.argmax(axis=1)]
