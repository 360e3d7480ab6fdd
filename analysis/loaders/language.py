"""Language detection with py3langid (its model ships inside the package; no download).

URLs, @mentions and the ``#`` of hashtags are removed before detection, since they say nothing
about the language. Texts with fewer than :data:`MIN_LETTERS` letters left get no guess (null).
The confidence is py3langid's normalized probability of the chosen language, in [0, 1].

:func:`detect_languages` classifies all texts of a chunk at once (:func:`classify_texts`): the
same model and arithmetic as py3langid's ``classify``, with its byte-level DFA walked for all
texts in lockstep with NumPy and the scores computed as sparse matrix products: three to four
times as fast as one ``classify`` call per text (``benchmarks/language.py``). The languages are
the same; the confidences differ from py3langid's by float rounding only (py3langid sums in
float32, this in float64), under 1e-5.
:func:`detect_language` (one text) calls py3langid itself.

Examples
--------
>>> langs, conf = detect_languages(pd.Series(["Ceci n'est pas une pipe, c'est une image.",
...                                           "ok", None]))
>>> langs.tolist()
['fr', <NA>, <NA>]
>>> bool(0.0 <= conf[0] <= 1.0), bool(pd.isna(conf[1]))
(True, True)
"""

from __future__ import annotations

import os
import re
import shutil
import string
import tempfile
from array import array
from collections.abc import Sequence
from functools import lru_cache
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config

#: Fewer letters than this (after stripping URLs and mentions) and no language is guessed: the
#: detector's guesses on a word or two are close to noise.
MIN_LETTERS = 10

#: Codes that name no language (py3langid has zxx, "no linguistic content", for strings such
#: as "abcdefghij"); such guesses are null, as the platforms' own codes for them are.
NO_LANGUAGE = frozenset({"und", "zxx"})

_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|&amp;|&lt;|&gt;", re.UNICODE)
_HASHTAG = re.compile(r"#(\w+)", re.UNICODE)
_CAPITALS, _SMALL = string.ascii_uppercase.encode(), string.ascii_lowercase.encode()


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    try:
        model = _cached_model()
    except (OSError, ValueError, KeyError, TypeError):
        model = None
    if model is None:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ptc, pc, classes, nextmove, row, output = model
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)


#: The model's parts in the order py3langid's loader returns them, and as what: a NumPy array, a
#: list, or a stdlib ``array.array`` of unsigned integers.
_MODEL_PARTS = (("ptc", "numpy"), ("pc", "numpy"), ("classes", "list"), ("nextmove", "array"),
                ("nextmove_row", "array"), ("out_feat", "list"))
#: Item size -> ``array.array`` type code, as py3langid uses them.
_TYPECODES = {2: "H", 4: "I", 8: "L"}


def model_cache_dir() -> Path:
    """Where the unpacked py3langid model is kept (one folder per py3langid version)."""
    from importlib.metadata import version

    return config.MODELS / f"py3langid-{version('py3langid')}"


def _cached_model() -> tuple | None:
    """py3langid's model from plain ``.npy`` files (made on first use from the package's
    LZMA-compressed model, which takes about a second to unpack in every process that loads
    it; the ``.npy`` files are mapped into memory, so worker processes share them).

    Returns None when the cache cannot be made (a read-only project folder, say).
    """
    folder = model_cache_dir()
    if not folder.is_dir():
        _write_model_cache(folder)
    parts = []
    for name, kind in _MODEL_PARTS:
        values = np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        if kind == "list":
            parts.append(values.tolist())
        elif kind == "numpy":
            parts.append(np.asarray(values))  # a plain view of the mapped file: faster to index
        else:
            packed = array(_TYPECODES[values.dtype.itemsize])
            packed.frombytes(np.ascontiguousarray(values).tobytes())
            parts.append(packed)
    return tuple(parts)


def _write_model_cache(folder: Path) -> None:
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    model = load_model(MODEL_DIR / MODEL_FILE)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for (name, kind), value in zip(_MODEL_PARTS, model, strict=True):
            if kind == "list":
                value = np.asarray(value)
            elif kind == "array":
                value = np.frombuffer(value, dtype=f"u{value.itemsize}")
            np.save(tmp / f"{name}.npy", value, allow_pickle=False)
        os.rename(tmp, folder)
    except OSError:
        if not folder.is_dir():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


#: Once fewer texts than this are still being walked, the rest of their bytes are walked one text
#: at a time in Python: a NumPy step costs about 2.5 µs however few texts it moves, a byte in
#: Python about 0.15 µs; on long texts lockstep was faster from about 16 texts on (2026-11-27).
_LOCKSTEP_MIN_TEXTS = 16

#: Texts are walked and scored in blocks of about this many bytes, which bounds the memory a
#: block takes: some 30 bytes per byte of text for the walk, and a float64 copy of the rows of
#: py3langid's table (100,053 rows of 142 float16) that the block uses. 5,000 texts of 730 bytes
#: (2026-11-27, tracemalloc): peak 65 MiB in 0.6 s; in one block 139 MiB in 0.55 s; in blocks
#: of 256 KiB 37 MiB in 1.0 s.
_BLOCK_BYTES = 2**20


@lru_cache(maxsize=1)
def _dfa(identifier) -> tuple:
    """py3langid's tokenizer DFA for :func:`_walk`: next state by ``row base + byte`` (array and
    the identifier's own sequence), the row base of each state (``tk_row << 8``; array and list)
    and the feature each state emits (-1: none)."""
    nextmove = identifier.tk_nextmove
    rowbase = np.frombuffer(identifier.tk_row, dtype=f"u{identifier.tk_row.itemsize}")
    rowbase = rowbase.astype(np.intp) << 8
    return (np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}"), nextmove, rowbase,
            rowbase.tolist(), np.asarray(identifier.tk_output, dtype=np.intp))


def _walk(data: bytes, lengths: np.ndarray, identifier) -> np.ndarray:
    """The DFA state after each byte of texts laid end to end in ``data``, longest first.

    All texts take a step at once, one byte position after the other (py3langid's
    ``visit_counts`` walks one text at a time); since the longest texts come first, the texts
    still running are always the first ``k``.
    """
    nextmove, nextmove_seq, rowbase, rowbase_seq, _ = _dfa(identifier)
    view = np.frombuffer(data, dtype=np.uint8)
    starts = np.zeros(len(lengths), dtype=np.intp)
    np.cumsum(lengths[:-1], out=starts[1:])
    longest = int(lengths[0]) if len(lengths) else 0
    # running[p]: how many texts have more than p bytes
    running = np.searchsorted(-lengths, -np.arange(longest + 1), side="left")
    states = np.empty(len(view), dtype=nextmove.dtype)
    state = np.zeros(len(lengths), dtype=np.intp)
    at = starts.copy()
    position = 0
    while position < longest and running[position] >= _LOCKSTEP_MIN_TEXTS:
        k = running[position]
        state, at = state[:k], at[:k]
        state = nextmove[rowbase[state] + view[at]]
        states[at] = state
        at += 1
        position += 1
    for i in range(int(running[position])):
        current, walked = int(state[i]), []
        begin, end = int(at[i]), int(starts[i] + lengths[i])
        for byte in data[begin:end]:
            current = nextmove_seq[rowbase_seq[current] + byte]
            walked.append(current)
        states[begin:end] = walked
    return states


def _alias_pairs(classes: Sequence[str]) -> list[tuple[int, int]]:
    """(first, repeat) column pairs of labels that occur more than once (py3langid folds them)."""
    first: dict[str, int] = {}
    pairs = []
    for i, label in enumerate(classes):
        if label in first:
            pairs.append((first[label], i))
        else:
            first[label] = i
    return pairs


def _raw_scores(data: bytes, lengths: np.ndarray, identifier) -> np.ndarray:
    """py3langid's ``_raw_score`` of texts laid end to end in ``data``, longest first.

    Counts per (text, feature), log1p'd in float32 as py3langid does, times the rows of the
    model's table that the texts use (as float64, a column for each feature that occurs, in
    feature order: a text's sum does not depend on the other texts).
    """
    from scipy import sparse

    states = _walk(data, lengths, identifier)
    features = _dfa(identifier)[4][states]
    del states
    hit = features >= 0
    n_texts, n_features = len(lengths), len(identifier.nb_ptc)
    # one key per (text, feature) hit; sorted, equal keys are one count
    keys = np.repeat(np.arange(n_texts, dtype=np.int64) * n_features, lengths)[hit]
    keys += features[hit]
    keys.sort()
    first = np.flatnonzero(np.diff(keys, prepend=-1))  # keys are >= 0
    counts = np.diff(np.append(first, len(keys))).astype(np.float32)
    rows, features = np.divmod(keys[first], n_features)
    used = np.zeros(n_features, dtype=bool)
    used[features] = True
    column_of = np.cumsum(used) - 1
    indptr = np.zeros(n_texts + 1, dtype=np.intp)
    np.cumsum(np.bincount(rows, minlength=n_texts), out=indptr[1:])
    counts = sparse.csr_matrix((np.log1p(counts).astype(np.float64), column_of[features], indptr),
                               shape=(n_texts, int(used.sum())))
    table = np.asarray(identifier.nb_ptc[np.flatnonzero(used)], dtype=np.float64)
    scores = np.asarray(counts @ table)
    scores += identifier.nb_pc
    scores[np.diff(counts.indptr) == 0] = 0.0  # no features: py3langid scores 0 (uniform)
    return scores


def classify_texts(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """py3langid's ``classify`` for many texts at once: language and confidence of each.

    Same steps as py3langid (``_encode``, the DFA walk, naive Bayes scores from log1p feature
    counts, a softmax at temperature sqrt(bytes), folding aliased labels, ``min_confidence``),
    with all texts walked together and scored as one sparse matrix product in float64.

    Parameters
    ----------
    texts
        Texts (str, or UTF-8 bytes as py3langid takes them).

    Returns
    -------
    tuple of numpy.ndarray
        Languages (object array of str) and confidences (float64), in the order of ``texts``.

    Examples
    --------
    >>> langs, conf = classify_texts(["Das ist ein ganz normaler deutscher Satz.", ""])
    >>> langs.tolist()
    ['de', 'sr']
    >>> round(float(conf[1]), 4)  # no features: a uniform guess; sr folds two scripts
    0.0141
    """
    from py3langid.langid import LanguageIdentifier

    identifier = _identifier()
    if not identifier._norm_probs:  # _identifier() builds it so; the maths below assumes it
        raise ValueError("classify_texts needs an identifier with norm_probs=True")
    encoded = [LanguageIdentifier._encode(text) for text in texts]
    n = len(encoded)
    if not n:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.float64)
    lengths = np.fromiter(map(len, encoded), dtype=np.intp, count=n)
    order = np.argsort(-lengths, kind="stable")
    lengths = lengths[order]
    scores = np.empty((n, len(identifier.nb_classes)), dtype=np.float64)
    ends = np.cumsum(lengths)
    start = 0
    while start < n:  # blocks of about _BLOCK_BYTES, at least one text each
        limit = ends[start] - lengths[start] + _BLOCK_BYTES
        stop = max(int(np.searchsorted(ends, limit, side="right")), start + 1)
        data = b"".join([encoded[i] for i in order[start:stop]])
        scores[start:stop] = _raw_scores(data, lengths[start:stop], identifier)
        start = stop

    scores *= (1.0 / np.sqrt(np.maximum(lengths, 1)))[:, None]
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    totals = scores.sum(axis=1)
    for i, j in _alias_pairs(identifier.nb_classes):
        scores[:, i] += scores[:, j]
        scores[:, j] = 0.0
    best = scores.argmax(axis=1)  # the softmax's denominator is the same for a whole row
    confidences = np.empty(n, dtype=np.float64)
    confidences[order] = scores[np.arange(n), best] / totals
    langs = np.empty(n, dtype=object)
    langs[order] = np.asarray(identifier.nb_classes, dtype=object)[best]
    if identifier.min_confidence is not None:
        langs[confidences < identifier.min_confidence] = "und"
    return langs, confidences


def clean_text(text: str) -> str:
    """``text`` without URLs, @mentions and HTML entities; hashtags keep their word; in lower
    case when most of its letters A-Z are capitals.

    py3langid's features are case-sensitive and it learnt from mostly lower-case text: of the
    37 tweets with more capitals than small letters among 4,620 English ones (TweetEval
    sentiment val and stance train), it gave 17 another language as written and 1 in lower case
    (2026-11-29). Only ASCII letters are counted (in C, about 0.6 µs a tweet).

    >>> clean_text("GET OUT OF MY STATE @user! #UniteBlue")
    'get out of my state  ! uniteblue'
    """
    cleaned = _NOISE.sub(" ", _HASHTAG.sub(r"\1", text)).strip()
    data = cleaned.encode("utf-8", errors="replace")
    capitals = len(data) - len(data.translate(None, _CAPITALS))
    small = len(data) - len(data.translate(None, _SMALL))
    return cleaned.lower() if capitals > small else cleaned


def _enough_letters(text: str) -> bool:
    """Whether ``text`` has at least :data:`MIN_LETTERS` letters (stops counting there)."""
    return next(islice(filter(str.isalpha, text), MIN_LETTERS - 1, None), None) is not None


def detect_language(text: object) -> tuple[str | None, float | None]:
    """The language of one text and the detector's confidence, or ``(None, None)``."""
    if not isinstance(text, str) or not text:
        return None, None
    cleaned = clean_text(text)
    if not _enough_letters(cleaned):
        return None, None
    lang, confidence = _identifier().classify(cleaned)
    if lang in NO_LANGUAGE:
        return None, None
    return str(lang), min(max(float(confidence), 0.0), 1.0)


def detect_languages(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Detected language (string) and confidence (Float64) for each text; each distinct text once.

    Parameters
    ----------
    texts
        Texts; nulls and short texts give nulls.

    Returns
    -------
    tuple of pandas.Series
        ``(lang_detected, lang_confidence)`` with the index of ``texts``.
    """
    guesses: dict[str, tuple[str | None, float | None]] = {}
    pending: list[str] = []
    cleaned: list[str] = []
    values = texts.astype("object").tolist()
    for text in values:
        if isinstance(text, str) and text not in guesses:
            guesses[text] = (None, None)
            clean = clean_text(text)
            if _enough_letters(clean):
                pending.append(text)
                cleaned.append(clean)
    found, confidences = classify_texts(cleaned)
    for text, lang, confidence in zip(pending, found, confidences.tolist(), strict=True):
        if lang not in NO_LANGUAGE:
            guesses[text] = (str(lang), min(max(confidence, 0.0), 1.0))
    langs: list[str | None] = []
    confs: list[float | None] = []
    for text in values:
        lang, confidence = guesses[text] if isinstance(text, str) else (None, None)
        langs.append(lang)
        confs.append(confidence)
    return (pd.Series(pd.array(langs, dtype="string"), index=texts.index),
            pd.Series(pd.array(confs, dtype="Float64"), index=texts.index))
