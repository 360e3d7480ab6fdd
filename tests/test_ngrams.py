"""WordNgramCounter and CharNgramCounter give exactly scikit-learn's CountVectorizer counts over a
fixed vocabulary."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer

from analysis.classifiers.features import _WORD_PATTERN
from analysis.classifiers.ngrams import CharNgramCounter, WordNgramCounter


def reference(terms: list[str], ngrams: tuple[int, int], texts: list[str],
              analyzer: str = "word") -> sp.csr_matrix:
    pattern = {"token_pattern": _WORD_PATTERN} if analyzer == "word" else {}
    return CountVectorizer(vocabulary=terms, ngram_range=ngrams, lowercase=True,
                           analyzer=analyzer, dtype=np.float32, **pattern).transform(texts)


def assert_same(terms: list[str], ngrams: tuple[int, int], texts: list[str],
                analyzer: str = "word") -> None:
    expected = reference(terms, ngrams, texts, analyzer).tocsr()
    counter = (WordNgramCounter(terms, ngrams, _WORD_PATTERN) if analyzer == "word"
               else CharNgramCounter(terms, ngrams))
    got = counter.transform(texts)
    assert got.shape == expected.shape
    assert got.dtype == np.float32
    assert got.has_sorted_indices
    np.testing.assert_array_equal(got.indptr, expected.indptr)
    np.testing.assert_array_equal(got.indices, expected.indices)
    np.testing.assert_array_equal(got.data, expected.data)


def test_bigram_whose_words_are_not_terms():
    # "true" ends a bigram but is no term of its own, and "that" starts one: a word dictionary
    # built from unigram terms only would miss the bigram or shift its column
    terms = ["is", "not true", "that is", "zebra"]
    assert_same(terms, (1, 2), ["That is NOT true, not true?", "true not", "", "zebra zebra"])
    got = WordNgramCounter(terms, (1, 2), _WORD_PATTERN).transform(["that is not true"])
    assert got.toarray().tolist() == [[1.0, 1.0, 1.0, 0.0]]


def test_terms_outside_the_range_or_unmatchable_never_count():
    terms = ["a b c", " a", "a  b", "a", "b", "a b"]
    assert_same(terms, (1, 2), ["a b c a b", "A B"])
    assert_same(terms, (2, 3), ["a b c a b", "A B"])
    assert_same(terms, (1, 1), ["a b c a b"])


def test_series_input_and_an_empty_batch():
    import pandas as pd

    counter = WordNgramCounter(["x", "x y"], (1, 2), _WORD_PATTERN)
    got = counter.transform(pd.Series(["x y x", "y"], dtype="str"))
    assert got.toarray().tolist() == [[2.0, 1.0], [0.0, 0.0]]
    assert counter.transform([]).shape == (0, 2)


def test_bundled_texts_with_a_vocabulary_learned_from_them():
    from analysis.classifiers import datasets

    texts = datasets.read_semeval_stance("train")["text"].fillna("").tolist()
    learned = CountVectorizer(ngram_range=(1, 3), token_pattern=_WORD_PATTERN, min_df=2)
    terms = learned.fit(texts).get_feature_names_out().tolist()
    rng = np.random.default_rng(0)
    some = [t for t in terms if rng.random() < 0.5]  # drops unigrams of kept bigrams too
    for ngrams in ((1, 1), (1, 2), (1, 3), (2, 3)):
        assert_same(some, ngrams, texts)


WORDS = st.sampled_from(["a", "b", "c", "don't", "ǅ", "straße", "1", "_"])


@settings(max_examples=200, deadline=None)
@given(terms=st.lists(st.lists(WORDS, min_size=1, max_size=3).map(" ".join), min_size=1,
                      max_size=12, unique=True),
       texts=st.lists(st.lists(st.one_of(WORDS, st.sampled_from(["A", "B", "!", "'", "  ",
                                                                  "\n", "x"])),
                               max_size=12).map(" ".join), max_size=6),
       low=st.integers(1, 3), width=st.integers(0, 2))
def test_matches_countvectorizer(terms, texts, low, width):
    assert_same(terms, (low, low + width), texts)


@pytest.mark.parametrize("joiner", ["", "'"])
def test_tokens_glued_by_apostrophes_and_punctuation(joiner):
    texts = [joiner.join(["it", "s", "a"]), "'quoted' it's ''a''", "a'b'c"]
    assert_same(["it", "it's", "a", "it s", "a b", "a'b'c", "quoted it's"], (1, 2), texts)


def test_char_ngrams_of_short_and_repeated_words():
    # "a" padded is " a " (3 characters): for n >= 3 it counts once, whole; "aaaa" repeats "aa"
    terms = [" a", "a ", " a ", "aa", "aaa", " aaaa ", "a a", "ß", "ss"]
    for ngrams in ((1, 1), (2, 3), (2, 5), (3, 6)):
        assert_same(terms, ngrams, ["a", "A a", "aaaa", "", "  a\t\na  ", "Straße SS", "a a"],
                    analyzer="char_wb")


def test_char_ngrams_of_bundled_texts_with_a_vocabulary_learned_from_them():
    from analysis.classifiers import datasets

    texts = datasets.read_semeval_stance("train")["text"].fillna("").tolist()
    learned = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2)
    terms = learned.fit(texts[:1000]).get_feature_names_out().tolist()
    assert_same(terms, (2, 5), texts, analyzer="char_wb")


@settings(max_examples=200, deadline=None)
@given(terms=st.lists(st.text(alphabet=" abAß\u0130", min_size=1, max_size=5), min_size=1,
                      max_size=15, unique=True),
       texts=st.lists(st.text(alphabet=" \t\nabAß\u0130", max_size=15), max_size=6),
       low=st.integers(1, 3), width=st.integers(0, 3))
def test_char_counts_match_countvectorizer(terms, texts, low, width):
    assert_same(terms, (low, low + width), texts, analyzer="char_wb")
