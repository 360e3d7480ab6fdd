"""Figures: one function per figure, drawing onto a matplotlib ``Axes`` from a table.

* :func:`plot_volume` - responses per bin, stacked by (estimated) label;
* :func:`plot_shares` - shares of chosen labels over time with interval bands and events;
* :func:`plot_validation` - estimated against gold shares, per method;
* :func:`plot_small_multiples` - :func:`plot_shares` once per value of a grouping column.

Saving is separate: :func:`save_figure` writes PNG and PDF atomically and byte-for-byte
deterministically (no timestamps or software versions in the metadata, fixed dpi). The module never
touches pyplot's global state: figures come from :func:`new_figure` (a plain
:class:`matplotlib.figure.Figure` with the Agg canvas), so it works headless and in parallel.

Text from the user or the data (titles, event texts, label, method and group names, axis labels
given) is drawn as written (:func:`as_written`): a ``$`` is a dollar sign, not mathtext, and
characters the figure's font lacks (Chinese, Japanese, Arabic...) come from an installed fallback
font (:data:`FALLBACK_FONTS`); when no installed font has them, :func:`save_figure` warns once.

Colours are the Okabe & Ito (2008) palette, which stays distinguishable with the common forms of
colour-blindness; each label drawn has its own colour (:func:`label_colours`), and a figure of
more labels than the palette tells apart is refused rather than drawn with repeated colours.
Bins flagged as uncertain (too few posts, too few threads) are drawn hollow and dotted, never as
solid points. Event texts are fitted into their axes (:func:`fit_event_text`). Sizes default to
a paper's single column (3.5 in wide).

Examples
--------
>>> trend = pd.DataFrame({"bin_start": [0.0, 0.0, 3.0, 3.0], "bin_end": [3.0, 3.0, 6.0, 6.0],
...                       "label": ["support", "criticism"] * 2, "n_posts": [40, 40, 8, 8],
...                       "estimate": [0.3, 0.2, 0.5, 0.1], "ci_low": [0.2, 0.1, 0.2, 0.0],
...                       "ci_high": [0.4, 0.3, 0.8, 0.4], "method": "pacc",
...                       "flag": [None, None, "few_posts", "few_posts"]})
>>> fig, ax = new_figure()
>>> _ = plot_shares(ax, trend, events=[(2.0, "debunked")])
>>> ax.get_ylabel()
'Share of responses'
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

from analysis.errors import UserError
from analysis.io import OutputSet

#: Okabe, M. & Ito, K. (2008). Color Universal Design (CUD): how to make figures and
#: presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
#: Colours of the stance labels; other labels take the remaining palette colours in order.
LABEL_COLOURS = {"support": OKABE_ITO["blue"], "criticism": OKABE_ITO["vermillion"],
                 "other": "#999999"}
_CYCLE = [OKABE_ITO[k] for k in ("orange", "sky_blue", "green", "purple", "yellow", "black")]
#: Colours of labels other than those of :data:`LABEL_COLOURS`, in order: the palette's colours
#: the stance labels do not take first, then theirs (blue, vermillion), which only figures
#: without ``support`` and ``criticism`` get.
_LABEL_CYCLE = [*_CYCLE, OKABE_ITO["blue"], OKABE_ITO["vermillion"]]
#: Most labels one figure draws besides ``other`` (grey): as many as :data:`OKABE_ITO` has
#: colours. Two labels in one colour could not be told apart, so more are refused.
MAX_LABELS = len(OKABE_ITO)
METHOD_COLOURS = {"cc": OKABE_ITO["black"], "pcc": OKABE_ITO["sky_blue"],
                  "acc": OKABE_ITO["orange"], "pacc": OKABE_ITO["blue"],
                  "emq": OKABE_ITO["green"]}
UNCERTAIN_COLOUR = "#AAAAAA"

#: A paper's single column, in inches; the default figure size.
COLUMN_WIDTH = 3.5
DEFAULT_HEIGHT = 2.4
#: Largest width or height of a figure, in inches.
MAX_FIGURE_INCHES = 50.0
#: Height of one row of small multiples, and the height the title and axis label take besides.
PANEL_HEIGHT = 1.45
_MULTIPLES_MARGIN = 0.4
#: Most panels of :func:`plot_small_multiples`: two columns of as many rows as fit in
#: :data:`MAX_FIGURE_INCHES` at :data:`PANEL_HEIGHT` (68).
MAX_PANELS = 2 * int((MAX_FIGURE_INCHES - _MULTIPLES_MARGIN) // PANEL_HEIGHT)
#: Resolution of saved PNGs.
DPI = 300
FONT_SIZE = 8
SMALL_FONT_SIZE = 7
#: Width in points of the white edges between the bars of the volume figure.
BAR_EDGE = 0.3
#: Bars narrower than this (points) would lose a fifth or more of their width to the edges
#: either side; :func:`plot_volume` draws such a stack as areas without edges.
MIN_EDGED_BAR = 5 * BAR_EDGE

_TREND_KEYS = {"bin_start", "bin_end", "label", "n_posts", "estimate", "ci_low", "ci_high",
               "method", "flag", "n_threads"}
#: Columns whose values are separate estimates of the same bins (a study's trend table stacks its
#: models, a trend table may stack methods): never groups to sum or draw as one series.
_SERIES_COLUMNS = ("model", "method")

#: The x-axis label of bins relative to each thread's source post (``relative_to = "root"``).
ROOT_XLABEL = "Hours since the source post"
#: The x-axis label of relative bins whose reference is not known: a trend table does not record
#: whether its hours count from each source post or from an event time.
REFERENCE_XLABEL = "Hours since the reference time"
#: The legend entry of a share figure's bins with a flag (too few posts or threads).
UNCERTAIN_ENTRY = "few posts (uncertain)"
#: The legend entry of a share figure whose table has no intervals (``n_boot = 0``).
NO_INTERVALS = "no intervals (n_boot = 0)"

#: Fonts with the characters Matplotlib's DejaVu Sans lacks (Chinese, Japanese, Korean, Arabic,
#: Hebrew, Indic and Thai scripts), in the order tried: :func:`as_written` puts the installed ones
#: after the font of each text it is given, and Matplotlib takes each character from the first
#: font that has it. Common free fonts of the scripts and those systems ship.
FALLBACK_FONTS = (
    "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK KR",
    "Source Han Sans", "Source Han Sans JP", "Source Han Sans SC", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Microsoft YaHei", "Microsoft JhengHei", "Yu Gothic", "Meiryo",
    "Malgun Gothic", "PingFang SC", "Hiragino Sans", "Hiragino Sans GB", "Apple SD Gothic Neo",
    "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans Devanagari", "Noto Sans Bengali",
    "Noto Sans Tamil", "Noto Sans Thai", "Arial Unicode MS",
)
#: Matplotlib's warning for a character that no font of a text has (it draws a box instead).
_MISSING_GLYPH = re.compile(r"Glyph (\d+) .* missing from font")
#: How many texts the warning about characters without a font names.
_TEXTS_NAMED = 5

#: Gap in points between an event's line and its text, and the least between the text and the
#: edges of the axes.
EVENT_PAD = 2.0
#: Most lines an event text is wrapped into (see :func:`fit_event_text`).
MAX_EVENT_LINES = 2
#: What ends an event text cut short.
ELLIPSIS = "\u2026"


def label_colour(label: str, order: Sequence[str] = ()) -> str:
    """The colour of ``label`` among the labels ``order``: fixed for the stance labels
    (:data:`LABEL_COLOURS`), else the palette's colours the stance labels of ``order`` leave,
    by position among the other labels. Distinct for up to :data:`MAX_LABELS` labels besides
    ``other``; :func:`label_colours` checks that they are."""
    if label in LABEL_COLOURS:
        return LABEL_COLOURS[label]
    taken = {LABEL_COLOURS[x] for x in order if x in LABEL_COLOURS}
    palette = [colour for colour in _LABEL_CYCLE if colour not in taken]
    others = [x for x in order if x not in LABEL_COLOURS]
    # crc32, not hash(): str hashes change between processes, figures must not
    position = others.index(label) if label in others else zlib.crc32(label.encode())
    return palette[position % len(palette)]


def label_colours(labels: Sequence[str], fewer: str = "draw fewer labels") -> dict[str, str]:
    """Each of ``labels`` with its colour (:func:`label_colour`), every one distinct.

    ``support`` and ``criticism`` keep their colours; the other labels take the palette's
    remaining colours in order, then ``other`` is grey. The palette tells :data:`MAX_LABELS`
    labels apart besides ``other``: with more, two lines or stacks would share a colour and
    the figure would mislead, so it is refused (``fewer`` says how to draw fewer).

    Raises
    ------
    ValueError
        With more than :data:`MAX_LABELS` labels besides ``other``.

    Examples
    --------
    >>> colours = label_colours([f"emotion {k}" for k in range(8)])
    >>> len(set(colours.values()))
    8
    >>> label_colours([f"emotion {k}" for k in range(9)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 9 labels to draw (emotion 0, ..., emotion 8), but the colour-blind-safe ...
    """
    labels = [str(label) for label in dict.fromkeys(labels)]
    coloured = [label for label in labels if label != "other"]
    if len(coloured) > MAX_LABELS:
        raise ValueError(f"{len(coloured)} labels to draw ({coloured[0]}, ..., {coloured[-1]}), "
                         f"but the colour-blind-safe palette tells at most {MAX_LABELS} apart "
                         f"besides 'other'; {fewer}")
    return {label: label_colour(label, labels) for label in labels}


def share_labels(labels: Iterable[object]) -> list[str]:
    """The labels a share figure draws unless told which: ``support`` and ``criticism`` first
    when present, then the other labels in order of appearance, without ``other`` (the rest of
    the responses) unless it is the only one.

    Examples
    --------
    >>> share_labels(["other", "criticism", "support"])
    ['support', 'criticism']
    >>> share_labels(["anti", "neutral", "pro", "anti"])
    ['anti', 'neutral', 'pro']
    """
    names = [str(label) for label in dict.fromkeys(labels) if not pd.isna(label)]
    first = [label for label in ("support", "criticism") if label in names]
    rest = [label for label in names if label not in first and label != "other"]
    return first + rest or names


def is_relative(trend: pd.DataFrame) -> bool:
    """Whether a trend table's bins are hours since a reference (numbers), not calendar times."""
    return bool(pd.to_numeric(trend["bin_start"], errors="coerce").notna().all())


def fallback_fonts() -> list[str]:
    """The families of :data:`FALLBACK_FONTS` that Matplotlib's font manager has (those not
    installed are left out: Matplotlib would log each as not found on every text)."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return [family for family in FALLBACK_FONTS if family in installed]


def as_written(artist: Text | Legend) -> Text | Legend:
    """Have a text from the user or the data (or a legend's texts) drawn as written; returns it.

    A ``$`` stays a dollar sign: Matplotlib would read text between two as mathtext (dropping
    the dollars and setting the rest in italics, or failing on saving). Characters the text's
    font lacks come from the installed :func:`fallback_fonts`, each from the first that has it.
    """
    texts = artist.get_texts() if isinstance(artist, Legend) else [artist]
    for text in texts:
        text.set_parse_math(False)
        text.set_fontfamily(list(dict.fromkeys([*text.get_fontfamily(), *fallback_fonts()])))
    return artist


def add_title(fig: Figure, title: str) -> Text:
    """Give ``fig`` the title ``title`` (drawn as written, see :func:`as_written`)."""
    return as_written(fig.suptitle(title, fontsize=FONT_SIZE))


def new_figure(width: float = COLUMN_WIDTH, height: float = DEFAULT_HEIGHT, *, nrows: int = 1,
               ncols: int = 1, **subplot_kw: object) -> tuple[Figure, object]:
    """A figure with the Agg canvas and constrained layout, and its axes (like ``subplots``).

    With ``nrows=0`` no axes are made (for :func:`plot_small_multiples`) and ``None`` is returned
    in their place.
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    if nrows == 0:
        return fig, None
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


def save_figure(fig: Figure, path_without_suffix: str | os.PathLike, *, dpi: int = DPI,
                formats: Iterable[str] = ("png", "pdf")) -> list[Path]:
    """Write ``fig`` as PNG and PDF next to each other, atomically and deterministically.

    Parameters
    ----------
    fig
        The figure.
    path_without_suffix
        ``reports/study/shares`` writes ``shares.png`` and ``shares.pdf``.
    dpi
        Resolution of the PNG (fixed, so two saves are byte-identical).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Warns
    -----
    UserWarning
        Once, naming the texts, when some of the figure's characters are in no installed font
        (they come out as boxes), instead of Matplotlib's warning per character.
    """
    stem = Path(path_without_suffix)
    metadata = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Producer": None},
                "svg": {"Date": None, "Creator": None}}
    formats = list(formats)
    written = [stem.with_name(f"{stem.name}.{fmt}") for fmt in formats]
    # all formats are drawn into temporary files first and renamed together: a failure in
    # any of them leaves none behind, and the earlier files stay as they were
    with matplotlib.rc_context({"svg.hashsalt": "analysis", "pdf.compression": 6}), \
            _one_missing_glyph_warning(fig), OutputSet() as outputs:
        temporaries = [outputs.add(dest) for dest in written]
        for fmt, tmp in zip(formats, temporaries, strict=True):
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata.get(fmt))
    return written


@contextlib.contextmanager
def _one_missing_glyph_warning(fig: Figure) -> Iterator[None]:
    """Turn Matplotlib's warnings about characters without a font, one per character and file,
    into one warning naming the figure's texts that have them and what to do; other warnings
    pass on as they were."""
    missing = set()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.filterwarnings("always", message=_MISSING_GLYPH.pattern)
            yield
    finally:
        for item in caught:
            match = _MISSING_GLYPH.match(str(item.message))
            if match:
                missing.add(chr(int(match[1])))
            else:
                warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    if missing:
        warnings.warn(_missing_glyph_message(fig, missing), UserWarning, stacklevel=4)


def _missing_glyph_message(fig: Figure, missing: set[str]) -> str:
    """The warning of :func:`_one_missing_glyph_warning`: the texts of ``fig`` with characters
    of ``missing`` (the characters themselves if no text has them)."""
    texts = list(dict.fromkeys(text.get_text() for text in fig.findobj(Text)
                               if missing & set(text.get_text())))
    texts = texts or ["".join(sorted(missing))]
    named = ", ".join(repr(text) for text in texts[:_TEXTS_NAMED])
    if len(texts) > _TEXTS_NAMED:
        named += f" and {len(texts) - _TEXTS_NAMED} more"
    what = f"figure text {named} has" if len(texts) == 1 else f"figure texts {named} have"
    cache = Path(matplotlib.get_cachedir()) / "fontlist-*.json"
    return (f"{what} characters the installed fonts cannot draw (shown as boxes); install a "
            f"font that has them, e.g. Noto Sans CJK, delete Matplotlib's font list {cache} so "
            "that it finds the font, and run again")


# -- tables -> arrays ----------------------------------------------------------------------------


def prepare_trend(trend: pd.DataFrame, needs: Sequence[str] = ()) -> tuple[pd.DataFrame, bool]:
    """A trend table (as returned, or read back from CSV) with typed columns.

    Returns the table and whether its bins are relative (hours) rather than calendar times.
    ``needs`` names columns a figure needs besides the bins, labels and estimates.
    """
    frame = trend.copy()
    for column in ("n_posts", "estimate", "ci_low", "ci_high"):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    missing = [c for c in ("bin_start", "bin_end", "label", "estimate", *needs)
               if c not in frame]
    if missing:
        raise ValueError(f"not a trend table: missing column(s) {', '.join(missing)}")
    relative = is_relative(frame)
    if relative:
        frame["bin_start"] = pd.to_numeric(frame["bin_start"], errors="coerce").astype(float)
        frame["bin_end"] = pd.to_numeric(frame["bin_end"], errors="coerce").astype(float)
    else:
        frame["bin_start"] = pd.to_datetime(frame["bin_start"], utc=True, format="ISO8601")
        frame["bin_end"] = pd.to_datetime(frame["bin_end"], utc=True, format="ISO8601")
    if "flag" not in frame:
        frame["flag"] = pd.NA
    frame["flag"] = frame["flag"].astype("string").replace("", pd.NA)
    return frame, relative


def _group_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in _TREND_KEYS]


def _one_series(frame: pd.DataFrame, summed: Sequence[str] = ()) -> None:
    """Refuse a table with several rows per bin and label, but those of the ``summed`` group
    columns: several models or methods (named as such), or several groups of other columns."""
    for column in _SERIES_COLUMNS:
        if column in frame and frame[column].nunique() > 1:
            names = ", ".join(sorted(frame[column].dropna().astype(str).unique()))
            raise ValueError(f"the table holds several {column}s ({names}; column "
                             f"{column!r}); select one {column} first (plot --{column})")
    missing = [c for c in summed if c not in frame]
    if missing:
        raise ValueError(f"the table has no group column(s) {', '.join(missing)}")
    if frame.duplicated(["bin_start", "label", *summed]).any():
        groups = [c for c in _group_columns(frame) if c not in summed]
        why = f"columns {', '.join(groups)}" if groups else "repeated rows"
        raise ValueError(f"the table has several rows per bin and label ({why}); "
                         "select one group first (plot --by COLUMN --group VALUE)"
                         + ("" if summed else ", or draw a panel per group (plot --kind "
                            "multiples --by COLUMN; plot_small_multiples)"))


def _x(frame: pd.DataFrame, relative: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin starts, widths and midpoints in axis units (hours, or matplotlib date numbers)."""
    if relative:
        start = frame["bin_start"].to_numpy(dtype=float)
        end = frame["bin_end"].to_numpy(dtype=float)
    else:
        start = mdates.date2num(frame["bin_start"].dt.tz_convert("UTC").dt.tz_localize(None))
        end = mdates.date2num(frame["bin_end"].dt.tz_convert("UTC").dt.tz_localize(None))
    return start, end - start, (start + end) / 2


def _event_x(value: object, relative: bool, tz: str | None = None) -> float:
    """An event's x in axis units; a calendar time without a zone is read in ``tz`` (UTC)."""
    is_number = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if relative:
        if not is_number:
            raise ValueError(f"event {value!r}: the bins are hours since a reference, so give "
                             "the event in hours (e.g. 24=debunked)")
        return float(value)
    if is_number:
        raise ValueError(f"event {value!r}: the bins are calendar times, so give the event as a "
                         "date or time (e.g. 2020-09-30=announcement)")
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        zone = tz or "UTC"
        try:
            stamp = stamp.tz_localize(zone)
        except ValueError as exc:  # skipped or repeated by a daylight-saving change
            raise ValueError(f"event {value} is not one time in {zone} (a daylight-saving "
                             "change); give it with a UTC offset") from exc
    return float(mdates.date2num(stamp.tz_convert("UTC").tz_localize(None)))


def _style_time_axis(ax: Axes, relative: bool, tz: str | None, xlabel: str | None) -> None:
    if relative:
        as_written(ax.set_xlabel(xlabel or ROOT_XLABEL, fontsize=FONT_SIZE))
    else:
        zone = tz or "UTC"
        locator = mdates.AutoDateLocator(tz=zone, minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=zone))
        ax.xaxis.get_offset_text().set_fontsize(SMALL_FONT_SIZE)
        as_written(ax.set_xlabel(xlabel or f"Time ({zone})", fontsize=FONT_SIZE))
    ax.tick_params(labelsize=SMALL_FONT_SIZE)


def fit_event_text(text: str, length: float, measure: Callable[[str], float] = len,
                   max_lines: int = MAX_EVENT_LINES) -> str:
    """``text`` wrapped at spaces into at most ``max_lines`` lines no longer than ``length``
    (as ``measure`` gives it), and cut short with an :data:`ELLIPSIS` when it does not fit.

    The start of the text is kept: lines take as many words as fit; the last line, or a line
    whose first word alone is too long, takes as much of the rest as fits before the ellipsis,
    ending at a space when one falls in the second half of it (else within a word), without
    trailing spaces or punctuation. Empty if not even the ellipsis fits.

    Examples
    --------
    >>> print(fit_event_text("debunked by police statement, a long label text", 20))
    debunked by police
    statement, a long…
    >>> fit_event_text("debunked", 20)
    'debunked'
    >>> fit_event_text("https://example.org/a/long/address", 12, max_lines=1)
    'https://exa…'
    """
    words = text.split()
    lines: list[str] = []
    while words and len(lines) < max_lines:
        fitting = 0
        while fitting < len(words) and measure(" ".join(words[:fitting + 1])) <= length:
            fitting += 1
        if fitting == len(words):
            lines.append(" ".join(words))
            break
        if fitting == 0 or len(lines) == max_lines - 1:
            lines.append(_ellipsized(" ".join(words), length, measure))
            break
        lines.append(" ".join(words[:fitting]))
        words = words[fitting:]
    return "\n".join(line for line in lines if line)


def _ellipsized(text: str, length: float, measure: Callable[[str], float]) -> str:
    """The longest start of ``text`` that fits ``length`` with :data:`ELLIPSIS` after it."""
    def trimmed(start: str) -> str:
        return start.rstrip(" ,;:.-\u2013\u2014")

    low, high = 0, len(text)  # the longest start that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if measure(trimmed(text[:middle]) + ELLIPSIS) <= length:
            low = middle
        else:
            high = middle - 1
    start = text[:low]
    space = start.rfind(" ")
    if low < len(text) and text[low] != " " and space > len(start) // 2:
        start = start[:space]  # end at a word, unless that loses half of what fits
    if not start and measure(ELLIPSIS) > length:
        return ""
    return trimmed(start) + ELLIPSIS


class _EventText(Annotation):
    """An event's text, along its line from the top of the axes, fitted into the axes each time
    it is drawn (after layout, at the resolution being drawn; see :func:`_draw_events`)."""

    def __init__(self, text: str, x: float, **kwargs: object) -> None:
        super().__init__(text, xy=(x, 1.0), xycoords=("data", "axes fraction"),
                         xytext=(EVENT_PAD, -EVENT_PAD), textcoords="offset points",
                         rotation=90, va="top", ha="left", multialignment="left", **kwargs)
        self.event_text = text

    def draw(self, renderer: object) -> None:
        if self.get_visible() and self.axes is not None:
            self._fit(renderer)
        super().draw(renderer)

    def _fit(self, renderer: object) -> None:
        """Wrap and place the text inside the axes: right of the line, else left of it, in
        :data:`MAX_EVENT_LINES` lines, else fewer; in one line on the roomier side if nothing
        fits (the axes clip it then)."""
        box = self.axes.bbox
        pad = renderer.points_to_pixels(EVENT_PAD)
        font = self.get_fontproperties()

        def measure(line: str) -> float:
            return renderer.get_text_width_height_descent(line, font, ismath=False)[0]

        x = self.axes.transData.transform((self.xy[0], 0.0))[0]
        length = box.height - 2 * pad
        for lines in range(MAX_EVENT_LINES, 0, -1):
            text = fit_event_text(self.event_text, length, measure, lines)
            for side in (1, -1):
                self._place(text, side)
                extent = self.get_window_extent(renderer)
                if box.x0 + pad / 2 <= extent.x0 and extent.x1 <= box.x1 - pad / 2:
                    return
        self._place(fit_event_text(self.event_text, length, measure, 1),
                    1 if box.x1 - x >= x - box.x0 else -1)

    def _place(self, text: str, side: int) -> None:
        """Show ``text`` right (``side`` 1) or left (-1) of the line; only what changes is set
        (each change marks the figure as needing a new drawing)."""
        ha, offset = ("left", (EVENT_PAD, -EVENT_PAD)) if side > 0 else \
            ("right", (-EVENT_PAD, -EVENT_PAD))
        if self.get_text() != text:
            self.set_text(text)
        if self.get_horizontalalignment() != ha:
            self.set_horizontalalignment(ha)
        if tuple(self.xyann) != offset:
            self.xyann = offset


def _draw_events(ax: Axes, events: Iterable[tuple[object, str]] | None, relative: bool,
                 tz: str | None) -> None:
    """Each event as a dashed vertical line with its text along it, inside the axes.

    The text is fitted when the figure is drawn, to the axes' size after layout: wrapped at
    spaces into at most :data:`MAX_EVENT_LINES` lines as long as the axes are high (less
    :data:`EVENT_PAD` at either end), and cut short with an ellipsis, keeping its start, when
    that is not enough (:func:`fit_event_text`). It goes right of the line, or left of it when
    it does not fit there (an event near the right edge), in fewer lines if need be. It stays
    inside the axes, clear of tick labels, titles, legends and other panels, and takes no part
    in the layout.
    """
    for when, text in events or ():
        x = _event_x(when, relative, tz)
        ax.axvline(x, color=OKABE_ITO["black"], linestyle="--", linewidth=0.8, zorder=1)
        annotation = _EventText(text, x, fontsize=SMALL_FONT_SIZE - 1, color=OKABE_ITO["black"])
        annotation.set_in_layout(False)
        ax.add_artist(as_written(annotation))


# -- figures ---------------------------------------------------------------------------------


def plot_shares(ax: Axes, trend: pd.DataFrame, labels: Sequence[str] | None = None,
                events: Iterable[tuple[object, str]] | None = None, *, tz: str | None = None,
                xlabel: str | None = None, legend: bool = True) -> Axes:
    """Share of each of ``labels`` per bin, with its interval as a band.

    Parameters
    ----------
    ax
        Where to draw.
    trend
        A trend table of one group and one method (:func:`analysis.trend.estimate_shares`).
    labels
        The labels to draw (default: the table's, by :func:`share_labels`: support and
        criticism first, in their colours; other labels in further colours of the palette).
        At most :data:`MAX_LABELS` besides ``other``, each in its own colour
        (:func:`label_colours`; more are a :class:`ValueError`).
    events
        ``(time, text)`` pairs drawn as labelled vertical lines (hours for relative bins). A
        calendar time without a zone (``"2020-09-30"``) is read in ``tz``. A text too long for
        the axes is wrapped into at most :data:`MAX_EVENT_LINES` lines and then cut short with
        an ellipsis, keeping its start, so that it stays inside the axes (:func:`_draw_events`).
    tz
        Time zone of the time axis for calendar bins, and of event times without a zone
        (default UTC).
    xlabel
        Overrides the x-axis label (default for relative bins :data:`ROOT_XLABEL`; pass
        :data:`REFERENCE_XLABEL` or the reference when the hours count from something else).
    legend
        Draw a legend.

    Notes
    -----
    Bins with a flag (``few_posts``, ``one_thread``) are drawn with hollow markers, a dotted line
    and a grey interval, and no band: visible, but not as certain. Bins without posts are gaps.
    A table without intervals (``n_boot = 0``) gets no band, and the legend says so
    (:data:`NO_INTERVALS`).

    The legend sits above the axes, outside them (:func:`legend_above`), in as many columns as
    fit the axes' width: inside, it hid bins, intervals and event texts wherever it went.
    """
    handles = _draw_shares(ax, trend, labels, events, tz=tz, xlabel=xlabel)
    if legend and handles:
        legend_above(ax, handles)
    return ax


def _draw_shares(ax: Axes, trend: pd.DataFrame, labels: Sequence[str] | None,
                 events: Iterable[tuple[object, str]] | None, *, tz: str | None,
                 xlabel: str | None) -> list[Line2D]:
    """:func:`plot_shares` without the legend; returns the legend's handles."""
    frame, relative = prepare_trend(trend)
    _one_series(frame)
    labels = share_labels(frame["label"]) if labels is None else labels
    colours = label_colours(labels, f"choose at most {MAX_LABELS} (plot --labels)")
    handles = []
    top = 0.0
    any_interval = False
    for label in labels:
        rows = frame[frame["label"] == label].sort_values("bin_start")
        if rows.empty:
            continue
        colour = colours[str(label)]
        _, _, mid = _x(rows, relative)
        y = rows["estimate"].to_numpy(dtype=float)
        low = rows["ci_low"].to_numpy(dtype=float) if "ci_low" in rows else np.full_like(y, np.nan)
        high = rows["ci_high"].to_numpy(dtype=float) if "ci_high" in rows else low
        uncertain = rows["flag"].notna().to_numpy() & ~np.isnan(y)
        certain = ~uncertain & ~np.isnan(y)
        ax.plot(mid, y, linestyle=":", linewidth=0.9, color=colour, zorder=2)
        ax.plot(mid, np.where(certain, y, np.nan), linestyle="-", linewidth=1.4, color=colour,
                zorder=3)
        ax.fill_between(mid, low, high, where=certain, color=colour, alpha=0.22, linewidth=0,
                        zorder=1)
        has_ci = ~np.isnan(low)
        any_interval |= bool(has_ci.any())
        lone = certain & has_ci & ~_has_certain_neighbour(certain)
        if lone.any():  # a band needs two neighbours; a lone certain bin gets a solid bar
            ax.vlines(mid[lone], low[lone], high[lone], color=colour, linewidth=2.5, alpha=0.35)
        if (uncertain & has_ci).any():
            pick = uncertain & has_ci
            ax.vlines(mid[pick], low[pick], high[pick], color=UNCERTAIN_COLOUR, linewidth=0.9,
                      linestyle=":", zorder=2)
        ax.plot(mid[certain], y[certain], linestyle="none", marker="o", markersize=3.2,
                color=colour, zorder=4)
        ax.plot(mid[uncertain], y[uncertain], linestyle="none", marker="o", markersize=3.2,
                markerfacecolor="white", markeredgecolor=colour, markeredgewidth=0.9, zorder=4)
        handles.append(Line2D([], [], color=colour, marker="o", markersize=3.2, linewidth=1.4,
                              label=label))
        top = max(top, np.nanmax(np.concatenate([y, high[has_ci]])) if len(y) else 0.0)
    if frame["flag"].notna().any():
        handles.append(Line2D([], [], color=UNCERTAIN_COLOUR, marker="o", markersize=3.2,
                              markerfacecolor="white", linestyle=":", label=UNCERTAIN_ENTRY))
    if handles and not any_interval:
        handles.append(Line2D([], [], linestyle="none", label=NO_INTERVALS))
    ax.set_ylim(0, min(1.0, max(0.1, np.ceil(top * 11) / 10)))
    ax.set_ylabel("Share of responses", fontsize=FONT_SIZE)
    _style_time_axis(ax, relative, tz, xlabel)
    _draw_events(ax, events, relative, tz)
    return handles


def _legend_kw(ncols: int) -> dict[str, object]:
    """The look of the legends of the time figures (one row of ``ncols`` entries, no frame)."""
    return {"fontsize": SMALL_FONT_SIZE - 1, "frameon": False, "handlelength": 1.6,
            "ncols": ncols, "columnspacing": 1.2, "borderaxespad": 0.3}


def _fitted_legend(make: Callable[[int], Legend], n_handles: int, points: float) -> Legend:
    """The legend ``make(ncols)`` with the most columns (one row, if it fits) whose width is at
    most ``points``, else one column; each try replaces the one before.

    Measuring lays the texts out: Matplotlib's warnings about characters without a font are
    left to :func:`save_figure`, which gives one for the whole figure.
    """
    for ncols in range(n_handles, 1, -1):
        legend = make(ncols)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_MISSING_GLYPH.pattern)
            width = legend.get_window_extent().width * 72 / legend.get_figure(root=True).dpi
        if width <= points:
            return legend
        legend.remove()
    return make(1)


def legend_above(ax: Axes, handles: Sequence[object] | None = None) -> Legend:
    """Put ``ax``'s legend above the axes, outside them, centred, in as many columns as fit the
    axes' width; returns it. Texts are drawn as written (:func:`as_written`).

    Outside the axes it hides no data and no event text; with constrained layout
    (:func:`new_figure`) the figure makes room for it, below a figure title. The width is that of
    the axes before layout, which layout only widens a little.
    """
    handles = list(handles) if handles is not None else ax.get_legend_handles_labels()[0]
    width = ax.get_position().width * ax.get_figure(root=True).get_figwidth() * 72
    return _fitted_legend(
        lambda ncols: as_written(ax.legend(handles=handles, loc="lower center",
                                           bbox_to_anchor=(0.5, 1.0), **_legend_kw(ncols))),
        len(handles), width)


def _has_certain_neighbour(certain: np.ndarray) -> np.ndarray:
    left = np.concatenate([[False], certain[:-1]])
    right = np.concatenate([certain[1:], [False]])
    return left | right


def plot_volume(ax: Axes, trend: pd.DataFrame, labels: Sequence[str] | None = None,
                events: Iterable[tuple[object, str]] | None = None, *, tz: str | None = None,
                xlabel: str | None = None, legend: bool = True,
                by: Sequence[str] | None = None) -> Axes:
    """Responses per bin, stacked by label (estimated counts: share x responses in the bin).

    Groups are summed: those of the ``by`` columns, or by default of every column that is not
    a trend column, ``model`` or ``method``. The table must hold one model and one method, and
    no other rows of the same bin and label (a :class:`ValueError` names the columns): they
    would count the same responses twice. Stacks use the estimated shares, so with an adjusted
    method the stack shows corrected, not predicted, counts.

    Bars have thin white edges between them. When a bar would be narrower than
    :data:`MIN_EDGED_BAR` points, the edges would hide much of it (or all: a figure of
    thousands of bins came out empty), so the stack is drawn as step-shaped areas without edges
    instead. The legend goes above the axes (:func:`legend_above`), where it hides no bins.

    ``events``, ``tz`` and ``xlabel`` are as in :func:`plot_shares`: events are the same
    labelled dashed lines, drawn over the bars. Each label has its own colour; a table of more
    labels than the palette tells apart is refused (:func:`label_colours`).
    """
    frame, relative = prepare_trend(trend, needs=("n_posts",))
    groups = [c for c in _group_columns(frame) if c not in _SERIES_COLUMNS] if by is None \
        else list(by)
    _one_series(frame, summed=groups)
    labels = list(labels) if labels is not None else list(dict.fromkeys(frame["label"]))
    colours = label_colours(labels, "merge the rare ones (into 'other', say) first: the "
                                    "volume figure stacks every label")
    frame = frame.assign(count=frame["estimate"].fillna(0.0) * frame["n_posts"])
    table = frame.pivot_table(index=["bin_start", "bin_end"], columns="label", values="count",
                              aggfunc="sum", fill_value=0.0, sort=True).reset_index()
    start, width, _ = _x(table, relative)
    narrow = bool(len(table)) and _bar_points(ax, start, width).min() < MIN_EDGED_BAR
    bottom = np.zeros(len(table))
    for label in labels:
        if label not in table:
            continue
        height = table[label].to_numpy(dtype=float)
        colour = colours[str(label)]
        if narrow:
            _stacked_area(ax, start, start + width, bottom, bottom + height, colour, label)
        else:
            ax.bar(start, height, width=width, bottom=bottom, align="edge", color=colour,
                   edgecolor="white", linewidth=BAR_EDGE, label=label)
        bottom += height
    ax.set_ylabel("Responses per bin", fontsize=FONT_SIZE)
    _style_time_axis(ax, relative, tz, xlabel)
    _draw_events(ax, events, relative, tz)
    if legend and ax.get_legend_handles_labels()[0]:
        legend_above(ax)
    return ax


def _bar_points(ax: Axes, start: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Each bar's width in points on the figure, estimated before layout on a linear x axis.

    The axes' width (its position before constrained layout, which only widens it a little) is
    shared out over the bins' span and the axes' x margins.
    """
    span = float(np.max(start + width) - np.min(start))
    axes_points = ax.get_position().width * ax.get_figure().get_figwidth() * 72
    return width / (span * (1 + 2 * ax.margins()[0])) * axes_points


def _stacked_area(ax: Axes, start: np.ndarray, end: np.ndarray, lower: np.ndarray,
                  upper: np.ndarray, colour: str, label: str) -> None:
    """One label's layer of the volume stack as a step-shaped area (flat over each bin).

    Bins that do not touch (bins without responses left out of the table) stay gaps.
    """
    x = np.column_stack([start, end]).ravel()
    low, high = np.repeat(lower, 2), np.repeat(upper, 2)
    gaps = 2 * (np.flatnonzero(start[1:] > end[:-1]) + 1)  # a NaN point splits the area there
    x, low, high = (np.insert(a, gaps, np.nan) for a in (x, low, high))
    area = ax.fill_between(x, low, high, color=colour, linewidth=0, label=label)
    area.sticky_edges.y.append(0.0)  # as bars: the y axis starts at 0, without a margin


def plot_validation(ax: Axes, comparison: pd.DataFrame,
                    labels: Sequence[str] | None = None, *,
                    include_flagged: bool = False, legend: bool = True) -> Axes:
    """Estimated against gold shares per bin, one colour per method (the validation view).

    Parameters
    ----------
    comparison
        Rows with ``method``, ``label``, ``estimate`` and ``gold`` (e.g. from
        :func:`analysis.trend.compare_shares`); a ``model`` column, if present, is combined with
        the method in the legend. The legend gives each method's mean absolute error over the
        points drawn.
    labels
        The labels to draw (default: the table's, by :func:`share_labels`).
    include_flagged
        Also draw bins with a ``flag`` (too few posts); left out by default, as in the trend
        figures they are not estimates to rely on.
    """
    frame = comparison.copy()
    if not include_flagged and "flag" in frame:
        flags = frame["flag"].astype("string").replace("", pd.NA)
        frame = frame[flags.isna().to_numpy()]
    missing = [c for c in ("method", "label", "estimate", "gold") if c not in frame]
    if missing:
        raise ValueError(f"not a comparison table: missing column(s) {', '.join(missing)}")
    for column in ("estimate", "gold"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    labels = share_labels(frame["label"]) if labels is None else labels
    frame = frame[frame["label"].isin(labels) & frame["estimate"].notna() & frame["gold"].notna()]
    key = frame["method"].astype(str)
    if "model" in frame and frame["model"].nunique() > 1:
        key = frame["model"].astype(str) + " " + key
    markers = ["o", "^", "s", "D", "v", "P"]
    ax.plot([0, 1], [0, 1], color="#777777", linewidth=0.8, linestyle="--", zorder=1)
    series = list(dict.fromkeys(key))
    for position, name in enumerate(series):
        rows = frame[key == name]
        method = name.split(" ")[-1]
        colour = METHOD_COLOURS.get(method, _CYCLE[position % len(_CYCLE)])
        if "model" in frame and frame["model"].nunique() > 1 and position >= len(METHOD_COLOURS):
            colour = _CYCLE[position % len(_CYCLE)]
        mae = float(np.mean(np.abs(rows["estimate"] - rows["gold"])))
        for k, label in enumerate(labels):
            part = rows[rows["label"] == label]
            ax.scatter(part["gold"], part["estimate"], s=9, marker=markers[k % len(markers)],
                       facecolor=colour if k == 0 else "none", edgecolor=colour, linewidth=0.7,
                       zorder=3, label=f"{name} (MAE {mae:.3f})" if k == 0 else None)
    top = float(np.nanmax(frame[["estimate", "gold"]].to_numpy())) if len(frame) else 1.0
    limit = min(1.0, max(0.1, np.ceil(top * 11) / 10))
    ax.set_xlim(0, limit)
    ax.set_ylim(0, limit)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("Gold share per bin", fontsize=FONT_SIZE)
    ax.set_ylabel("Estimated share", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=SMALL_FONT_SIZE)
    if legend:
        shapes = [Line2D([], [], linestyle="none", marker=markers[k % len(markers)],
                         color="#444444", markerfacecolor="#444444" if k == 0 else "none",
                         markersize=3.5, label=label) for k, label in enumerate(labels)]
        first = ax.legend(fontsize=SMALL_FONT_SIZE - 2, frameon=False, loc="upper left")
        ax.add_artist(as_written(first))
        as_written(ax.legend(handles=shapes, fontsize=SMALL_FONT_SIZE - 2, frameon=False,
                             loc="lower right"))
    return ax


def panel_grid(n_panels: int, by: str, ncols: int | None = None) -> tuple[int, int]:
    """Rows and columns of :func:`plot_small_multiples`' grid for ``n_panels`` values of ``by``.

    One column up to four panels, else two (or ``ncols``).

    Raises
    ------
    analysis.errors.UserError
        With more than :data:`MAX_PANELS` panels: the figure would be taller than
        :data:`MAX_FIGURE_INCHES` and take minutes to draw (thousands of groups, hours).
    """
    if n_panels > MAX_PANELS:
        raise UserError(f"{n_panels:,} groups in column {by!r} are too many panels for one "
                        f"figure (at most {MAX_PANELS}); draw fewer groups: a coarser grouping "
                        "column (--by), or a table filtered to the groups of interest")
    ncols = ncols or (1 if n_panels <= 4 else 2)
    return -(-n_panels // ncols), ncols


def small_multiples_height(n_panels: int, by: str) -> float:
    """The default height (inches) of a figure of ``n_panels`` small multiples (one grid row
    takes :data:`PANEL_HEIGHT`); raises as :func:`panel_grid`."""
    nrows, _ = panel_grid(n_panels, by)
    return _MULTIPLES_MARGIN + PANEL_HEIGHT * nrows


def plot_small_multiples(fig: Figure, trend: pd.DataFrame, by: str,
                         labels: Sequence[str] | None = None,
                         events: Iterable[tuple[object, str]] | None = None, *,
                         ncols: int | None = None, tz: str | None = None,
                         xlabel: str | None = None) -> np.ndarray:
    """:func:`plot_shares` once per value of ``by``, on a grid of panels in ``fig``.

    Returns the array of axes (one per value, in sorted order of the values). The panels have the
    same x and y limits (each panel's limits are set once, not linked: linked axes make the
    drawing time grow with the square of the panels), and tick labels on the outer panels only.
    One legend for all panels, below the grid (``fig.legend``, outside every panel: inside the
    first it hid its data and event text, and above the grid it would meet a title), with the
    entries of any panel. ``labels``, ``events``, ``tz`` and ``xlabel`` are as in
    :func:`plot_shares` (the default labels are those of the whole table, so every panel draws
    the same labels in the same colours). ``fig`` should have constrained layout
    (:func:`new_figure`), which makes room for the legend.

    Raises
    ------
    analysis.errors.UserError
        With more than :data:`MAX_PANELS` values of ``by`` (:func:`panel_grid`).
    """
    if by not in trend.columns:
        raise ValueError(f"plot_small_multiples: the table has no column {by!r}")
    values = sorted(trend[by].dropna().unique(), key=str)
    if trend[by].isna().any():
        values.append(None)
    if not values:
        raise ValueError("plot_small_multiples: nothing to draw")
    labels = share_labels(trend.get("label", ())) if labels is None else labels
    nrows, ncols = panel_grid(len(values), by, ncols)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes:
        ax.label_outer()  # as shared axes would: tick labels left and below the grid only
    tops = []  # each panel's own limit; the largest is given to all
    panel_handles = []
    for position, (ax, value) in enumerate(zip(axes, values, strict=False)):
        part = trend[trend[by].isna()] if value is None else trend[trend[by] == value]
        panel_handles.append(_draw_shares(ax, part.drop(columns=[by]), labels, events, tz=tz,
                                          xlabel=xlabel))
        tops.append(ax.get_ylim()[1])
        as_written(ax.set_title(f"{by}: {'missing' if value is None else value}",
                                fontsize=FONT_SIZE, loc="left"))
        if position % ncols:
            ax.set_ylabel("")
        if position < len(values) - ncols:
            ax.set_xlabel("")
    _common_x(axes[: len(values)])
    for ax in axes[: len(values)]:
        ax.set_ylim(0, max(tops))
    for ax in axes[len(values):]:
        ax.set_visible(False)
    handles = _merged_handles(panel_handles, labels)
    if handles:
        width = fig.get_figwidth() * 72
        _fitted_legend(lambda n: as_written(fig.legend(handles=handles, loc="outside lower center",
                                                       **_legend_kw(n))),
                       len(handles), width)
    return axes[: len(values)]


def _merged_handles(panel_handles: Sequence[Sequence[Line2D]],
                    labels: Sequence[str]) -> list[Line2D]:
    """One legend's handles for panels drawn by :func:`_draw_shares`: each entry of any panel
    once, the labels first in the order of ``labels``; :data:`NO_INTERVALS` only when no panel
    has intervals."""
    entries: dict[str, Line2D] = {}
    for handles in panel_handles:
        for handle in handles:
            entries.setdefault(handle.get_label(), handle)
    drawn = [handles for handles in panel_handles if handles]
    if any(NO_INTERVALS not in [h.get_label() for h in handles] for handles in drawn):
        entries.pop(NO_INTERVALS, None)
    order = [str(label) for label in labels]
    notes = [entries.pop(key) for key in (UNCERTAIN_ENTRY, NO_INTERVALS) if key in entries]
    return sorted(entries.values(), key=lambda h: order.index(h.get_label())) + notes


def _common_x(axes: Sequence[Axes]) -> None:
    """Let every panel's x axis take in the data of all (the limits shared x axes would get)."""
    union = Bbox.union([ax.dataLim for ax in axes])
    if not np.isfinite(union.intervalx).all():
        return
    for ax in axes:
        ax.update_datalim(union.get_points(), updatey=False)
        ax.autoscale_view(scaley=False)
