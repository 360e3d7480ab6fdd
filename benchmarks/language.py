"""Benchmark: language detection, py3langid one text at a time against the batch path.

The texts are the bundled tweets and review snippets (data/raw/tweeteval_sentiment val and test,
data/raw/vader_ground_truth's four corpora), cleaned as ingest cleans them, distinct, and with at
least ``MIN_LETTERS`` letters: the texts py3langid actually sees. Everything runs in this one
process on one core (BLAS and OpenMP limited to one thread), CPU time from ``process_time``,
the best of ``--repeat`` runs. Timed:

- ``classify``: py3langid's ``LanguageIdentifier.classify`` per text (what ingest did before);
- ``classify_texts``: the batch path, in chunks of ``--chunk`` texts (ingest types chunks of
  5,000 rows);
- ``detect_languages`` before and after: the whole function on the same chunks, raw texts in
  (cleaning, letter counts, the Series out), the old per-text loop against the current one;
- ``classify`` and ``classify_texts`` on 1,880 long texts (20 of the texts above joined, about
  2 KB each, as long Reddit comments are).

It also says how the answers compare: texts compared, languages that differ, largest confidence
difference. Prints a Markdown section; ``--write`` puts it into docs/benchmarks.md as
``## Language detection``.

Usage::

    python benchmarks/language.py
    python benchmarks/language.py --write
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from _common import ROOT, write_section  # noqa: E402

sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis import config  # noqa: E402
from analysis.loaders import language  # noqa: E402


def raw_texts() -> list[str]:
    """The bundled tweets and review snippets, as they are in the files."""
    texts = []
    for name in ("val_text.txt", "test_text.txt"):
        texts += (config.DATA_RAW / "tweeteval_sentiment" / name).read_text(
            encoding="utf-8").splitlines()
    for path in sorted((config.DATA_RAW / "vader_ground_truth").glob("*_GroundTruth.txt")):
        texts += [line.split("\t", 2)[2] for line in path.read_text(encoding="utf-8").splitlines()
                  if line.count("\t") >= 2]
    return texts


def detect_languages_before(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``detect_languages`` as it was: py3langid's ``classify`` once per distinct text."""
    cache: dict = {}
    langs, confs = [], []
    for text in texts.astype("object"):
        if not isinstance(text, str):
            langs.append(None)
            confs.append(None)
            continue
        guess = cache.get(text)
        if guess is None:
            guess = cache[text] = language.detect_language(text)
        langs.append(guess[0])
        confs.append(guess[1])
    return (pd.Series(pd.array(langs, dtype="string"), index=texts.index),
            pd.Series(pd.array(confs, dtype="Float64"), index=texts.index))


def best_time(run, repeat: int) -> float:
    """The least CPU time of ``repeat`` calls of ``run``."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args(argv)

    raw = raw_texts()
    cleaned = [language.clean_text(t) for t in raw]
    texts = list(dict.fromkeys(t for t in cleaned
                               if sum(map(str.isalpha, t)) >= language.MIN_LETTERS))
    chunks = [texts[i:i + args.chunk] for i in range(0, len(texts), args.chunk)]
    raw_chunks = [pd.Series(raw[i:i + args.chunk]) for i in range(0, len(raw), args.chunk)]
    identifier = language._identifier()
    language.classify_texts(texts[:100])  # warm up: model and DFA arrays loaded

    longs = [" ".join(texts[i:i + 20]) for i in range(0, len(texts) - 19, 20)]
    expected = [identifier.classify(t) for t in texts + longs]
    found = [language.classify_texts(chunk) for chunk in chunks] + [
        language.classify_texts(longs)]
    langs = np.concatenate([f[0] for f in found])
    confs = np.concatenate([f[1] for f in found])
    differ = int(sum(a != b for a, (b, _) in zip(langs, expected, strict=True)))
    largest = float(np.abs(confs - [c for _, c in expected]).max())

    per_text = best_time(lambda: [identifier.classify(t) for t in texts], args.repeat)
    batch = best_time(lambda: [language.classify_texts(c) for c in chunks], args.repeat)
    before = best_time(lambda: [detect_languages_before(c) for c in raw_chunks], args.repeat)
    after = best_time(lambda: [language.detect_languages(c) for c in raw_chunks], args.repeat)
    long_per_text = best_time(lambda: [identifier.classify(t) for t in longs], args.repeat)
    long_batch = best_time(lambda: language.classify_texts(longs), args.repeat)
    long_bytes = sum(len(t.encode()) for t in longs) / len(longs)
    mean_bytes = sum(len(t.encode()) for t in texts) / len(texts)

    rows = [("py3langid `classify`, one text at a time", len(texts), per_text),
            (f"`classify_texts`, chunks of {args.chunk:,}", len(texts), batch),
            (f"`detect_languages` before (raw texts, chunks of {args.chunk:,})", len(raw), before),
            (f"`detect_languages` now (raw texts, chunks of {args.chunk:,})", len(raw), after),
            (f"py3langid `classify`, long texts ({long_bytes:,.0f} bytes)", len(longs),
             long_per_text),
            (f"`classify_texts`, long texts ({long_bytes:,.0f} bytes), one call", len(longs),
             long_batch)]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Command: `python benchmarks/language.py` (run {now}, {os.cpu_count()} cores, one "
             f"used, Python {platform.python_version()}, {platform.machine()}, "
             f"{platform.system()}).", "",
             f"{len(texts):,} distinct cleaned texts (mean {mean_bytes:.0f} bytes) from "
             "data/raw/tweeteval_sentiment and data/raw/vader_ground_truth; "
             f"{len(raw):,} raw texts for `detect_languages`. CPU time, best of "
             f"{args.repeat}.", "",
             "| what | texts | CPU s | texts/s | µs per text |", "|---|---|---|---|---|"]
    for what, count, seconds in rows:
        lines.append(f"| {what} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} "
                     f"| {seconds / count * 1e6:.1f} |")
    lines += ["", f"Speed-up: `classify_texts` {per_text / batch:.1f}x py3langid per text "
              f"({long_per_text / long_batch:.1f}x on the long texts); "
              f"`detect_languages` {before / after:.1f}x.", "",
              f"Same answers: {len(texts) + len(longs):,} texts compared with py3langid's "
              "`classify`; "
              f"{differ} languages differ; largest confidence difference {largest:.1e} "
              "(py3langid sums scores in float32, `classify_texts` in float64)."]
    body = "\n".join(lines)
    print("## Language detection\n\n" + body)
    if args.write:
        write_section("## Language detection", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
