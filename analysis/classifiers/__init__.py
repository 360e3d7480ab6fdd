"""Classifiers of support / criticism / other toward a target, and the tools to trust them.

- ``vader``: vaderSentiment as a scikit-learn estimator (:class:`VaderClassifier`), a tone
  baseline;
- ``default``: a target-aware model trained at first use from bundled SemEval-2016 and
  RumourEval 2019 data (:mod:`analysis.classifiers.default`), cached under
  ``data/processed/models``;
- user models: :func:`train_model` on any labelled table, saved with skops
  (:func:`save_model`) with a model card; :func:`evaluate_model`; :func:`predict_out_of_group`.

Examples
--------
>>> import pandas as pd
>>> vader = get_model("vader")
>>> labels = label_posts(pd.DataFrame({"uid": ["a"], "text": ["What a lovely day"]}), vader)
>>> labels.loc[0, "label"], list(labels.columns[3:6])
('support', ['proba_support', 'proba_criticism', 'proba_other'])
"""

from __future__ import annotations

from pathlib import Path

from analysis.classifiers.labelling import label_posts, labels_table, posts_frame
from analysis.classifiers.persistence import load_model, read_card, save_model
from analysis.classifiers.training import (
    cross_val_predict,
    evaluate_model,
    model_frame,
    predict_out_of_group,
    train_model,
)
from analysis.classifiers.vader import VaderClassifier
from analysis.errors import UserError

__all__ = [
    "VaderClassifier", "cross_val_predict", "evaluate_model", "get_model", "label_posts",
    "labels_table", "load_model", "model_card", "model_frame", "model_target", "posts_frame",
    "predict_out_of_group", "read_card", "save_model", "train_model",
]

MODEL_NAMES = ("default", "vader")


def get_model(name_or_path: str | Path) -> object:
    """A fitted classifier: ``"vader"``, ``"default"`` or the path of a ``.skops`` model."""
    name = str(name_or_path)
    if name == "vader":
        from importlib import metadata

        model = VaderClassifier().fit(None)
        model.model_id_ = "vader"
        model.version_ = metadata.version("vaderSentiment")
        return model
    if name == "default":
        from analysis.classifiers.default import load_default

        return load_default()
    path = Path(name)
    if name.strip() and (path.suffix == ".skops" or path.exists()):  # not "": that is "."
        return load_model(path)
    raise UserError(f"unknown model {name!r}: use 'default', 'vader' or a .skops file path")


def model_target(name_or_path: str | Path, target: str | None, target_col: str | None
                 ) -> tuple[str | None, bool]:
    """The fixed target to label with: ``target``, or, when neither it nor ``target_col`` is
    given, the one a ``.skops`` model was trained with (``train --target``; its card records
    it). Returns (target, whether it came from the card)."""
    if target is not None or target_col is not None or str(name_or_path) in MODEL_NAMES \
            or not str(name_or_path).strip() or Path(name_or_path).is_dir():
        return target, False  # no card to read ('' and folders are refused by get_model)
    trained = (read_card(name_or_path).get("columns") or {}).get("fixed_target")
    return (trained, True) if isinstance(trained, str) and trained else (None, False)


def model_card(name_or_path: str | Path) -> dict:
    """The card of ``"default"`` or of a ``.skops`` model ({} for ``vader``: it has none)."""
    name = str(name_or_path)
    if name == "vader":
        return {}
    if name == "default":
        from analysis.classifiers.default import default_card

        return default_card()
    return read_card(name)
