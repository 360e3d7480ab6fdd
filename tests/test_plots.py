"""Figures: what they draw, how uncertain bins look, and deterministic saving."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.legend import Legend

from analysis import plots
from analysis.commands import main
from analysis.errors import UserError
from tests.test_report_fixes import saved_figures


def generated_trend(groups=("false", "true")) -> pd.DataFrame:
    """A generated trend table: 4 relative bins x 3 labels per group; the last bin is flagged."""
    rows = []
    for g, group in enumerate(groups):
        for b in range(4):
            n = 40 if b < 3 else 6
            shares = {"support": 0.2 + 0.1 * b, "criticism": 0.3 - 0.05 * b + 0.02 * g}
            shares["other"] = 1 - shares["support"] - shares["criticism"]
            for label, share in shares.items():
                rows.append({"veracity": group, "bin_start": 3.0 * b, "bin_end": 3.0 * b + 3,
                             "label": label, "n_posts": n, "estimate": share,
                             "ci_low": share - 0.05, "ci_high": share + 0.05, "method": "pacc",
                             "flag": "few_posts" if b == 3 else None, "n_threads": 10})
    return pd.DataFrame(rows)


def one_group() -> pd.DataFrame:
    trend = generated_trend(("false",))
    return trend.drop(columns="veracity")


def _same_colour(a, b) -> bool:
    return np.allclose(mcolors.to_rgba(a), mcolors.to_rgba(b))


def test_shares_draw_certain_bins_solid_and_flagged_bins_hollow():
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, one_group(), labels=("support",))
    markers = [line for line in ax.lines if line.get_marker() == "o" and
               line.get_linestyle() == "None"]
    solid = [m for m in markers if not _same_colour(m.get_markerfacecolor(), "white")]
    hollow = [m for m in markers if _same_colour(m.get_markerfacecolor(), "white")]
    assert len(solid[0].get_xdata()) == 3  # the three unflagged bins
    assert list(hollow[0].get_xdata()) == [10.5]  # the flagged bin, at its midpoint
    assert _same_colour(solid[0].get_color(), plots.OKABE_ITO["blue"])
    # the band (fill_between) covers the certain bins only
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 0].max() == pytest.approx(7.5)
    assert ax.get_ylabel() == "Share of responses"
    assert ax.get_xlabel() == "Hours since the source post"
    legend_texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "few posts (uncertain)" in legend_texts


def test_events_are_labelled_vertical_lines():
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, one_group(), events=[(4.0, "debunked")])
    vertical = [line for line in ax.lines if list(line.get_xdata()) == [4.0, 4.0]]
    assert len(vertical) == 1
    assert "debunked" in [t.get_text() for t in ax.texts]


def test_calendar_trend_gets_a_time_axis_in_the_zone():
    trend = one_group().assign(
        bin_start=lambda f: pd.to_datetime("2020-09-30T00:00Z") + pd.to_timedelta(
            f["bin_start"], unit="D"),
        bin_end=lambda f: pd.to_datetime("2020-09-30T00:00Z") + pd.to_timedelta(
            f["bin_end"], unit="D"))
    trend["bin_start"] = trend["bin_start"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    trend["bin_end"] = trend["bin_end"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, trend, events=[("2020-10-02", "letter")], tz="America/Los_Angeles")
    assert ax.get_xlabel() == "Time (America/Los_Angeles)"
    assert "letter" in [t.get_text() for t in ax.texts]


def test_shares_refuse_a_table_with_several_groups():
    fig, ax = plots.new_figure()
    with pytest.raises(ValueError, match="several rows per bin"):
        plots.plot_shares(ax, generated_trend())


def test_volume_stacks_estimated_counts_summed_over_groups():
    trend = generated_trend()
    fig, ax = plots.new_figure()
    plots.plot_volume(ax, trend)
    heights = {}
    for container in ax.containers:
        heights[container.get_label()] = [p.get_height() for p in container.patches]
    # bin 0: support 0.2 of 40 posts in each of two groups = 16
    assert heights["support"][0] == pytest.approx(16.0)
    total_first_bin = sum(h[0] for h in heights.values())
    assert total_first_bin == pytest.approx(80.0)
    assert ax.get_ylabel() == "Responses per bin"


def generated_volume(n_bins: int, missing=range(0)) -> pd.DataFrame:
    """A generated trend of ``n_bins`` one-hour bins of 100 responses each, without the bins in
    ``missing`` (bins without responses)."""
    rows = [{"bin_start": float(b), "bin_end": b + 1.0, "label": label, "n_posts": 100,
             "estimate": share, "method": "pcc"}
            for b in range(n_bins) if b not in missing
            for label, share in (("support", 0.3), ("criticism", 0.2), ("other", 0.5))]
    return pd.DataFrame(rows)


def _painted_share(fig, ax, x0, x1, top):
    """Share of the pixels (at the saved resolution) inside the data rectangle x0..x1 x 0..top
    that are not white."""
    fig.set_dpi(plots.DPI)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    (left, bottom), (right, upper) = ax.transData.transform([(x0, 0), (x1, top)])
    rows = pixels.shape[0]
    inner = pixels[int(rows - upper) + 2: int(rows - bottom) - 2, int(left) + 2: int(right) - 2]
    return float((inner.min(axis=2) < 250).mean())


@pytest.mark.parametrize("n_bins", [185, 1000])
def test_volume_with_many_bins_paints_every_bin(n_bins):
    """Regression: each bar had a 0.3 pt white edge whatever its width; with 1,000 bins 98% of
    the plot area stayed white (4,428 bins: empty) and at 185 bins the bars were striped. The
    legend was drawn over the tallest bins."""
    quarter = n_bins // 4
    trend = generated_volume(n_bins, missing=range(quarter, 2 * quarter))
    fig, ax = plots.new_figure()
    plots.plot_volume(ax, trend)
    assert _painted_share(fig, ax, 2 * quarter, n_bins, 100) > 0.99
    assert _painted_share(fig, ax, quarter, 2 * quarter, 100) == 0.0  # no responses: a gap
    assert ax.get_legend().get_window_extent().y0 >= ax.get_window_extent().y1 - 1


def test_validation_legend_gives_each_methods_mae():
    comparison = pd.DataFrame({
        "method": ["cc"] * 4 + ["pacc"] * 4,
        "label": ["support", "criticism"] * 4,
        "estimate": [0.3, 0.2, 0.5, 0.1, 0.25, 0.15, 0.42, 0.12],
        "gold": [0.2, 0.1, 0.4, 0.1, 0.2, 0.1, 0.4, 0.1],
    })
    fig, ax = plots.new_figure()
    plots.plot_validation(ax, comparison)
    legends = [child for child in ax.get_children() if isinstance(child, Legend)]
    texts = [t.get_text() for legend in legends for t in legend.get_texts()]
    # by hand: cc errors 0.1, 0.1, 0.1, 0 -> 0.075; pacc 0.05, 0.05, 0.02, 0.02 -> 0.035
    assert "cc (MAE 0.075)" in texts and "pacc (MAE 0.035)" in texts
    assert "criticism" in texts
    assert ax.get_xlabel() == "Gold share per bin"


def test_small_multiples_one_panel_per_group():
    fig, _ = plots.new_figure(height=4, nrows=0)
    axes = plots.plot_small_multiples(fig, generated_trend(), by="veracity")
    assert [ax.get_title(loc="left") for ax in axes] == ["veracity: false", "veracity: true"]
    assert all(ax.get_legend() is None for ax in axes)  # one legend, of the figure
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "support", "criticism", "few posts (uncertain)"]
    assert axes[0].get_ylim() == axes[1].get_ylim()


def test_small_multiples_share_a_limit_that_holds_every_panel():
    # Regression: the panels share one y axis, and the last panel's own limit (here, small
    # shares) was the one kept, cutting off the first panel's intervals.
    trend = generated_trend(("a_big", "b_small"))
    big = trend["veracity"] == "a_big"
    trend.loc[big & (trend["label"] == "criticism"), ["estimate", "ci_high"]] = [0.45, 0.58]
    small = ~big & trend["label"].isin(["support", "criticism"])
    trend.loc[small, ["estimate", "ci_low", "ci_high"]] = [0.05, 0.0, 0.08]
    fig, _ = plots.new_figure(height=4, nrows=0)
    axes = plots.plot_small_multiples(fig, trend, by="veracity")
    assert all(ax.get_ylim()[1] >= 0.58 for ax in axes)


def test_small_multiples_have_common_limits_without_linked_axes():
    """The panels get the same x and y limits (every group's bins and intervals inside), set on
    each panel: linked (shared) axes made the drawing time grow with the square of the panels."""
    trend = generated_trend(("a", "b", "c"))
    later = trend["veracity"] == "c"
    trend.loc[later, ["bin_start", "bin_end"]] += 30.0
    trend.loc[trend["veracity"] == "b", "ci_high"] = 0.7
    fig, _ = plots.new_figure(height=5, nrows=0)
    axes = plots.plot_small_multiples(fig, trend, by="veracity")
    fig.canvas.draw()
    assert len({ax.get_xlim() for ax in axes}) == 1 and len({ax.get_ylim() for ax in axes}) == 1
    low, high = axes[0].get_xlim()
    assert low < 1.5 and high > 40.5  # the first group's first and the last group's last bin
    assert axes[0].get_ylim()[1] >= 0.7
    assert all(ax.get_shared_x_axes().get_siblings(ax) == [ax] for ax in axes)
    assert all(ax.get_shared_y_axes().get_siblings(ax) == [ax] for ax in axes)
    # tick labels below the bottom panel only, as with shared axes
    assert [ax.xaxis.get_tick_params()["labelbottom"] for ax in axes] == [False, False, True]


def test_small_multiples_refuse_more_panels_than_fit(tmp_path, capsys):
    """Regression: 4,000 groups (trend --by thread_id) drew for hours into a figure thousands of
    inches tall, silently."""
    many = generated_trend([f"g{i:03d}" for i in range(100)])  # 50 rows: 73 inches tall
    fig, _ = plots.new_figure(nrows=0)
    with pytest.raises(UserError, match="100 groups in column 'veracity'"):
        plots.plot_small_multiples(fig, many, by="veracity")
    assert not fig.axes
    table = tmp_path / "trend.csv"
    many.to_csv(table, index=False)
    status = main(["plot", str(table), "--kind", "multiples", "--by", "veracity",
                   "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "100 groups" in err and "fewer groups" in err and str(table) in err
    assert not list(tmp_path.glob("x*"))


def test_the_most_panels_fit_the_largest_figure():
    assert plots.small_multiples_height(plots.MAX_PANELS, "g") <= plots.MAX_FIGURE_INCHES
    assert plots.panel_grid(plots.MAX_PANELS, "g") == (plots.MAX_PANELS // 2, 2)
    assert plots.panel_grid(3, "g") == (3, 1)


def _draw(tmp_path, name):
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, one_group(), events=[(4.0, "debunked")])
    return plots.save_figure(fig, tmp_path / name)


def test_saving_twice_gives_byte_identical_png_and_pdf(tmp_path):
    first = _draw(tmp_path, "a")
    second = _draw(tmp_path, "b")
    assert [p.suffix for p in first] == [".png", ".pdf"]
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes()
    assert first[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert first[1].read_bytes()[:5] == b"%PDF-"
    assert b"CreationDate" not in first[1].read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf", "a.png", "b.pdf", "b.png"]


def test_plot_command_writes_png_and_pdf(tmp_path):
    table = tmp_path / "trend.csv"
    generated_trend().to_csv(table, index=False)
    stem = tmp_path / "fig"
    status = main(["plot", str(table), "--kind", "multiples", "--by", "veracity",
                   "--event", "6=debunked", "-o", str(stem)])
    assert status == 0
    assert (tmp_path / "fig.png").stat().st_size > 0 and (tmp_path / "fig.pdf").exists()
    status = main(["plot", str(table), "--kind", "shares", "--by", "veracity", "--group", "true",
                   "-o", str(tmp_path / "one")])
    assert status == 0 and (tmp_path / "one.png").exists()


def test_plot_command_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    table = tmp_path / "trend.csv"
    generated_trend().to_csv(table, index=False)
    status = main(["plot", str(table), "--kind", "shares", "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "several rows" in err
    status = main(["plot", str(table), "--kind", "shares", "--event", "soon", "-o",
                   str(tmp_path / "x")])
    assert status == 2
    assert not list(tmp_path.glob("x*"))


@pytest.mark.parametrize("size", [["--width", "0"], ["--height", "-1"], ["--width", "1e6"]])
def test_plot_command_refuses_impossible_sizes(tmp_path, capsys, size):
    """Regression: ``--width 0`` raised matplotlib's 'cannot write empty image' traceback."""
    table = tmp_path / "trend.csv"
    one_group().to_csv(table, index=False)
    status = main(["plot", str(table), "--kind", "shares", *size, "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert not list(tmp_path.glob("x*"))


def test_save_figure_writes_no_format_when_one_fails(tmp_path):
    """Regression: a failing PDF used to leave the PNG behind (half the figure written)."""
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, one_group())
    with pytest.raises(ValueError):
        plots.save_figure(fig, tmp_path / "f", formats=("png", "no-such-format"))
    assert list(tmp_path.iterdir()) == []


def test_plot_command_refuses_labels_the_table_lacks(tmp_path, capsys):
    """Regression: ``--labels favor`` on a support / criticism table drew an empty figure and
    exited 0."""
    table = tmp_path / "trend.csv"
    one_group().to_csv(table, index=False)
    status = main(["plot", str(table), "--kind", "shares", "--labels", "favor,support",
                   "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "favor" in err and str(table) in err
    assert not list(tmp_path.glob("x*"))


def test_plot_command_output_with_a_figure_suffix_is_the_stem(tmp_path):
    """Regression: ``-o fig.png`` wrote fig.png.png and fig.png.pdf."""
    table = tmp_path / "trend.csv"
    one_group().to_csv(table, index=False)
    assert main(["plot", str(table), "--kind", "shares", "-o", str(tmp_path / "fig.png")]) == 0
    assert sorted(p.name for p in tmp_path.glob("fig*")) == ["fig.pdf", "fig.png"]


def test_plot_command_volume_without_n_posts_is_one_line_and_exit_2(tmp_path, capsys):
    """Regression: ``--kind volume`` on a table without n_posts raised KeyError 'n_posts'."""
    table = tmp_path / "trend.csv"
    one_group().drop(columns="n_posts").to_csv(table, index=False)
    status = main(["plot", str(table), "--kind", "volume", "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "missing column(s) n_posts" in err and str(table) in err
    assert not list(tmp_path.glob("x*"))


def test_plot_command_says_which_options_draw_a_grouped_table(tmp_path, capsys):
    """Found by a docs check: the error pointed command-line users at plot_small_multiples."""
    generated_trend().to_csv(tmp_path / "trend.csv", index=False)
    assert main(["plot", str(tmp_path / "trend.csv"), "--kind", "shares",
                 "-o", str(tmp_path / "fig")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "columns veracity" in err
    assert "plot --by COLUMN --group VALUE" in err and "plot --kind multiples" in err
    assert main(["plot", str(tmp_path / "trend.csv"), "--kind", "shares", "--by", "veracity",
                 "--group", "true", "-o", str(tmp_path / "fig")]) == 0


# -- legends outside the data ------------------------------------------------------------------


def generated_daily_trend(n_bins: int) -> pd.DataFrame:
    """``n_bins`` daily calendar bins x 2 labels; every third bin is flagged."""
    days = pd.date_range("2020-01-01", periods=n_bins + 1, freq="D", tz="UTC")
    rows = [{"bin_start": days[b].isoformat(), "bin_end": days[b + 1].isoformat(),
             "label": label, "n_posts": 10 if b % 3 == 0 else 50, "estimate": share,
             "ci_low": share - 0.1, "ci_high": share + 0.1, "method": "pacc",
             "flag": "few_posts" if b % 3 == 0 else None}
            for b in range(n_bins)
            for label, share in (("support", 0.5 + 0.4 * np.sin(b)), ("criticism", 0.45))]
    return pd.DataFrame(rows)


def _legend_overlaps(fig) -> list[str]:
    """What the figure's legends overlap or push out of it, after layout: the axes' data area,
    tick labels and axis labels, titles, event texts; legend texts not wholly in the figure
    (which is what is saved: save_figure does not crop or grow it)."""
    fig.draw_without_rendering()  # constrained layout puts everything in place
    renderer = fig.canvas.get_renderer()
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    assert legends, "no legend drawn"
    others = {}
    if fig._suptitle is not None:
        others["figure title"] = fig._suptitle.get_window_extent(renderer)
    for ax in (ax for ax in fig.axes if ax.get_visible()):
        others[f"data area of {ax.get_title(loc='left')!r}"] = ax.bbox
        for axis in (ax.xaxis, ax.yaxis):
            box = axis.get_tightbbox(renderer)
            if box is not None:
                others[f"{axis.axis_name} axis of {ax.get_title(loc='left')!r}"] = box
        for text in [*ax.texts, ax.title, ax._left_title, ax._right_title]:
            if text.get_text():
                others[repr(text.get_text())] = text.get_window_extent(renderer)
    problems = []
    for legend in legends:
        box = legend.get_window_extent(renderer)
        problems += [f"legend overlaps {name}" for name, other in others.items()
                     if box.overlaps(other)]
        for text in legend.get_texts():
            extent = text.get_window_extent(renderer)
            if not (fig.bbox.x0 <= extent.x0 and extent.x1 <= fig.bbox.x1
                    and fig.bbox.y0 <= extent.y0 and extent.y1 <= fig.bbox.y1):
                problems.append(f"legend text {text.get_text()!r} is cut off at the edge")
    return problems


def _no_intervals(trend: pd.DataFrame) -> pd.DataFrame:
    return trend.assign(ci_low=np.nan, ci_high=np.nan)


@pytest.mark.parametrize(("table", "events", "width", "title"), [
    (one_group, [(4.0, "debunked")], plots.COLUMN_WIDTH, None),
    (one_group, None, plots.COLUMN_WIDTH, "A title"),
    (lambda: _no_intervals(one_group()), [(10.0, "debunked")], plots.COLUMN_WIDTH, None),
    (lambda: generated_daily_trend(6), [("2020-01-03", "announcement")], 2.5, None),
    (lambda: generated_daily_trend(400), [("2020-06-01", "announcement")],
     plots.COLUMN_WIDTH, "RumourEval daily"),
    (lambda: generated_daily_trend(400), [("2020-06-01", "announcement")], 7.0, None),
], ids=["few-bins-event", "title-no-event", "no-intervals", "narrow", "many-bins", "wide"])
def test_share_legend_covers_no_data_annotation_or_label(table, events, width, title):
    """Regression: the legend sat inside the axes (upper right), on the bins, the intervals and
    the event text, and its entry 'few posts (uncertain)' was cut off at the figure's edge."""
    fig, ax = plots.new_figure(width)
    plots.plot_shares(ax, table(), events=events)
    if title:
        plots.add_title(fig, title)
    assert _legend_overlaps(fig) == []
    assert ax.get_legend().get_window_extent().y0 >= ax.bbox.y1  # above the axes


@pytest.mark.parametrize("groups", [("false", "true", "unverified"),
                                    tuple("abcdef")], ids=["one-column", "two-columns"])
def test_small_multiples_legend_covers_no_panel(groups):
    trend = generated_trend(groups)
    fig, _ = plots.new_figure(height=plots.small_multiples_height(len(groups), "veracity"),
                              nrows=0)
    axes = plots.plot_small_multiples(fig, trend, "veracity", events=[(4.0, "debunked")])
    plots.add_title(fig, "Replies by veracity")
    assert _legend_overlaps(fig) == []
    assert all(ax.get_legend() is None for ax in axes) and len(fig.legends) == 1


def test_small_multiples_legend_has_the_entries_of_every_panel():
    """Only the second panel has flagged bins: the legend still explains the hollow markers."""
    trend = generated_trend(("a", "b"))
    trend.loc[trend["veracity"] == "a", "flag"] = None
    fig, _ = plots.new_figure(height=4, nrows=0)
    plots.plot_small_multiples(fig, trend, "veracity")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "support", "criticism", "few posts (uncertain)"]


@pytest.mark.parametrize("n_bins", [4, 1000])
def test_volume_legend_covers_no_bars(n_bins):
    fig, ax = plots.new_figure()
    plots.plot_volume(ax, generated_volume(n_bins))
    assert _legend_overlaps(fig) == []


def test_small_multiples_save_byte_identical(tmp_path):
    saved = []
    for name in ("a", "b"):
        fig, _ = plots.new_figure(height=4, nrows=0)
        plots.plot_small_multiples(fig, generated_trend(), "veracity", events=[(4.0, "x")])
        saved.append(plots.save_figure(fig, tmp_path / name))
    for one, two in zip(*saved, strict=True):
        assert one.read_bytes() == two.read_bytes()


# -- event texts inside their axes -------------------------------------------------------------

LONG_EVENT = "debunked by police statement, a long label text"


def _event_text_problems(fig) -> list[str]:
    """Where the figure's event texts leave their axes or overlap a tick label, an axis label,
    a title or a legend (of any panel), after layout."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    others = {}
    if fig._suptitle is not None:
        others["figure title"] = fig._suptitle.get_window_extent(renderer)
    for legend in [*fig.legends, *(ax.get_legend() for ax in axes if ax.get_legend())]:
        others["legend"] = legend.get_window_extent(renderer)
    for ax in axes:
        name = ax.get_title(loc="left")
        texts = [*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label, ax.yaxis.label,
                 ax.title, ax._left_title, ax._right_title]
        for text in texts:
            if text.get_visible() and text.get_text():
                others[f"{text.get_text()!r} of {name!r}"] = text.get_window_extent(renderer)
    problems = []
    for ax in axes:
        name = ax.get_title(loc="left")
        for text in ax.texts:
            box = text.get_window_extent(renderer)
            shown = text.get_text().replace("\n", " ")
            if not (ax.bbox.x0 <= box.x0 and box.x1 <= ax.bbox.x1
                    and ax.bbox.y0 <= box.y0 and box.y1 <= ax.bbox.y1):
                problems.append(f"event text {shown!r} leaves its axes {name!r}")
            problems += [f"event text {shown!r} overlaps {other}"
                         for other, extent in others.items() if box.overlaps(extent)]
    return problems


def _event_texts(fig) -> list[str]:
    return [text.get_text() for ax in fig.axes for text in ax.texts]


def _shown_start(shown: str, given: str) -> bool:
    """Whether ``shown`` (wrapped, perhaps cut short with an ellipsis) is the start of
    ``given``."""
    start = shown.replace("\n", " ").removesuffix(plots.ELLIPSIS)
    return bool(start) and given.startswith(start)


@pytest.mark.parametrize("kind", ["shares", "volume"])
@pytest.mark.parametrize("when", [1.0, 11.5], ids=["left", "near-right-edge"])
def test_a_long_event_text_stays_inside_its_axes(kind, when):
    """Regression: a long --event text ran past the bottom of the axes, over the x tick labels,
    and was cut off at the figure's edge; near the right edge it crossed the right spine."""
    fig, ax = plots.new_figure()
    draw = plots.plot_shares if kind == "shares" else plots.plot_volume
    draw(ax, one_group(), events=[(when, LONG_EVENT)])
    assert _event_text_problems(fig) == []
    shown, = _event_texts(fig)
    assert shown != LONG_EVENT and _shown_start(shown, LONG_EVENT)
    assert shown.count("\n") < plots.MAX_EVENT_LINES


@pytest.mark.parametrize("groups", [("false", "true", "unverified"), tuple("abcdef")],
                         ids=["one-column", "two-columns"])
def test_a_long_event_text_stays_inside_each_panel(groups):
    """Regression: in small multiples the text crossed into the next panel's title, the tick
    labels, the x-axis label and the legend (and constrained layout gave up)."""
    trend = generated_trend(groups)
    fig, _ = plots.new_figure(height=plots.small_multiples_height(len(groups), "veracity"),
                              nrows=0)
    plots.plot_small_multiples(fig, trend, "veracity", events=[(1.0, LONG_EVENT),
                                                               (11.5, "debunked")])
    plots.add_title(fig, "Replies by veracity")
    assert _event_text_problems(fig) == []
    shown = _event_texts(fig)
    assert len(shown) == 2 * len(groups)
    assert all(text.endswith(plots.ELLIPSIS) and _shown_start(text, LONG_EVENT)
               for text in shown[::2])
    assert shown[1::2] == ["debunked"] * len(groups)  # a text that fits is drawn as given


def test_event_texts_on_a_calendar_axis_stay_inside_a_narrow_figure():
    fig, ax = plots.new_figure(2.5)
    plots.plot_shares(ax, generated_daily_trend(6),
                      events=[("2020-01-06", "an announcement of the official letter of support "
                               "to the family, read out on television")])
    plots.add_title(fig, "Daily")
    assert _event_text_problems(fig) == []


def test_a_short_event_text_is_drawn_as_given():
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, one_group(), events=[(4.0, "debunked")])
    assert _event_text_problems(fig) == []
    assert _event_texts(fig) == ["debunked"]


def test_fit_event_text_keeps_the_start_and_marks_the_cut():
    assert plots.fit_event_text("rumour debunked", 20) == "rumour debunked"
    assert plots.fit_event_text("rumour   debunked", 20) == "rumour debunked"
    assert plots.fit_event_text(LONG_EVENT, 20) == "debunked by police\nstatement, a long…"
    assert plots.fit_event_text(LONG_EVENT, 20, max_lines=1) == "debunked by police…"
    assert plots.fit_event_text(LONG_EVENT, 30) == ("debunked by police statement,\n"
                                                    "a long label text")
    # a word longer than a line is cut within it, and ends the text
    assert plots.fit_event_text("see https://example.org/long/path now", 10) == \
        "see\nhttps://e…"
    assert plots.fit_event_text("supercalifragilistic", 5, max_lines=1) == "supe…"
    assert plots.fit_event_text("debunked", 0.5) == ""
    for length in range(1, 60):
        shown = plots.fit_event_text(LONG_EVENT, length)
        assert all(len(line) <= length for line in shown.splitlines())
        assert shown.count("\n") < plots.MAX_EVENT_LINES
        assert shown == plots.ELLIPSIS or _shown_start(shown, LONG_EVENT)


def test_long_event_texts_save_byte_identical(tmp_path):
    saved = []
    for name in ("a", "b"):
        fig, _ = plots.new_figure(height=4, nrows=0)
        plots.plot_small_multiples(fig, generated_trend(), "veracity",
                                   events=[(11.5, LONG_EVENT)])
        saved.append(plots.save_figure(fig, tmp_path / name))
    for one, two in zip(*saved, strict=True):
        assert one.read_bytes() == two.read_bytes()


# -- events on the volume figure ---------------------------------------------------------------


def test_plot_command_draws_events_on_the_volume_figure(tmp_path, monkeypatch):
    """Regression: ``plot --kind volume --event 2="rumour debunked"`` exited 0 and drew no
    event."""
    table = tmp_path / "trend.csv"
    one_group().to_csv(table, index=False)
    saved = saved_figures(monkeypatch)
    assert main(["plot", str(table), "--kind", "volume", "--event", "2=rumour debunked",
                 "-o", str(tmp_path / "fig")]) == 0
    ax, = saved[0].axes
    vertical = [line for line in ax.lines if list(line.get_xdata()) == [2.0, 2.0]]
    assert len(vertical) == 1 and vertical[0].get_linestyle() == "--"
    assert _event_texts(saved[0]) == ["rumour debunked"]
    assert _event_text_problems(saved[0]) == []
    # the same line and text as on the share figure
    fig, share_ax = plots.new_figure()
    plots.plot_shares(share_ax, one_group(), events=[(2.0, "rumour debunked")])
    share_line = next(line for line in share_ax.lines if list(line.get_xdata()) == [2.0, 2.0])
    assert vertical[0].get_color() == share_line.get_color()
    assert ax.texts[0].get_fontsize() == share_ax.texts[0].get_fontsize()


def test_plot_command_refuses_labels_for_the_volume_figure(tmp_path, capsys):
    """Found with the events of the volume figure: its help said --labels was not for volume,
    but it was ignored without a word (the figure stacked every label, exit 0)."""
    table = tmp_path / "trend.csv"
    one_group().to_csv(table, index=False)
    status = main(["plot", str(table), "--kind", "volume", "--labels", "support",
                   "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "--labels is not for volume" in err
    assert not list(tmp_path.glob("x*"))


def test_plot_command_refuses_events_on_the_validation_figure(tmp_path, capsys):
    table = tmp_path / "comparison.csv"
    pd.DataFrame({"method": "cc", "label": ["support", "criticism"], "estimate": [0.3, 0.2],
                  "gold": [0.2, 0.1]}).to_csv(table, index=False)
    status = main(["plot", str(table), "--kind", "validation", "--event", "2=debunked",
                   "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "--event" in err
    assert not list(tmp_path.glob("x*"))


# -- one colour per label ----------------------------------------------------------------------


def labelled_trend(labels) -> pd.DataFrame:
    """4 relative bins of each of ``labels``, with small distinct shares."""
    return pd.DataFrame([
        {"bin_start": 3.0 * b, "bin_end": 3.0 * b + 3, "label": label, "n_posts": 80,
         "estimate": 0.02 + 0.01 * k, "ci_low": 0.01 + 0.01 * k, "ci_high": 0.03 + 0.01 * k,
         "method": "pacc", "flag": None}
        for b in range(4) for k, label in enumerate(labels)])


EIGHT = [f"emotion {k}" for k in range(8)]


@pytest.mark.parametrize("labels", [
    EIGHT, ["support", "criticism", *EIGHT[:6]], ["support", *EIGHT[:7], "other"],
    ["criticism", *EIGHT[:7]],
], ids=["eight-others", "stance-and-six", "support-seven-and-other", "criticism-and-seven"])
def test_each_label_has_its_own_colour(labels):
    """Regression: with 8 labels two pairs of lines shared a colour (the palette cycled after 6
    labels besides support, criticism and other)."""
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, labelled_trend(labels), labels=labels)
    handles = [h for h in ax.get_legend().legend_handles if h.get_label() in labels]
    assert [h.get_label() for h in handles] == labels
    colours = [mcolors.to_hex(h.get_color()) for h in handles]
    assert len(set(colours)) == len(labels), dict(zip(labels, colours, strict=True))
    fig, ax = plots.new_figure()
    plots.plot_volume(ax, labelled_trend(labels))
    colours = {c.get_label(): mcolors.to_hex(c.patches[0].get_facecolor())
               for c in ax.containers}
    assert len(set(colours.values())) == len(labels)
    for stance in {"support", "criticism", "other"} & set(labels):  # their fixed colours
        assert _same_colour(colours[stance], plots.LABEL_COLOURS[stance])


def test_the_first_six_labels_keep_their_colours():
    """Figures of up to six labels besides the stance labels look as they did."""
    colours = plots.label_colours(["support", "criticism", *EIGHT[:6]])
    assert [colours[label] for label in EIGHT[:6]] == plots._CYCLE


@pytest.mark.parametrize("labels", [[f"emotion {k}" for k in range(9)],
                                    ["support", "criticism", *EIGHT[:7]]],
                         ids=["nine-others", "stance-and-seven"])
def test_more_labels_than_colours_are_refused(tmp_path, capsys, labels):
    with pytest.raises(ValueError, match=r"9 labels to draw .* at most 8 apart"):
        plots.plot_shares(plots.new_figure()[1], labelled_trend(labels), labels=labels)
    with pytest.raises(ValueError, match="merge the rare ones"):
        plots.plot_volume(plots.new_figure()[1], labelled_trend(labels))
    table = tmp_path / "trend.csv"
    labelled_trend(labels).to_csv(table, index=False)
    for kind, advice in (("shares", "--labels"), ("volume", "merge"),
                         ("multiples", "--labels")):
        by = ["--by", "method"] if kind == "multiples" else []
        status = main(["plot", str(table), "--kind", kind, *by, "-o", str(tmp_path / "x")])
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1, err
        assert "9 labels" in err and advice in err and str(table) in err
    assert not list(tmp_path.glob("x*"))
    # naming at most eight of them draws them
    assert main(["plot", str(table), "--kind", "shares", "--labels", ",".join(labels[:8]),
                 "-o", str(tmp_path / "x")]) == 0
