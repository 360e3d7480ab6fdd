"""The ``default`` support / criticism / other model, built from bundled data at first use.

Recipe (deterministic; no network):

- data: SemEval-2016 Task 6 train + val (TweetEval copy; favor -> support, against -> criticism,
  none -> other; target = the target's name) and RumourEval 2019 train + dev (support -> support,
  deny -> criticism, query and comment -> other; target = the thread's source post, context = the
  parent post, depth = position in the thread; context and depth blanked for half of these rows,
  see :data:`~analysis.classifiers.datasets.THREAD_INFO_DROPOUT`);
- features: :class:`~analysis.classifiers.features.StanceFeatures`;
- model: multinomial logistic regression with class weights balanced *within each kind of
  target* (a name, as in SemEval; a post, as in RumourEval: the two sources' label mixes differ,
  against-heavy and deny-rare) for the labels, and probabilities corrected back to each kind's
  training label mix, with factors that make their mean over the kind's training rows equal that
  mix (:class:`~analysis.classifiers.linear.BalancedLogisticRegression` with strata,
  :func:`make_pipeline`; recipe version 7, measured in docs/classifiers.md);
- card: the mapping, cross-validated metrics with folds grouped by SemEval target / RumourEval
  event, the cross-validated confusion matrix (with ``label``'s text rules since recipe version
  8), the sha256 of each training file (``data_files_sha256``), versions and seed.

The fitted model and its card are cached under ``data/processed/models/`` in files named by a key
of the training files' sha256, the loader version, :data:`RECIPE_VERSION` and the scikit-learn
version, written atomically; a changed key builds a new model, and so does a cached card that
lacks a field of :data:`CARD_FIELDS` (written by an older version of this code) or is missing.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import pandas as pd
from sklearn.pipeline import Pipeline

from analysis import config
from analysis.classifiers.datasets import (
    STANCE_MAPPINGS,
    default_training_frame,
)
from analysis.classifiers.features import StanceFeatures
from analysis.classifiers.linear import BalancedLogisticRegression
from analysis.errors import UserError
from analysis.schema import STANCE_LABELS

#: Bump when the recipe (features, model, data selection, card) changes: it is part of the cache
#: key. 8: the card's cross-validation labels with ``label``'s text rules, its interval uses
#: 1000 resamples, and the card holds ``model_sha256`` (the model is 7's).
RECIPE_VERSION = "8"

#: Regularisation of the logistic regression, chosen on SemEval val / RumourEval dev.
DEFAULT_C = 1.0

#: Feature block weights, chosen on SemEval val / RumourEval dev. ``shape`` and ``cuedepth`` are
#: off: in the recipe's cross-validation on train they moved RumourEval macro-F1 by -0.001 and cost
#: about a third of the prediction speed (``train`` uses them; see
#: :func:`~analysis.classifiers.training.user_pipeline`).
DEFAULT_WEIGHTS = {"interact": 1.5, "kind": 0.5, "char": 0.0, "shape": 0.0, "cuedepth": 0.0}

#: Folds of the card's grouped cross-validation.
CV_FOLDS = 5

#: The fields every card of the default model holds (:func:`build_default` writes them; add a
#: field here when it writes a new one). A cached model whose card lacks one was cached by an
#: older version of this code and is built again (:func:`load_default`), so that the card says
#: what the current code says (``data_files_sha256`` came after the first cards).
CARD_FIELDS = (
    # fit_with_card and its cross-validation
    "model_id", "labels", "rows_sha256", "seed", "versions", "n_train", "label_counts",
    "cv_folds", "cv_grouped", "cv_texts_in_several_folds", "cv_metrics", "cv_confusion",
    "cv_calibration_ece",
    # build_default
    "version", "cache_key", "label_mapping", "training_data", "data_files_sha256",
    "cv_grouped_by",
    # save_model
    "model_sha256",
)


def make_pipeline(C: float = DEFAULT_C, *, weights: dict | None = None,
                  lexicon: str | None = "fast", min_target_count: int = 50,
                  random_state: int = config.DEFAULT_SEED, strata: bool = True,
                  min_df: int = 2, normalize: bool = False) -> Pipeline:
    """An unfitted copy of the default model's pipeline (features + logistic regression).

    ``strata``: balance classes within each kind of target (a name: SemEval; a post:
    RumourEval) rather than over all rows, and correct probabilities to each kind's label mix.
    ``min_df``: minimum document frequency of the vocabularies. ``normalize``: replace links and
    @handles first (:func:`~analysis.classifiers.features.normalize_links`).
    """
    return Pipeline([
        ("features", StanceFeatures(weights=dict(DEFAULT_WEIGHTS if weights is None else weights),
                                    lexicon=lexicon, min_target_count=min_target_count,
                                    strata=strata, min_df=min_df, normalize=normalize)),
        ("clf", BalancedLogisticRegression(
            C=C, random_state=random_state,
            n_strata_columns=StanceFeatures.N_STRATA if strata else 0)),
    ])


def training_files() -> list[Path]:
    """The bundled files the default model is trained from (RumourEval only when readable)."""
    from analysis.classifiers.datasets import RUMOUREVAL_ARCHIVE, SEMEVAL_TARGETS

    root = config.DATA_RAW / "tweeteval_stance"
    files = [root / folder / f"{split}_{kind}.txt" for folder in SEMEVAL_TARGETS
             for split in ("train", "val") for kind in ("text", "labels")]
    if _rumoureval_available():
        files.append(config.DATA_RAW.joinpath(*RUMOUREVAL_ARCHIVE))
    return files


def _rumoureval_available() -> bool:
    try:
        import analysis.loaders.ingest  # noqa: F401
    except ImportError:
        return False
    return True


def training_file_digests(files: list[Path] | None = None) -> dict[str, str]:
    """sha256 of each training file (:func:`training_files`), by its path under data/raw."""
    from analysis.io import sha256_file

    digests = {}
    for path in files if files is not None else training_files():
        if not path.is_file():
            raise UserError("bundled training file is missing; restore data/raw", path)
        name = (path.relative_to(config.DATA_RAW).as_posix()
                if path.is_relative_to(config.DATA_RAW) else path.name)
        digests[name] = sha256_file(path)
    return digests


def cache_key(files: list[Path] | None = None) -> str:
    """Key of the default model: sha256 of its training files, the loader version, the recipe
    version and the scikit-learn version (so any change builds a new model)."""
    import sklearn

    from analysis.loaders.base import LOADER_VERSION

    digest = hashlib.sha256()
    for name, file_digest in training_file_digests(files).items():
        digest.update(f"{name}={file_digest};".encode())
    digest.update(f"loader={LOADER_VERSION};recipe={RECIPE_VERSION};"
                  f"sklearn={sklearn.__version__}".encode())
    return digest.hexdigest()


def fold_groups(frame: pd.DataFrame) -> pd.Series:
    """CV groups of the training frame: ``source:group`` (SemEval target, RumourEval event)."""
    source = frame["source"].astype(str) if "source" in frame.columns else "data"
    return source + ":" + frame["group"].astype(str)


def build_default(frame: pd.DataFrame | None = None, *, cv: int = CV_FOLDS,
                  seed: int = config.DEFAULT_SEED, jobs: int = 1) -> tuple[Pipeline, dict]:
    """Fit the default model and its card (no caching; see :func:`load_default`)."""
    from analysis.classifiers.training import fit_with_card

    if frame is None:
        frame = training_frame()
    model, card = fit_with_card(
        make_pipeline(random_state=seed), frame, groups=fold_groups(frame), cv=cv, seed=seed,
        jobs=jobs, model_id="default", labels=list(STANCE_LABELS))
    key = cache_key()
    card.update({
        "model_id": "default",
        "version": f"{RECIPE_VERSION}-{key[:8]}",
        "cache_key": key,
        "label_mapping": {name: STANCE_MAPPINGS[name] for name in sorted(STANCE_MAPPINGS)},
        "training_data": {
            "semeval2016": "data/raw/tweeteval_stance train+val; target = target name",
            "rumoureval2019": "data/raw/rumoureval2019 train+dev (key files); target = source "
                              "post text, context = parent text",
            "rows_by_source": frame["source"].value_counts().sort_index().astype(int).to_dict(),
        },
        "data_files_sha256": training_file_digests(),
        "cv_grouped_by": "SemEval target / RumourEval event",
    })
    model.model_id_ = "default"
    model.version_ = card["version"]
    return model, card


def training_frame() -> pd.DataFrame:
    """The default model's training data; RumourEval is left out (with a warning) when the
    RumourEval loader is not available in this checkout."""
    try:
        return default_training_frame()
    except UserError as exc:
        if "RumourEval loader" not in str(exc):
            raise
        # INTEGRATION POINT: RumourEval comes from analysis.loaders.ingest (format
        # "rumoureval"); until it exists the default model is trained on SemEval-2016 alone.
        warnings.warn(f"{exc}; the default model is trained on SemEval-2016 only",
                      stacklevel=2)
        return default_training_frame(rumoureval_splits=None)


def _cache_path(cache_dir: Path | None, key: str) -> Path:
    """The cached default model's file for ``key`` (:func:`cache_key`)."""
    return (Path(cache_dir) if cache_dir else config.MODELS) / f"default-{key[:16]}.skops"


def card_is_current(path: Path, key: str) -> bool:
    """Whether the cached model at ``path`` has a card this code would write: readable, with
    every field of :data:`CARD_FIELDS` and the cache key ``key``."""
    from analysis.classifiers.persistence import read_card

    try:
        card = read_card(path)
    except UserError:  # unreadable: built again
        return False
    return all(field in card for field in CARD_FIELDS) and card["cache_key"] == key


def load_default(*, cache_dir: Path | None = None, rebuild: bool = False) -> Pipeline:
    """The default model, from the cache or built now (a few tens of seconds) and cached.

    A cached model is built again when its file does not load, or its card is missing or not
    current (:func:`card_is_current`: written by an older version of this code).
    """
    from analysis.classifiers.persistence import load_model, save_model

    key = cache_key()
    path = _cache_path(cache_dir, key)
    if path.is_file() and not rebuild and card_is_current(path, key):
        try:
            model = load_model(path)
            model.model_id_ = "default"
            return model
        except UserError:
            pass  # a damaged cache file is rebuilt below
    model, card = build_default(training_frame(), jobs=min(CV_FOLDS, os.cpu_count() or 1))
    save_model(model, path, card)
    model.model_id_ = "default"
    return model


def default_card(*, cache_dir: Path | None = None) -> dict:
    """The default model's card (building the model first if it is not cached, or its card is
    not current: see :func:`card_is_current`)."""
    from analysis.classifiers.persistence import read_card

    key = cache_key()
    path = _cache_path(cache_dir, key)
    if not (path.is_file() and card_is_current(path, key)):
        load_default(cache_dir=cache_dir, rebuild=True)
    return read_card(path)
