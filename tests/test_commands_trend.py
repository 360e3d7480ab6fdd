"""``trend`` CLI: which confusion matrix corrects the shares when none is named."""

from __future__ import annotations

import pandas as pd

from analysis.commands import main
from analysis.commands.trend import _default_card


def _labels(labeler: str) -> pd.DataFrame:
    return pd.DataFrame({"uid": ["t:1", "t:2"], "label": ["support", "other"],
                         "labeler_id": [labeler, labeler]})


def test_labels_of_the_default_model_use_its_card_without_validation(capsys):
    assert _default_card(_labels("default@5-abc"), validation=None) == "default"
    assert "model card" in capsys.readouterr().err


def test_a_validation_table_or_another_model_means_no_default_card():
    assert _default_card(_labels("default@5-abc"), validation=pd.DataFrame()) is None
    assert _default_card(_labels("vader@3.3.2"), validation=None) is None
    mixed = pd.concat([_labels("default@5"), _labels("mine@1")], ignore_index=True)
    assert _default_card(mixed, validation=None) is None


def test_adjusted_method_without_any_validation_is_one_line_and_exit_2(tmp_path, capsys):
    _labels("vader@3.3.2").to_csv(tmp_path / "labels.csv", index=False)
    pd.DataFrame({"uid": ["t:0", "t:1", "t:2"], "thread_id": ["0"] * 3, "root_id": ["0"] * 3,
                  "depth": [0, 1, 1],
                  "created_at": ["2020-09-30T10:00:00Z", "2020-09-30T11:00:00Z",
                                 "2020-09-30T12:00:00Z"]}).to_csv(tmp_path / "posts.csv",
                                                                 index=False)
    status = main(["trend", str(tmp_path / "labels.csv"), "--posts", str(tmp_path / "posts.csv"),
                   "--freq", "1D", "--method", "acc", "-o", str(tmp_path / "trend.csv")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1 and "validation" in err
    assert not (tmp_path / "trend.csv").exists()
