"""The ``shape`` and ``cuedepth`` blocks of StanceFeatures (generated texts)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.classifiers.features import StanceFeatures

ONLY = {block: 0 for block in StanceFeatures.BLOCKS}


def generated_frame() -> pd.DataFrame:
    texts = ["this is fake", "is this true?", "I stand with her", "@ann https://t.co/x"] * 5
    return pd.DataFrame({"text": texts, "target": ["Her"] * 20, "context": ["a parent"] * 20,
                         "depth": [1, 2, 3, None] * 5})


def test_cue_counts_are_split_by_whom_a_reply_answers():
    features = StanceFeatures(min_df=1, weights=dict(ONLY, cuedepth=1)).fit(generated_frame())
    X = features.transform(pd.DataFrame({"text": ["this is fake"] * 3, "depth": [1, 2, None]}))
    dense = X.toarray()
    half = dense.shape[1] // 2
    assert dense[0, :half].any() and not dense[0, half:].any()  # answers the root
    assert dense[1, half:].any() and not dense[1, :half].any()  # answers a reply
    assert not dense[2].any()  # position unknown


def test_shape_reads_questions_and_bare_mentions():
    features = StanceFeatures(min_df=1, weights=dict(ONLY, shape=1)).fit(generated_frame())
    dense = features.transform(pd.DataFrame({"text": ["is this TRUE?", "@ann https://t.co/x",
                                                      "", None]})).toarray()
    assert dense.shape[1] == 4 and np.isfinite(dense).all()
    assert dense[0, 1] == 1 and dense[1, 1] == 0  # ends with a question mark
    assert dense[0, 2] > 0.3  # capitals
    assert dense[1, 3] == 1 and dense[0, 3] == 0  # nothing but a handle and a link


def test_models_fitted_before_the_blocks_keep_their_features():
    frame = generated_frame()
    features = StanceFeatures(min_df=1).fit(frame)
    without = StanceFeatures(min_df=1, weights={"shape": 0, "cuedepth": 0}).fit(frame)
    assert features.transform(frame).shape[1] > without.transform(frame).shape[1]
    del features.blocks_  # as in a model saved before the blocks existed
    assert (features.transform(frame) != without.transform(frame)).nnz == 0
