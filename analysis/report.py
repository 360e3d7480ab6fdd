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
from analysis.study import Figure, Study
from analysis.trend import MIN_THREADS

GOLD = "gold"
#: Hours that split "early" from "later" responses in the summary's timing comparison.
EARLY_HOURS = 1.0


def _select(trend: pd.DataFrame, model: str | None, method: str | None) -> pd.DataFrame:
    rows = trend
    if model:
        rows = rows[rows["model"] == model]
    if method and model != GOLD:
        rows = rows[rows["method"] == method]
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
    starts = pd.to_numeric(trend["bin_start"], errors="coerce")
    if not starts.notna().all():
        return
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


def draw_figure(spec: Study, figure: Figure, trend: pd.DataFrame):
    """Draw one figure of the study; returns the matplotlib Figure."""
    method = figure.method or spec.primary_method
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
        axes = plots.plot_small_multiples(fig, rows, by, events=_events(spec), tz=spec.tz)
        _relative_scale(axes, rows)
    elif figure.kind == "volume":
        rows = _select(trend, figure.model, method)
        fig, ax = plots.new_figure()
        plots.plot_volume(ax, rows.drop(columns=list(spec.by)), tz=spec.tz)
        _relative_scale(ax, rows)
    else:
        rows = _select(trend, figure.model, method)
        fig, ax = plots.new_figure()
        plots.plot_shares(ax, rows, events=_events(spec), tz=spec.tz)
        _relative_scale(ax, rows)
    if figure.title:
        fig.suptitle(figure.title, fontsize=plots.FONT_SIZE)
    return fig


def draw_figures(spec: Study, trend: pd.DataFrame, folder: Path) -> list[Path]:
    """Draw and save every figure of the study into ``folder``; return the files written."""
    written = []
    for figure in spec.figures:
        fig = draw_figure(spec, figure, trend)
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


def _pooled(trend: pd.DataFrame, label: str, start: float, end: float) -> tuple[float, int]:
    """Share of ``label`` over the bins in [start, end), weighting each bin by its responses."""
    rows = trend[(trend["label"] == label) & trend["estimate"].notna()]
    starts = pd.to_numeric(rows["bin_start"]).to_numpy(dtype=float)
    ends = pd.to_numeric(rows["bin_end"]).to_numpy(dtype=float)
    rows = rows[(starts >= start) & (ends <= end)]
    n = rows["n_posts"].to_numpy(dtype=float)
    if n.sum() == 0:
        return float("nan"), 0
    return float(np.sum(rows["estimate"].to_numpy(dtype=float) * n) / n.sum()), int(n.sum())


def timing_table(trend: pd.DataFrame, by: str, *, model: str, method: str | None,
                 labels: tuple[str, ...] = ("support", "criticism")) -> pd.DataFrame:
    """Shares of ``labels`` in the first hour against later, per group (relative bins only)."""
    rows = trend[trend["model"] == model]
    if method and model != GOLD:
        rows = rows[rows["method"] == method]
    end = float(pd.to_numeric(rows["bin_end"]).max())
    out = []
    for group, part in rows.groupby(by, sort=True):
        for label in labels:
            early, n_early = _pooled(part, label, 0.0, EARLY_HOURS)
            late, n_late = _pooled(part, label, EARLY_HOURS, end)
            out.append({by: group, "label": label, f"first {EARLY_HOURS:g} h": early,
                        f"{EARLY_HOURS:g}-{end:g} h": late, "responses early": n_early,
                        "responses later": n_late})
    return pd.DataFrame(out)


def _quality(gold: pd.DataFrame, labels: dict[str, pd.DataFrame]) -> pd.DataFrame:
    from analysis.classifiers.metrics import classification_report

    rows = []
    for model, table in labels.items():
        joined = gold[["uid", "label"]].merge(table[["uid", "label"]], on="uid",
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
    macro-F1 and per-class F1, on the card's own training data."""
    from analysis.classifiers import model_card

    rows, without = [], []
    for model in spec.models:
        card = model_card(spec.model_source(model))
        metrics = card.get("cv_metrics") or {}
        if "macro_f1" not in metrics:
            without.append(model)
            continue
        per_class = metrics.get("per_class") or {}
        rows.append({"model": model, "trained on": card.get("n_train", metrics.get("n")),
                     "CV folds": card.get("cv_folds"), "macro-F1": metrics["macro_f1"],
                     **{f"F1 {label}": (per_class.get(label) or {}).get("f1")
                        for label in ("support", "criticism", "other")}})
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


def summarize(spec: Study, posts: pd.DataFrame, truth: pd.DataFrame, labels: dict,
              trend: pd.DataFrame, rejects: int = 0, notes: tuple[str, ...] = ()) -> str:
    """``summary.md`` of a study: data, classifier quality against the gold labels ``truth``
    (see :func:`analysis.reproduce.gold_stance`) or else the model cards' cross-validated error,
    the methods that did not run, the numbers behind each figure. Responses are counted by
    :func:`analysis.responses.responses`, the rule the trend uses."""
    counted = responses.responses(posts)
    lines = [f"# {spec.title}", "",
             f"Study file `{spec.shown_file}`; made by "
             f"`{spec.command}` (seed {spec.seed}). "
             "Shares are of responses (thread roots, context posts, reposts and posts without "
             "text excluded); intervals are "
             f"{spec.ci:.0%} bootstrap intervals resampling threads"
             + (" and the validation set" if not truth.empty else "")
             + (" (for pcc, also drawing each reply's label from its probabilities)"
                if "pcc" in spec.methods else "") + ". Bins with fewer than "
             f"{spec.min_posts} responses (`few_posts`) or with responses from fewer than "
             f"{MIN_THREADS} threads (`one_thread`, `few_threads`) are flagged and drawn "
             "hollow.", "",
             "## Data", "",
             f"- {len(posts):,} posts in {posts['thread_id'].nunique():,} threads; "
             f"{len(counted):,} responses{_left_out_counts(posts)}; {rejects:,} input "
             "records rejected at ingest "
             "(see `data/processed/" + spec.name + "/` for the tables).",
             f"- Classifiers: {', '.join(spec.models)}; predictions: {spec.prediction}"
             + (f" over gold `{spec.gold.group_task}` groups" if spec.gold and
                spec.gold.group_task else "")
             + (" (" + ", ".join(f"`{g}` held out in {n} blocks of whole threads"
                                 for g, n in spec.gold.thread_blocks.items()) + ")"
                if spec.gold and spec.gold.thread_blocks else "") + ".", ""]
    if not truth.empty:
        lines += ["## Classifiers against the gold labels", "",
                  "Out-of-group predictions against the gold labels of the same posts (gold "
                  f"`{spec.gold.task}` mapped as "
                  + ", ".join(f"{k} -> {v}" for k, v in spec.gold.mapping.items()) + ").", "",
                  _markdown(_quality(truth, labels)), ""]
        comparison = comparison_table(trend)
        lines += ["## Validation: estimated against gold shares (figure `validation`)", "",
                  "Mean absolute error of the support and criticism shares over the bins not "
                  "flagged, and how often the interval covered the gold share. The adjusted "
                  "methods correct with the confusion of the out-of-group predictions on this "
                  "same labelled data, so this view is optimistic for them; "
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
            rows = rows[rows["label"].isin(["support", "criticism"])][
                [c for c in keep if c in rows.columns]]
            what = ("Gold labels, counted" if figure.model == GOLD
                    else f"Model `{figure.model}`, method `{method}`")
            lines += [f"{what}:", "", _markdown(rows), ""]
    if spec.by and spec.relative_to == "root" and not truth.empty:
        lines += _timing_section(spec, trend)
    if notes:
        lines += ["## Notes from the run", "", *(f"- {note}" for note in notes), ""]
    return "\n".join(lines).rstrip() + "\n"


def _direction(first: float, later: float) -> int:
    """-1, 0 or 1: whether a share falls, stays (to three decimals) or rises."""
    return int(np.sign(round(later, 3) - round(first, 3)))


def _timing_section(spec: Study, trend: pd.DataFrame) -> list[str]:
    by = spec.by[0]
    gold_timing = timing_table(trend, by, model=GOLD, method=None)
    model_timing = timing_table(trend, by, model=spec.figures[0].model or "default",
                                method=spec.primary_method)
    early, late = gold_timing.columns[2], gold_timing.columns[3]

    def share(table: pd.DataFrame, group: str, label: str, column: str) -> float:
        row = table[(table[by] == group) & (table["label"] == label)]
        return float(row[column].iloc[0]) if len(row) else float("nan")

    lines = ["## Timing of support and denial (Zubiaga et al. 2016)", "",
             "Zubiaga, Liakata, Procter, Wong Sak Hoi and Tolmie (2016, PLOS ONE 11(3): "
             "e0150989) found that users tend to support unverified rumours early and that "
             "denials come mostly after debunking. This data has no debunking times, so the "
             f"check here is timing only: shares in the first {EARLY_HOURS:g} hour against "
             "later, from the gold labels and from the model's estimate.", "",
             "Gold labels:", "", _markdown(gold_timing), "",
             f"Model `{spec.figures[0].model or 'default'}`, method `{spec.primary_method}`:",
             "", _markdown(model_timing), ""]
    model_name = spec.figures[0].model or "default"
    disagree = []
    for group in sorted(gold_timing[by].dropna().unique()):
        parts = []
        for label in ("support", "criticism"):
            first, later = share(gold_timing, group, label, early), share(gold_timing, group,
                                                                          label, late)
            parts.append(f"{label} {first:.3f} in the first hour, {later:.3f} later "
                         f"({later - first:+.3f})")
            m_first = share(model_timing, group, label, early)
            m_later = share(model_timing, group, label, late)
            if _direction(first, later) != _direction(m_first, m_later):
                disagree.append(f"{label} of {group} rumours (model {m_first:.3f} -> "
                                f"{m_later:.3f}; gold {first:.3f} -> {later:.3f})")
        lines.append(f"- gold, {by} = {group}: " + "; ".join(parts) + ".")
    unverified_support_early = (share(gold_timing, "unverified", "support", early)
                                > share(gold_timing, "unverified", "support", late))
    false_denial_later = (share(gold_timing, "false", "criticism", late)
                          > share(gold_timing, "false", "criticism", early))
    if "unverified" in set(gold_timing[by]) and "false" in set(gold_timing[by]):
        lines += ["", "In this data, the support share of unverified rumours is "
                  + ("higher in the first hour than later, as Zubiaga et al. found"
                     if unverified_support_early else
                     "not higher in the first hour than later, unlike Zubiaga et al.'s finding")
                  + "; the denial share of false rumours is "
                  + ("higher later than in the first hour, consistent with denials following "
                     "debunking" if false_denial_later else
                     "not higher later than in the first hour, so this timing check does not "
                     "show denials following debunking")
                  + "."]
    lines += ["", f"The `{model_name}` model's estimate ({spec.primary_method}) does not move "
              f"the way the gold shares do (up, down or flat to three decimals) for: "
              f"{', '.join(disagree)}. A study without gold "
              "labels would draw the wrong conclusion there; validate on a hand-coded sample."
              if disagree else
              f"The `{model_name}` model's estimate ({spec.primary_method}) moves in the same "
              "direction as the gold shares for every group and label."]
    return lines + [""]
