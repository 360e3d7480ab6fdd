"""A study's figures and summary (analysis.report, analysis.plots, the plot command): timing
comparison, the model compared, classifier quality on responses, wording by prediction mode,
labels of user models, volume of one series, figure kinds, n_boot = 0 and the time axis label."""

from __future__ import annotations

import dataclasses

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from analysis import plots, report
from analysis.commands import main
from analysis.errors import UserError
from analysis.study import Figure, load_study

GROUPS = ("false", "true", "unverified")
STANCE = ("support", "criticism", "other")


def generated_trend(edges, models=("gold", "vader"), groups=GROUPS, labels=STANCE,
                    n_boot: bool = True, empty_first_bin=()) -> pd.DataFrame:
    """A generated study trend table (the stacked table reproduce writes): bins between
    ``edges`` (hours since the source post), per model (gold: cc only; others cc and pcc),
    group and label; 40 + 10 x bin responses per bin, none in the first bin of the groups in
    ``empty_first_bin``. Shares fall with time for the first label, rise for the second."""
    rows = []
    for model in models:
        for method in (("cc",) if model == "gold" else ("cc", "pcc")):
            for g, group in enumerate(groups):
                for b, (start, end) in enumerate(zip(edges[:-1], edges[1:], strict=False)):
                    n = 0 if (b == 0 and group in empty_first_bin) else 40 + 10 * b
                    first, second = 0.4 - 0.05 * b + 0.01 * g, 0.1 + 0.02 * b
                    shares = dict(zip(labels, (first, second, 1 - first - second), strict=True))
                    for label, share in shares.items():
                        value = share if n else np.nan
                        rows.append({"model": model, "veracity": group,
                                     "bin_start": float(start), "bin_end": float(end),
                                     "label": label, "n_posts": n, "estimate": value,
                                     "ci_low": value - 0.05 if n_boot else np.nan,
                                     "ci_high": value + 0.05 if n_boot else np.nan,
                                     "method": method, "flag": None if n else "no_posts",
                                     "n_threads": 12})
    return pd.DataFrame(rows)


def generated_posts(n_threads: int = 4, replies: int = 5) -> pd.DataFrame:
    """A generated posts table: threads of a root and ``replies`` replies, the first reply of
    each deleted (no text)."""
    rows = []
    for t in range(n_threads):
        root = f"t{t}"
        rows.append({"uid": f"twitter:{root}", "id": root, "platform": "twitter",
                     "thread_id": root, "root_id": root, "parent_id": None, "depth": 0,
                     "kind": "post", "text": "a claim", "text_status": "ok"})
        for r in range(replies):
            reply = f"{root}r{r}"
            rows.append({"uid": f"twitter:{reply}", "id": reply, "platform": "twitter",
                         "thread_id": root, "root_id": root, "parent_id": root, "depth": 1,
                         "kind": "reply", "text": None if r == 0 else "a reply",
                         "text_status": "deleted" if r == 0 else "ok"})
    return pd.DataFrame(rows)


def generated_truth(posts: pd.DataFrame) -> pd.DataFrame:
    """Generated gold labels of every post: roots and deleted replies support, the rest
    criticism and other in turn."""
    labels = ["support" if depth == 0 or status != "ok" else ("criticism" if i % 2 else "other")
              for i, (depth, status) in enumerate(zip(posts["depth"], posts["text_status"],
                                                      strict=True))]
    return pd.DataFrame({"uid": posts["uid"], "label": labels})


def study(**changes):
    """The default study's settings with ``changes`` (relative bins since the root, by
    veracity, VADER only, so no model card is read)."""
    spec = load_study("rumour-replies")
    changes.setdefault("models", ("vader",))
    changes.setdefault("figures", (Figure(kind="multiples", file="shares", model="vader"),))
    return dataclasses.replace(spec, **changes)


def summary(spec, trend, posts=None, labels=None) -> str:
    posts = generated_posts() if posts is None else posts
    truth = generated_truth(posts)
    labels = {"vader": truth} if labels is None else labels
    return report.summarize(spec, posts, truth, labels, trend)


def _same_colour(a, b) -> bool:
    return np.allclose(mcolors.to_rgba(a), mcolors.to_rgba(b))


# -- 1. timing: split at a bin edge, every response once ------------------------------------


def test_timing_splits_at_the_bin_edge_nearest_one_hour_and_counts_every_response():
    """Regression: with edges 0, 0.5, 2, 4, 24 "first 1 h" covered only [0, 0.5) and "1-24 h"
    only [2, 24): the responses of [0.5, 2) were in neither column."""
    trend = generated_trend([0, 0.5, 2, 4, 24])
    table = report.timing_table(trend, "veracity", model="gold", method=None)
    assert list(table.columns[2:4]) == ["first 0.5 h", "0.5-24 h"]
    per_group = trend[(trend["model"] == "gold") & (trend["label"] == "support")]
    total = per_group.groupby("veracity")["n_posts"].sum()  # 40 + 50 + 60 + 70 per group
    counted = table[table["label"] == "support"].set_index("veracity")
    assert ((counted["responses early"] + counted["responses later"]) == total).all()
    assert (counted["responses early"] == 40).all()


def test_timing_with_bins_wider_than_an_hour_uses_the_first_edge():
    """Regression: 6-hour bins gave a NaN "first 1 h" column, the later column left out the
    first bin, and the summary crashed (cannot convert float NaN to integer)."""
    trend = generated_trend([0, 6, 12, 18, 24])
    text = summary(study(), trend)
    assert "| veracity | label | first 6 h | 6-24 h | responses early | responses later |" \
        in text
    assert "| false | support | 0.400 |" in text  # the first bin's share, not blank


def test_timing_with_a_single_bin_is_left_out_with_a_note():
    text = summary(study(), generated_trend([0, 24]))
    assert "Left out: the bins are one bin" in text
    assert "| veracity | label | first" not in text


def test_timing_of_a_group_without_early_responses_says_so():
    trend = generated_trend([0, 1, 4, 24], empty_first_bin=("true",))
    text = summary(study(), trend)
    assert "- gold, veracity = true: support no responses in the first 1 h" in text
    assert "Not compared, for want of responses on one side: support of true rumours" in text


# -- 2. the model the timing compares --------------------------------------------------------


def test_timing_compares_the_studys_first_model_even_when_the_first_figure_is_gold():
    """Regression: with the first figure of model "gold" the gold shares were compared with
    themselves."""
    figures = (Figure(kind="multiples", file="gold", model="gold"),
               Figure(kind="multiples", file="vader", model="vader"))
    text = summary(study(figures=figures), generated_trend([0, 1, 4, 24]))
    assert "Model `vader`, method `pcc`:" in text
    assert "The `vader` model's estimate (pcc)" in text
    assert "`gold` model" not in text


def test_timing_without_figures_compares_the_first_model():
    """Regression: a study without [[figures]] raised IndexError."""
    text = summary(study(figures=()), generated_trend([0, 1, 4, 24]))
    assert "The `vader` model's estimate (pcc) moves in the same direction" in text
    assert "## Validation: estimated against gold shares\n" in text  # no figure to name


# -- 3. classifier quality on responses -----------------------------------------------------


def test_quality_against_gold_counts_responses_only():
    """Regression: thread roots and posts without text (gold support, labelled right by the
    model) were counted: n was every labelled post, and accuracy higher."""
    posts = generated_posts(n_threads=4, replies=5)  # 4 roots, 4 deleted, 16 responses
    truth = generated_truth(posts)
    model = truth.assign(label=np.where(truth["label"] == "support", "support", "other"))
    text = summary(study(), generated_trend([0, 1, 4, 24]), posts, {"vader": model})
    # of the 16 responses, half are other (right) and half criticism (wrong)
    assert "| vader | 16 | 0.500 |" in text


# -- 4. wording by prediction mode ------------------------------------------------------------


def test_fit_predictions_are_called_in_sample():
    """Regression: with prediction = fit the summary spoke of out-of-group predictions."""
    spec = study(prediction="fit")
    spec = dataclasses.replace(spec, gold=dataclasses.replace(spec.gold, group_task=None,
                                                              thread_blocks={}))
    text = summary(spec, generated_trend([0, 1, 4, 24]))
    assert "In-sample predictions (prediction = fit" in text
    assert "confusion of the in-sample predictions" in text
    assert "out-of-group" not in text.lower()
    assert "Out-of-group predictions against" in summary(study(),
                                                         generated_trend([0, 1, 4, 24]))


# -- 5. a model with labels of its own -------------------------------------------------------


CUSTOM = ("anti", "neutral", "pro")


def test_shares_of_a_model_with_its_own_labels_draw_them_in_palette_colours():
    """Regression: a pro / anti / neutral model drew an empty figure (dated 1970)."""
    trend = generated_trend([0, 1, 4, 24], models=("custom",), groups=("all",),
                            labels=CUSTOM).drop(columns=["model", "veracity"])
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, trend[trend["method"] == "cc"])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == list(CUSTOM)
    colours = [line.get_color() for line in ax.get_legend().legend_handles[:3]]
    assert all(any(_same_colour(c, p) for p in plots.OKABE_ITO.values()) for c in colours)
    assert len({mcolors.to_hex(c) for c in colours}) == 3


def test_support_and_criticism_keep_their_place_and_colours_among_other_labels():
    trend = generated_trend([0, 1, 4, 24], models=("m",), groups=("all",),
                            labels=("criticism", "pro", "support")).drop(
        columns=["model", "veracity"])
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, trend[trend["method"] == "cc"])
    handles = ax.get_legend().legend_handles
    assert [h.get_label() for h in handles[:3]] == ["support", "criticism", "pro"]
    assert _same_colour(handles[0].get_color(), plots.LABEL_COLOURS["support"])
    assert _same_colour(handles[1].get_color(), plots.LABEL_COLOURS["criticism"])


def test_summary_and_figure_of_a_user_model_show_its_labels(monkeypatch):
    """Regression: the summary's table of such a figure was empty and its model card's F1
    cells blank."""
    from analysis import classifiers

    card = {"n_train": 900, "cv_folds": 5,
            "cv_metrics": {"macro_f1": 0.4, "per_class": {label: {"f1": 0.1 * (i + 1)}
                                                          for i, label in enumerate(CUSTOM)}}}
    monkeypatch.setattr(classifiers, "model_card", lambda source: card)
    spec = study(models=("models/custom.skops",), gold=None, by=(), relative_to="root",
                 figures=(Figure(kind="shares", file="custom", model="models/custom.skops"),))
    trend = generated_trend([0, 1, 4, 24], models=("models/custom.skops",), groups=("all",),
                            labels=CUSTOM).drop(columns="veracity")
    text = report.summarize(spec, generated_posts(), pd.DataFrame(columns=["uid", "label"]),
                            {}, trend)
    assert "| model | trained on | CV folds | macro-F1 | F1 anti | F1 neutral | F1 pro |" in text
    assert "| models/custom.skops | 900 | 5 | 0.400 | 0.100 | 0.200 | 0.300 |" in text
    assert "| 0.000 | 1.000 | pro | 40 |" in text
    fig = report.draw_figure(spec, spec.figures[0], trend)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:3] == list(CUSTOM)


# -- 6. volume of one model and method -------------------------------------------------------


def test_volume_refuses_a_table_of_several_models():
    """Regression: a table of two models was summed as if they were groups (every response
    counted twice)."""
    trend = generated_trend([0, 1, 4, 24], models=("default", "vader"))
    trend = trend[trend["method"] == "pcc"]
    fig, ax = plots.new_figure()
    with pytest.raises(ValueError, match="several models .*column 'model'"):
        plots.plot_volume(ax, trend)


def test_volume_refuses_rows_of_the_same_group_twice():
    trend = generated_trend([0, 1, 4, 24], models=("vader",)).drop(columns="model")
    trend = pd.concat([trend, trend])[lambda f: f["method"] == "pcc"]
    fig, ax = plots.new_figure()
    with pytest.raises(ValueError, match="several rows per bin and label"):
        plots.plot_volume(ax, trend)


def test_a_figure_without_a_model_of_a_study_of_two_models_names_the_cause(tmp_path):
    """Regression: the error said "columns method" (or nothing, for volume: double counts)."""
    spec = study(models=("default", "vader"))
    trend = generated_trend([0, 1, 4, 24], models=("gold", "default", "vader"))
    figure = Figure(kind="volume", file="volume")
    with pytest.raises(UserError, match=r"several models \(default, vader\)"):
        report.draw_figure(spec, figure, trend)
    spec = dataclasses.replace(spec, figures=(figure,))
    with pytest.raises(UserError, match=r"toml: \[\[figures\]\] 'volume': .*several models"):
        report.draw_figures(spec, trend, tmp_path)


def test_plot_command_names_several_models_and_draws_one_with_model(tmp_path, capsys):
    """The plot command on a study's trend.csv: several models are named as the cause, and
    --model selects one."""
    table = tmp_path / "trend.csv"
    generated_trend([0, 1, 4, 24], models=("gold", "default", "vader")).to_csv(table,
                                                                               index=False)
    status = main(["plot", str(table), "--kind", "volume", "--method", "pcc",
                   "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "several models (default, vader" in err
    assert main(["plot", str(table), "--kind", "volume", "--method", "pcc", "--model", "vader",
                 "-o", str(tmp_path / "x")]) == 0


# -- 7. figure kinds the grouping cannot draw ------------------------------------------------


@pytest.mark.parametrize(("kind", "by", "why"), [
    ("multiples", (), "one trend.by column; the study has none"),
    ("multiples", ("veracity", "platform"), "the study has 2"),
    ("shares", ("veracity",), "kind 'shares' draws one series"),
])
def test_figure_kinds_the_grouping_cannot_draw_are_a_clear_error(tmp_path, kind, by, why):
    """Regression: multiples without trend.by raised IndexError; shares with trend.by failed
    inside the plot, after the work."""
    spec = study(by=by)
    figure = Figure(kind=kind, file="fig", model="vader")
    trend = generated_trend([0, 1, 4, 24]).assign(platform="twitter")
    with pytest.raises(ValueError, match=why):
        report.draw_figure(spec, figure, trend)
    spec = dataclasses.replace(spec, figures=(figure,))
    with pytest.raises(UserError, match=rf"rumour-replies.toml: \[\[figures\]\] 'fig': .*{why}"):
        report.draw_figures(spec, trend, tmp_path)
    assert not list(tmp_path.iterdir())


# -- 8. no intervals ---------------------------------------------------------------------------


def test_without_intervals_the_summary_and_the_figure_say_so():
    """Regression: with n_boot = 0 the summary spoke of 95% bootstrap intervals and the figure
    drew the bins as certain without a word."""
    trend = generated_trend([0, 1, 4, 24], n_boot=False)
    text = summary(study(n_boot=0), trend)
    assert "no intervals (n_boot = 0)" in text
    assert "bootstrap intervals" not in text
    rows = trend[(trend["model"] == "vader") & (trend["method"] == "pcc")
                 & (trend["veracity"] == "true")].drop(columns=["model", "veracity"])
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, rows)
    assert "no intervals (n_boot = 0)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert all(len(band.get_paths()) == 0 or not band.get_paths()[0].vertices.size
               for band in ax.collections)


# -- 9. the time axis label ------------------------------------------------------------------


@pytest.mark.parametrize(("relative_to", "label"), [
    ("root", "Hours since the source post"),
    ("2020-11-01T00:00:00Z", "Hours since 2020-11-01 00:00 UTC"),
    ("2020-11-01T09:30:00+01:00", "Hours since 2020-11-01 08:30 UTC"),
])
def test_figures_over_hours_name_the_reference(relative_to, label):
    """Regression: bins since an event time were labelled "Hours since the source post"."""
    trend = generated_trend([0, 1, 4, 24])
    for kind in ("multiples", "volume"):
        spec = study(relative_to=relative_to)
        fig = report.draw_figure(spec, Figure(kind=kind, file="f", model="vader"), trend)
        assert fig.axes[-1].get_xlabel() == label


def saved_figures(monkeypatch) -> list:
    saved = []
    real = plots.save_figure
    monkeypatch.setattr(plots, "save_figure",
                        lambda fig, stem, **kw: saved.append(fig) or real(fig, stem, **kw))
    return saved


def test_plot_command_labels_relative_bins_by_xlabel_or_an_unnamed_reference(tmp_path,
                                                                             monkeypatch):
    """Regression: the plot command labelled any relative bins "Hours since the source post",
    though a trend table does not record its reference, and had no option to say it."""
    table = tmp_path / "trend.csv"
    trend = generated_trend([0, 1, 4, 24], models=("vader",))
    trend[trend["method"] == "pcc"].drop(columns="model").to_csv(table, index=False)
    saved = saved_figures(monkeypatch)
    assert main(["plot", str(table), "--kind", "multiples", "--by", "veracity",
                 "-o", str(tmp_path / "a")]) == 0
    assert saved[-1].axes[-1].get_xlabel() == "Hours since the reference time"
    assert main(["plot", str(table), "--kind", "volume", "--xlabel",
                 "Hours since the announcement", "-o", str(tmp_path / "b")]) == 0
    assert saved[-1].axes[0].get_xlabel() == "Hours since the announcement"


def test_a_study_volume_figure_draws_the_study_events(monkeypatch):
    """reproduce drew a study's events on its share figures but not on its volume figures."""
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    from analysis import plots, report

    seen = {}
    real = plots.plot_volume

    def spy(ax, rows, **kwargs):
        seen["events"] = kwargs.get("events")
        return real(ax, rows, **kwargs)

    monkeypatch.setattr(plots, "plot_volume", spy)
    event = SimpleNamespace(time=1.5, label="debunked")
    spec = SimpleNamespace(by=[], relative_to="root", tz="UTC", events=[event],
                           primary_method="cc")
    figure = SimpleNamespace(kind="volume", model=None, method=None, title=None)
    trend = pd.DataFrame({
        "bin_start": [0.0, 0.0, 1.0, 1.0], "bin_end": [1.0, 1.0, 2.0, 2.0],
        "label": ["support", "criticism"] * 2, "n_posts": [40, 40, 50, 50],
        "estimate": [0.5, 0.3, 0.4, 0.4], "ci_low": [0.4, 0.2, 0.3, 0.3],
        "ci_high": [0.6, 0.4, 0.5, 0.5], "method": "cc", "flag": None, "model": "default",
        "n_threads": 12})
    plt.close(report.draw_figure(spec, figure, trend))
    assert seen["events"] == [(event.time, "debunked")]
