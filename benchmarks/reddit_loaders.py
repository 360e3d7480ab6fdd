"""Benchmark: the RumourEval and Pushshift loaders (time, rows/s, MB/s, peak memory).

- RumourEval: ``rumoureval.read`` over the bundled training archive
  (data/raw/rumoureval2019/rumoureval-2019-training-data.tar.gz, read in memory, never extracted),
  and a full ``ingest`` of it (trees, pseudonyms, language detection).
- Pushshift: ``pushshift.read`` over a ``.zst`` built in a temporary folder by repeating the lines
  of the real ``RS_2019-10.zst`` sample (found through ``ANALYSIS_SHARED_DATA``, default
  ``../shared/data``; it is not redistributed) 5 and 20 times, compressed with a 2**31 window
  (as the real dumps are) and with zstd's default window for level 3 (2 MiB).
  When the sample is absent, generated submission lines are used instead, and the table says so.
  Each size runs in a fresh subprocess so peak resident memory (``VmHWM`` from /proc, Linux) is
  its own.

Writes the ``## Reddit and RumourEval loaders`` section of docs/benchmarks.md.

Usage::

    python benchmarks/reddit_loaders.py
    python benchmarks/reddit_loaders.py --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import DOC, ROOT, write_section

ARCHIVE = ROOT / "data" / "raw" / "rumoureval2019" / "rumoureval-2019-training-data.tar.gz"
SHARED = Path(os.environ.get("ANALYSIS_SHARED_DATA") or ROOT.parent / "shared" / "data")
SAMPLE = SHARED / "reddit_pushshift_samples" / "RS_2019-10.zst"
HEADER = "## Reddit and RumourEval loaders"
REPEATS = (5, 20)
#: zstd window logs: 31 as in the Pushshift dumps (``--long=31``), 21 (level 3's default).
WINDOW_LOGS = (31, 21)

_CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path[:0] = [{root!r}, {benchmarks!r}]
from _common import peak_memory_mib
from analysis.loaders.base import LoadOptions, Reject
task, path = sys.argv[1], Path(sys.argv[2])
start = time.perf_counter()
rows = rejects = labels = 0
if task == "ingest":
    from analysis.loaders.ingest import ingest
    result = ingest([path], pseudonym_key=b"benchmark-key-0123456789abcdef")
    rows, rejects, labels = len(result.posts), len(result.rejects), len(result.labels)
else:
    from analysis.loaders import pushshift, rumoureval
    module = rumoureval if task == "rumoureval" else pushshift
    for item in module.read(path, LoadOptions()):
        if isinstance(item, dict):
            rows += 1
        elif isinstance(item, Reject):
            rejects += 1
        else:
            labels += 1
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "rows": rows, "rejects": rejects, "labels": labels,
                  "peak_mb": peak_memory_mib()}}))
"""


def _run(task: str, path: Path) -> dict:
    code = _CHILD.format(root=str(ROOT), benchmarks=str(ROOT / "benchmarks"))
    out = subprocess.run([sys.executable, "-c", code, task, str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _base_lines() -> tuple[list[bytes], str]:
    if SAMPLE.is_file():
        import zstandard

        with open(SAMPLE, "rb") as handle:
            reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(handle)
            data = io.BufferedReader(reader).read()
        return [line for line in data.split(b"\n") if line.strip()], "RS_2019-10.zst lines"
    lines = []
    for index in range(8000):  # generated stand-in with the sample's main fields
        lines.append(json.dumps({
            "id": f"g{index}", "title": f"generated title {index}", "author": f"user{index % 97}",
            "selftext": "generated text " * (index % 40), "created_utc": 1569888142 + index,
            "num_comments": index % 13, "score": index % 7, "subreddit": "generated",
            "retrieved_on": 1586200544}).encode())
    return lines, "generated submission lines (RS_2019-10.zst not found)"


def _build_zst(lines: list[bytes], repeats: int, target: Path, window_log: int) -> int:
    import zstandard

    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=window_log)
    compressor = zstandard.ZstdCompressor(compression_params=params)
    size = 0
    with open(target, "wb") as handle, compressor.stream_writer(handle) as writer:
        for _ in range(repeats):
            for line in lines:
                writer.write(line + b"\n")
                size += len(line) + 1
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="do not edit docs/benchmarks.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]

    table = ["| input | step | MB (decompressed) | rows | rejects | labels | seconds | rows/s "
             "| MB/s | peak memory (MB) |", "|---|---|---|---|---|---|---|---|---|---|"]
    archive_mb = ARCHIVE.stat().st_size / 1e6
    for task in ("rumoureval", "ingest"):
        best = min((_run(task, ARCHIVE) for _ in range(3)), key=lambda r: r["seconds"])
        step = "rumoureval.read" if task == "rumoureval" else "ingest (trees, pseudonyms, lang)"
        table.append(f"| RumourEval 2019 training archive ({archive_mb:.1f} MB .tar.gz) | {step} "
                     f"| - | {best['rows']:,} | {best['rejects']} | {best['labels']:,} "
                     f"| {best['seconds']:.2f} | {best['rows'] / best['seconds']:,.0f} | - "
                     f"| {best['peak_mb']:.0f} |")
        print(table[-1], flush=True)
    lines, origin = _base_lines()
    with tempfile.TemporaryDirectory() as folder:
        for window_log, repeats in itertools.product(WINDOW_LOGS, REPEATS):
            path = Path(folder) / f"RS_x{repeats}_w{window_log}.zst"
            size = _build_zst(lines, repeats, path, window_log)
            result = _run("pushshift", path)
            mb = size / 1e6
            table.append(f"| {origin} x{repeats} (.zst, window 2^{window_log}) | pushshift.read "
                         f"| {mb:.0f} | {result['rows']:,} | {result['rejects']} | - "
                         f"| {result['seconds']:.2f} | {result['rows'] / result['seconds']:,.0f} "
                         f"| {mb / result['seconds']:.1f} | {result['peak_mb']:.0f} |")
            print(table[-1], flush=True)
            path.unlink()
    cpus = os.cpu_count()
    text = "\n".join([
        f"Machine: {platform.machine()}, {cpus} cores, Python {platform.python_version()}; "
        f"date {dt.date.today().isoformat()}; load average at the start {load:.1f} (other "
        "jobs running on the machine make the times upper bounds).",
        "Command: `python benchmarks/reddit_loaders.py`. RumourEval rows: best of 3 runs; "
        "Pushshift: one run per size. Peak memory is the subprocess's maximum resident set "
        "(VmHWM) "
        "(Python, pandas and the loader included); with a 2^31 window the zstd decompressor keeps "
        "up to one window of history, so it grows with the file (up to 2 GiB, as `zstd "
        "--long=31` does); with a small window it stays flat.", "", *table, ""])
    print(text)
    if not args.no_write:
        write_section(HEADER, text)
        print(f"wrote the '{HEADER}' section of {DOC}")


if __name__ == "__main__":
    main()
