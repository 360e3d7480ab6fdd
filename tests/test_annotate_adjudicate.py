"""Adjudication: one final label per post from coders' labels and a resolution file.

The PHEME test uses real final labels as the adjudicator's decisions; its second coder is
SIMULATED (labels flipped by code), because PHEME publishes one label per tweet, not per coder.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.annotate import adjudicate, attach_texts, find_disagreements
from analysis.annotate.adjudicate import ResolutionError
from analysis.errors import UserError

PHEME = config.DATA_RAW / "pheme_rumour_scheme" / "annotations" / "en-scheme-annotations.json"
PHEME_TO_STANCE = {"agreed": "support", "disagreed": "criticism", "comment": "other",
                   "appeal-for-more-information": "other"}


def gold(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["uid", "labeler_id", "label"])
    frame["task"] = "stance"
    return frame


CODED = [("1", "A", "support"), ("1", "B", "other"),  # disagreement
         ("2", "A", "other"), ("2", "B", "other"),  # unanimous
         ("3", "A", "criticism"),  # single
         ("4", "A", "support"), ("4", "B", "support"), ("4", "C", "other")]  # 2 of 3


def test_each_kind_of_resolution():
    resolutions = pd.DataFrame({"uid": ["1"], "resolved_label": ["Support"],
                                "adjudicator": ["judge"]})
    final = adjudicate(gold(CODED), resolutions, majority=True).set_index("uid")
    assert final["label"].to_dict() == {"1": "support", "2": "other", "3": "criticism",
                                        "4": "support"}
    assert final["resolution"].to_dict() == {"1": "adjudicated", "2": "unanimous",
                                             "3": "single", "4": "majority"}
    assert final["labeler_id"].to_dict() == {"1": "judge", "2": "A+B", "3": "A", "4": "A+B"}
    assert set(final["labeler_type"].astype(str)) == {"human"}
    assert final.loc["4", "coder_labels"] == "A=support; B=support; C=other"


def test_unresolved_disagreements_stop_the_run_unless_dropped():
    with pytest.raises(UserError, match="unresolved"):
        adjudicate(gold(CODED))
    final = adjudicate(gold(CODED), drop_unresolved=True)
    assert sorted(final["uid"]) == ["2", "3"]
    assert final.attrs["unresolved"] == ["1", "4"]
    # A 1-1 tie is no majority.
    with pytest.raises(UserError, match="unresolved"):
        adjudicate(gold(CODED), majority=True)


def test_resolution_file_problems_are_listed_by_row():
    resolutions = pd.DataFrame({"uid": ["1", "9", "4", "4", "2"],
                                "resolved_label": ["maybe", "support", "support", "other", ""]})
    with pytest.raises(ResolutionError) as caught:
        adjudicate(gold(CODED), resolutions)
    found = [(p.row, p.value) for p in caught.value.problems]
    assert found == [(2, "maybe"), (3, "9"), (5, "4")]
    with pytest.raises(ResolutionError, match="resolved_label"):
        adjudicate(gold(CODED), pd.DataFrame({"uid": ["1"], "label": ["support"]}))


def test_mixed_tasks_are_refused():
    frame = gold(CODED)
    frame.loc[0, "task"] = "sdqc"
    with pytest.raises(UserError, match="mixes tasks"):
        adjudicate(frame)


def test_pheme_final_labels_come_back_after_adjudication():
    records = json.loads(PHEME.read_text(encoding="utf-8"))
    replies = [r for r in records if r["tweetid"] != r["threadid"]
               and r["event"] == "ottawashooting"]
    truth = {f"twitter:{r['tweetid']}": PHEME_TO_STANCE[r["responsetype-vs-source"]]
             for r in replies}
    labels = list(dict.fromkeys(PHEME_TO_STANCE.values()))
    rng = np.random.default_rng(0)
    rows = []
    for uid, label in truth.items():
        rows.append((uid, "pheme", label))
        simulated = label if rng.random() > 0.2 else labels[(labels.index(label) + 1) % 3]
        rows.append((uid, "simulated", simulated))
    coded = gold(rows)
    disputes = find_disagreements(coded)
    assert 0 < len(disputes) < len(truth)
    disputes["resolved_label"] = disputes["uid"].map(truth)
    final = adjudicate(coded, disputes)
    assert final.set_index("uid")["label"].to_dict() == truth
    assert (final["resolution"] == "adjudicated").sum() == len(disputes)


def test_attach_texts_adds_what_train_reads():
    posts = pd.DataFrame({"uid": ["g:r", "g:1", "g:2"], "platform": "other",
                          "id": ["r", "1", "2"], "parent_id": [None, "r", "1"],
                          "root_id": ["r", "r", "r"], "thread_id": "r", "depth": [0, 1, 2],
                          "text": ["generated root", "generated reply", "generated reply 2"]})
    final = adjudicate(gold([("g:2", "A", "support"), ("g:1", "A", "other")]))
    before = final.copy()
    out = attach_texts(final, posts).set_index("uid")
    assert out.loc["g:2", ["text", "target", "context"]].tolist() == [
        "generated reply 2", "generated root", "generated reply"]
    assert out.loc["g:2", "depth"] == 2 and out.loc["g:1", "thread_id"] == "r"
    pd.testing.assert_frame_equal(final, before)
    fixed = attach_texts(final, posts, target="a fixed target")
    assert set(fixed["target"]) == {"a fixed target"}


def test_resolutions_are_checked_against_the_recorded_codebook():
    """Regression: resolutions were checked against the stance labels whatever the codebook."""
    coded = gold([("1", "A", "pro"), ("1", "B", "anti"), ("2", "A", "pro")])
    coded["allowed_labels"] = "pro | anti | neutral"
    final = adjudicate(coded, pd.DataFrame({"uid": ["1"], "resolved_label": ["Neutral"]}))
    assert final.set_index("uid")["label"].to_dict() == {"1": "neutral", "2": "pro"}
    with pytest.raises(ResolutionError) as caught:
        adjudicate(coded, pd.DataFrame({"uid": ["1"], "resolved_label": ["support"]}))
    assert [p.value for p in caught.value.problems] == ["support"]
    mixed = coded.assign(allowed_labels=["pro | anti | neutral", "pro | anti", "pro | anti"])
    with pytest.raises(UserError, match="different codebooks"):
        adjudicate(mixed, drop_unresolved=True)


def test_without_a_recorded_codebook_the_coders_labels_are_allowed():
    coded = gold([("1", "A", "pro"), ("1", "B", "anti"), ("2", "A", "neutral")])
    final = adjudicate(coded, pd.DataFrame({"uid": ["1"], "resolved_label": ["anti"]}))
    assert final.set_index("uid")["label"].to_dict() == {"1": "anti", "2": "neutral"}
    with pytest.raises(ResolutionError, match="not one of anti, neutral, pro"):
        adjudicate(coded, pd.DataFrame({"uid": ["1"], "resolved_label": ["support"]}))


def test_a_coder_labelling_a_post_twice_is_refused_as_agreement_refuses_it():
    """Regression: adjudicate kept a coder's last label for a post and called the post
    unanimous, where agreement refuses the same table."""
    from analysis.annotate import reliability_matrix

    conflicting = gold([("1", "A", "support"), ("1", "A", "criticism"), ("1", "B", "criticism"),
                        ("2", "A", "other"), ("2", "B", "other")])
    repeated = gold([("1", "A", "other"), ("1", "A", "other"), ("1", "B", "other")])
    for coded in (conflicting, repeated):
        with pytest.raises(UserError) as by_agreement:
            reliability_matrix(coded)
        with pytest.raises(UserError) as by_adjudicate:
            adjudicate(coded, majority=True, drop_unresolved=True)
        assert str(by_adjudicate.value) == str(by_agreement.value)
        assert "coder 'A' labelled post 1 more than once" in str(by_adjudicate.value)


def test_allowed_labels_differing_only_in_case_are_refused():
    """Regression: with allowed labels 'Pro' and 'pro', a resolution 'PRO' silently became the
    later of the two."""
    coded = gold([("1", "A", "Pro"), ("1", "B", "anti")])
    resolutions = pd.DataFrame({"uid": ["1"], "resolved_label": ["PRO"]})
    with pytest.raises(UserError, match="distinct"):
        adjudicate(coded, resolutions, allowed=["Pro", "pro", "anti"])
    with pytest.raises(UserError, match="distinct"):
        adjudicate(gold([("1", "A", "Pro"), ("1", "B", "pro")]), resolutions)


def test_attach_texts_gives_what_label_reads_for_a_reddit_title_only_submission():
    """Regression: ``adjudicate --posts`` wrote a null target for the comments of a submission
    with a title and no body, so ``evaluate final.parquet`` did not score what ``label`` saw
    (title + body). Generated Reddit-like posts."""
    from analysis.classifiers.labelling import posts_frame

    posts = pd.DataFrame({"uid": ["reddit:s1", "reddit:c1", "reddit:c2"], "platform": "reddit",
                          "id": ["s1", "c1", "c2"], "parent_id": [None, "s1", "c1"],
                          "root_id": "s1", "thread_id": "s1", "depth": [0, 1, 2],
                          "title": ["Generated claim in the title", None, None],
                          "text": [None, "Generated comment", "Generated reply"]})
    final = adjudicate(gold([("reddit:c1", "A", "support"), ("reddit:c2", "A", "other")]))
    out = attach_texts(final, posts)
    assert out["target"].fillna("<null>").tolist() == ["Generated claim in the title"] * 2
    evaluated = posts_frame(out)
    labelled = posts_frame(posts).set_index(posts["uid"]).loc[out["uid"]]
    for column in ("text", "target", "context"):
        assert evaluated[column].tolist() == labelled[column].tolist()
