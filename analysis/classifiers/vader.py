"""VADER (Hutto & Gilbert 2014) as a scikit-learn classifier: a sentiment baseline for stance.

:class:`VaderClassifier` scores each text with vaderSentiment and maps the compound score to a
label with two thresholds (positive above ``upper``, negative below ``lower``, neutral between).
``fit`` on labelled data tunes the thresholds (unless ``tune=False``); the lexicon is never
changed.
Label names are configurable, so the same estimator gives ``support / criticism / other`` (the
default, reading positive tone as support) or ``positive / negative / neutral``.

VADER measures *tone*, not stance: "send support or keep quiet" scores negative although it
supports the person it defends. It is here as the baseline a stance model has to beat.

Worst case guard: vaderSentiment 3.3.x rescans every token for each sentiment word, so text with
hundreds of emoji (each expands to a multi-word description) takes quadratic time (its GitHub issue
#110: one emoji-heavy Reddit comment took 50 s). :func:`polarity_scores` expands emoji itself and
scores at most :data:`MAX_TOKENS` tokens, which bounds every post to a few milliseconds; texts that
long are rare (:data:`MAX_TOKENS` tokens is several tweets) and are scored on their beginning.

How to cite: Hutto, C.J. & Gilbert, E.E. (2014). VADER: A Parsimonious Rule-based Model for
Sentiment Analysis of Social Media Text. Eighth International AAAI Conference on Weblogs and
Social Media (ICWSM-14).

Examples
--------
>>> import pandas as pd
>>> model = VaderClassifier().fit(None)
>>> model.predict(pd.DataFrame({"text": ["I love this!", "This is awful.", "It is Tuesday."]}))
array(['support', 'criticism', 'other'], dtype=object)
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

#: Compound-score thresholds of the VADER paper and README (Hutto & Gilbert 2014): positive at
#: >= 0.05, negative at <= -0.05.
DEFAULT_THRESHOLD = 0.05

#: Tokens (after emoji are expanded to words) that are scored per text. Measured on a 2-core
#: machine: 300 lexicon-word tokens take about 30 ms in vaderSentiment 3.3.2, 800 take 190 ms.
MAX_TOKENS = 250

#: Characters of a text that are looked at at all (bounds the emoji expansion loop, and the
#: time VADER spends on a few very long tokens: 250 tokens of 32,000 letters each took 1 s).
MAX_CHARS = 5000

#: The four scores VADER returns, in the order of :meth:`VaderClassifier.transform`'s columns.
SCORE_NAMES = ("compound", "pos", "neu", "neg")


@functools.lru_cache(maxsize=1)
def analyzer():
    """The shared vaderSentiment analyzer (loading its lexicon takes about 0.1 s)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _expand_emoji(text: str, emojis: dict[str, str]) -> str:
    # The same expansion vaderSentiment does, with a list join instead of string appends.
    parts: list[str] = []
    prev_space = True
    for char in text:
        description = emojis.get(char)
        if description is not None:
            if not prev_space:
                parts.append(" ")
            parts.append(description)
            prev_space = False
        else:
            parts.append(char)
            prev_space = char == " "
    return "".join(parts)


#: Unicode categories of characters that show nothing: format characters (zero-width space and
#: joiners, word joiner, byte-order mark, direction marks) and control characters.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc"})


def _blank(text: str) -> bool:
    """Whether ``text`` is nothing but white space and invisible characters (which
    ``str.strip`` keeps: a zero-width space is not white space)."""
    return all(char.isspace() or unicodedata.category(char) in _INVISIBLE_CATEGORIES
               for char in text)


def polarity_scores(text: object) -> dict[str, float]:
    """VADER's scores of one text, bounded in time; non-text or empty text (white space and
    invisible characters such as a zero-width space only) scores all zeros.

    Identical to ``SentimentIntensityAnalyzer().polarity_scores(text)`` for texts of at most
    :data:`MAX_CHARS` characters and :data:`MAX_TOKENS` tokens after emoji expansion; longer
    texts are scored on their first :data:`MAX_CHARS` characters, and of those on the first
    :data:`MAX_TOKENS` tokens.

    Examples
    --------
    >>> polarity_scores("VADER is smart, handsome, and funny.")["compound"]
    0.8316
    >>> polarity_scores(None)
    {'neg': 0.0, 'neu': 0.0, 'pos': 0.0, 'compound': 0.0}
    """
    if not isinstance(text, str) or _blank(text):
        return {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
    sia = analyzer()
    text = text[:MAX_CHARS]  # a few very long tokens take as long as many short ones
    if text.isascii():  # no emoji: skip the expansion pass (most English posts)
        tokens = text.split()
        if len(tokens) > MAX_TOKENS:
            text = " ".join(tokens[:MAX_TOKENS])
        return sia.polarity_scores(text)
    expanded = _expand_emoji(text, sia.emojis)
    tokens = expanded.split()
    if len(tokens) > MAX_TOKENS:
        expanded = " ".join(tokens[:MAX_TOKENS])
    return sia.polarity_scores(expanded.strip())


def score_texts(texts: Iterable[object]) -> np.ndarray:
    """VADER scores of many texts: an array of shape (n, 4), columns :data:`SCORE_NAMES`."""
    rows = [polarity_scores(t) for t in texts]
    if not rows:
        return np.zeros((0, len(SCORE_NAMES)))
    return np.array([[r[name] for name in SCORE_NAMES] for r in rows], dtype=float)


def _texts(X: object, text_col: str) -> list[object]:
    if isinstance(X, pd.DataFrame):
        if text_col not in X.columns:
            raise ValueError(f"X has no column {text_col!r}")
        return X[text_col].tolist()
    if isinstance(X, pd.Series):
        return X.tolist()
    array = np.asarray(X, dtype=object)
    if array.ndim == 2:
        if array.shape[1] != 1:
            raise ValueError("pass a DataFrame with a text column, or a 1-D sequence of texts")
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError("pass a DataFrame with a text column, or a 1-D sequence of texts")
    return array.tolist()


class VaderClassifier(ClassifierMixin, BaseEstimator):
    """vaderSentiment's compound score, thresholded into three labels.

    Parameters
    ----------
    lower, upper
        Compound score at or below ``lower`` is ``labels[1]`` (negative), at or above ``upper``
        is ``labels[0]`` (positive), between is ``labels[2]``. Defaults are VADER's +/-0.05.
    labels
        Names of the positive, negative and neutral label, in that order.
    tune
        Whether ``fit`` searches the thresholds that maximise macro-F1 on the given labels
        (a grid over the compound scores' quantiles); otherwise ``fit`` keeps ``lower``/``upper``.
        None (the default): when ``fit`` is given labels.
    text_col
        Column of the text when ``X`` is a DataFrame.
    temperature
        Spread of :meth:`predict_proba`: probabilities are a softmax of distances of the compound
        score to the thresholds, divided by this. They are scores, not calibrated probabilities.

    Attributes
    ----------
    classes_ : ndarray
        The three label names, sorted.
    lower_, upper_ : float
        The thresholds in use after ``fit``.
    """

    def __init__(self, lower: float = -DEFAULT_THRESHOLD, upper: float = DEFAULT_THRESHOLD,
                 labels: Sequence[str] = ("support", "criticism", "other"),
                 tune: bool | None = None,
                 text_col: str = "text", temperature: float = 0.25) -> None:
        self.lower = lower
        self.upper = upper
        self.labels = labels
        self.tune = tune
        self.text_col = text_col
        self.temperature = temperature

    def fit(self, X: object, y: object = None) -> VaderClassifier:
        """Set the labels and thresholds; with labels ``y`` (unless ``tune=False``) choose the
        thresholds on (X, y).

        Parameters
        ----------
        X
            DataFrame with ``text_col``, or a sequence of texts (may be None unless tuning).
        y
            Labels (required when ``tune`` is true; must be among ``labels``). Without them
            (and ``tune`` not true) the thresholds are ``lower`` and ``upper``.
        """
        labels = list(self.labels)
        if len(labels) != 3 or len(set(labels)) != 3:
            raise ValueError("labels must name three different labels: positive, negative, "
                             "neutral")
        if not self.lower <= self.upper:
            raise ValueError("lower must not exceed upper")
        self.classes_ = np.array(sorted(labels), dtype=object)
        self.lower_, self.upper_ = float(self.lower), float(self.upper)
        if X is not None:
            texts = _texts(X, self.text_col)
            self.n_features_in_ = 1
            if y is not None:
                y_arr = np.asarray(y, dtype=object)
                if len(y_arr) != len(texts):
                    raise ValueError(f"X has {len(texts)} rows but y has {len(y_arr)}")
                unknown = set(y_arr.tolist()) - set(labels)
                if unknown:
                    raise ValueError(f"labels {sorted(map(str, unknown))} are not among "
                                     f"{labels}")
            if self.tune or (self.tune is None and y is not None):
                if y is None:
                    raise ValueError("tune=True needs labels y")
                self.lower_, self.upper_ = _tune_thresholds(score_texts(texts)[:, 0],
                                                            np.asarray(y, dtype=object), labels)
        return self

    def transform(self, X: object) -> np.ndarray:
        """VADER scores, shape (n, 4): compound, pos, neu, neg."""
        return score_texts(_texts(X, self.text_col))

    def _labels_of(self, compound: np.ndarray) -> np.ndarray:
        positive, negative, neutral = list(self.labels)
        out = np.full(compound.shape, neutral, dtype=object)
        out[compound >= self.upper_] = positive
        out[compound <= self.lower_] = negative
        return out

    def predict(self, X: object) -> np.ndarray:
        """One label per text."""
        check_is_fitted(self, "classes_")
        return self._labels_of(self.transform(X)[:, 0])

    def decision_function(self, X: object) -> np.ndarray:
        """Scores per class (columns in ``classes_`` order); the largest is the prediction."""
        check_is_fitted(self, "classes_")
        compound = self.transform(X)[:, 0]
        positive, negative, neutral = list(self.labels)
        mid_gap = max(self.upper_ - self.lower_, 1e-9) / 2
        by_label = {
            positive: compound - self.upper_,
            negative: self.lower_ - compound,
            # inside the neutral band: positive, largest at its centre; outside: negative
            neutral: mid_gap - np.abs(compound - (self.upper_ + self.lower_) / 2) - 1e-12,
        }
        return np.column_stack([by_label[c] for c in self.classes_])

    def predict_proba(self, X: object) -> np.ndarray:
        """Softmax of :meth:`decision_function` / ``temperature``: rank scores, not calibrated."""
        scores = self.decision_function(X) / max(float(self.temperature), 1e-6)
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags


def _tune_thresholds(compound: np.ndarray, y: np.ndarray,
                     labels: Sequence[str]) -> tuple[float, float]:
    """The (lower, upper) pair on a grid that maximises macro-F1 (ties: closest to +/-0.05)."""
    from sklearn.metrics import f1_score

    grid = np.unique(np.round(np.concatenate([
        np.quantile(compound, np.linspace(0, 1, 41)), [-DEFAULT_THRESHOLD, DEFAULT_THRESHOLD],
    ]), 4))
    positive, negative, neutral = list(labels)
    best = (-1.0, 0.0, -DEFAULT_THRESHOLD, DEFAULT_THRESHOLD)
    for lo in grid:
        for hi in grid[grid >= lo]:
            pred = np.full(compound.shape, neutral, dtype=object)
            pred[compound >= hi] = positive
            pred[compound <= lo] = negative
            score = f1_score(y, pred, labels=list(labels), average="macro", zero_division=0)
            closeness = -abs(lo + DEFAULT_THRESHOLD) - abs(hi - DEFAULT_THRESHOLD)
            if (score, closeness) > (best[0], best[1]):
                best = (score, closeness, float(lo), float(hi))
    return best[2], best[3]
