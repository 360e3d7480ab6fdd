"""Language detection with py3langid (its model ships inside the package; no download).

URLs, @mentions and the ``#`` of hashtags are removed before detection, since they say nothing
about the language. Texts with fewer than :data:`MIN_LETTERS` letters left get no guess (null).
The confidence is py3langid's normalized probability of the chosen language, in [0, 1].

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

import re
from functools import lru_cache

import pandas as pd

#: Fewer letters than this (after stripping URLs and mentions) and no language is guessed: the
#: detector's guesses on a word or two are close to noise.
MIN_LETTERS = 10

_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|&amp;|&lt;|&gt;", re.UNICODE)
_HASHTAG = re.compile(r"#(\w+)", re.UNICODE)


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def clean_text(text: str) -> str:
    """``text`` without URLs, @mentions and HTML entities; hashtags keep their word."""
    return _NOISE.sub(" ", _HASHTAG.sub(r"\1", text)).strip()


def detect_language(text: object) -> tuple[str | None, float | None]:
    """The language of one text and the detector's confidence, or ``(None, None)``."""
    if not isinstance(text, str) or not text:
        return None, None
    cleaned = clean_text(text)
    if sum(ch.isalpha() for ch in cleaned) < MIN_LETTERS:
        return None, None
    lang, confidence = _identifier().classify(cleaned)
    confidence = min(max(float(confidence), 0.0), 1.0)
    return str(lang), confidence


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
    cache: dict[str, tuple[str | None, float | None]] = {}
    langs: list[str | None] = []
    confs: list[float | None] = []
    for text in texts.astype("object"):
        if not isinstance(text, str):
            langs.append(None)
            confs.append(None)
            continue
        guess = cache.get(text)
        if guess is None:
            guess = cache[text] = detect_language(text)
        langs.append(guess[0])
        confs.append(guess[1])
    return (pd.Series(pd.array(langs, dtype="string"), index=texts.index),
            pd.Series(pd.array(confs, dtype="Float64"), index=texts.index))
