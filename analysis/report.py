"""A study's figures and ``summary.md``: every figure drawn from the trend table, and the
numbers behind each figure written next to it.

Used by :mod:`analysis.reproduce`; each figure maps to one entry of the study file's
``[[figures]]`` and one call of a :mod:`analysis.plots` function.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis import plots, responses
from analysis.errors import UserError
from analysis.schema import label_order
from analysis.study import Figure, Study
from analysis.trend import MIN_THREADS, event_time

GOLD = "gold"
#: Hours near which the summary's timing comparison splits "early" from "later" responses: at
#: the bin edge nearest this mark (:func:`timing_split`).
EARLY_HOURS = 1.0
#: What the summary calls the predictions compared with the gold labels, per prediction mode
#: (``classify.prediction``), and what it says of them.
PREDICTIONS = {
    "leave-one-group-out": ("out-of-group predictions", ""),
    "fit": ("in-sample predictions", " (prediction = fit: each model as fitted, not held out, "
            "so optimistic where it was fitted on these labels)"),
}


def _select(trend: pd.DataFrame, model: str | None, method: str | None) -> pd.DataFrame:
    rows = trend
    if model:
        rows = rows[rows["model"] == model]
    if method and model != GOLD:
        rows = rows[rows["method"] == method]
    models = sorted(set(rows["model"].dropna().astype(str)))
    if not model and len(models) > 1:  # their rows would be drawn or summed as one
        raise UserError(f"the trend table has rows of several models ({', '.join(models)}) for "
                        f"method {method!r}; give the study's [[figures]] entry a model")
    if rows.empty:
        ran = sorted(set(trend.loc[trend["model"] == model, "method"].dropna().astype(str))) \
            if model else []
        raise UserError(f"the trend table has no rows for model {model!r}, method {method!r}"
                        + (f" (it has {', '.join(ran)})" if ran else "")
                        + "; check the study's [[figures]] (adjusted methods need a confusion "
                        "matrix or gold labels; without probabilities in the validation data, "
                        "pacc runs as acc)")
    return rows.drop(columns=["model"])


def comparison_table(trend: pd.DataFrame) -> pd.DataFrame:
    """Every model / method's shares joined with the gold shares of the same bins."""
    from analysis.trend import compare_shares

    gold = trend[trend["model"] == GOLD].drop(columns=["model"])
    estimates = trend[trend["model"] != GOLD]
    return compare_shares(estimates, gold)


def _events(spec: Study) -> list[tuple[object, str]]:
    return [(event.time, event.label) for event in spec.events]


def _relative_scale(axes, trend: pd.DataFrame) -> None:
    """Bins relative to a reference that widen with time go on a square-root axis, ticked at
    the bin edges."""
    if not plots.is_relative(trend):
        return
    starts = pd.to_numeric(trend["bin_start"])
    ends = pd.to_numeric(trend["bin_end"])
    widths = (ends - starts).round(9).unique()
    if len(widths) == 1:
        return
    edges = sorted(set(starts) | set(ends))
    ticks = [e for e in edges if e == 0 or e >= 1]
    for ax in np.atleast_1d(axes):
        ax.set_xscale("function", functions=(np.sqrt, np.square))
        ax.set_xlim(0, float(ends.max()))
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])


def time_label(spec: Study) -> str | None:
    """The x-axis label of the study's figures over time: hours since the source post or since
    the event time (in UTC) of ``relative_to``; ``None`` for calendar bins (the plots label
    them with the time zone)."""
    if spec.relative_to is None:
        return None
    if spec.relative_to == "root":
        return plots.ROOT_XLABEL
    stamp = event_time(spec.relative_to, spec.tz)
    shown = "%Y-%m-%d %H:%M:%S" if stamp.second or stamp.microsecond else "%Y-%m-%d %H:%M"
    return f"Hours since {stamp.strftime(shown)} UTC"


def _check_kind(spec: Study, figure: Figure) -> None:
    """Refuse a figure kind the study's grouping cannot draw, before any drawing."""
    if figure.kind == "multiples" and len(spec.by) != 1:
        raise ValueError("kind 'multiples' draws one panel per value of one trend.by column; "
                         + (f"the study has {len(spec.by)} ({', '.join(spec.by)})" if spec.by
                            else "the study has none"))
    if figure.kind == "shares" and spec.by:
        raise ValueError(f"kind 'shares' draws one series, and trend.by ({', '.join(spec.by)}) "
                         "makes one per group; use kind 'multiples' (or 'volume')")


def draw_figure(spec: Study, figure: Figure, trend: pd.DataFrame):
    """Draw one figure of the study; returns the matplotlib Figure.

    Raises
    ------
    ValueError
        A kind the study's grouping cannot draw: ``multiples`` needs one ``trend.by`` column,
        ``shares`` none (with groups it would be several series); or a table the plot refuses.
    """
    _check_kind(spec, figure)
    method = figure.method or spec.primary_method
    xlabel = time_label(spec)
    if figure.kind == "validation":
        comparison = comparison_table(trend)
        fig, ax = plots.new_figure(height=plots.COLUMN_WIDTH)
        plots.plot_validation(ax, comparison[comparison["model"] == (figure.model or "default")]
                              if figure.model else comparison)
    elif figure.kind == "multiples":
        rows = _select(trend, figure.model, method)
        by = spec.by[0]
        nrows, _ = plots.panel_grid(rows[by].nunique(), by)  # two columns above four panels
        height = 1.6 * nrows + 0.4
        fig, _ = plots.new_figure(height=height, nrows=0)
        axes = plots.plot_small_multiples(fig, rows, by, events=_events(spec), tz=spec.tz,
                                          xlabel=xlabel)
        _relative_scale(axes, rows)
    elif figure.kind == "volume":
        rows = _select(trend, figure.model, method)
        fig, ax = plots.new_figure()
        plots.plot_volume(ax, rows, events=_events(spec), tz=spec.tz, xlabel=xlabel, by=spec.by)
        _relative_scale(ax, rows)
    else:
        rows = _select(trend, figure.model, method)
        fig, ax = plots.new_figure()
        plots.plot_shares(ax, rows, events=_events(spec), tz=spec.tz, xlabel=xlabel)
        _relative_scale(ax, rows)
    if figure.title:
        plots.add_title(fig, figure.title)
    return fig


def draw_figures(spec: Study, trend: pd.DataFrame, folder: Path) -> list[Path]:
    """Draw and save every figure of the study into ``folder``; return the files written.

    A figure that cannot be drawn is a :class:`~analysis.errors.UserError` naming the study
    file and the figure (one line from ``reproduce``, not a traceback)."""
    written = []
    for figure in spec.figures:
        try:
            fig = draw_figure(spec, figure, trend)
        except (ValueError, UserError) as exc:
            raise UserError(f"[[figures]] {figure.file!r}: {str(exc).splitlines()[0]}",
                            spec.file) from exc
        written.extend(plots.save_figure(fig, folder / figure.file))
    return written


# -- summary -----------------------------------------------------------------------------------


def _fmt(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.3f}"


def _markdown(frame: pd.DataFrame) -> str:
    """A Markdown table (no extra dependency); floats at three decimals, for display only."""
    cells = [[_fmt(v) if isinstance(v, float) else ("" if pd.isna(v) else str(v))
              for v in row] for row in frame.astype(object).itertuples(index=False)]
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    return "\n".join([head, rule, *("| " + " | ".join(row) + " |" for row in cells)])


def timing_split(trend: pd.DataFrame, near: float = EARLY_HOURS) -> float | None:
    """The bin edge that splits early from later responses in the timing comparison: of the
    edges between bins, the one nearest ``near`` hours (the earlier of two as near), so that
    every bin, and every response, is on one side. ``None`` for a single bin.

    Examples
    --------
    >>> bins = pd.DataFrame({"bin_start": [0, 0.5, 2, 4], "bin_end": [0.5, 2, 4, 24]})
    >>> timing_split(bins), timing_split(bins.iloc[:1])
    (0.5, None)
    """
    starts = sorted(set(pd.to_numeric(trend["bin_start"]).astype(float)))
    inner = starts[1:]  # the start of every bin but the first is an edge between bins
    return min(inner, key=lambda edge: (abs(edge - near), edge)) if inner else None


def _pooled(trend: pd.DataFrame, label: str, start: float, end: float) -> tuple[float, int]:
    """Share of ``label`` over the bins that start in [start, end), weighting each bin by its
    responses."""
    rows = trend[(trend["label"] == label) & trend["estimate"].notna()]
    starts = pd.to_numeric(rows["bin_start"]).to_numpy(dtype=float)
    rows = rows[(starts >= start) & (starts < end)]
    n = rows["n_posts"].to_numpy(dtype=float)
    if n.sum() == 0:
        return float("nan"), 0
    return float(np.sum(rows["estimate"].to_numpy(dtype=float) * n) / n.sum()), int(n.sum())


def timing_table(trend: pd.DataFrame, by: str, *, model: str, method: str | None,
                 labels: tuple[str, ...] = ("support", "criticism"),
                 split: float | None = None) -> pd.DataFrame:
    """Shares of ``labels`` early against later, per group (relative bins only).

    Early is the bins before ``split`` hours (default :func:`timing_split`: the bin edge
    nearest :data:`EARLY_HOURS`), later the rest; the columns say which hours they cover (e.g.
    ``first 1 h`` and ``1-24 h``), and every response counts in one of them. A side without
    responses has no share (NaN) and 0 responses.

    Raises
    ------
    ValueError
        With a single bin (no edge to split at), or no rows of ``model`` and ``method``.
    """
    rows = trend[trend["model"] == model]
    if method and model != GOLD:
        rows = rows[rows["method"] == method]
    if rows.empty:
        raise ValueError(f"the trend table has no rows of model {model!r}, method {method!r}")
    split = timing_split(rows) if split is None else split
    if split is None:
        raise ValueError("the trend table has a single bin: no edge to split early from later")
    end = float(pd.to_numeric(rows["bin_end"]).max())
    out = []
    for group, part in rows.groupby(by, sort=True):
        for label in labels:
            early, n_early = _pooled(part, label, -np.inf, split)
            late, n_late = _pooled(part, label, split, np.inf)
            out.append({by: group, "label": label, f"first {split:g} h": early,
                        f"{split:g}-{end:g} h": late, "responses early": n_early,
                        "responses later": n_late})
    return pd.DataFrame(out)


def _quality(gold: pd.DataFrame, labels: dict[str, pd.DataFrame],
             posts: pd.DataFrame) -> pd.DataFrame:
    """Each model's labels against the gold labels of the responses among ``posts`` (the posts
    the shares are of: :func:`analysis.responses.responses`)."""
    from analysis.classifiers.metrics import classification_report

    counted = gold[gold["uid"].isin(responses.responses(posts)["uid"])]
    rows = []
    for model, table in labels.items():
        joined = counted[["uid", "label"]].merge(table[["uid", "label"]], on="uid",
                                                 suffixes=("_gold", "_model"))
        report = classification_report(joined["label_gold"], joined["label_model"],
                                       labels=("support", "criticism", "other"), n_boot=0)
        rows.append({"model": model, "n": report["n"], "accuracy": report["accuracy"],
                     "macro-F1": report["macro_f1"],
                     "F1 support": report["per_class"]["support"]["f1"],
                     "F1 criticism": report["per_class"]["criticism"]["f1"]})
    return pd.DataFrame(rows)


def validation_summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per model and method: bins compared, mean absolute error of the support and criticism
    shares, and interval coverage of the gold share (bins flagged as uncertain left out)."""
    rows = comparison[comparison["label"].isin(["support", "criticism"])]
    flags = rows["flag"].astype("string").replace("", pd.NA)
    rows = rows[flags.isna().to_numpy()]
    return (rows.assign(abs_error=rows["error"].astype(float).abs(),
                        covered=rows["covered"].astype("Float64"))
            .groupby(["model", "method"], sort=True)
            .agg(bins=("abs_error", "size"), MAE=("abs_error", "mean"),
                 coverage=("covered", "mean"))
            .reset_index())


def _left_out_counts(posts: pd.DataFrame) -> str:
    """How many posts :func:`analysis.responses.left_out` leaves out as reposts or as posts
    without text, e.g. ``" (not counted: 3 reposts, 2 posts without text)"``, or ``""``."""
    counts = responses.left_out(posts).value_counts()
    parts = [f"{counts[reason]:,} {what}" for reason, what in (
        (responses.REPOST, "reposts"), (responses.NO_TEXT, "posts without text"))
        if counts.get(reason, 0)]
    return f" (not counted: {', '.join(parts)})" if parts else ""


def _card_quality(spec: Study) -> list[str]:
    """Classifier error for a study without gold labels: each model card's cross-validated
    macro-F1 and per-class F1 (a column per label of any card: the stance labels first), on
    the card's own training data."""
    from analysis.classifiers import model_card

    cards, without = {}, []
    for model in spec.models:
        card = model_card(spec.model_source(model))
        if "macro_f1" in (card.get("cv_metrics") or {}):
            cards[model] = card
        else:
            without.append(model)
    per_class = {model: card["cv_metrics"].get("per_class") or {}
                 for model, card in cards.items()}
    labels = label_order([label for classes in per_class.values() for label in classes])
    rows = [{"model": model, "trained on": card.get("n_train", card["cv_metrics"].get("n")),
             "CV folds": card.get("cv_folds"), "macro-F1": card["cv_metrics"]["macro_f1"],
             **{f"F1 {label}": (per_class[model].get(label) or {}).get("f1")
                for label in labels}}
            for model, card in cards.items()]
    lines = ["## Classifier error (model cards)", "",
             "This study has no gold labels, so the classifiers' error on its data is not "
             "measured (hand-code a sample to measure it: docs/hand-coding.md)."
             + (" The model cards' cross-validated error, on each model's own training data, "
                "not on this study's data:" if rows else ""), ""]
    if rows:
        lines += [_markdown(pd.DataFrame(rows)), ""]
    for model in without:
        why = ("VADER has no model card" if model == "vader" else
               "its model file has no card with cross-validated metrics (MODEL.card.json)")
        lines += [f"No cross-validated error for `{model}`: {why}.", ""]
    return lines


def _methods_not_run(spec: Study) -> list[str]:
    """One line per model for the requested methods that did not run, and why."""
    lines = []
    for model in spec.models:
        skipped = spec.unavailable_methods(model)
        for why in dict.fromkeys(skipped.values()):
            methods = [m for m, reason in skipped.items() if reason == why]
            lines.append(f"- `{model}`: {', '.join(methods)} not run ({why}).")
    return ["## Methods not run", "", *lines, ""] if lines else []


def _intervals(spec: Study, has_gold: bool) -> str:
    """What the summary says of the intervals: how they were made, or that there are none."""
    if spec.n_boot == 0:
        return "no intervals (n_boot = 0)"
    return (f"intervals are {spec.ci:.0%} bootstrap intervals resampling threads"
            + (" and the validation set" if has_gold else "")
            + (" (for pcc, also drawing each reply's label from its probabilities)"
               if "pcc" in spec.methods else ""))


def summarize(spec: Study, posts: pd.DataFrame, truth: pd.DataFrame, labels: dict,
              trend: pd.DataFrame, rejects: int = 0, notes: tuple[str, ...] = ()) -> str:
    """``summary.md`` of a study: data, classifier quality against the gold labels ``truth``
    (see :func:`analysis.reproduce.gold_stance`; on the responses only) or else the model
    cards' cross-validated error, the methods that did not run, the numbers behind each figure
    (of the labels the figure draws), and for groups of bins since the source post the timing
    comparison (:func:`timing_table`). Responses are counted by
    :func:`analysis.responses.responses`, the rule the trend uses."""
    counted = responses.responses(posts)
    predictions, caveat = PREDICTIONS[spec.prediction]
    lines = [f"# {spec.title}", "",
             f"Study file `{spec.shown_file}`; made by "
             f"`{spec.command}` (seed {spec.seed}). "
             "Shares are of responses (thread roots, context posts, reposts and posts without "
             f"text excluded); {_intervals(spec, not truth.empty)}. Bins with fewer than "
             f"{spec.min_posts} responses (`few_posts`) or with responses from fewer than "
             f"{MIN_THREADS} threads (`one_thread`, `few_threads`) are flagged and drawn "
             "hollow.", "",
             "## Data", "",
             f"- {len(posts):,} posts in {posts['thread_id'].nunique():,} threads; "
             f"{len(counted):,} responses{_left_out_counts(posts)}; {rejects:,} input "
             "records rejected at ingest"
             + (f" (listed in `data/processed/{spec.name}/posts.rejects.jsonl`)" if rejects
                else "")
             + f"; tables in `data/processed/{spec.name}/`.",
             f"- Classifiers: {', '.join(spec.models)}; predictions: {spec.prediction}"
             + (f" over gold `{spec.gold.group_task}` groups" if spec.gold and
                spec.gold.group_task else "")
             + (" (" + ", ".join(f"`{g}` held out in {n} blocks of whole threads"
                                 for g, n in spec.gold.thread_blocks.items()) + ")"
                if spec.gold and spec.gold.thread_blocks else "") + ".", ""]
    if not truth.empty:
        lines += ["## Classifiers against the gold labels", "",
                  f"{predictions.capitalize()}{caveat} against the gold labels of the same "
                  f"responses (the posts the shares are of; gold `{spec.gold.task}` mapped as "
                  + ", ".join(f"{k} -> {v}" for k, v in spec.gold.mapping.items()) + ").", "",
                  _markdown(_quality(truth, labels, posts)), ""]
        comparison = comparison_table(trend)
        shown = [f"`{f.file}`" for f in spec.figures if f.kind == "validation"]
        lines += ["## Validation: estimated against gold shares"
                  + (f" (figure {', '.join(shown)})" if shown else ""), "",
                  "Mean absolute error of the support and criticism shares over the bins not "
                  "flagged, and how often the interval covered the gold share. The adjusted "
                  f"methods correct with the confusion of the {predictions} on "
                  "this same labelled data, so this view is optimistic for them; "
                  "`benchmarks/prevalence.py` measures the honest leave-one-group-out "
                  "version.", "", _markdown(validation_summary(comparison)), ""]
    else:
        lines += _card_quality(spec)
    lines += _methods_not_run(spec)
    for figure in spec.figures:
        lines += [f"## Figure `{figure.file}` ({figure.kind})", "",
                  f"![{figure.file}]({figure.file}.png)", ""]
        if figure.kind in ("multiples", "shares", "volume"):
            method = figure.method or spec.primary_method
            rows = _select(trend, figure.model, method)
            keep = [*spec.by, "bin_start", "bin_end", "label", "n_posts", "estimate", "ci_low",
                    "ci_high", "flag"]
            rows = rows[rows["label"].isin(plots.share_labels(rows["label"]))][
                [c for c in keep if c in rows.columns]]
            what = ("Gold labels, counted" if figure.model == GOLD
                    else f"Model `{figure.model}`, method `{method}`")
            lines += [f"{what}:", "", _markdown(rows), ""]
    if spec.by and spec.relative_to == "root" and not truth.empty:
        lines += _timing_section(spec, trend)
    if notes:
        lines += ["## Notes from the run", "", *(f"- {note}" for note in notes), ""]
    return "\n".join(lines).rstrip() + "\n"


def _primary_model(spec: Study) -> str | None:
    """The study's main model: the first of ``classify.models`` (never the gold labels)."""
    return next((model for model in spec.models if model != GOLD), None)


def _direction(first: float, later: float) -> int | None:
    """-1, 0 or 1: whether a share falls, stays (to three decimals) or rises; ``None`` when a
    side has no share (no responses)."""
    if np.isnan(first) or np.isnan(later):
        return None
    return int(np.sign(round(later, 3) - round(first, 3)))


def _change(first: float, later: float, early: str) -> str:
    """A share early and later, e.g. ``0.108 in the first 1 h, 0.043 later (-0.064)``."""
    if np.isnan(first) or np.isnan(later):
        return "no responses " + (f"in the {early}" if np.isnan(first) else "later")
    return f"{first:.3f} in the {early}, {later:.3f} later ({later - first:+.3f})"


def _finding(higher: float, lower: float, yes: str, no: str) -> str:
    """``yes`` when the share ``higher`` is above ``lower``, ``no`` when not; a share missing
    (no responses on that side) says so."""
    if np.isnan(higher) or np.isnan(lower):
        return "not measured (no responses on one side)"
    return yes if higher > lower else no


def _timing_section(spec: Study, trend: pd.DataFrame) -> list[str]:
    by = spec.by[0]
    lines = ["## Timing of support and denial (Zubiaga et al. 2016)", ""]
    gold_rows = trend[trend["model"] == GOLD]
    split = timing_split(gold_rows)
    if split is None:
        return lines + ["Left out: the bins are one bin, with no edge to split early from later "
                        "responses (give trend.freq more than one bin).", ""]
    gold_timing = timing_table(trend, by, model=GOLD, method=None, split=split)
    model = _primary_model(spec)
    model_timing = None
    if model is not None and ((trend["model"] == model)
                              & (trend["method"] == spec.primary_method)).any():
        model_timing = timing_table(trend, by, model=model, method=spec.primary_method,
                                    split=split)
    early_column, late_column = gold_timing.columns[2], gold_timing.columns[3]
    early = f"first {split:g} h"

    def share(table: pd.DataFrame, group: str, label: str, column: str) -> float:
        row = table[(table[by] == group) & (table["label"] == label)]
        return float(row[column].iloc[0]) if len(row) else float("nan")

    lines += ["Zubiaga, Liakata, Procter, Wong Sak Hoi and Tolmie (2016, PLOS ONE 11(3): "
              "e0150989) found that users tend to support unverified rumours early and that "
              "denials come mostly after debunking. This data has no debunking times, so the "
              f"check here is timing only: shares in the {early} (the bin edge nearest "
              f"{EARLY_HOURS:g} hour) against later ({late_column}), from the gold labels"
              + (" and from the model's estimate" if model_timing is not None else "")
              + "; every response counts on one side.", "",
              "Gold labels:", "", _markdown(gold_timing), ""]
    if model_timing is not None:
        lines += [f"Model `{model}`, method `{spec.primary_method}`:", "",
                  _markdown(model_timing), ""]
    disagree, unmeasured = [], []
    for group in sorted(gold_timing[by].dropna().unique()):
        parts = []
        for label in ("support", "criticism"):
            first = share(gold_timing, group, label, early_column)
            later = share(gold_timing, group, label, late_column)
            parts.append(f"{label} {_change(first, later, early)}")
            if model_timing is None:
                continue
            m_first = share(model_timing, group, label, early_column)
            m_later = share(model_timing, group, label, late_column)
            gold_way, model_way = _direction(first, later), _direction(m_first, m_later)
            if gold_way is None or model_way is None:
                unmeasured.append(f"{label} of {group} rumours")
            elif gold_way != model_way:
                disagree.append(f"{label} of {group} rumours (model {m_first:.3f} -> "
                                f"{m_later:.3f}; gold {first:.3f} -> {later:.3f})")
        lines.append(f"- gold, {by} = {group}: " + "; ".join(parts) + ".")
    if "unverified" in set(gold_timing[by]) and "false" in set(gold_timing[by]):
        lines += ["", "In this data, the support share of unverified rumours is "
                  + _finding(share(gold_timing, "unverified", "support", early_column),
                             share(gold_timing, "unverified", "support", late_column),
                             f"higher in the {early} than later, as Zubiaga et al. found",
                             f"not higher in the {early} than later, unlike Zubiaga et al.'s "
                             "finding")
                  + "; the denial share of false rumours is "
                  + _finding(share(gold_timing, "false", "criticism", late_column),
                             share(gold_timing, "false", "criticism", early_column),
                             f"higher later than in the {early}, consistent with denials "
                             "following debunking",
                             f"not higher later than in the {early}, so this timing check "
                             "does not show denials following debunking")
                  + "."]
    lines += ["", _model_verdict(spec, model if model_timing is not None else None, disagree,
                                 unmeasured)]
    return lines + [""]


def _model_verdict(spec: Study, model: str | None, disagree: list[str],
                   unmeasured: list[str]) -> str:
    """Whether the model's estimate moves the way the gold shares do, early to later."""
    if model is None:
        return (f"No model's estimate to compare: the study has no model with method "
                f"`{spec.primary_method}` in its trend table.")
    name = f"The `{model}` model's estimate ({spec.primary_method})"
    text = (f"{name} does not move the way the gold shares do (up, down or flat to three "
            f"decimals) for: {', '.join(disagree)}. A study without gold labels would draw the "
            "wrong conclusion there; validate on a hand-coded sample." if disagree else
            f"{name} moves in the same direction as the gold shares for every group and label"
            + (" compared" if unmeasured else "") + ".")
    if unmeasured:
        text += (f" Not compared, for want of responses on one side: {', '.join(unmeasured)}.")
    return text
