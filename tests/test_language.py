"""Tests for analysis.loaders.language (py3langid)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.loaders import language
from analysis.loaders.language import (
    MIN_LETTERS,
    classify_texts,
    clean_text,
    detect_language,
    detect_languages,
)

SAMPLES = Path(__file__).parent / "data" / "twarc2_samples"

#: Sentences in other languages and scripts than the English and Spanish of the real samples.
MULTILINGUAL = [
    "Ceci n'est pas une pipe, c'est une image de pipe.",
    "Das ist ein ganz normaler deutscher Satz über das Wetter.",
    "Это обычное предложение на русском языке о погоде.",
    "これは天気についての普通の日本語の文です。",
    "这是一个关于天气的普通中文句子。",
    "هذه جملة عادية باللغة العربية عن الطقس.",
    "यह मौसम के बारे में हिंदी का एक सामान्य वाक्य है।",
    "Αυτή είναι μια συνηθισμένη πρόταση στα ελληνικά για τον καιρό.",
    "To jest zwykłe zdanie po polsku o pogodzie.",
    "Ovo je obična rečenica na srpskom jeziku o vremenu.",
    "Ово је обична реченица на српском језику о времену.",
    "Bu hava durumu hakkında sıradan bir Türkçe cümledir.",
    "Dit is een gewone Nederlandse zin over het weer.",
    "Detta är en vanlig svensk mening om vädret.",
    "THIS IS A SENTENCE IN CAPITALS, WHICH PY3LANGID LOWERS FIRST.",
    "Cafe\u0301 cre\u0300me bru\u0302le\u0301e, decomposed accents NFC joins.",
]

#: Texts at the edges: empty, no features, emoji, lone surrogates (broken JSON escapes),
#: control characters, replacement characters, bytes that are not (all) UTF-8.
ODD = ["", " ", "a", "ok", "😀", "😀😀😀 🎉🎉", "\ud83d", "bonjour \ud83d\ude00 à tous les amis",
       "\x00\x01\x02 hello there my friend", "\ufffd\ufffd caf\ufffd au lait",
       "#hashtag @mention", b"caf\xe9 au lait, s'il vous pla\xeet", b"\xff\xfe\xfd",
       "naïve café".encode() + b"\xe2\x82", b"", "\t\n\r"]


@lru_cache(maxsize=1)
def _real_texts() -> tuple[str, ...]:
    """Distinct cleaned texts from the bundled tweets and review snippets and the samples."""
    texts = []
    for name in ("val_text.txt", "test_text.txt"):
        path = config.DATA_RAW / "tweeteval_sentiment" / name
        texts += path.read_text(encoding="utf-8").splitlines()
    for path in sorted((config.DATA_RAW / "vader_ground_truth").glob("*_GroundTruth.txt")):
        texts += [line.split("\t", 2)[2]
                  for line in path.read_text(encoding="utf-8").splitlines()
                  if line.count("\t") >= 2]
    for path in sorted(SAMPLES.glob("*.jsonl")):
        texts += [t["text"] for t in _tweets(path)]
    return tuple(dict.fromkeys(clean_text(t) for t in texts))


def _tweets(path: Path) -> list[dict]:
    """Every tweet object (with a text) in a twarc2 sample file."""
    found: list[dict] = []

    def visit(value):
        if isinstance(value, dict):
            if isinstance(value.get("text"), str) and "id" in value:
                found.append(value)
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            visit(json.loads(line))
        except json.JSONDecodeError:  # the samples include a broken stream on purpose
            continue
    return found


def _assert_classifies_as_py3langid(texts) -> None:
    """classify_texts gives py3langid's classify, text by text.

    The confidences differ by float rounding (py3langid sums the scores in float32 with BLAS,
    classify_texts in float64); a language could differ only where two languages tie to within
    that rounding, so at most 1 in 10,000 texts may differ, and only on such a tie.
    """
    identifier = language._identifier()
    langs, confs = classify_texts(texts)
    expected = [identifier.classify(text) for text in texts]
    assert len(langs) == len(confs) == len(texts)
    differ = [i for i, (lang, _) in enumerate(expected) if langs[i] != lang]
    assert len(differ) <= len(texts) // 10_000
    for i in differ:
        top = identifier.rank(texts[i])
        assert top[0][1] - top[1][1] < 1e-5
    assert np.abs(confs - [conf for _, conf in expected]).max() < 1e-5


def test_empty_short_and_null_give_null():
    assert detect_language("") == (None, None)
    assert detect_language(None) == (None, None)
    assert detect_language("@someone https://t.co/xyz ok") == (None, None)
    assert detect_language("x" * (MIN_LETTERS - 1)) == (None, None)


def test_clean_text_drops_urls_and_mentions_keeps_hashtag_words():
    assert clean_text("@a hello #World https://t.co/x") == "hello World"


def test_agrees_with_twitter_on_real_english_and_spanish_tweets():
    page = json.loads((SAMPLES / "noflat.jsonl").read_text(encoding="utf-8").splitlines()[0])
    tweets = [t for t in page["data"] + page["includes"]["tweets"]
              if t.get("lang") in ("en", "es") and len(clean_text(t["text"])) >= 40]
    assert len(tweets) > 50
    langs, conf = detect_languages(pd.Series([t["text"] for t in tweets]))
    agree = sum(a == t["lang"] for a, t in zip(langs, tweets, strict=True))
    assert agree / len(tweets) >= 0.85
    assert conf.between(0, 1).all()
    assert str(conf.dtype) == "Float64" and str(langs.dtype).startswith("string")


def test_keeps_index_and_nulls():
    texts = pd.Series(["Das ist ein ganz normaler deutscher Satz.", None], index=[5, 7])
    langs, conf = detect_languages(texts)
    assert list(langs.index) == [5, 7]
    assert langs.iloc[0] == "de"
    assert pd.isna(langs.iloc[1]) and pd.isna(conf.iloc[1])


def test_unpacked_model_cache_classifies_as_py3langid_does(tmp_path, monkeypatch):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from analysis import config
    from analysis.loaders import language

    monkeypatch.setattr(config, "MODELS", tmp_path / "models")
    language._identifier.cache_clear()
    try:
        cached = language._identifier()
        assert (language.model_cache_dir() / "nextmove.npy").is_file()
        language._identifier.cache_clear()
        again = language._identifier()  # from the .npy files made just now
    finally:
        language._identifier.cache_clear()
    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    page = json.loads((SAMPLES / "noflat.jsonl").read_text(encoding="utf-8").splitlines()[0])
    texts = [clean_text(t["text"]) for t in page["data"] + page["includes"]["tweets"]]
    assert len(texts) > 50
    for text in texts:
        assert cached.classify(text) == again.classify(text) == reference.classify(text)


def test_model_cache_that_cannot_be_written_falls_back(tmp_path, monkeypatch):
    from analysis import config
    from analysis.loaders import language

    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setattr(config, "MODELS", blocker / "models")
    language._identifier.cache_clear()
    try:
        assert detect_language("Ceci n'est pas une pipe, c'est une image.")[0] == "fr"
    finally:
        language._identifier.cache_clear()


def test_classify_texts_agrees_with_py3langid_on_real_texts():
    texts = list(_real_texts())
    assert len(texts) > 30_000
    _assert_classifies_as_py3langid(texts)


def test_classify_texts_agrees_with_py3langid_on_other_languages_and_odd_texts():
    _assert_classifies_as_py3langid(MULTILINGUAL + ODD)
    langs, _ = classify_texts(MULTILINGUAL[:12])
    assert langs.tolist() == ["fr", "de", "ru", "ja", "zh", "ar", "hi", "el", "pl", "sr", "sr",
                              "tr"]


def test_classify_texts_agrees_with_py3langid_on_very_long_texts():
    texts = list(_real_texts())
    long = [" ".join(texts[i:i + 400]) for i in range(0, 4000, 400)]  # about 40,000 bytes each
    _assert_classifies_as_py3langid(long + texts[:100] + ["x" * 100_000] + MULTILINGUAL)


def test_classify_texts_gives_a_text_the_same_answer_whatever_else_is_in_the_batch():
    texts = list(_real_texts()[:300]) + MULTILINGUAL + ODD
    langs, confs = classify_texts(texts)
    for i in range(0, len(texts), 7):
        alone = classify_texts([texts[i]])
        assert alone[0][0] == langs[i] and alone[1][0] == confs[i]  # exactly: chunks may differ
    assert classify_texts([])[0].tolist() == []


@pytest.mark.parametrize(("setting", "value"), [
    ("_LOCKSTEP_MIN_TEXTS", 0),  # every byte in lockstep
    ("_LOCKSTEP_MIN_TEXTS", 10**9),  # every text on its own, in Python
    ("_BLOCK_BYTES", 1),  # a block per text
    ("_BLOCK_BYTES", 10**9),  # one block
])
def test_answers_do_not_depend_on_how_the_walk_and_the_blocks_go(monkeypatch, setting, value):
    texts = list(_real_texts()[:500]) + MULTILINGUAL + ODD
    expected = classify_texts(texts)
    monkeypatch.setattr(language, setting, value)
    langs, confs = classify_texts(texts)
    assert langs.tolist() == expected[0].tolist()
    assert np.array_equal(confs, expected[1])


def test_classify_texts_honours_min_confidence(monkeypatch):
    monkeypatch.setattr(language._identifier(), "min_confidence", 0.9)
    texts = list(_real_texts()[:500]) + MULTILINGUAL + ODD
    _assert_classifies_as_py3langid(texts)
    assert "und" in classify_texts(texts)[0].tolist()


def test_detect_languages_agrees_with_detect_language_text_by_text():
    texts = pd.Series(list(_real_texts()[:400]) * 2 + MULTILINGUAL
                      + [t for t in ODD if isinstance(t, str)] + [None, pd.NA, float("nan")],
                      dtype=object)
    langs, confs = detect_languages(texts)
    for text, lang, conf in zip(texts, langs, confs, strict=True):
        expected_lang, expected_conf = detect_language(text)
        if expected_lang is None:
            assert pd.isna(lang) and pd.isna(conf)
        else:
            assert lang == expected_lang
            assert abs(conf - expected_conf) < 1e-5


def test_enough_letters_counts_letters_only_up_to_min_letters():
    for n in range(MIN_LETTERS + 3):
        text = "12 ?! " + "é" * n + " 3_4 😀"
        assert language._enough_letters(text) == (n >= MIN_LETTERS)


def test_no_linguistic_content_is_null_not_zxx():
    # py3langid answers zxx ("no linguistic content") for letters without words
    from py3langid.langid import classify

    assert classify("abcdefghij")[0] == "zxx"
    langs, conf = detect_languages(pd.Series(["abcdefghij", "Ceci n'est pas une pipe."]))
    assert pd.isna(langs[0]) and pd.isna(conf[0]) and langs[1] == "fr"
    assert detect_language("abcdefghij") == (None, None)


@pytest.mark.parametrize("text, expected", [
    ("GET OUT OF MY STATE YOU BUM! #UniteBlue", "en"),
    ("HOW COULD THEY SAY THAT TO A GRIEVING MOTHER", "en"),
    ("FINALLY A WOMAN RUNNING FOR PRESIDENT #SemST", "en"),
    ("CECI N'EST PAS UNE PIPE, C'EST UNE IMAGE", "fr"),
])
def test_texts_in_capitals_are_detected_as_in_lower_case(text, expected):
    # py3langid guessed xh, ig, ... for English written in capitals (about half such tweets)
    assert detect_language(text)[0] == expected
    assert detect_languages(pd.Series([text]))[0].tolist() == [expected]
