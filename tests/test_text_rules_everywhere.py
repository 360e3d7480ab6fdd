"""`label`'s text rules (texts without words get uniform probabilities and `other`; texts not in
English get probabilities pulled halfway to uniform) hold wherever a model labels: `evaluate`
(the Python API too), the cross-validation behind a model card and out-of-group prediction, so
that what is validated is what `label` writes. All data here is generated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.classifiers import (
    cross_val_predict,
    evaluate_model,
    label_posts,
    predict_out_of_group,
    train_model,
)
from analysis.classifiers.training import user_pipeline
from tests.test_classifiers import generated_frame

STANCE = ["support", "criticism", "other"]


def bare_rows(n: int, label: str, prefix: str = "fan") -> pd.DataFrame:
    """Replies that are only a mention and a link (no words), labelled ``label``."""
    return pd.DataFrame({"uid": [f"bare:{prefix}{i}" for i in range(n)],
                         "text": [f"@{prefix}{i} https://t.co/x{i}" for i in range(n)],
                         "target": "Alice posted an update", "context": None, "depth": 1,
                         "label": label, "group": [f"thread{i % 6}" for i in range(n)]})


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """Generated replies plus bare ones that a model learns to call ``support``."""
    return pd.concat([generated_frame(), bare_rows(30, "support")], ignore_index=True)


@pytest.fixture(scope="module")
def model(frame):
    fitted, _ = train_model(frame, cv=0)
    return fitted


def test_the_model_alone_calls_bare_replies_support(model):
    # the premise of the tests below: without the rules these rows would be labelled support
    bare = bare_rows(10, "other", prefix="someone")
    assert (model.predict(bare) == "support").all()


def test_evaluate_scores_bare_replies_as_label_labels_them(model):
    bare = bare_rows(10, "other", prefix="someone")
    report = evaluate_model(bare.drop(columns="group"), model)
    assert report["accuracy"] == 1.0
    labelled = label_posts(bare, model, progress=False)
    assert (labelled["label"] == "other").all()


def test_cross_validation_labels_bare_replies_as_empty_texts(frame):
    pipeline = user_pipeline(len(frame), fast=True)
    pred, proba, classes = cross_val_predict(pipeline, frame, groups=frame["group"], cv=3)
    bare = frame["uid"].str.startswith("bare:").to_numpy()
    assert (pred[bare] == "other").all()
    assert np.allclose(proba[bare], 1 / len(classes))
    assert not np.allclose(proba[~bare], 1 / len(classes))


def test_out_of_group_labels_bare_replies_as_empty_texts(frame):
    pipeline = user_pipeline(len(frame), fast=True)
    out = predict_out_of_group(frame.assign(lang="en"), pipeline, "group")
    bare = frame["uid"].str.startswith("bare:").to_numpy()
    assert (out.loc[bare, "label"] == "other").all()
    proba = out[[f"proba_{c}" for c in STANCE]].to_numpy(dtype=float)
    assert np.allclose(proba[bare], 1 / 3)


def test_out_of_group_pulls_texts_not_in_english_toward_uniform(frame):
    pipeline = user_pipeline(len(frame), fast=True)
    columns = [f"proba_{c}" for c in STANCE]
    english = predict_out_of_group(frame.assign(lang_detected="en"), pipeline, "group")
    french = predict_out_of_group(frame.assign(lang_detected="fr"), pipeline, "group")
    words = ~frame["uid"].str.startswith("bare:").to_numpy()
    expected = 0.5 * english[columns].to_numpy(dtype=float) + 0.5 / 3
    assert np.allclose(french[columns].to_numpy(dtype=float)[words], expected[words])
    assert french["label"].tolist() == english["label"].tolist()  # labels are kept
