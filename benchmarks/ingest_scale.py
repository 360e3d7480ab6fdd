"""Benchmark: ingest's peak memory on Pushshift files of half a million to three million rows.

Below ``chunks.LIGHT_ROWS_IN_MEMORY`` rows (a million) a run keeps what duplicates and reply
trees need in memory; past it, in a SQLite file (``analysis.loaders.light_store``). This script
checks that the main process's peak stops growing there, with the default settings.

The input: the 1,075 real comments of the Pushshift sample ``RC_2005-12.zst`` (in
``../shared/data/reddit_pushshift_samples``, or ``$ANALYSIS_SHARED_DATA``; not redistributed),
written as uncompressed NDJSON again and again, each copy with its own ids (``id``,
``parent_id`` and ``link_id`` get the copy's suffix, so each copy keeps its reply trees), in a
temporary folder. Each size runs ``ingest_to_files`` (what ``python -m analysis ingest`` does,
default options) once in a fresh subprocess. Writes the ``## Ingest at scale`` section of
docs/benchmarks.md.

Usage: ``python benchmarks/ingest_scale.py [--no-write] [--rows N ...]`` (about ten minutes on two
cores; the files take about 0.6 GB per million rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, peak_memory_mib, run_ingest_worker, write_section

SHARED = Path(os.environ.get("ANALYSIS_SHARED_DATA") or ROOT.parent / "shared" / "data")
SAMPLE = SHARED / "reddit_pushshift_samples" / "RC_2005-12.zst"
#: Just under the switch (the highest peak: a million rows decided in memory) and past it.
ROWS = (500_000, 990_000, 1_500_000, 3_000_000)


def _comments() -> list[dict]:
    import zstandard

    with SAMPLE.open("rb") as raw:
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(raw)
        return [json.loads(line) for line in io.TextIOWrapper(reader, encoding="utf-8")]


def build(path: Path, rows: int) -> int:
    """Write ``rows`` comments (copies of the sample's) to ``path``; return its bytes."""
    comments = _comments()
    written = 0
    with path.open("w", encoding="utf-8") as out:
        copy = 0
        while written < rows:
            suffix = f"x{copy}"
            for comment in comments[: rows - written]:
                out.write(json.dumps({**comment, **{
                    name: comment[name] + suffix for name in ("id", "parent_id", "link_id")}})
                          + "\n")
                written += 1
            copy += 1
    return path.stat().st_size


def worker(path: Path, out_dir: Path) -> dict:
    """Ingest ``path`` with the default options; times, peak memory and whether the light
    columns went to disk."""
    sys.path.insert(0, str(ROOT))
    from analysis.loaders import chunks, light_store
    from analysis.loaders.ingest import ingest_to_files

    started = time.perf_counter()
    result, _ = ingest_to_files([path], out_dir / "posts.parquet", progress=False)
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_memory_mib(),
            "rows": result.summary["rows_written"],
            "stored": result.summary["rows_read"] > chunks.LIGHT_ROWS_IN_MEMORY,
            "cache_mib": light_store.CACHE_MIB, "limit": chunks.LIGHT_ROWS_IN_MEMORY}


def _verdict(results: list[dict]) -> str:
    """How far apart the peaks of the runs with the light columns on disk are."""
    stored = [r for r in results if r["stored"]]
    if len(stored) < 2:
        return "Fewer than two runs went past the limit: nothing to compare."
    low, high = min(r["peak_mb"] for r in stored), max(r["peak_mb"] for r in stored)
    sizes = " and ".join(f"{r['rows']:,}" for r in stored)
    spread = (f"The runs past the limit ({sizes} rows) peak within {high - low:.0f} MiB "
              f"({high / low - 1:.1%}) of each other")
    if high > low * 1.05:
        return spread + ": **memory still grows** past the limit."
    return (spread + ": **memory is flat** past the limit (within 5%). The peak is the moment "
            "the light columns of the first rows move to disk.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(ROWS))
    parser.add_argument("--no-write", action="store_true", help="do not edit docs/benchmarks.md")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.out)))
        return
    if not SAMPLE.is_file():
        sys.exit(f"{SAMPLE}: not found (set ANALYSIS_SHARED_DATA to the folder holding "
                 "reddit_pushshift_samples/)")
    started = dt.datetime.now(dt.UTC)
    results = []
    with tempfile.TemporaryDirectory(prefix="ingest-scale-") as tmp:
        for rows in args.rows:
            path = Path(tmp) / f"comments_{rows}.ndjson"
            size = build(path, rows)
            got = run_ingest_worker(__file__, path)
            path.unlink()
            results.append({"size_mb": size / 1e6, **got})
            print(f"{rows:,} rows, {size / 1e6:.0f} MB: {got['seconds']:.1f} s, peak "
                  f"{got['peak_mb']:.0f} MiB, light columns "
                  f"{'on disk' if got['stored'] else 'in memory'}", flush=True)
    if args.no_write:
        return
    table = ["| rows written | MB | light columns | wall s | MB/s (wall) | "
             "peak MiB (main process) |", "|---|---|---|---|---|---|"]
    for r in results:
        table.append(f"| {r['rows']:,} | {r['size_mb']:.0f} | "
                     f"{'on disk' if r['stored'] else 'in memory'} | {r['seconds']:.1f} | "
                     f"{r['size_mb'] / r['seconds']:.1f} | {r['peak_mb']:.0f} |")
    text = f"""
Command: `python benchmarks/ingest_scale.py` (run {started:%Y-%m-%d %H:%M} UTC, machine:
{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}, Linux; one run
per size).

The input is the 1,075 real comments of the Pushshift sample `RC_2005-12.zst` written again and
again as uncompressed NDJSON, each copy with its own ids (so each copy keeps its reply trees), in
a temporary folder; each size is one fresh subprocess running `ingest_to_files` with the default
options (language detection on, all cores). Past {results[0]['limit']:,} rows
(`chunks.LIGHT_ROWS_IN_MEMORY`) the light columns go to a SQLite file (page cache
{results[0]['cache_mib']} MiB) instead of memory.

{chr(10).join(table)}

{_verdict(results)}
"""
    write_section("## Ingest at scale", text)
    print("wrote the '## Ingest at scale' section of docs/benchmarks.md")


if __name__ == "__main__":
    main()
