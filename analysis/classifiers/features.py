"""Target-aware features of a reply: what it says, to whom, in reply to what, and where.

:class:`StanceFeatures` is one scikit-learn transformer over a DataFrame with the columns
``text``, ``target``, ``context`` (parent text; may be null) and ``depth`` (may be null). Its
blocks, each scaled by a weight:

- ``word``: TF-IDF of word 1-2-grams of the text;
- ``char``: TF-IDF of character 2-5-grams (within word boundaries) of the text;
- ``interact``: the text's word n-grams crossed with its target, for targets seen at least
  ``min_target_count`` times in training (so "love" toward "Atheism" and toward "Hillary Clinton"
  are different features); computed by sparse index arithmetic, not string building;
- ``context``: TF-IDF of the parent's words;
- ``overlap``: how much of the text's vocabulary is in the target (share of words, and of the
  target's words that the reply repeats);
- ``lexicon``: VADER lexicon valence sums (positive, negative, their balance), computed as a
  sparse product with the lexicon (fast; no VADER rules) or with full VADER (``lexicon="vader"``,
  slower);
- ``cues``: counts of cue words and marks for denial, questions, negation, support, URLs,
  mentions, exclamation;
- ``depth``: one-hot position in the thread (root, 1, 2, 3+, unknown);
- ``shape``: the text's form: its length in words, whether it ends in a question mark, its share
  of capital letters, and whether it holds nothing but @handles and links;
- (with ``hashtags=True``) each hashtag's words are appended to the text before any block reads
  it ("#feelthebern" adds "feel the bern"), split by the most probable sequence of words under
  a unigram model of the training texts' words and VADER's lexicon (:func:`segment_hashtag`);
- ``cuedepth``: the ``cues`` counts again, once for replies to the thread's root (depth 1) and
  once for replies to replies (depth 2 or more), zero otherwise: "fake" or "?" answering the
  rumour is not the same as answering another reply.

Models fitted before ``shape`` and ``cuedepth`` existed read X without them. A model fitted on
rows without a single depth (a hand-coded sample from a spreadsheet) reads every depth as unknown
(``depth_known_``): its depth weights were never learnt, so a posts table's depths would move its
labels for no reason.

With ``strata=True`` three last columns (not weighted) give the kind of target as a one-hot
stratum: a name (at most :data:`NAME_MAX_WORDS` words), a post, or none; a
:class:`~analysis.classifiers.linear.BalancedLogisticRegression` with ``n_strata_columns=3``
balances classes within each kind instead of using them as features.

All vocabularies are learned in ``fit`` only, so a model fitted without a group has seen nothing
of it.

Examples
--------
>>> import pandas as pd
>>> X = pd.DataFrame({"text": ["I stand with her", "this is fake", "is this true?"] * 3,
...                   "target": ["Her"] * 9, "context": [None] * 9, "depth": [1] * 9})
>>> features = StanceFeatures(min_df=1).fit(X)
>>> features.transform(X).shape[0]
9
"""

from __future__ import annotations

import functools
import hashlib
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils.validation import check_is_fitted

from analysis.classifiers.ngrams import CharNgramCounter, WordNgramCounter

#: Cue words and two-word phrases per category, matched against the text's word 1-2-grams.
#: Denial and support cues follow the rumour-stance literature (e.g. Kochkina et al. 2017; Aker
#: et al. 2017, "Stance classification in out-of-domain rumours").
CUE_WORDS: dict[str, tuple[str, ...]] = {
    "deny": ("fake", "false", "hoax", "lie", "lies", "lying", "liar", "untrue", "not true",
             "debunked", "rumour", "rumor", "rumours", "rumors", "misinformation", "nonsense",
             "bs", "bullshit", "wrong", "fabricated", "photoshopped", "photoshop", "doubt",
             "doubtful", "denied", "denies", "deny", "not real", "no evidence", "unconfirmed",
             "stop spreading", "satire", "fake news", "not confirmed", "false flag"),
    "query": ("is this", "is it", "is that", "really", "source", "any proof", "proof",
              "what", "why", "how", "who", "where", "when", "are they", "can you", "do you",
              "did", "confirmed yet", "any source", "is true"),
    "negation": ("not", "no", "never", "nothing", "nobody", "none", "neither", "nor",
                 "without", "cannot", "don't", "doesn't", "isn't", "wasn't", "aren't", "can't",
                 "won't", "didn't"),
    "support": ("true", "confirmed", "confirms", "indeed", "agree", "agreed", "yes", "support",
                "supporting", "stand with", "standing with", "pray", "praying", "prayers",
                "thoughts", "condolences", "rip", "love", "thank", "thanks", "respect", "brave",
                "proud", "exactly", "right", "correct", "official", "officially", "reported",
                "breaking", "well said", "so true", "send support", "keep quiet"),
}

#: Marks counted in the raw text.
CUE_MARKS: dict[str, str] = {"question": "?", "exclaim": "!", "url": "http", "mention": "@"}

_WORD_PATTERN = r"(?u)\b\w[\w']*\b"


@functools.lru_cache(maxsize=1)
def vader_lexicon() -> tuple[tuple[str, ...], np.ndarray]:
    """VADER's lexicon words that are plain word tokens, and their valences (-4..4)."""
    from analysis.classifiers.vader import analyzer

    pattern = re.compile(_WORD_PATTERN)
    words, values = [], []
    for word, value in analyzer().lexicon.items():
        if pattern.fullmatch(word) and word == word.lower():
            words.append(word)
            values.append(value)
    order = np.argsort(words)
    return tuple(np.asarray(words)[order].tolist()), np.asarray(values, dtype=float)[order]


def target_key(target: object) -> str:
    """A stable short key of a target (case and spacing ignored); '' for a missing target."""
    if not isinstance(target, str) or not target.strip():
        return ""
    normal = " ".join(target.lower().split())
    return hashlib.sha256(normal.encode()).hexdigest()[:12]


def _column(X: pd.DataFrame, name: str) -> pd.Series:
    if name in X.columns:
        col = X[name]
    else:
        col = pd.Series(pd.NA, index=X.index, dtype="object")
    return col.astype("object").where(col.notna(), "").astype(str)


#: What ``normalize=True`` rewrites before any vocabulary is learned or counted: links become
#: " http urltoken " (the ``url`` cue mark still counts them) and @handles "@user" (so does
#: ``mention``), so that no feature is tied to one link or one account.
LINK_PATTERNS = ((r"https?://\S+|www\.\S+", " http urltoken "), (r"@[\p{L}\p{N}_]+", "@user"))


def normalize_links(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose ``text``, ``context`` and ``target`` have links and @handles
    replaced (:data:`LINK_PATTERNS`); nulls stay null.

    >>> frame = pd.DataFrame({"text": ["@ann see https://t.co/x1 now", None]})
    >>> normalize_links(frame)["text"].tolist()
    ['@user see  http urltoken  now', None]
    """
    out = frame.copy()
    for name in ("text", "context", "target"):
        if name not in out.columns:
            continue
        raw = out[name].astype("object").where(out[name].notna(), None)
        values = pa.array([v if v is None or isinstance(v, str) else str(v) for v in raw],
                          type=pa.large_string())
        for pattern, replacement in LINK_PATTERNS:
            values = pc.replace_substring_regex(values, pattern, replacement)
        out[name] = pd.Series(values.to_pylist(), index=out.index, dtype="object")
    return out


def _check_frame(X: object) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        if "text" not in X.columns:
            raise ValueError("X must have a 'text' column")
        return X
    if isinstance(X, pd.Series):
        return pd.DataFrame({"text": X.to_numpy()})
    array = np.asarray(X, dtype=object)
    if array.ndim == 1:
        return pd.DataFrame({"text": array})
    raise ValueError("X must be a DataFrame with columns text, target, context, depth")


class StanceFeatures(TransformerMixin, BaseEstimator):
    """Sparse feature matrix of (text, target, context, depth); see the module docstring.

    Parameters
    ----------
    word_ngrams, char_ngrams
        n-gram ranges of the word and character TF-IDF blocks.
    min_df
        Minimum document frequency of every vocabulary.
    max_features
        Cap of each text vocabulary (None: no cap).
    min_target_count
        Targets with fewer training rows get no interaction features.
    lexicon
        ``"fast"`` (VADER lexicon sums), ``"vader"`` (full VADER scores) or None.
    weights
        Block weights, e.g. ``{"char": 0.5}``; blocks with weight 0 are left out.
    strata
        Append the kind of target as three one-hot columns (name, post, none) after all blocks.
    normalize
        Replace links and @handles in text, context and target first (:func:`normalize_links`).
    target_index
        Append one last column (after ``strata``; not weighted): 1 + the row's index in
        ``targets_``, 0 for a target without one, for
        :class:`~analysis.classifiers.linear.PooledAndPerTarget`.
    hashtags
        Append each hashtag's words to the text (:func:`append_hashtag_words`), with the word
        probabilities learned in ``fit``.
    """

    #: Columns the ``strata`` option appends.
    N_STRATA = 3

    BLOCKS = ("word", "char", "interact", "kind", "context", "overlap", "lexicon", "cues",
              "depth", "shape", "cuedepth")

    #: Blocks added after models were first saved: used only by models fitted with them
    #: (``blocks_``), so that a saved model keeps its number of features.
    LATER_BLOCKS = ("shape", "cuedepth")

    def __init__(self, word_ngrams: tuple[int, int] = (1, 2),
                 char_ngrams: tuple[int, int] = (2, 5),
                 min_df: int = 2, max_features: int | None = 200_000,
                 min_target_count: int = 50, lexicon: str | None = "fast",
                 weights: dict[str, float] | None = None, strata: bool = False,
                 normalize: bool = False, hashtags: bool = False,
                 target_index: bool = False) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.min_target_count = min_target_count
        self.lexicon = lexicon
        self.weights = weights
        self.strata = strata
        self.normalize = normalize
        self.hashtags = hashtags
        self.target_index = target_index

    def _frame(self, X: object) -> pd.DataFrame:
        """X as a frame, with links and @handles replaced when ``normalize`` (models saved before
        the option existed have no such attribute and read X as it is)."""
        frame = _check_frame(X)
        frame = normalize_links(frame) if getattr(self, "normalize", False) else frame
        return self._with_hashtag_words(frame)

    def _with_hashtag_words(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its hashtags' words appended to the text when ``hashtags`` and the
        word probabilities are learned (as it is otherwise)."""
        if not getattr(self, "hashtags", False) or getattr(self, "hashtag_terms_", None) is None:
            return frame
        cache = self.__dict__.setdefault("_cache", {})
        if "hashtag" not in cache:
            cache["hashtag"] = dict(zip(self.hashtag_terms_.split(" "),
                                        self.hashtag_logp_.tolist(), strict=True))
        return frame.assign(text=append_hashtag_words(_column(frame, "text"), cache["hashtag"]))

    def _weight(self, block: str) -> float:
        if block in self.LATER_BLOCKS and block not in getattr(self, "blocks_", ()):
            return 0.0
        return float((self.weights or {}).get(block, 1.0))

    def fit(self, X: object, y: object = None) -> StanceFeatures:
        """Learn the vocabularies (text, context) and the targets that get interactions."""
        self._cache = {}
        self.hashtag_terms_, self.hashtag_logp_ = None, None
        frame = self._frame(X)
        if len(frame) == 0:
            raise ValueError("cannot fit on zero rows")
        if self.hashtags:  # learned on the texts as read, then applied to them
            self.hashtag_terms_, self.hashtag_logp_ = hashtag_lexicon(_column(frame, "text"))
            frame = self._with_hashtag_words(frame)
        unknown = set(self.weights or {}) - set(self.BLOCKS)
        if unknown:
            raise ValueError(f"unknown feature blocks {sorted(unknown)}; use {self.BLOCKS}")
        if self.lexicon not in ("fast", "vader", None):
            raise ValueError("lexicon must be 'fast', 'vader' or None")
        text = _column(frame, "text")
        self._cache = {}
        self.blocks_ = tuple(b for b in self.BLOCKS if (self.weights or {}).get(b, 1.0))
        extra = set(vader_lexicon()[0]) | {w for words in CUE_WORDS.values() for w in words}
        self.word_terms_, self.word_idf_ = _learn_vocabulary(
            text, _word_params(self.word_ngrams), self.min_df, self.max_features, extra)
        if self._weight("char"):
            self.char_terms_, self.char_idf_ = _learn_vocabulary(
                text, _char_params(self.char_ngrams), self.min_df, self.max_features)
        else:
            self.char_terms_, self.char_idf_ = None, None
        self.context_terms_, self.context_idf_ = self._context_vocabulary(
            _column(frame, "context"))
        keys = _map_unique(_column(frame, "target"), target_key)
        counts = keys[keys != ""].value_counts()
        self.targets_ = sorted(counts[counts >= self.min_target_count].index.tolist())
        self.interact_columns_ = np.zeros(0, dtype=np.int64)
        if self.targets_ and self._weight("interact"):
            self.interact_columns_ = np.unique(self._interaction_codes(
                self._tfidf("word", self._counts(text)), keys)[1])
        self.depth_known_ = bool((_depth_values(frame) >= 0).any())
        self.n_features_in_ = frame.shape[1]
        return self

    def _context_vocabulary(self, context: pd.Series) -> tuple[np.ndarray | None,
                                                              np.ndarray | None]:
        """The context block's terms and idf, learnt from the distinct contexts; ``(None,
        None)`` (no context block) when it is weighted 0 or no term is in ``min_df`` of them:
        the replies to one post share one parent text, and a context of emoji or stop words
        has no terms."""
        distinct = context[context != ""].drop_duplicates()
        if not self._weight("context") or len(distinct) < max(self.min_df, 2):
            return None, None
        try:
            terms, idf = _learn_vocabulary(distinct, _word_params((1, 1)), self.min_df, 50_000)
        except ValueError as exc:  # CountVectorizer: no term at all
            if "empty vocabulary" not in str(exc):
                raise
            return None, None
        return (terms, idf) if len(terms) else (None, None)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_cache", None)  # rebuilt on demand; keeps saved models small and fast
        return state

    def _counter(self, name: str) -> CharNgramCounter | WordNgramCounter:
        """The counter of the learned vocabulary ``name`` (built once, not saved), from
        :mod:`analysis.classifiers.ngrams`: the counts of scikit-learn's ``CountVectorizer``,
        faster."""
        cache = self.__dict__.setdefault("_cache", {})
        if name not in cache:
            terms = getattr(self, f"{name}_terms_").tolist()
            if name == "char":
                cache[name] = CharNgramCounter(terms, self.char_ngrams)
            else:
                ngrams = self.word_ngrams if name == "word" else (1, 1)
                cache[name] = WordNgramCounter(terms, ngrams, _WORD_PATTERN)
        return cache[name]

    def _counts(self, texts: pd.Series) -> sp.csr_matrix:
        """Word 1-2-gram counts of ``texts`` over the word vocabulary."""
        return self._counter("word").transform(texts).tocsr().astype(np.float32)

    def _vector(self, name: str) -> np.ndarray:
        """Per word-vocabulary-term weights: ``valence`` (VADER), ``content`` (1 for
        non-stop-word unigrams) or ``cue:<category>`` (1 for its cue words)."""
        cache = self.__dict__.setdefault("_cache", {})
        key = f"vector:{name}"
        if key not in cache:
            terms = self.word_terms_.tolist()
            if name == "valence":
                words, values = vader_lexicon()
                lookup = dict(zip(words, values.tolist(), strict=True))
                vec = [lookup.get(t, 0.0) for t in terms]
            elif name == "content":
                from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

                vec = [float(" " not in t and t not in ENGLISH_STOP_WORDS) for t in terms]
            else:
                cues = set(CUE_WORDS[name.split(":", 1)[1]])
                vec = [float(t in cues) for t in terms]
            cache[key] = np.asarray(vec, dtype=np.float32)
        return cache[key]

    def _tfidf(self, name: str, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear TF-IDF with L2-normalised rows, from counts over vocabulary ``name``."""
        counts = counts.tocsr().astype(np.float32, copy=True)
        counts.data = 1.0 + np.log(counts.data)
        counts = counts @ sp.diags(getattr(self, f"{name}_idf_").astype(np.float32))
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        return (sp.diags((1.0 / np.maximum(norms, 1e-12)).astype(np.float32)) @ counts).tocsr()

    def _interaction_codes(self, words: sp.csr_matrix,
                           keys: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, code, value) of the text-word x target cross features."""
        index = {key: i for i, key in enumerate(self.targets_)}
        t = keys.map(index).fillna(-1).to_numpy(dtype=np.int64)
        words = words.tocsr()
        rows = np.repeat(np.arange(words.shape[0]), np.diff(words.indptr))
        tk = t[rows]
        keep = tk >= 0
        codes = words.indices[keep].astype(np.int64) * len(self.targets_) + tk[keep]
        return rows[keep], codes, words.data[keep]

    def transform(self, X: object) -> sp.csr_matrix:
        """The feature matrix (CSR, float32), one row per row of X."""
        check_is_fitted(self, "word_terms_")
        frame = self._frame(X)
        n = len(frame)
        text = _column(frame, "text")
        counts = self._counts(text)
        blocks = []
        words = self._tfidf("word", counts)
        if self._weight("word"):
            blocks.append(words * self._weight("word"))
        if self.char_terms_ is not None:
            blocks.append(self._tfidf("char", self._counter("char").transform(text))
                          * self._weight("char"))
        target = _column(frame, "target")
        keys = _map_unique(target, target_key)
        kind = _map_unique(target, _target_kind).to_numpy(dtype=np.int64)
        if len(self.interact_columns_):
            rows, codes, values = self._interaction_codes(words, keys)
            pos = np.searchsorted(self.interact_columns_, codes)
            pos_clip = np.minimum(pos, len(self.interact_columns_) - 1)
            known = self.interact_columns_[pos_clip] == codes
            block = sp.csr_matrix((values[known], (rows[known], pos_clip[known])),
                                  shape=(n, len(self.interact_columns_)), dtype=np.float32)
            blocks.append(block * self._weight("interact"))
        if self._weight("kind"):
            blocks.append(_kind_cross(words, kind) * self._weight("kind"))
        if self.context_terms_ is not None:
            context = _column(frame, "context")
            blocks.append(_by_unique(context, lambda u: self._tfidf(
                "context", self._counter("context").transform(u))) * self._weight("context"))
        dense = []
        if self._weight("overlap"):
            mask = self._vector("content")
            present = (counts > 0).astype(np.float32) @ sp.diags(mask)
            in_target = _by_unique(target, lambda u: (self._counts(u) > 0).astype(np.float32)
                                   @ sp.diags(mask))
            shared = np.asarray(present.multiply(in_target).sum(axis=1)).ravel()
            n_a = np.asarray(present.sum(axis=1)).ravel()
            n_b = np.asarray(in_target.sum(axis=1)).ravel()
            dense.append(np.column_stack([shared / np.maximum(n_a, 1),
                                          shared / np.maximum(n_b, 1)]) * self._weight("overlap"))
        if self.lexicon == "fast" and self._weight("lexicon"):
            values = self._vector("valence")
            pos = counts @ np.where(values > 0, values, 0.0)
            neg = counts @ np.where(values < 0, -values, 0.0)
            total = pos - neg
            dense.append(np.column_stack([
                np.log1p(pos), np.log1p(neg), total / np.sqrt(total * total + 15.0),
            ]) * self._weight("lexicon"))
        elif self.lexicon == "vader" and self._weight("lexicon"):
            from analysis.classifiers.vader import score_texts

            dense.append(score_texts(text) * self._weight("lexicon"))
        marks = self._weight("cues") or self._weight("cuedepth") or self._weight("shape")
        arrow = pa.array(text.tolist(), type=pa.string()) if marks else None
        cues = self._cues(arrow, counts) if self._weight("cues") or self._weight("cuedepth") \
            else None
        if self._weight("cues"):
            dense.append(cues * self._weight("cues"))
        depth = _depth_values(frame)
        if not getattr(self, "depth_known_", True):  # models saved before it read depths
            depth = np.full(n, -1.0)
        if self._weight("depth"):
            dense.append(_depth_onehot(depth) * self._weight("depth"))
        if self._weight("shape"):
            dense.append(_text_shape(arrow) * self._weight("shape"))
        if self._weight("cuedepth"):
            dense.append(np.column_stack([cues * (depth == 1)[:, None],
                                          cues * (depth >= 2)[:, None]])
                         * self._weight("cuedepth"))
        if self.strata:
            dense.append(np.eye(self.N_STRATA, dtype=np.float32)[kind])
        if getattr(self, "target_index", False):
            index = {key: i + 1 for i, key in enumerate(self.targets_)}
            dense.append(keys.map(index).fillna(0).to_numpy(float)[:, None])
        if dense:
            blocks.append(sp.csr_matrix(np.column_stack(dense).astype(np.float32)))
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def _cues(self, arrow: pa.Array, counts: sp.csr_matrix) -> np.ndarray:
        """log(1 + count) of each category's cue words (over the word counts ``counts`` of the
        texts ``arrow``) and of each mark in the raw texts: one column per :data:`CUE_WORDS`
        category, then one per :data:`CUE_MARKS` mark."""
        cue_counts = [counts @ self._vector(f"cue:{name}") for name in CUE_WORDS]
        cue_counts += [pc.count_substring(arrow, mark).to_numpy(zero_copy_only=False)
                       .astype(float) for mark in CUE_MARKS.values()]
        return np.log1p(np.column_stack(cue_counts))


#: What a text is stripped of (@handles and links, as written or as :func:`normalize_links`
#: leaves them, and "#" marks; a hashtag's word stays) before it counts as bare.
_BARE_PATTERN = r"@\w+|https?://\S+|urltoken|http|#"


def _text_shape(texts: pa.Array) -> np.ndarray:
    """Per text: log(1 + words) / 3, ends with "?", share of capitals among ASCII letters,
    and 1 when nothing is left once :data:`_BARE_PATTERN` is removed."""
    arrow = pc.utf8_trim_whitespace(texts)
    words = pc.list_value_length(pc.utf8_split_whitespace(arrow))
    letters = pc.count_substring_regex(arrow, "[A-Za-z]").to_numpy(zero_copy_only=False)
    upper = pc.count_substring_regex(arrow, "[A-Z]").to_numpy(zero_copy_only=False)
    rest = pc.utf8_trim_whitespace(pc.replace_substring_regex(arrow, _BARE_PATTERN, ""))
    return np.column_stack([
        np.log1p(words.to_numpy(zero_copy_only=False).astype(float)) / 3,
        pc.ends_with(arrow, "?").to_numpy(zero_copy_only=False).astype(float),
        upper / np.maximum(letters, 1),
        pc.equal(pc.utf8_length(rest), 0).to_numpy(zero_copy_only=False).astype(float),
    ])


_HASHTAG = re.compile(r"#(\w+)")
_TAG_OR_HANDLE = re.compile(r"[#@]\w+")
_LETTERS = re.compile(r"(?u)\b[^\W\d_]+\b")


def hashtag_lexicon(texts: pd.Series) -> tuple[str, np.ndarray]:
    """Sorted words, joined by spaces (one string: a saved model stays small, where an array of
    fixed-width strings took megabytes), and their log probabilities: the words of ``texts``
    outside hashtags and @handles (lower case, letters only, one-letter words other than "a"
    and "i" left out), each VADER lexicon word counted once more."""
    counts: dict[str, int] = {}
    for text in texts.tolist():
        for word in _LETTERS.findall(_TAG_OR_HANDLE.sub(" ", text.lower())):
            counts[word] = counts.get(word, 0) + 1
    for word in vader_lexicon()[0]:
        counts[word] = counts.get(word, 0) + 1
    words = sorted(w for w in counts if len(w) > 1 or w in ("a", "i"))
    total = float(sum(counts[w] for w in words))
    return " ".join(words), np.log(np.array([counts[w] for w in words]) / total)


#: Log probability per letter of a piece of a hashtag that is no known word.
UNKNOWN_LOGP = -20.0


def segment_hashtag(tag: str, logp: dict[str, float], longest: int = 20) -> list[str]:
    """The most probable split of ``tag`` (lower-cased) into words under the unigram model
    ``logp`` (:func:`hashtag_lexicon`); unknown pieces cost :data:`UNKNOWN_LOGP` a letter.

    >>> segment_hashtag("FeelTheBern", {"feel": -5.0, "the": -2.0, "bern": -9.0})
    ['feel', 'the', 'bern']
    """
    s = tag.lower()
    best, back = [0.0] + [-np.inf] * len(s), [0] * (len(s) + 1)
    for i in range(1, len(s) + 1):
        for j in range(max(0, i - longest), i):
            piece = s[j:i]
            score = best[j] + logp.get(piece, UNKNOWN_LOGP * max(len(piece), 2))
            if score > best[i]:
                best[i], back[i] = score, j
    words, i = [], len(s)
    while i > 0:
        words.append(s[back[i]:i])
        i = back[i]
    return words[::-1]


def append_hashtag_words(texts: pd.Series, logp: dict[str, float]) -> pd.Series:
    """``texts`` with the words of their hashtags appended (after " | ", one hashtag's words
    separated from the next by " ; "); texts without hashtags unchanged."""
    def one(text: str) -> str:
        tags = _HASHTAG.findall(text)
        if not tags:
            return text
        return text + " | " + " ; ".join(" ".join(segment_hashtag(t, logp)) for t in tags)
    return texts.map(one)


def _map_unique(values: pd.Series, function) -> pd.Series:
    """``values.map(function)``, calling ``function`` once per distinct value (targets repeat
    across the replies of a thread)."""
    codes, uniques = pd.factorize(values, sort=False)
    mapped = np.asarray([function(value) for value in uniques], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _by_unique(values: pd.Series, compute) -> sp.csr_matrix:
    """``compute`` over the distinct values only (targets and parents repeat across replies),
    then one row per value."""
    codes, uniques = pd.factorize(values, sort=False)
    return compute(pd.Series(uniques, dtype=object)).tocsr()[codes]


#: Targets of at most this many words are names (a person, a topic); longer ones are posts.
NAME_MAX_WORDS = 8


def _word_params(ngrams: tuple[int, int]) -> dict:
    return {"ngram_range": tuple(ngrams), "lowercase": True, "token_pattern": _WORD_PATTERN,
            "dtype": np.float32}


def _char_params(ngrams: tuple[int, int]) -> dict:
    return {"analyzer": "char_wb", "ngram_range": tuple(ngrams), "lowercase": True,
            "dtype": np.float32}


def _learn_vocabulary(texts: pd.Series, params: dict, min_df: int, max_features: int | None,
                      extra: set[str] | frozenset = frozenset()) -> tuple[np.ndarray, np.ndarray]:
    """Sorted terms (a numpy string array, not a dict: saved models stay small and load fast)
    and their smoothed idf as TfidfVectorizer computes it: terms in at least ``min_df`` texts
    (the ``max_features`` most frequent), plus the ``extra`` terms (lexicon and cue words)."""
    counter = CountVectorizer(min_df=1, **params)
    counts = counter.fit_transform(texts).tocsc()
    df = np.diff(counts.indptr)
    total = np.asarray(counts.sum(axis=0)).ravel()
    names = counter.get_feature_names_out()
    keep = np.flatnonzero(df >= min_df)
    if max_features is not None and len(keep) > max_features:
        keep = keep[np.lexsort((names[keep], -total[keep]))[:max_features]]
    chosen = dict(zip(names[keep].tolist(), df[keep].tolist(), strict=True))
    seen = dict(zip(names.tolist(), df.tolist(), strict=True))
    for term in extra:
        chosen.setdefault(term, seen.get(term, 0))
    terms = np.array(sorted(chosen), dtype=str)
    doc_freq = np.array([chosen[t] for t in terms.tolist()], dtype=float)
    idf = np.log((1.0 + len(texts)) / (1.0 + doc_freq)) + 1.0
    return terms, idf


def _target_kind(target: str) -> int:
    """0 for a name (at most NAME_MAX_WORDS words), 1 for a post, 2 for no target."""
    n_words = len(target.split())
    return 2 if n_words == 0 else 0 if n_words <= NAME_MAX_WORDS else 1


def _kind_cross(words: sp.csr_matrix, kind: np.ndarray) -> sp.csr_matrix:
    """Text words crossed with the kind of target (:func:`_target_kind`: a name, or a post), so
    the model can weigh words differently when replying to a post (RumourEval) than when
    speaking of a name (SemEval). Rows without a target get zeros."""
    words = words.tocsr()
    rows = np.repeat(np.arange(words.shape[0]), np.diff(words.indptr))
    k = kind[rows]
    keep = k < 2
    cols = words.indices[keep].astype(np.int64) * 2 + k[keep]
    return sp.csr_matrix((words.data[keep], (rows[keep], cols)),
                         shape=(words.shape[0], words.shape[1] * 2), dtype=np.float32)


def _depth_values(frame: pd.DataFrame) -> np.ndarray:
    """Each row's depth as a float; -1 where it is missing."""
    if "depth" not in frame.columns:
        return np.full(len(frame), -1.0)
    return pd.to_numeric(frame["depth"], errors="coerce").astype("Float64") \
        .fillna(-1).to_numpy(dtype=float)


def _depth_onehot(depth: np.ndarray) -> np.ndarray:
    """One-hot of depths from :func:`_depth_values`: root, 1, 2, 3+, unknown."""
    out = np.zeros((len(depth), 5))
    out[depth < 0, 4] = 1
    out[depth == 0, 0] = 1
    out[depth == 1, 1] = 1
    out[depth == 2, 2] = 1
    out[depth >= 3, 3] = 1
    return out
