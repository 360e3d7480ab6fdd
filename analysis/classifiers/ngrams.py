"""Word n-gram counts over a fixed vocabulary, computed on arrays instead of n-gram strings.

:class:`WordNgramCounter` gives the matrix that scikit-learn's
``CountVectorizer(vocabulary=terms, ngram_range=..., token_pattern=..., lowercase=True)`` gives,
in less than half its time (measured in docs/benchmarks.md): scikit-learn builds the string of
every n-gram of every text ("not", "true", "not true") and looks each up in a dict, one Python
step per n-gram. Here each text is only lowercased and split into tokens (the same regular
expression), and each token is looked up once in a dict of the vocabulary's words; an n-gram is
then matched by integers, the id of its first n-1 words and the id of its last word, in a sorted
array of the vocabulary's (n-1)-gram-prefix x word pairs, for all texts of a batch at once. No
string is built for an n-gram.

A term that no tokenization can produce (a space at its start, two spaces, more words than the
n-gram range allows) is never counted, by either.

Examples
--------
>>> counter = WordNgramCounter(["is", "not true", "true"], (1, 2), r"(?u)\\b\\w[\\w']*\\b")
>>> counter.transform(["That is NOT true, true?"]).toarray().tolist()
[[1.0, 1.0, 2.0]]
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp


class WordNgramCounter:
    """Counts of the word n-grams in ``terms`` (columns in the order of ``terms``).

    Parameters
    ----------
    terms
        The vocabulary: distinct words and n-grams of words joined by single spaces.
    ngram_range
        (smallest, largest) number of words of a counted n-gram.
    token_pattern
        The regular expression whose matches in the lowercased text are its words.
    """

    def __init__(self, terms: Sequence[str], ngram_range: tuple[int, int],
                 token_pattern: str) -> None:
        self.n_terms = len(terms)
        self.low, self.high = int(ngram_range[0]), int(ngram_range[1])
        self._findall = re.compile(token_pattern).findall
        split = [term.split(" ") for term in terms]
        kept = [c for c, p in enumerate(split) if self.low <= len(p) <= self.high and all(p)]
        parts = [split[c] for c in kept]
        words = sorted({word for p in parts for word in p})
        self._word_id = word_id = {word: i for i, word in enumerate(words)}
        self._n_words = max(len(words), 1)
        # Level 1 is every word of a term (one that only ends n-grams, too), by its id. Level
        # k > 1 holds every k-word prefix of a term, coded as the level-(k-1) id of its first
        # k-1 words times the number of words plus its last word's id; its level-k id is its
        # position among the level's sorted codes. A term of k words is counted through its
        # level-k id (``_columns``).
        column = np.asarray(kept, dtype=np.int64)
        n_parts = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        prefix = np.zeros(len(parts), dtype=np.int64)
        self._codes: list[np.ndarray] = []
        self._columns: list[np.ndarray] = []
        for k in range(1, self.high + 1):
            has = n_parts >= k
            last = np.fromiter((word_id[p[k - 1]] for p in parts if len(p) >= k),
                               dtype=np.int64, count=int(has.sum()))
            codes = prefix[has] * self._n_words + last
            level = np.arange(len(words), dtype=np.int64) if k == 1 else np.unique(codes)
            prefix[has] = np.searchsorted(level, codes)
            columns = np.full(len(level), -1, dtype=np.int64)
            ends = n_parts[has] == k
            columns[prefix[has][ends]] = column[has][ends]
            self._codes.append(level)
            self._columns.append(columns)

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """A CSR matrix (float32, sorted indices): one row per text, one column per term."""
        texts = texts.tolist() if hasattr(texts, "tolist") else texts  # a Series iterates slowly
        tokens = [self._findall(text.lower()) for text in texts]
        n = len(tokens)
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=n)
        doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
        ids = np.fromiter(map(self._word_id.get, itertools.chain.from_iterable(tokens),
                              itertools.repeat(-1)), dtype=np.int64, count=int(lengths.sum()))
        rows, columns = [], []
        current = ids  # level-1 ids are the word ids (-1: not a word of any term)
        for k in range(1, self.high + 1):
            if k > 1:
                span = len(ids) - k + 1
                if span <= 0:
                    break
                last = ids[k - 1:]
                ok = (current[:span] >= 0) & (last >= 0) & (doc[:span] == doc[k - 1:])
                current = self._lookup(k, current[:span] * self._n_words + last, ok)
            if k >= self.low:
                column = np.full(len(current), -1, dtype=np.int64)
                known = current >= 0
                column[known] = self._columns[k - 1][current[known]]
                keep = column >= 0
                rows.append(doc[:len(current)][keep])
                columns.append(column[keep])
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        col = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        matrix = sp.csr_matrix((np.ones(len(row), dtype=np.float32), (row, col)),
                               shape=(n, self.n_terms), dtype=np.float32)
        matrix.sum_duplicates()
        matrix.sort_indices()
        return matrix

    def _lookup(self, k: int, codes: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """The level-``k`` id of each code (-1 where it is not a prefix or ``ok`` is False)."""
        level = self._codes[k - 1]
        if not len(level):
            return np.full(len(codes), -1, dtype=np.int64)
        position = np.minimum(np.searchsorted(level, codes), len(level) - 1)
        return np.where(ok & (level[position] == codes), position, -1)


class CharNgramCounter:
    """Counts of the character n-grams in ``terms`` within word boundaries: the matrix of
    scikit-learn's ``CountVectorizer(analyzer="char_wb", vocabulary=terms, ngram_range=...,
    lowercase=True)``.

    A text's ``char_wb`` n-grams are the sums of its words' (each word padded with a space on
    either side; a word shorter than an n counts once, whole), so each distinct word of a batch
    is cut into n-grams once, and the batch's matrix is the product of a texts x distinct words
    count matrix with a distinct words x terms one. Words repeat across texts far more than
    texts do, which is where the time goes.

    >>> counter = CharNgramCounter([" a", "a ", " a ", "ab", "b "], (2, 3))
    >>> counter.transform(["A ab", "a"]).toarray().tolist()
    [[2.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0, 0.0]]
    """

    def __init__(self, terms: Sequence[str], ngram_range: tuple[int, int]) -> None:
        self.n_terms = len(terms)
        self.low, self.high = int(ngram_range[0]), int(ngram_range[1])
        self._column = {term: i for i, term in enumerate(terms)}

    def _word_columns(self, word: str) -> list[int]:
        """The columns of the n-grams of one word (with repeats), as ``char_wb`` cuts them."""
        padded = f" {word} "
        size = len(padded)
        grams = []
        for n in range(self.low, self.high + 1):
            grams += [padded[start:start + n] for start in range(max(size - n, 0) + 1)]
            if size <= n:  # the whole word, once for every larger n
                break
        get = self._column.get
        return [column for column in map(get, grams) if column is not None]

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """A CSR matrix (float32, sorted indices): one row per text, one column per term."""
        texts = texts.tolist() if hasattr(texts, "tolist") else texts
        words = [text.lower().split() for text in texts]
        n = len(words)
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=n)
        distinct: dict[str, int] = {}
        word_index = np.fromiter((distinct.setdefault(w, len(distinct))
                                  for w in itertools.chain.from_iterable(words)),
                                 dtype=np.int64, count=int(lengths.sum()))
        per_word = [self._word_columns(word) for word in distinct]
        grams = np.fromiter(map(len, per_word), dtype=np.int64, count=len(per_word))
        by_word = sp.csr_matrix(
            (np.ones(int(grams.sum()), dtype=np.float32),
             np.fromiter(itertools.chain.from_iterable(per_word), dtype=np.int64,
                         count=int(grams.sum())),
             np.concatenate([[0], np.cumsum(grams)])),
            shape=(len(per_word), self.n_terms))
        in_text = sp.csr_matrix(
            (np.ones(len(word_index), dtype=np.float32), word_index,
             np.concatenate([[0], np.cumsum(lengths)])), shape=(n, len(per_word)))
        matrix = (in_text @ by_word).tocsr().astype(np.float32)
        matrix.sum_duplicates()
        matrix.sort_indices()
        return matrix
