"""Trend and plot defects found by the stop-20 acceptance test: labels of several models mixed,
probabilities that do not sum to 1 rescaled, a handful of bootstrap replicates, an empty table
plotted. All data here is generated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.commands import main
from analysis.trend import TableError, estimate_shares

LABELS = ["support", "criticism", "other"]


def generated_posts(n: int = 60) -> pd.DataFrame:
    """A root post and ``n`` replies over six hours."""
    start = pd.Timestamp("2020-10-01 10:00", tz="UTC")
    ids = ["root", *[f"r{i}" for i in range(n)]]
    return pd.DataFrame({
        "uid": [f"twitter:{i}" for i in ids], "platform": "twitter", "id": ids,
        "root_id": "root", "parent_id": [None, *["root"] * n],
        "created_at": [start, *[start + pd.Timedelta(minutes=6 * i) for i in range(n)]],
        "text": "generated", "text_status": "ok", "collection_role": "matched"})


def generated_labels(posts: pd.DataFrame, labeler_id: str = "m@1") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([1, 1, 1], len(posts))
    out = pd.DataFrame({"uid": posts["uid"], "task": "stance",
                        "label": np.asarray(LABELS)[proba.argmax(axis=1)],
                        "labeler_type": "model", "labeler_id": labeler_id})
    for j, label in enumerate(LABELS):
        out[f"proba_{label}"] = proba[:, j]
    return out


def test_labels_of_two_models_are_refused():
    posts = generated_posts()
    labels = generated_labels(posts)
    half = len(labels) // 2
    labels.loc[half:, "labeler_id"] = "other@2"
    with pytest.raises(TableError, match="mixes the labels of 2 models"):
        estimate_shares(labels, posts, freq="1h", n_boot=0)


def test_labels_of_two_tasks_are_refused():
    posts = generated_posts()
    labels = generated_labels(posts)
    labels.loc[:10, "task"] = "sdqc"
    with pytest.raises(TableError, match="mixes 2 tasks"):
        estimate_shares(labels, posts, freq="1h", n_boot=0)


def test_hand_coded_labels_of_several_coders_are_one_labeler():
    posts = generated_posts()
    labels = generated_labels(posts).assign(labeler_type="human")
    labels.loc[::2, "labeler_id"] = "coder-b"
    out = estimate_shares(labels, posts, freq="1h", n_boot=0, method="cc")
    assert out["estimate"].notna().any()


def test_probabilities_that_do_not_sum_to_one_are_refused():
    posts = generated_posts()
    labels = generated_labels(posts)
    labels["proba_support"] *= 3
    with pytest.raises(TableError, match="do not sum to 1"):
        estimate_shares(labels, posts, freq="1h", n_boot=0, method="pcc")
    rounded = generated_labels(posts)
    for label in LABELS:  # as a CSV file with three decimals holds them
        rounded[f"proba_{label}"] = rounded[f"proba_{label}"].round(3)
    assert estimate_shares(rounded, posts, freq="1h", n_boot=0, method="pcc")[
        "estimate"].notna().any()


@pytest.mark.parametrize("n_boot", ["1", "10", "199"])
def test_trend_refuses_a_handful_of_bootstrap_replicates(tmp_path, capsys, n_boot):
    posts = generated_posts()
    posts.to_parquet(tmp_path / "posts.parquet")
    generated_labels(posts).to_parquet(tmp_path / "labels.parquet")
    out = tmp_path / "trend.csv"
    assert main(["trend", str(tmp_path / "labels.parquet"), "--posts",
                 str(tmp_path / "posts.parquet"), "--freq", "1h", "--n-boot", n_boot,
                 "-o", str(out)]) == 2
    assert f"at least 200 resamples for a percentile interval, not {n_boot}" in \
        capsys.readouterr().err
    assert not out.exists()


def test_plot_refuses_an_empty_trend_table(tmp_path, capsys):
    empty = tmp_path / "trend.csv"
    empty.write_text("bin_start,bin_end,label,n_posts,estimate,ci_low,ci_high,method\n",
                     encoding="utf-8")
    assert main(["plot", str(empty), "--kind", "shares", "-o", str(tmp_path / "figure")]) == 2
    assert "the table has no rows to plot" in capsys.readouterr().err
    assert not list(tmp_path.glob("figure*"))


def _trend_cli(tmp_path, posts, labels, *options):
    posts.to_parquet(tmp_path / "posts.parquet")
    labels.to_csv(tmp_path / "labels.csv", index=False)
    return main(["trend", str(tmp_path / "labels.csv"), "--posts",
                 str(tmp_path / "posts.parquet"), *options, "-o", str(tmp_path / "t.csv")])


@pytest.mark.parametrize("case", ["no uid in posts", "roots only", "pcc without proba"])
def test_trend_errors_about_the_labels_name_the_labels_file(tmp_path, capsys, case):
    posts = generated_posts()
    labels = generated_labels(posts)
    options = ["--freq", "1h", "--n-boot", "0"]
    if case == "no uid in posts":
        labels = labels.assign(uid="twitter:elsewhere" + labels["uid"])
    elif case == "roots only":
        labels = labels[labels["uid"] == "twitter:root"]
    else:
        labels = labels[["uid", "task", "label", "labeler_type", "labeler_id"]]
        options += ["--method", "pcc"]
    assert _trend_cli(tmp_path, posts, labels, *options) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'labels.csv'}: ")


@pytest.mark.parametrize("hours", ["0", "-3"])
def test_max_hours_must_be_more_than_zero(tmp_path, capsys, hours):
    posts = generated_posts()
    assert _trend_cli(tmp_path, posts, generated_labels(posts), "--relative-to", "root",
                      "--freq", "1h", "--n-boot", "0", "--max-hours", hours) == 2
    assert "--max-hours) must be more than 0" in capsys.readouterr().err


def test_plot_messages_name_no_python_function(tmp_path, capsys):
    table = tmp_path / "trend.csv"
    rows = ["bin_start,bin_end,label,n_posts,estimate,ci_low,ci_high,method"]
    for method in ("cc", "pcc"):
        rows.append(f"2020-10-01 10:00:00+00:00,2020-10-01 11:00:00+00:00,support,5,0.4,0.2,"
                    f"0.6,{method}")
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["plot", str(table), "--kind", "shares", "-o", str(tmp_path / "g")]) == 2
    err = capsys.readouterr().err
    assert "the table holds several methods" in err and "plot_shares" not in err


def test_responses_before_their_root_are_warned_about():
    posts = generated_posts()
    early = posts["id"].isin(["r0", "r1"])
    posts.loc[early, "created_at"] = posts.loc[early, "created_at"] - pd.Timedelta(hours=2)
    with pytest.warns(UserWarning, match="2 responses are dated before their thread's root"):
        out = estimate_shares(generated_labels(posts), posts, freq="1h", relative_to="root",
                              n_boot=0, method="cc")
    assert out["bin_start"].min() < 0


def test_counts_in_messages_say_they_are_of_the_rows_in_use():
    posts = generated_posts()
    labels = generated_labels(posts)
    labels.loc[:19, "proba_other"] = np.nan  # the root's row among them: it is not counted
    with pytest.raises(TableError, match="19 rows in use of the labels table have missing"):
        estimate_shares(labels, posts, freq="1h", n_boot=0, method="pcc")


def test_agreement_refuses_a_handful_of_bootstrap_resamples(tmp_path, capsys):
    gold = tmp_path / "gold.csv"
    gold.write_text("uid,coder,label\na,x,support\na,y,support\n", encoding="utf-8")
    assert main(["annotate", "agreement", str(gold), "--n-boot", "10"]) == 2
    assert "at least 200 resamples" in capsys.readouterr().err
