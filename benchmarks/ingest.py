"""Benchmark: ingest throughput and peak memory on a large twarc2 file.

Builds twarc2 files (response pages) of about 80 MB ("1x") and 4 times that ("4x") from the real
pages in tests/data/twarc2_samples, with every id string rewritten per copy so that all tweets are
unique, in a temporary folder (never in the repository). Then runs ``ingest_to_files`` (what
``python -m analysis ingest`` does) on each file in a fresh subprocess, with and without language
detection, with ``--jobs 1`` and with the default (one worker per core), and once more (no
language detection, default jobs) with the light columns on disk from the first row (as a run
past ``chunks.LIGHT_ROWS_IN_MEMORY`` rows keeps them), and records wall time,
CPU time of the subprocess and its workers, MB/s, tweets/s and peak resident memory (VmHWM of the
subprocess, see ``_common.peak_memory_mib``, and ``ru_maxrss`` of its largest worker). Writes the
table into the ``## Ingest`` section of docs/benchmarks.md.

Usage (``--twarc-csv PYTHON`` also times twarc-csv on the 1x file, with an interpreter that has
twarc-csv installed; twarc-csv 0.7.2 needs ``pandas<3``, which removed ``DataFrame.applymap``)::

    python benchmarks/ingest.py            # 1x and 4x, language on and off, 1 job and all cores
    python benchmarks/ingest.py --quick    # 1x only (about 80 MB)

Reference (from the issue): twarc-csv converts such a file at about 12.6 MB/s (3,000 tweets/s)
with 237 MB peak memory; the goal is at least 8x that throughput and flat memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import DOC, ROOT, peak_memory_mib, run_ingest_worker, write_section

BENCHMARKS = ROOT / "benchmarks"
SAMPLES = ROOT / "tests" / "data" / "twarc2_samples"
#: Files whose lines are response pages with tweets (streaming_output_with_error's last line is
#: cut short on purpose; it is left out so the benchmark file has no rejects).
PAGE_FILES = ("brexit.jsonl", "noflat.jsonl", "streaming_output_with_error.jsonl",
              "two_tweets.jsonl", "geo_tweets.jsonl", "media_tweet.jsonl")
TARGET_BYTES = 80 * 1024 * 1024
TWARC_CSV_MB_S = 12.6
TWARC_CSV_TWEETS_S = 3000
TWARC_CSV_PEAK_MB = 237

_ID = re.compile(rb'"(\d{5,25})"')


def _base_lines() -> list[bytes]:
    lines = []
    for name in PAGE_FILES:
        for raw in (SAMPLES / name).read_bytes().splitlines():
            try:
                json.loads(raw)
            except ValueError:
                continue
            lines.append(raw)
    return lines


def build(path: Path, target_bytes: int) -> dict:
    """Write a twarc2 file of at least ``target_bytes`` with unique ids; return its stats."""
    base = _base_lines()
    tweets_per_copy = 0
    for line in base:
        data = json.loads(line).get("data") or []
        tweets_per_copy += len(data) if isinstance(data, list) else 1
    size = 0
    copies = 0
    with open(path, "wb") as out:
        while size < target_bytes:
            prefix = b"%05d" % copies
            for line in base:
                new = _ID.sub(lambda m, p=prefix: b'"' + p + m.group(1) + b'"', line) + b"\n"
                out.write(new)
                size += len(new)
            copies += 1
    return {"bytes": size, "copies": copies, "tweets": copies * tweets_per_copy,
            "lines": copies * len(base)}


def worker(path: Path, language: bool, out_dir: Path, jobs: int | None,
           light_rows: int | None = None) -> dict:
    """Ingest ``path`` and write the outputs; return times and peak memory of this process and
    of its worker processes (CPU time counts both). ``light_rows`` replaces
    ``chunks.LIGHT_ROWS_IN_MEMORY`` (0: the light columns go to disk from the first row)."""
    sys.path.insert(0, str(ROOT))
    from analysis.loaders import chunks
    from analysis.loaders.ingest import ingest_to_files
    from analysis.loaders.parts import default_jobs

    if light_rows is not None:
        chunks.LIGHT_ROWS_IN_MEMORY = light_rows

    def usage() -> list[resource.struct_rusage]:
        return [resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                     resource.RUSAGE_CHILDREN)]

    started = time.perf_counter()
    before = usage()
    result, _ = ingest_to_files([path], out_dir / "posts.parquet", format="twarc2",
                                detect_language=language, progress=False, jobs=jobs)
    seconds = time.perf_counter() - started
    after = usage()
    cpu = [a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime
           for a, b in zip(after, before, strict=True)]
    return {"seconds": seconds, "cpu_seconds": sum(cpu), "parent_cpu": cpu[0],
            "workers_cpu": cpu[1], "peak_mb": peak_memory_mib(),
            "worker_peak_mb": after[1].ru_maxrss / 1024,
            "jobs": jobs or default_jobs(), "rows": result.summary["rows_written"],
            "rejects": len(result.rejects), "matched": result.summary["rows_read_matched"]}


def _run_worker(path: Path, language: bool, jobs: int | None, light_rows: int | None) -> dict:
    return run_ingest_worker(__file__, path, *([] if language else ["--no-language"]),
                             *([] if jobs is None else ["--jobs", str(jobs)]),
                             *([] if light_rows is None else ["--light-rows", str(light_rows)]))


TWARC_CSV_CODE = """
import sys, time
sys.path.insert(0, {benchmarks!r})
from _common import peak_memory_mib
from twarc_csv import CSVConverter, DataFrameConverter
started, cpu = time.perf_counter(), time.process_time()
with open(sys.argv[1]) as inf, open(sys.argv[2], "w") as outf:
    CSVConverter(inf, outf, converter=DataFrameConverter(), hide_progress=True).process()
print(time.perf_counter() - started, time.process_time() - cpu, peak_memory_mib())
"""


def _run_twarc_csv(python: str, path: Path) -> dict:
    """twarc-csv on the same file, with an interpreter that has it installed."""
    with tempfile.TemporaryDirectory() as out_dir:
        code = TWARC_CSV_CODE.format(benchmarks=str(BENCHMARKS))
        proc = subprocess.run([python, "-W", "ignore", "-c", code, str(path),
                               str(Path(out_dir) / "out.csv")],
                              capture_output=True, text=True, check=True)
    seconds, cpu, peak = map(float, proc.stdout.split()[-3:])
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak}


def _chunk_rows() -> int:
    sys.path.insert(0, str(ROOT))
    from analysis.loaders.chunks import CHUNK_ROWS

    return CHUNK_ROWS


def _parser() -> str:
    try:
        import orjson
    except ImportError:
        return "json (standard library)"
    return f"orjson {orjson.__version__}"


def _baseline_peak_mb() -> float:
    """Peak memory of a subprocess that only imports pandas, pyarrow and the loaders."""
    code = (f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(BENCHMARKS)!r}]; "
            "import analysis.loaders.ingest, analysis.loaders.twarc2; "
            "from _common import peak_memory_mib; print(peak_memory_mib())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


def _reference_text(reference: dict | None, ingest_cpu: float = 1.0) -> str:
    if reference is None:
        return ""
    return (f"\ntwarc-csv on the same 1x file, same machine and run "
            f"(`--twarc-csv PYTHON`, twarc-csv in its own environment): "
            f"{reference['seconds']:.1f} s wall, {reference['cpu_seconds']:.1f} s CPU "
            f"({reference['mb'] / reference['cpu_seconds']:.1f} MB/s by CPU time, "
            f"{reference['mb'] / reference['seconds']:.1f} MB/s wall), peak "
            f"{reference['peak_mb']:.0f} MiB; ingest without language detection used "
            f"{reference['cpu_seconds'] / ingest_cpu:.1f}x less CPU time on that file.\n")


def _language_cost(repeat: int = 5) -> tuple[int, float]:
    """CPU microseconds per distinct text of language detection as ingest runs it
    (:func:`analysis.loaders.language.detect_languages` on a chunk's texts at once), over the
    distinct texts of the sample pages, best of ``repeat`` (the benchmark file repeats them in
    every copy, and each chunk detects a distinct text once, so the runs above pay it far less
    often than a file of new texts would)."""
    sys.path.insert(0, str(ROOT))
    import pandas as pd

    from analysis.loaders.language import detect_languages

    texts = set()
    for line in _base_lines():
        page = json.loads(line)
        tweets = page.get("data") or []
        tweets = (tweets if isinstance(tweets, list) else [tweets]) + list(
            (page.get("includes") or {}).get("tweets") or [])
        texts.update(t["text"] for t in tweets if isinstance(t, dict) and t.get("text"))
    series = pd.Series(sorted(texts), dtype="string")
    detect_languages(pd.Series(["warm up: load the model before timing"]))
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        detect_languages(series)
        best = min(best, time.process_time() - started)
    return len(texts), best / len(texts) * 1e6


def _language_outlook(rows: list[dict], language_us: float, goal: float) -> str:
    """What language detection would cost on a file of all-new texts, and whether the goal
    could then be met with every core busy (an upper bound: the main process's final pass runs
    on one core)."""
    per_mb = 400 * language_us / 1e6  # CPU seconds per MB at about 400 rows per MB
    no_language = max(r["cpu_mb_s"] for r in rows if not r["language"])
    per_core = 1 / (1 / no_language + per_mb)
    best_case = per_core * default_cores()
    verdict = ("so the goal could at best just be reached" if best_case >= goal else
               "so with language detection on the goal is out of reach")
    return (f"at about 400 rows per MB such a file would spend about {per_mb * 1000:.0f} ms of "
            f"CPU per MB on it (about {1 / per_mb:.0f} MB/s per core for detection alone; with "
            f"the rest of ingest at {no_language:.0f} MB/s per core, about {per_core:.0f} MB/s "
            f"per core and at most {best_case:.0f} MB/s on {default_cores()} cores), {verdict} "
            "on real data")


def _table(rows: list[dict]) -> str:
    lines = ["| file | MB | tweets (matched) | rows written | language detection | jobs | "
             "light columns | wall s | CPU s (all processes) | MB/s (wall) | MB/s (CPU) | "
             "tweets/s (wall) | tweets/s (CPU) | peak MiB (main process) | "
             "peak MiB (largest worker) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        worker_peak = f"{r['worker_peak_mb']:.0f}" if r["jobs"] > 1 else "-"
        lines.append(
            f"| {r['size']} | {r['mb']:.1f} | {r['tweets']:,} | {r['rows']:,} | "
            f"{'on (default)' if r['language'] else 'off (--no-language)'} | {r['jobs']} | "
            f"{'on disk (forced)' if r['stored'] else 'in memory'} | {r['seconds']:.2f} | "
            f"{r['cpu_seconds']:.2f} | {r['mb_s']:.1f} | "
            f"{r['cpu_mb_s']:.1f} | {r['tweets_s']:,.0f} | {r['cpu_tweets_s']:,.0f} | "
            f"{r['peak_mb']:.0f} | {worker_peak} |")
    return "\n".join(lines)


def _verdict(rows: list[dict], goal: float) -> str:
    """Whether the goal is met, by wall clock and by CPU time, for the default settings."""
    parallel = [r for r in rows if _default(r)]
    parts = []
    for language in (False, True):
        mine = [r for r in parallel if r["language"] == language]
        walls = ", ".join(f"{r['size']} {r['mb_s']:.0f}" for r in mine)
        met = [r["size"] for r in mine if r["mb_s"] >= goal]
        what = "without" if not language else "with"
        parts.append(f"{what} language detection {walls} MB/s by wall clock ("
                     + (f"goal met at {', '.join(met)}" if met else "goal not met") + ")")
    best_cpu = max(r["cpu_mb_s"] for r in rows if not r["stored"])
    cpu = (f"By CPU time (all processes) at best {best_cpu:.1f} MB/s "
           f"({best_cpu / TWARC_CSV_MB_S:.1f}x the issue's twarc-csv figure): "
           + ("goal met" if best_cpu >= goal else "**goal not met by CPU time**")
           + "; reading in parts uses all cores but does not make the work smaller.")
    return "With the default settings (all cores): " + "; ".join(parts) + ". " + cpu


def _local_verdict(rows: list[dict], reference: dict | None) -> str:
    """The same comparison against twarc-csv as measured in this run (by wall clock)."""
    if reference is None:
        return ""
    local = reference["mb"] / reference["seconds"]
    met = [f"{r['size']} with language detection {'on' if r['language'] else 'off'}"
           for r in rows if _default(r) and r["mb_s"] >= 8 * local]
    return (f" Against twarc-csv as measured in this run ({local:.1f} MB/s wall; 8x = "
            f"{8 * local:.0f} MB/s) the goal is met by wall clock for "
            + (", ".join(met) if met else "none of the runs") + ".")


def _default(row: dict) -> bool:
    """A run with the default jobs and light columns in memory (as they are below
    ``chunks.LIGHT_ROWS_IN_MEMORY`` rows)."""
    return row["parallel"] and not row["stored"]


def _memory_text(rows: list[dict]) -> str:
    out = []
    for language in (False, True):
        mine = {r["size"]: r for r in rows if _default(r) and r["language"] == language}
        if "1x" in mine and "4x" in mine:
            one, four = mine["1x"], mine["4x"]
            per_row = ((four["peak_mb"] - one["peak_mb"]) * 1024 * 1024
                       / max(four["rows"] - one["rows"], 1))
            out.append(f"language detection {'on' if language else 'off'}: main process "
                       f"{one['peak_mb']:.0f} MiB at 1x, {four['peak_mb']:.0f} MiB at 4x "
                       f"(about {per_row:.0f} bytes per extra row), largest worker "
                       f"{one['worker_peak_mb']:.0f} / {four['worker_peak_mb']:.0f} MiB"
                       + (" (with the language model, about 65 MiB mapped from the unpacked "
                          "model files the workers share)" if language else ""))
    return "; ".join(out)


#: (language detection, jobs (None: default), light_rows (None: default; 0: all on disk)).
CONFIGURATIONS = [(False, 1, None), (False, None, None), (True, 1, None), (True, None, None),
                  (False, None, 0)]
#: The 4x main-process peak may exceed the 1x peak by this share and still count as flat.
FLAT_SHARE = 0.05


def _flat_verdict(rows: list[dict], stored: bool) -> str:
    """Whether the main process's peak stays flat from 1x to 4x (all cores, language detection
    off), with the light columns in memory or on disk."""
    mine = {r["size"]: r for r in rows
            if r["parallel"] and not r["language"] and r["stored"] == stored}
    if not ("1x" in mine and "4x" in mine):
        return ""
    one, four = mine["1x"]["peak_mb"], mine["4x"]["peak_mb"]
    where = "on disk" if stored else "in memory"
    growth = (f"the main process peaks {four - one:.0f} MiB higher for 4 times the input "
              f"({(four / one - 1):.1%}; language detection off, all cores)")
    flat = "flat" if four <= one * (1 + FLAT_SHARE) else "not flat"
    return (f"With the light columns {where}, **memory is {flat}** (the bar: within "
            f"{FLAT_SHARE:.0%}): {growth}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1x only")
    parser.add_argument("--no-write", action="store_true", help="do not edit docs/benchmarks.md")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="runs per configuration; the fastest by wall clock is reported "
                        "(default 3: other jobs on the machine slow some runs down)")
    parser.add_argument("--twarc-csv", metavar="PYTHON",
                        help="also time twarc-csv on the 1x file with this interpreter (one "
                        "that has twarc-csv installed)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-language", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--light-rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, not args.no_language, args.out, args.jobs,
                                args.light_rows)))
        return

    sizes = [1] if args.quick else [1, 4]
    rows = []
    reference = None
    load_before = os.getloadavg()
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        for factor in sizes:
            path = Path(tmp) / f"twarc2_{factor}x.jsonl"
            stats = build(path, factor * TARGET_BYTES)
            mb = stats["bytes"] / 1e6
            for language, jobs, light_rows in CONFIGURATIONS:
                got = min((_run_worker(path, language, jobs, light_rows)
                           for _ in range(args.repeat)), key=lambda run: run["seconds"])
                row = {"size": f"{factor}x", "mb": mb, "tweets": got["matched"],
                       "language": language, "parallel": jobs is None,
                       "stored": light_rows == 0, **got,
                       "mb_s": mb / got["seconds"],
                       "tweets_s": got["matched"] / got["seconds"],
                       "cpu_mb_s": mb / got["cpu_seconds"],
                       "cpu_tweets_s": got["matched"] / got["cpu_seconds"]}
                rows.append(row)
                print(f"{factor}x language={'on' if language else 'off'} "
                      f"jobs={got['jobs']}"
                      f"{' light columns on disk' if light_rows == 0 else ''}: {mb:.1f} MB, "
                      f"{got['matched']} tweets, "
                      f"{got['seconds']:.2f} s wall, {got['cpu_seconds']:.2f} s CPU "
                      f"(main {got['parent_cpu']:.2f}, workers {got['workers_cpu']:.2f}), "
                      f"{row['mb_s']:.1f} MB/s wall, {row['cpu_mb_s']:.1f} MB/s CPU, "
                      f"peak {got['peak_mb']:.0f} MiB (worker {got['worker_peak_mb']:.0f})",
                      flush=True)
            if args.twarc_csv and factor == 1:
                reference = _run_twarc_csv(args.twarc_csv, path)
                reference.update(mb=mb, matched=stats["tweets"])
                print(f"twarc-csv 1x: {reference['seconds']:.1f} s wall, "
                      f"{reference['cpu_seconds']:.1f} s CPU, peak {reference['peak_mb']:.0f} MB",
                      flush=True)
            path.unlink()
    load_after = os.getloadavg()
    baseline = _baseline_peak_mb()
    language_texts, language_us = _language_cost()
    print(f"baseline (imports only): {baseline:.0f} MB; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after")
    print(_verdict(rows, 8 * TWARC_CSV_MB_S))
    if args.no_write:
        return

    goal = 8 * TWARC_CSV_MB_S
    serial_cpu = next(r for r in rows if r["size"] == "1x" and not r["language"]
                      and not r["parallel"])["cpu_seconds"]
    command = "python benchmarks/ingest.py" + (" --twarc-csv PYTHON" if reference else "")
    text = f"""
Command: `{command}` (run {started:%Y-%m-%d %H:%M} UTC, machine: {default_cores()} cores,
Python {platform.python_version()}, {platform.machine()}, Linux, JSON parser: {_parser()}).
Load average (1 min) {load_before[0]:.1f} before the run and {load_after[0]:.1f} after it, on
{default_cores()} cores (the benchmark's own processes count in it). Other jobs shared the
machine on and off, which slows wall-clock times down; hence each configuration runs several
times (below). CPU seconds (the main process plus its worker processes, from `getrusage`) are
the steadier measure.

The input is a twarc2 file of response pages built from the real pages in
`tests/data/twarc2_samples`, with every id rewritten per copy (all tweets unique), in a temporary
folder. Each run is a fresh subprocess doing what `python -m analysis ingest` does
(`ingest_to_files` with default options: pseudonymized authors, reply trees, duplicates,
Parquet and manifest), with `--jobs 1` (everything in one process) and with the default (one
worker process per core); each configuration ran {args.repeat} times and the table shows the
fastest run by wall clock. Peak memory is the maximum resident set (VmHWM) of the
main process, and separately that of the largest worker (`ru_maxrss` of the children; a worker
is forked from the main process, so it counts the pages it shares with it). "rows written"
includes the `context` rows from `includes.tweets`.

{_table(rows)}

MB = 10^6 bytes of input; memory in MiB. Importing pandas, pyarrow and the loaders alone peaks
at {baseline:.0f} MiB.
{_reference_text(reference, serial_cpu)}
Reference from the issue: twarc-csv converts such a file at {TWARC_CSV_MB_S} MB/s
({TWARC_CSV_TWEETS_S:,} tweets/s) with {TWARC_CSV_PEAK_MB} MB peak memory; the goal is at least
8x ({goal:.0f} MB/s). {_verdict(rows, goal)}{_local_verdict(rows, reference)}

How: a large uncompressed JSON-lines file is cut at line ends into parts of
{_part_mib():.0f} MiB; worker processes parse, map, type (chunks of {_chunk_rows():,} rows),
detect languages, pseudonymize and spill their parts to temporary Arrow files, and the main
process merges them in input order (same table, rejects and summary as `--jobs 1`), builds reply
trees and duplicates from the light columns (ids, authors, times, kept as 128-bit hashes and
integers) and writes the output. The
remaining time is parsing the JSON (orjson), mapping each tweet to a row in Python, typing, and
the main process's final pass (reply trees, reading the spill, writing Parquet), which runs on
one core after the workers are done.

Language detection (`detect_languages`, py3langid's model run on a chunk's texts at once; see
the Language detection section) takes about {language_us:.0f} µs of CPU per distinct text
(measured on the {language_texts} distinct texts of the sample pages). The benchmark file repeats
its texts in every copy and each chunk detects a distinct text once, so the runs above pay that
far less often than a file of all-new texts would:
{_language_outlook(rows, language_us, goal)}; `--no-language` skips it.

Memory: {_memory_text(rows)}. {_flat_verdict(rows, False)} {_flat_verdict(rows, True)}

Raw records and texts are never held for the whole file (each part is spilled). Below
{_light_rows():,} rows (`chunks.LIGHT_ROWS_IN_MEMORY`) what grows with the number of rows are
the light columns for reply trees and duplicates, kept in memory as compact numbers
(`analysis.loaders.light`: a 128-bit hash of each uid, id, parent id, root id and author, the
collection time as int64 and the role as a code, about 90 bytes per row), the arrays sorted and
searched while duplicates and reply trees are decided on them (the peak of that step), the
decisions per kept row (about 30 bytes) and, in the last pass, the ids and authors of the rows
that other rows name as root or parent. A run past that many rows moves its light columns to a
SQLite file in its spill folder (`analysis.loaders.light_store`) and makes the same decisions
there by SQL, with a page cache of {_cache_mib()} MiB, so that its memory stops growing. The
runs marked "on disk (forced)" work that way from the first row (`LIGHT_ROWS_IN_MEMORY = 0`),
to show what it costs: {_store_cost(rows)}. A run to files allocates Arrow memory with the C
library's allocator, in the main process and in the workers, which gives freed pages back (with
Arrow's default, mimalloc, the main process's last pass peaked about 50 MiB higher at 4x and the
workers grew from part to part), and after the reply-tree step hands what that step freed back
to the system (glibc's `malloc_trim`; without it the last pass ran on top of about 25 MiB of
freed-but-kept memory and the 4x peak was 173 MiB, at 1x 157). The Python function `ingest()`,
which returns the table as a DataFrame, holds the whole table in memory by design.
"""
    write_section("## Ingest", text)
    print(f"wrote the '## Ingest' section of {DOC}")


def _store_cost(rows: list[dict]) -> str:
    """The main process's extra CPU time with the light columns on disk, per row, at each
    size."""
    out = []
    for size in ("1x", "4x"):
        mine = {r["stored"]: r for r in rows
                if r["size"] == size and r["parallel"] and not r["language"]}
        if True in mine and False in mine:
            extra = mine[True]["parent_cpu"] - mine[False]["parent_cpu"]
            out.append(f"at {size}, {extra:.2f} s more CPU in the main process "
                       f"({extra / mine[True]['rows'] * 1e6:.0f} µs per row written) and "
                       f"{mine[True]['mb_s']:.0f} MB/s by wall clock instead of "
                       f"{mine[False]['mb_s']:.0f}")
    return "; ".join(out) if out else "not measured in this run"


def _light_rows() -> int:
    sys.path.insert(0, str(ROOT))
    from analysis.loaders.chunks import LIGHT_ROWS_IN_MEMORY

    return LIGHT_ROWS_IN_MEMORY


def _cache_mib() -> int:
    sys.path.insert(0, str(ROOT))
    from analysis.loaders.light_store import CACHE_MIB

    return CACHE_MIB


def default_cores() -> int:
    sys.path.insert(0, str(ROOT))
    from analysis.loaders.parts import default_jobs

    return default_jobs()


def _part_mib() -> float:
    sys.path.insert(0, str(ROOT))
    from analysis.loaders.parts import PART_BYTES

    return PART_BYTES / 2**20


if __name__ == "__main__":
    main()
