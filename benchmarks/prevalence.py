"""How close are estimated shares of support and criticism to the gold shares? (RumourEval 2019)

On the RumourEval 2019 train + dev threads (Twitter and Reddit, gold SDQC labels mapped support ->
support, deny -> criticism, query / comment -> other), every reply is labelled by a model trained
without its group (leave-one-group-out, :func:`analysis.classifiers.predict_out_of_group`), for the
default model and for VADER. The groups are the default study's: the Twitter events, and the Reddit
threads in blocks (``gold.thread_blocks``); a second run holds Reddit out as one group (platform
shift). For each held-out group, the shares of each label per bin of hours since the source post
are estimated with every method of :mod:`analysis.quantify`; the adjusted methods take their
validation set (confusion matrix, training priors) from the OTHER groups' out-of-group predictions
only, so nothing about the held-out group leaks in. The estimates are compared with the gold shares
of the same bins: mean absolute error (MAE) over the support and criticism rows, and how often the
95% bootstrap interval covers the gold share.

Run: ``.venv/bin/python benchmarks/prevalence.py`` (prints the table and rewrites the
"## Prevalence" section of docs/benchmarks.md; ``--no-write`` only prints). The out-of-event
predictions are cached in data/processed/benchmarks/ (``--refresh`` recomputes them).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import write_section  # noqa: E402

from analysis import config, responses  # noqa: E402
from analysis.io import write_table  # noqa: E402
from analysis.reproduce import split_groups_by_thread  # noqa: E402
from analysis.study import load_study  # noqa: E402
from analysis.trend import MIN_THREADS, compare_shares, estimate_shares  # noqa: E402

ARCHIVE = config.DATA_RAW / "rumoureval2019" / "rumoureval-2019-training-data.tar.gz"
SDQC_TO_STANCE = {"support": "support", "deny": "criticism", "query": "other",
                  "comment": "other"}
METHODS = ("cc", "pcc", "acc", "pacc", "emq")
CACHE = config.DATA_PROCESSED / "benchmarks"
DOC = config.PROJECT_ROOT / "docs" / "benchmarks.md"
SECTION = "## Prevalence"
STUDY = "rumour-replies"
PLATFORM_PER_GROUP = ("Reddit held out as ONE group (a platform the model never saw), per "
                      "held-out group and bin (no intervals)")
PLATFORM_POOLED = "Reddit held out as ONE group, all groups pooled, per bin"
#: Seconds each model's out-of-event predictions took in this run (None: read from the cache).
TIMINGS: dict[str, float | None] = {}


def load_rumoureval() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posts and the responses' gold table (uid, gold stance label, event, veracity)."""
    from analysis.loaders.ingest import ingest

    result = ingest([ARCHIVE], format="rumoureval", detect_language=False,
                    pseudonym_key="00" * 32)
    posts, labels = result.posts, result.labels
    root_uid = posts["platform"].astype(str) + ":" + posts["root_id"].astype(str)
    thread_of = dict(zip(posts["uid"].astype(str), root_uid, strict=True))
    by_task = {task: dict(zip(rows["uid"].astype(str), rows["label"].astype(str), strict=True))
               for task, rows in labels.groupby("task")}
    sdqc = labels[labels["task"] == "sdqc"]
    gold = pd.DataFrame({"uid": sdqc["uid"].astype(str).to_numpy(),
                         "label": sdqc["label"].astype(str).map(SDQC_TO_STANCE).to_numpy()})
    responses = set(posts.loc[pd.to_numeric(posts["depth"]).fillna(-1) > 0, "uid"].astype(str))
    gold = gold[gold["uid"].isin(responses)].reset_index(drop=True)
    roots = gold["uid"].map(thread_of)
    gold["event"] = roots.map(by_task["event"])
    gold["veracity"] = roots.map(by_task["veracity"])
    gold["thread"] = roots
    return posts, gold.dropna(subset=["event"]).reset_index(drop=True)


def hold_out_groups(gold: pd.DataFrame, whole_groups: bool) -> pd.DataFrame:
    """``gold`` with ``event`` split as the default study splits it (its ``gold.thread_blocks``:
    the Reddit threads in blocks), or left whole (``reddit`` held out as one group)."""
    if whole_groups:
        return gold
    blocks = load_study(STUDY).gold.thread_blocks
    return gold.assign(event=split_groups_by_thread(gold["event"], gold["thread"], blocks))


def out_of_event_predictions(posts: pd.DataFrame, gold: pd.DataFrame, model: str, seed: int,
                             refresh: bool, jobs: int) -> pd.DataFrame:
    """Leave-one-event-out labels of every gold response (cached)."""
    from analysis.classifiers import posts_frame, predict_out_of_group
    from analysis.classifiers.default import RECIPE_VERSION
    from analysis.loaders.base import LOADER_VERSION

    # Keyed by the default recipe's and the loaders' versions (the texts it learns from and
    # labels), so a changed model or changed texts never reuse old predictions.
    groups = hashlib.sha256(pd.util.hash_pandas_object(
        gold[["uid", "event"]].astype(str), index=False).to_numpy().tobytes()).hexdigest()[:8]
    cache = CACHE / (f"prevalence-{model}-recipe{RECIPE_VERSION}-loader{LOADER_VERSION}-"
                     f"seed{seed}-{groups}.parquet")
    if cache.exists() and not refresh:
        cached = pd.read_parquet(cache)
        if set(cached["uid"]) == set(gold["uid"]):
            TIMINGS[model] = None
            return cached
    frame = posts_frame(posts)
    frame = frame.merge(gold[["uid", "label", "event"]], on="uid", how="inner")
    started = time.perf_counter()
    labels = predict_out_of_group(frame, model, "event", random_state=seed, jobs=jobs)
    TIMINGS[model] = time.perf_counter() - started
    print(f"  {model}: out-of-event predictions in {TIMINGS[model]:.0f} s", file=sys.stderr)
    labels = labels.drop(columns=[c for c in labels.columns if c == "created_at"])
    write_table(labels, cache)
    return labels


def evaluate(posts, gold, predictions, *, freq, max_hours, n_boot, min_posts, seed, by=()):
    """Comparison rows (event, by..., bin, label, method) of estimated against gold shares.

    Besides the methods, a reference row ``prior`` estimates every bin by the other events' gold
    shares: what one would say without any classifier.
    """
    thread = posts[["uid", "thread_id"]].astype({"uid": str})
    rows = []
    proba = [c for c in predictions.columns if c.startswith("proba_")]
    by = list(by)
    extra = gold[["uid", *by]]
    for event in sorted(gold["event"].unique()):
        held = predictions["group"].astype(str) == event
        labels = predictions.loc[held, ["uid", "label", *proba]].merge(extra, on="uid")
        other = predictions.loc[~held, ["uid", "label", *proba]].rename(
            columns={"label": "predicted"})
        validation = (other.merge(gold[["uid", "label"]], on="uid")
                      .merge(thread, on="uid", how="left"))
        gold_event = gold.loc[gold["event"] == event, ["uid", "label", *by]]
        common = dict(freq=freq, relative_to="root", max_hours=max_hours, min_posts=min_posts,
                      by=by)
        truth = estimate_shares(gold_event, posts, method="cc", n_boot=0, **common)
        for method in (*METHODS, "auto"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                estimated = estimate_shares(labels, posts, method=method, validation=validation,
                                            n_boot=n_boot, random_state=seed, **common)
            estimated = estimated.assign(resolved=estimated["method"], method=method)
            rows.append(compare_shares(estimated, truth).assign(event=event))
        prior = validation["label"].value_counts(normalize=True)
        reference = estimated.assign(method="prior", resolved="prior", ci_low=np.nan,
                                     ci_high=np.nan,
                                     estimate=estimated["label"].map(prior).fillna(0.0))
        rows.append(compare_shares(reference, truth).assign(event=event))
    return pd.concat(rows, ignore_index=True)


def pooled_coverage(posts, gold, predictions, *, freq, max_hours, n_boot, min_posts, seed,
                    by=()) -> pd.DataFrame:
    """Coverage of the unadjusted methods' intervals over all held-out groups at once.

    ``cc`` and ``pcc`` use nothing from the other groups, so their pooled estimate is the
    estimate over all out-of-group predictions together, with its own bootstrap interval; the
    adjusted methods are pooled from per-group estimates and have no pooled interval.
    """
    by = list(by)
    labels = predictions[["uid", "label",
                          *[c for c in predictions.columns if c.startswith("proba_")]]]
    labels = labels.merge(gold[["uid", *by]], on="uid")
    common = dict(freq=freq, relative_to="root", max_hours=max_hours, min_posts=min_posts, by=by)
    truth = estimate_shares(gold[["uid", "label", *by]], posts, method="cc", n_boot=0, **common)
    rows = []
    for method in ("cc", "pcc"):
        estimated = estimate_shares(labels, posts, method=method, n_boot=n_boot,
                                    random_state=seed, **common)
        rows.append(compare_shares(estimated, truth))
    return pd.concat(rows, ignore_index=True)[[*by, "bin_start", "label", "method", "covered"]]


def with_coverage(pooled: pd.DataFrame, coverage: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``pooled`` rows with ``covered`` from :func:`pooled_coverage` where it has them."""
    return pooled.drop(columns="covered").merge(
        coverage, on=[*keys, "bin_start", "label", "method", "model"], how="left")


def pool(comparison: pd.DataFrame, keys: list[str], min_posts: int) -> pd.DataFrame:
    """Pool event-level rows into bins over all events: shares weighted by the events' replies."""
    frame = comparison.assign(
        est_n=comparison["estimate"].astype(float) * comparison["n_posts"].astype(float),
        gold_n=comparison["gold"].astype(float) * comparison["n_posts"].astype(float),
        n=comparison["n_posts"].astype(float))
    grouped = frame.groupby([*keys, "bin_start", "label", "method", "model"], as_index=False).agg(
        est_n=("est_n", "sum"), gold_n=("gold_n", "sum"), n=("n", "sum"),
        resolved=("resolved", lambda v: ", ".join(sorted(set(v.dropna().astype(str))))))
    grouped["estimate"] = grouped["est_n"] / grouped["n"]
    grouped["gold"] = grouped["gold_n"] / grouped["n"]
    grouped["flag"] = np.where(grouped["n"] < min_posts, "few_posts", None)
    grouped["covered"] = np.nan
    return grouped


def summarize(comparison: pd.DataFrame) -> pd.DataFrame:
    """MAE and coverage per model and method, over support and criticism rows."""
    frame = comparison[comparison["label"].isin(["support", "criticism"])].copy()
    frame["abs_error"] = (frame["estimate"] - frame["gold"]).abs().astype(float)
    frame["certain"] = frame["flag"].isna()
    out = []
    for (model, method), rows in frame.groupby(["model", "method"], sort=False):
        certain = rows[rows["certain"]]
        covered = pd.to_numeric(certain["covered"], errors="coerce").astype(float)
        covered_all = pd.to_numeric(rows["covered"], errors="coerce").astype(float)
        name = method
        if method == "auto" and "resolved" in rows:
            name = f"auto ({', '.join(sorted(set(rows['resolved'].dropna().astype(str))))})"
        out.append({
            "model": model, "method": name,
            "MAE": certain["abs_error"].mean(),
            "MAE support": certain.loc[certain["label"] == "support", "abs_error"].mean(),
            "MAE criticism": certain.loc[certain["label"] == "criticism", "abs_error"].mean(),
            "coverage": covered.mean(),
            "MAE (all bins)": rows["abs_error"].mean(),
            "coverage (all bins)": covered_all.mean(),
            "bins": int(len(certain) // 2),
            "all bins": int(len(rows) // 2),
        })
    table = pd.DataFrame(out)
    order = {m: i for i, m in enumerate((*METHODS, "auto", "prior"))}
    return table.sort_values(["model", "method"], key=lambda c: c.map(
        lambda m: order.get(m.split(" ")[0], 99)) if c.name == "method" else c,
        kind="stable").reset_index(drop=True)


def _table(summary: pd.DataFrame) -> list[str]:
    columns = [c for c in summary.columns if not summary[c].isna().all()]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for _, row in summary[columns].iterrows():
        cells = [("" if np.isnan(v) else f"{v:.3f}") if isinstance(v, float) else str(v)
                 for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _verdict(summary: pd.DataFrame) -> str:
    methods = summary[(summary["method"] != "prior")
                      & ~summary["method"].str.startswith("auto")]
    best = methods.loc[methods["MAE"].idxmin()]
    vader_cc = methods[(methods["model"] == "vader") & (methods["method"] == "cc")]
    prior = summary[summary["method"] == "prior"]
    met = "met" if best["MAE"] <= 0.03 else "NOT met"
    text = (f"Best: {best['model']} / {best['method']}, MAE {best['MAE']:.3f} (goal: at most "
            f"0.03, {met})")
    auto = summary[summary["method"].str.startswith("auto") & (summary["model"] == "default")]
    if len(auto):
        text += f"; default / {auto['method'].iloc[0]}: {auto['MAE'].iloc[0]:.3f}"
    if len(vader_cc):
        text += f"; VADER with classify-and-count: {vader_cc['MAE'].iloc[0]:.3f}"
    if len(prior):
        text += f"; no classifier (other groups' gold shares): {prior['MAE'].iloc[0]:.3f}"
    return text + "."


def markdown(views: dict[str, pd.DataFrame], args, seconds: float, n_responses: int) -> str:
    command = ("python benchmarks/prevalence.py " + " ".join(sys.argv[1:])).strip()
    parts = [
        "Estimated against gold shares of support and criticism per bin of hours since the "
        "source post, RumourEval 2019 train + dev (Twitter and Reddit, "
        f"{n_responses} gold-labelled replies that count as responses, i.e. with text: "
        "`analysis.responses`; SDQC support -> support, deny -> "
        "criticism, query / comment -> other). Replies are labelled leave-one-group-out "
        "(`analysis.classifiers.predict_out_of_group`) with the default study's groups: the 9 "
        "Twitter events, and the 40 Reddit threads (which RumourEval files under one `reddit` "
        "event although each is about a rumour of its own) in 4 blocks of 10 threads "
        "(`gold.thread_blocks` in studies/rumour-replies.toml). Each held-out group is estimated "
        "with the confusion matrix, probabilities and priors of the OTHER groups' out-of-group "
        "predictions only (no leakage). The last two tables hold Reddit out as one group "
        "instead: a platform the model has never seen. "
        f"Bins: {args.freq} wide up to {args.max_hours:g} h; intervals: {args.n_boot} bootstrap "
        "replicates (threads and validation set; for pcc also each reply's label drawn from its "
        "probabilities), 95%; the pooled views have intervals for cc and pcc only (estimated "
        "over all held-out predictions at once). MAE and coverage are over the support and "
        f"criticism rows of the bins not flagged (at least {args.min_posts} replies, and in "
        f"the per-group and per-veracity views replies from at least {MIN_THREADS} threads: "
        "the bins the figures draw as certain); '(all bins)' includes the rest. Coverage "
        "compares the interval with "
        "the realised gold share of the bin. `prior` is a reference, not a method: every bin "
        "estimated as the other groups' gold shares, i.e. no classifier at all. The goal (MAE at "
        "most 0.03 per bin with the best method) is stated under every table: the pooled per-bin "
        "view is the one it names; per held-out group and per veracity are stricter, finer views.",
        "",
    ]
    for title, summary in views.items():
        parts += [f"**{title}**", "", *_table(summary), "", _verdict(summary), ""]
    parts += [
        f"Command: `{command}` · machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()} · date: {datetime.now(UTC):%Y-%m-%d} · "
        f"run time {seconds:.0f} s; out-of-event predictions: "
        + ", ".join(f"{model} {'read from the cache' if took is None else f'{took:.0f} s'}"
                    for model, took in TIMINGS.items()) + ".",
        "",
    ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="default,vader")
    parser.add_argument("--freq", default="3h")
    parser.add_argument("--max-hours", type=float, default=24.0)
    parser.add_argument("--n-boot", type=int, default=300)
    parser.add_argument("--min-posts", type=int, default=30)
    parser.add_argument("--seed", type=int, default=config.DEFAULT_SEED)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--refresh", action="store_true", help="recompute the predictions")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--comparison", type=Path, help="also write the comparison rows here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    posts, gold_all = load_rumoureval()
    settings = dict(freq=args.freq, max_hours=args.max_hours, min_posts=args.min_posts,
                    seed=args.seed)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    gold = hold_out_groups(gold_all, whole_groups=False)
    print(f"{len(gold)} gold replies in {gold['event'].nunique()} held-out groups",
          file=sys.stderr)
    comparisons, by_veracity, coverage, coverage_veracity = [], [], [], []
    for model in models:
        predictions = out_of_event_predictions(posts, gold, model, args.seed, args.refresh,
                                               args.jobs)
        comparison = evaluate(posts, gold, predictions, n_boot=args.n_boot, **settings)
        comparisons.append(comparison.assign(model=model))
        veracity = evaluate(posts, gold, predictions, n_boot=0, by=["veracity"], **settings)
        by_veracity.append(veracity.assign(model=model))
        coverage.append(pooled_coverage(posts, gold, predictions, n_boot=args.n_boot,
                                        **settings).assign(model=model))
        coverage_veracity.append(pooled_coverage(posts, gold, predictions, n_boot=args.n_boot,
                                                 by=["veracity"], **settings).assign(model=model))
    comparison = pd.concat(comparisons, ignore_index=True)
    if args.comparison:
        write_table(comparison, args.comparison)
    pooled = with_coverage(pool(comparison, [], args.min_posts),
                           pd.concat(coverage, ignore_index=True), [])
    pooled_veracity = with_coverage(
        pool(pd.concat(by_veracity, ignore_index=True), ["veracity"], args.min_posts),
        pd.concat(coverage_veracity, ignore_index=True), ["veracity"])
    views = {
        "Per held-out group and bin": summarize(comparison),
        "All groups pooled, per bin (each group adjusted with the others' confusion)":
            summarize(pooled),
        "Pooled per veracity (true / false / unverified) and bin, as in the default study":
            summarize(pooled_veracity),
    }
    whole = hold_out_groups(gold_all, whole_groups=True)
    platform_shift = pd.concat([
        evaluate(posts, whole, out_of_event_predictions(posts, whole, model, args.seed,
                                                        args.refresh, args.jobs),
                 n_boot=0, **settings).assign(model=model)
        for model in models], ignore_index=True)
    views[PLATFORM_PER_GROUP] = summarize(platform_shift)
    views[PLATFORM_POOLED] = summarize(pool(platform_shift, [], args.min_posts))
    seconds = time.perf_counter() - started
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for title, summary in views.items():
            print(f"\n{title}")
            print(summary.round(3).to_string(index=False))
    if not args.no_write:
        counted = responses.responses(posts[posts["uid"].isin(gold["uid"])])
        write_section(SECTION, markdown(views, args, seconds, len(counted)))
        print(f"wrote the '{SECTION}' section of {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
