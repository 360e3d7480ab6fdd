"""Figure text from the user or the data is drawn as written: ``$`` is a dollar sign (not
mathtext), characters DejaVu Sans lacks come from an installed fallback font, and characters no
installed font has give one clear warning."""

from __future__ import annotations

import dataclasses
import logging
import warnings

import matplotlib.mathtext
import pandas as pd
import pytest

from analysis import plots, report
from analysis.commands import main
from analysis.study import Figure, load_study

#: Texts Matplotlib reads as mathtext: two dollars (text silently changed) and an invalid
#: expression (a traceback on saving).
DOLLARS = "raised $5 to $10"
BAD_MATH = "price $x^$ now"
#: Generated Japanese text ("support and criticism"): DejaVu Sans has none of its characters.
CJK = "支持と批判"
#: A character of STIXGeneral (shipped with Matplotlib) that DejaVu Sans lacks.
CIRCLED_A = "Ⓐ"


def generated_trend(labels=("support", "criticism", "other"), groups=("false", "true"),
                    method="pacc") -> pd.DataFrame:
    """A generated trend table: 4 relative bins of ``labels`` per group of ``veracity``."""
    rows = []
    for group in groups:
        for b in range(4):
            for k, label in enumerate(labels):
                share = 0.1 + 0.1 * k
                rows.append({"veracity": group, "bin_start": 3.0 * b, "bin_end": 3.0 * b + 3,
                             "label": label, "n_posts": 40, "estimate": share,
                             "ci_low": share - 0.05, "ci_high": share + 0.05, "method": method,
                             "flag": None, "n_threads": 10})
    return pd.DataFrame(rows)


def _as_written(text, given: str) -> None:
    """``text`` shows ``given`` and is drawn without mathtext (the string laid out as given)."""
    assert text.get_text() == given
    assert text._preprocess_math(text.get_text()) == (given, False)


@pytest.fixture()
def no_mathtext(monkeypatch):
    """Fail any mathtext parse while drawing (no figure here has mathtext of its own)."""
    def parse(*args, **kwargs):
        raise AssertionError(f"mathtext parsed: {args[1]!r}")
    monkeypatch.setattr(matplotlib.mathtext.MathTextParser, "parse", parse)


@pytest.fixture()
def no_fallback_fonts(monkeypatch):
    """As on a machine with DejaVu Sans only, whatever fonts this one has."""
    monkeypatch.setattr(plots, "FALLBACK_FONTS", (), raising=False)


# -- 1. dollars ---------------------------------------------------------------------------------


def test_dollars_in_labels_events_axis_label_and_title_are_drawn_as_written(tmp_path,
                                                                            no_mathtext):
    """Regression: "$5 to $10" was drawn as mathtext ("5 to 10" in italics, dollars gone)."""
    labels = ("$5 donors", "$10 donors")
    trend = generated_trend(labels, groups=("all",)).drop(columns="veracity")
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, trend, events=[(4.0, DOLLARS)], xlabel="hours after $5 ask")
    legend = ax.get_legend().get_texts()
    for text, given in zip(legend, labels, strict=True):
        _as_written(text, given)
    _as_written(ax.texts[0], DOLLARS)
    _as_written(ax.xaxis.label, "hours after $5 ask")
    _as_written(plots.add_title(fig, BAD_MATH), BAD_MATH)
    written = plots.save_figure(fig, tmp_path / "shares")  # mathtext would raise here
    assert all(path.stat().st_size > 0 for path in written)


def test_dollars_in_volume_legend_and_panel_titles_are_drawn_as_written(tmp_path, no_mathtext):
    labels = ("$5 donors", "$10 donors")
    trend = generated_trend(labels, groups=("$x^$", "$5 and $10"))
    fig, ax = plots.new_figure()
    plots.plot_volume(ax, trend[trend["veracity"] == "$x^$"].drop(columns="veracity"))
    for text, given in zip(ax.get_legend().get_texts(), labels, strict=True):
        _as_written(text, given)
    plots.save_figure(fig, tmp_path / "volume")
    fig, _ = plots.new_figure(nrows=0)
    axes = plots.plot_small_multiples(fig, trend, "veracity")
    _as_written(axes[0]._left_title, "veracity: $5 and $10")
    _as_written(axes[1]._left_title, "veracity: $x^$")
    plots.save_figure(fig, tmp_path / "multiples")


def test_dollars_in_method_and_model_names_of_the_validation_legend(tmp_path, no_mathtext):
    comparison = pd.DataFrame({"model": ["$m$", "$m$", "b", "b"], "method": "cc",
                               "label": ["$x^$", "other"] * 2, "estimate": [0.2, 0.5, 0.3, 0.4],
                               "gold": [0.25, 0.45, 0.25, 0.45]})
    fig, ax = plots.new_figure()
    plots.plot_validation(ax, comparison)
    methods = [t.get_text() for t in ax.artists[0].get_texts()]
    assert methods == ["$m$ cc (MAE 0.050)", "b cc (MAE 0.050)"]
    for legend in (ax.artists[0], ax.get_legend()):
        for text in legend.get_texts():
            _as_written(text, text.get_text())
    assert ax.get_legend().get_texts()[0].get_text() == "$x^$"
    plots.save_figure(fig, tmp_path / "validation")


def test_plot_command_saves_a_title_that_is_not_valid_mathtext(tmp_path, capsys, monkeypatch):
    """Regression: --title 'price $x^$ now' was a pyparsing traceback at saving (exit 1, no
    figure); --event and --xlabel texts with dollars lost them."""
    table = tmp_path / "trend.csv"
    generated_trend(groups=("all",)).drop(columns="veracity").to_csv(table, index=False)
    saved = []
    real = plots.save_figure
    monkeypatch.setattr(plots, "save_figure",
                        lambda fig, stem, **kw: saved.append(fig) or real(fig, stem, **kw))
    assert main(["plot", str(table), "--kind", "shares", "--title", BAD_MATH,
                 "--event", f"4={DOLLARS}", "--xlabel", "hours after $5 ask",
                 "-o", str(tmp_path / "fig")]) == 0
    assert (tmp_path / "fig.png").stat().st_size > 0
    assert (tmp_path / "fig.pdf").stat().st_size > 0
    assert "warning" not in capsys.readouterr().err
    fig, = saved
    _as_written(fig._suptitle, BAD_MATH)
    _as_written(fig.axes[0].texts[0], DOLLARS)
    _as_written(fig.axes[0].xaxis.label, "hours after $5 ask")


def test_a_study_figure_title_with_dollars_is_drawn_as_written(no_mathtext, tmp_path):
    spec = load_study("rumour-replies")
    figure = Figure(kind="multiples", file="f", model="vader", method="pacc",
                    title="cost $5 to $10")
    spec = dataclasses.replace(spec, models=("vader",), figures=(figure,))
    trend = generated_trend(groups=("$x^$", "false")).assign(model="vader")
    fig = report.draw_figure(spec, figure, trend)
    _as_written(fig._suptitle, "cost $5 to $10")
    _as_written(fig.axes[0]._left_title, "veracity: $x^$")
    plots.save_figure(fig, tmp_path / "study")


# -- 2. characters no font has ------------------------------------------------------------------


def test_characters_no_installed_font_has_give_one_warning_naming_the_text(tmp_path,
                                                                          no_fallback_fonts):
    """Regression: each character drawn as a box gave its own "Glyph ... missing from font(s)
    DejaVu Sans" warning (per file), which said neither which text nor what to do."""
    trend = generated_trend(("支持", "批判"), groups=("all",)).drop(columns="veracity")
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, trend, events=[(4.0, CJK)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.save_figure(fig, tmp_path / "ja")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert "Glyph" not in messages[0]
    assert messages[0].startswith("figure texts '支持と批判', '支持', '批判' have characters the "
                                  "installed fonts cannot draw (shown as boxes)")
    assert "Noto Sans CJK" in messages[0]


def test_fitting_the_legend_gives_no_glyph_warning_before_saving(no_fallback_fonts):
    """The legend is measured while drawing (to fit its columns); characters without a font
    must not warn then, once per character, outside save_figure's one warning."""
    trend = generated_trend(("支持", "批判"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plots.new_figure()
        plots.plot_shares(ax, trend[trend["veracity"] == "true"].drop(columns="veracity"))
        fig, _ = plots.new_figure(height=4, nrows=0)
        plots.plot_small_multiples(fig, trend, "veracity")
    assert [str(w.message) for w in caught] == []


def test_plot_command_names_characters_without_a_font_in_one_warning_line(tmp_path, capsys,
                                                                          no_fallback_fonts):
    table = tmp_path / "trend.csv"
    generated_trend(groups=("all",)).drop(columns="veracity").to_csv(table, index=False)
    assert main(["plot", str(table), "--kind", "shares", "--title", CJK,
                 "--event", "4=debunked", "-o", str(tmp_path / "fig")]) == 0
    err = capsys.readouterr().err
    warning_lines = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warning_lines == [
        line for line in err.splitlines() if "figure text" in line or "Glyph" in line]
    assert len(warning_lines) == 1
    assert warning_lines[0].startswith(f"warning: figure text '{CJK}' has characters")
    assert (tmp_path / "fig.png").exists() and (tmp_path / "fig.pdf").exists()


def test_other_warnings_while_saving_pass_on_unchanged(tmp_path, monkeypatch):
    fig, ax = plots.new_figure()
    ax.plot([0, 1], [0, 1])
    real = fig.savefig

    def savefig(*args, **kwargs):
        warnings.warn("something else", RuntimeWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(fig, "savefig", savefig)
    with pytest.warns(RuntimeWarning, match="something else"):
        plots.save_figure(fig, tmp_path / "plain")


def test_characters_come_from_an_installed_fallback_font(tmp_path, monkeypatch, caplog):
    """The mechanism with a font every Matplotlib has: STIXGeneral has the circled letters
    DejaVu Sans lacks; a family that is not installed is left out, without a log line."""
    monkeypatch.setattr(plots, "FALLBACK_FONTS", ("No Such Font Family", "STIXGeneral"),
                        raising=False)
    fig, ax = plots.new_figure()
    plots.plot_shares(ax, generated_trend((CIRCLED_A, "other"), groups=("all",))
                      .drop(columns="veracity"), events=[(4.0, f"{CIRCLED_A} answers")])
    assert ax.texts[0].get_fontfamily() == ["sans-serif", "STIXGeneral"]
    with warnings.catch_warnings(record=True) as caught, \
            caplog.at_level(logging.INFO, logger="matplotlib.font_manager"):
        warnings.simplefilter("always")
        written = plots.save_figure(fig, tmp_path / "circled")
    assert [str(w.message) for w in caught] == []
    assert "not found" not in caplog.text
    assert b"STIXGeneral" in written[1].read_bytes()  # the PDF embeds the fallback font


def test_a_fallback_font_leaves_figures_of_latin_text_byte_identical(tmp_path, monkeypatch):
    def saved(name: str) -> list[bytes]:
        fig, ax = plots.new_figure()
        plots.plot_shares(ax, generated_trend(groups=("all",)).drop(columns="veracity"),
                          events=[(4.0, "debunked")])
        plots.add_title(fig, "Support and criticism")
        return [path.read_bytes() for path in plots.save_figure(fig, tmp_path / name)]

    monkeypatch.setattr(plots, "FALLBACK_FONTS", ())
    without = saved("without")
    monkeypatch.setattr(plots, "FALLBACK_FONTS", ("STIXGeneral",))
    assert saved("with") == without


def test_cjk_text_is_drawn_with_an_installed_cjk_font(tmp_path):
    """Only where a CJK font of :data:`plots.FALLBACK_FONTS` is installed."""
    installed = [f for f in plots.fallback_fonts() if "CJK" in f or "Han" in f or "Hei" in f
                 or f in ("PingFang SC", "Hiragino Sans", "Yu Gothic", "Meiryo")]
    if not installed:
        pytest.skip("no CJK font of plots.FALLBACK_FONTS is installed")
    fig, _ = plots.new_figure()
    plots.add_title(fig, CJK)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.save_figure(fig, tmp_path / "ja")
    assert [str(w.message) for w in caught] == []
