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

import os
import re
import shutil
import tempfile
from array import array
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config

#: Fewer letters than this (after stripping URLs and mentions) and no language is guessed: the
#: detector's guesses on a word or two are close to noise.
MIN_LETTERS = 10

_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|&amp;|&lt;|&gt;", re.UNICODE)
_HASHTAG = re.compile(r"#(\w+)", re.UNICODE)


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


def clean_text(text: str) -> str:
    """``text`` without URLs, @mentions and HTML entities; hashtags keep their word."""
    return _NOISE.sub(" ", _HASHTAG.sub(r"\1", text)).strip()


def detect_language(text: object) -> tuple[str | None, float | None]:
    """The language of one text and the detector's confidence, or ``(None, None)``."""
    if not isinstance(text, str) or not text:
        return None, None
    cleaned = clean_text(text)
    if sum(map(str.isalpha, cleaned)) < MIN_LETTERS:
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
