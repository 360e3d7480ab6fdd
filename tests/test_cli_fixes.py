"""Regressions of the CLI's figures, trend summary, train and evaluate: event times read in the
plot's time zone, the trend command's closing counts, rows without a group, and repeated uids.

All data here is generated in the tests (template sentences, posts on fixed days).
"""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from analysis import plots
from analysis.classifiers import evaluate_model, get_model, train_model, training
from analysis.classifiers.training import model_frame
from analysis.commands import main
from analysis.errors import UserError

LA = "America/Los_Angeles"
TEMPLATES = {"support": ["we stand with {t}", "so proud of {t} today", "thank you {t}"],
             "criticism": ["{t} is a liar", "shame on {t}", "nobody believes {t}"],
             "other": ["what time is the game", "the weather is cold", "lunch was pasta"]}


def generated_frame(n_per_class: int = 20) -> pd.DataFrame:
    """Generated labelled replies: template sentences about a random target, six threads."""
    rng = np.random.default_rng(0)
    rows = []
    for label, templates in TEMPLATES.items():
        for i in range(n_per_class):
            target = ["Alice", "Bob"][rng.integers(2)]
            rows.append({"uid": f"gen:{label}:{i}",
                         "text": templates[rng.integers(3)].format(t=target) + f" {i}",
                         "target": target, "label": label, "thread": f"thread{i % 6}"})
    return pd.DataFrame(rows)


# -- 1. plot --event: a time without a zone is in --tz ------------------------------------------


def generated_daily_trend() -> pd.DataFrame:
    """A generated trend table of three Los Angeles calendar days (Sep 29 - Oct 1, 2020), as
    ``trend --freq 1D --tz America/Los_Angeles`` writes it (bin edges in UTC)."""
    days = pd.date_range("2020-09-29", periods=4, freq="D", tz=LA).tz_convert("UTC")
    rows = []
    for start, end in zip(days[:-1], days[1:], strict=True):
        for label, share in (("support", 0.3), ("criticism", 0.2), ("other", 0.5)):
            rows.append({"bin_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "bin_end": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "label": label,
                         "n_posts": 50, "estimate": share, "ci_low": share - 0.05,
                         "ci_high": share + 0.05, "method": "cc", "flag": None})
    return pd.DataFrame(rows)


def _event_lines(ax) -> list[float]:
    return [float(line.get_xdata()[0]) for line in ax.lines
            if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]]


def _x_of(utc_time: str) -> float:
    return float(mdates.date2num(pd.Timestamp(utc_time).tz_convert("UTC").tz_localize(None)))


def test_event_date_without_zone_is_read_in_the_axis_time_zone():
    """Regression: a naive event date was read as UTC midnight, i.e. Sep 29 17:00 in Los
    Angeles, inside the Sep 29 local-day bin instead of at the start of Sep 30."""
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, generated_daily_trend(), events=[("2020-09-30", "announcement")],
                      tz=LA)
    assert _event_lines(ax) == [pytest.approx(_x_of("2020-09-30T07:00Z"))]


def test_event_with_an_offset_is_that_instant_whatever_the_time_zone():
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, generated_daily_trend(), events=[("2020-09-30T00:00Z", "x")], tz=LA)
    assert _event_lines(ax) == [pytest.approx(_x_of("2020-09-30T00:00Z"))]


def test_plot_command_puts_a_naive_event_at_the_start_of_its_local_day(tmp_path, monkeypatch):
    table = tmp_path / "trend.csv"
    generated_daily_trend().to_csv(table, index=False)
    drawn = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, stem: drawn.append(fig) or [])
    status = main(["plot", str(table), "--kind", "shares", "--tz", LA,
                   "--event", "2020-09-30=announcement", "-o", str(tmp_path / "fig")])
    assert status == 0
    sep30 = generated_daily_trend()["bin_start"].unique()[1]
    assert _event_lines(drawn[0].axes[0]) == [pytest.approx(_x_of(sep30))]


def test_event_in_an_hour_skipped_by_daylight_saving_is_one_line_and_exit_2(tmp_path, capsys):
    table = tmp_path / "trend.csv"
    generated_daily_trend().to_csv(table, index=False)
    status = main(["plot", str(table), "--kind", "shares", "--tz", LA,
                   "--event", "2020-03-08T02:30=change", "-o", str(tmp_path / "fig")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "daylight-saving" in err
    assert not list(tmp_path.glob("fig*"))


# -- 2. trend --by: the closing line counts bins and groups apart ------------------------------


def test_trend_closing_line_counts_distinct_bins_groups_and_labels(tmp_path, capsys):
    """Regression: with --by, bins x groups were reported as bins ('6 bins x 3 labels' for 3
    days x 2 platforms)."""
    n = 36
    posts = pd.DataFrame({
        "uid": [f"p:{i}" for i in range(n)], "platform": ["reddit", "youtube"] * (n // 2),
        "thread_id": [str(i % 4) for i in range(n)], "root_id": [str(i % 4) for i in range(n)],
        "depth": [0] * 4 + [1] * (n - 4),
        "created_at": [f"2020-09-{28 + i % 3}T{10 + i % 8}:00:00Z" for i in range(n)]})
    labels = pd.DataFrame({"uid": posts["uid"].iloc[4:],
                           "label": [["support", "criticism", "other"][i % 3]
                                     for i in range(n - 4)],
                           "labeler_id": "vader@3.3.2"})
    posts.to_csv(tmp_path / "posts.csv", index=False)
    labels.to_csv(tmp_path / "labels.csv", index=False)
    status = main(["trend", str(tmp_path / "labels.csv"), "--posts", str(tmp_path / "posts.csv"),
                   "--freq", "1D", "--by", "platform", "--method", "cc", "--n-boot", "0",
                   "-o", str(tmp_path / "trend.csv")])
    err = capsys.readouterr().err
    assert status == 0
    assert "3 bins x 2 groups x 3 labels" in err
    assert "of 6 group bins flagged" in err


# -- 3. a row without a group: train and evaluate refuse it alike ------------------------------


def test_evaluate_model_refuses_rows_without_a_group():
    """Regression: every row without a group was one bootstrap cluster ('<NA>')."""
    frame = model_frame(generated_frame(), target_col="target", label_col="label",
                        group_col="thread")
    frame.loc[frame.index[::2], "group"] = pd.NA
    with pytest.raises(UserError, match="30 of 60 rows have no group"):
        evaluate_model(frame, get_model("vader"), n_boot=200)


@pytest.mark.parametrize("how", [["--model", "vader"], ["--cv", "2", "--fast"]])
def test_evaluate_command_refuses_an_empty_group_column(tmp_path, capsys, how):
    """Regression: all groups empty gave a zero-width interval (one cluster); with --cv all
    rows fell into one fold."""
    data = tmp_path / "coded.csv"
    generated_frame().assign(thread=None).to_csv(data, index=False)
    status = main(["evaluate", str(data), "--target-col", "target", "--group-col", "thread",
                   "--n-boot", "200", *how])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "60 of 60 rows have no group" in err and "coded.csv" in err


def test_train_refuses_rows_without_a_group_with_the_same_message():
    frame = model_frame(generated_frame(), target_col="target", label_col="label",
                        group_col="thread")
    frame.loc[frame.index[:3], "group"] = pd.NA
    with pytest.raises(UserError, match="3 of 60 rows have no group"):
        train_model(frame, cv=0, fast=True)


def test_a_null_or_blank_group_of_a_typed_column_is_no_group():
    """Regression: a string column's NA made model_frame fail with 'boolean value of NA is
    ambiguous'."""
    table = pd.DataFrame({"text": ["a", "b", "c"],
                          "thread": pd.array(["t1", None, "  "], dtype="string")})
    frame = model_frame(table, group_col="thread")
    assert frame["group"].isna().tolist() == [False, True, True]


# -- 4. repeated uids: one post, one row ---------------------------------------------------------


def _with_repeats(n: int = 3) -> pd.DataFrame:
    table = generated_frame()
    return pd.concat([table, table.iloc[:n]], ignore_index=True)


def test_train_uses_a_row_repeated_exactly_once_and_says_how_many():
    """Regression: three repeated rows made 'trained on 63 rows' of 60 posts."""
    frame = model_frame(_with_repeats(), target_col="target", label_col="label")
    with pytest.warns(UserWarning, match="3 rows repeat another row"):
        _, card = train_model(frame, cv=0, fast=True)
    assert card["n_train"] == 60


def test_train_refuses_a_uid_with_two_labels():
    table = _with_repeats(1)
    table.loc[len(table) - 1, "label"] = "other"
    frame = model_frame(table, target_col="target", label_col="label")
    with pytest.raises(UserError, match="1 uid.*'gen:support:0': different labels"):
        train_model(frame, cv=0, fast=True)


def test_evaluate_model_scores_a_repeated_row_once():
    frame = model_frame(_with_repeats(), target_col="target", label_col="label")
    model = get_model("vader")
    predicted = model.predict(frame)
    with pytest.warns(UserWarning, match="3 rows repeat"):
        report = evaluate_model(frame, model, n_boot=0, predicted=predicted)
    assert report["n"] == 60


def test_rows_without_a_uid_column_are_all_kept():
    table = pd.concat([generated_frame()] * 2, ignore_index=True).drop(columns="uid")
    frame = model_frame(table, target_col="target", label_col="label")
    assert training.distinct_rows(frame).all()


def test_train_command_reports_the_rows_it_trained_on(tmp_path, capsys):
    data = tmp_path / "coded.csv"
    _with_repeats().to_csv(data, index=False)
    status = main(["train", str(data), "--target-col", "target", "--cv", "0", "--fast",
                   "-o", str(tmp_path / "m.skops")])
    out, err = capsys.readouterr()
    assert status == 0
    assert "trained on 60 rows" in out
    assert "warning: 3 rows repeat another row" in err


@pytest.mark.parametrize("how", [["--model", "vader"], ["--cv", "2", "--fast"]])
def test_evaluate_command_refuses_a_uid_with_two_labels(tmp_path, capsys, how):
    table = _with_repeats(1)
    table.loc[len(table) - 1, "label"] = "criticism"
    data = tmp_path / "coded.csv"
    table.to_csv(data, index=False)
    status = main(["evaluate", str(data), "--target-col", "target", "--n-boot", "200", *how])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "different labels" in err
