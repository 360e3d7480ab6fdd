"""Tests for analysis.loaders.language (py3langid)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.loaders.language import MIN_LETTERS, clean_text, detect_language, detect_languages

SAMPLES = Path(__file__).parent / "data" / "twarc2_samples"


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
