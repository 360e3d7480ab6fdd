"""Krippendorff's alpha on real multi-rater data: the VADER ground-truth ratings.

Each ``*_anonDataRatings.txt`` line holds one text's individual ratings (-4..4) by 20 or more
anonymous raters. Alpha needs only how often each rating was given to each text, so rater
identities are not needed. For every corpus this prints

- interval alpha on the raw ratings, and nominal alpha after binning into negative (< 0),
  neutral (0) and positive (> 0), both from :mod:`analysis.annotate.agreement`;
- the same two numbers from the ``krippendorff`` package (a dev-only dependency), and the largest
  absolute difference;
- a 95 % percentile bootstrap interval over texts (1,000 resamples) for the nominal alpha;
- the time each takes;
- and the time ``draw_sample`` + ``assign_coders`` take on generated posts tables of 100,000 and
  1,000,000 replies (20,000 threads, one year, weekly time bins, n = 2,000, three coders).

Usage: ``python benchmarks/annotate_agreement.py [--write]`` (``--write`` replaces the
``## Hand-coding agreement`` section of docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import sys
import time

import numpy as np
from _common import ROOT, write_section

sys.path.insert(0, str(ROOT))

from analysis.annotate.agreement import alpha_from_counts, bootstrap_alpha  # noqa: E402
from analysis.annotate.sampling import assign_coders, draw_sample  # noqa: E402

VADER = ROOT / "data" / "raw" / "vader_ground_truth"
CORPORA = ("tweets", "nytEditorialSnippets", "movieReviewSnippets", "amazonReviewSnippets")
SECTION = "## Hand-coding agreement"
VALUES = list(range(-4, 5))


def read_counts(corpus: str) -> np.ndarray:
    rows = []
    with open(VADER / f"{corpus}_anonDataRatings.txt", encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) < 4:
                continue
            ratings = np.asarray(ast.literal_eval(fields[3]), dtype=int)
            rows.append(np.bincount(ratings + 4, minlength=9))
    return np.array(rows)


def measure(corpus: str) -> dict:
    import krippendorff

    counts = read_counts(corpus)
    binned = np.stack([counts[:, :4].sum(1), counts[:, 4], counts[:, 5:].sum(1)], axis=1)
    start = time.perf_counter()
    interval = alpha_from_counts(counts, VALUES, "interval")
    nominal = alpha_from_counts(binned)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    k_interval = krippendorff.alpha(value_counts=counts, value_domain=VALUES,
                                    level_of_measurement="interval")
    k_nominal = krippendorff.alpha(value_counts=binned, level_of_measurement="nominal")
    theirs_s = time.perf_counter() - start
    start = time.perf_counter()
    low, high = bootstrap_alpha(binned, n_boot=1000, random_state=20200930)
    boot_s = time.perf_counter() - start
    return {"corpus": corpus, "texts": len(counts), "ratings": int(counts.sum()),
            "interval": interval, "nominal": nominal, "k_interval": k_interval,
            "k_nominal": k_nominal,
            "diff": max(abs(interval - k_interval), abs(nominal - k_nominal)),
            "low": low, "high": high, "ours_s": ours_s, "theirs_s": theirs_s, "boot_s": boot_s}


def table(rows: list[dict]) -> str:
    lines = [
        "| corpus | texts | ratings | alpha interval (-4..4) | alpha nominal (neg/neu/pos) "
        "| 95% bootstrap, nominal | krippendorff pkg (interval / nominal) | max abs diff "
        "| time ours / pkg / bootstrap (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['corpus']} | {r['texts']:,} | {r['ratings']:,} | {r['interval']:.4f} "
            f"| {r['nominal']:.4f} | [{r['low']:.4f}, {r['high']:.4f}] "
            f"| {r['k_interval']:.4f} / {r['k_nominal']:.4f} | {r['diff']:.1e} "
            f"| {r['ours_s']:.3f} / {r['theirs_s']:.3f} / {r['boot_s']:.2f} |")
    return "\n".join(lines)


def sampling_times() -> str:
    import pandas as pd

    lines = ["| generated replies | draw_sample (s) | assign_coders (s) | strata |",
             "|---|---|---|---|"]
    for n in (100_000, 1_000_000):
        rng = np.random.default_rng(0)
        posts = pd.DataFrame({
            "uid": pd.array([f"gen:{i}" for i in range(n)], dtype="string"),
            "thread_id": pd.array([f"t{i}" for i in rng.integers(0, 20_000, n)], dtype="string"),
            "parent_id": "generated", "text": "generated reply",
            "created_at": pd.Timestamp("2020-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 365 * 86_400, n), unit="s")})
        start = time.perf_counter()
        sample = draw_sample(posts, 2000, freq="W", random_state=1)
        drawn = time.perf_counter() - start
        start = time.perf_counter()
        assign_coders(sample.units, ["A", "B", "C"], overlap=0.2, random_state=1)
        assigned = time.perf_counter() - start
        lines.append(f"| {n:,} | {drawn:.2f} | {assigned:.3f} | {len(sample.strata)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    rows = [measure(c) for c in CORPORA]
    body = table(rows)
    print(body)
    timing = sampling_times()
    print(timing)
    if args.write:
        section = (
            "Krippendorff's alpha of the VADER ground-truth raters (Hutto & Gilbert 2014; "
            "`data/raw/vader_ground_truth/*_anonDataRatings.txt`, every text, 20+ anonymous "
            "ratings each), computed from per-text rating counts by "
            "`analysis.annotate.agreement.alpha_from_counts`, checked against the `krippendorff` "
            "package on the same counts. Nominal alpha bins the ratings into negative (< 0), "
            "neutral (0) and positive (> 0); its interval is a percentile bootstrap over texts "
            "(1,000 resamples, seed 20200930).\n\n"
            f"Command: `python benchmarks/annotate_agreement.py --write`; machine: 2 cores "
            f"(shared with other jobs while it ran); date: {dt.date.today().isoformat()}.\n\n"
            f"{body}\n\n"
            "Sampling speed (`analysis.annotate.draw_sample` with `--freq W` and thread "
            "stratification, then `assign_coders`), same run:\n\n"
            f"{timing}\n")
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
