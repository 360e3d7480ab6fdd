"""The raw-data manifest: every file under ``data/raw/`` with its sha256, size, source and license.

``data/raw/MANIFEST.csv`` is made once, by a person, when a dataset is added::

    python -m analysis.rawdata > data/raw/MANIFEST.csv

and checked by :func:`verify` before any study reads a raw file. No code writes under ``data/raw``.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable
from pathlib import Path

from analysis.config import DATA_RAW, RAW_MANIFEST
from analysis.errors import RawDataError
from analysis.io import sha256_file

MANIFEST_FIELDS = ("path", "sha256", "bytes", "source", "license")

#: Source and license of each dataset folder, as its SOURCE.md states them.
DATASETS = {
    "rumoureval2019": (
        "SemEval-2019 Task 7 RumourEval (Gorrell et al. 2019), figshare 8845580",
        "CC BY 4.0 (annotations); tweet and Reddit content: platform terms",
    ),
    "pheme_rumour_scheme": (
        "PHEME rumour scheme dataset, journalism use case (Zubiaga et al. 2016), figshare 2068650",
        "CC BY (annotations); tweet content: Twitter terms",
    ),
    "tweeteval_stance": (
        "SemEval-2016 Task 6 stance via TweetEval (Mohammad et al. 2016; Barbieri et al. 2020)",
        "TweetEval: no restrictions; original task and Twitter terms apply",
    ),
    "tweeteval_sentiment": (
        "SemEval-2017 Task 4A sentiment via TweetEval "
        "(Rosenthal et al. 2017; Barbieri et al. 2020)",
        "TweetEval: no restrictions; original task and Twitter terms apply",
    ),
    "vader_ground_truth": (
        "VADER human-rated ground truth (Hutto and Gilbert 2014), cjhutto/vaderSentiment",
        "MIT",
    ),
}


def manifest_rows(root: Path = DATA_RAW) -> list[dict[str, str]]:
    """One manifest row per file under ``root`` (the manifest itself and README.md excluded)."""
    rows = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel in ("MANIFEST.csv", "README.md"):
            continue
        dataset = rel.split("/", 1)[0]
        source, license_ = DATASETS.get(dataset, ("", ""))
        rows.append({"path": rel, "sha256": sha256_file(path), "bytes": str(path.stat().st_size),
                     "source": source, "license": license_})
    return rows


def read_manifest(path: Path = RAW_MANIFEST) -> dict[str, dict[str, str]]:
    """The manifest as a mapping from relative path to its row."""
    if not path.is_file():
        raise RawDataError("raw-data manifest is missing; restore it from git", path)
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)}


def verify(paths: Iterable[str | Path], root: Path = DATA_RAW,
           manifest: Path = RAW_MANIFEST) -> list[str]:
    """Check raw files against the manifest before a run reads them.

    Parameters
    ----------
    paths
        Files or folders under ``root``; a folder means every manifest entry inside it.

    Returns
    -------
    list of str
        The relative paths that were checked.

    Raises
    ------
    RawDataError
        Naming the first file that is missing, unlisted or changed.
    """
    entries = read_manifest(manifest)
    checked = []
    for item in paths:
        rel = Path(item).resolve().relative_to(root.resolve()).as_posix()
        prefix = "" if rel == "." else rel + "/"
        wanted = [p for p in entries if p == rel or p.startswith(prefix)]
        if not wanted:
            raise RawDataError("not listed in data/raw/MANIFEST.csv; add it with its SOURCE.md",
                               root / rel)
        for entry in wanted:
            file = root / entry
            if not file.is_file():
                raise RawDataError("raw file is missing; restore it with 'git checkout -- "
                                   f"data/raw/{entry}'", file)
            if sha256_file(file) != entries[entry]["sha256"]:
                raise RawDataError("raw file differs from its sha256 in data/raw/MANIFEST.csv; "
                                   f"restore it with 'git checkout -- data/raw/{entry}'", file)
            checked.append(entry)
    return checked


def main() -> None:
    """Print the manifest of ``data/raw`` as CSV on stdout."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(manifest_rows())
    sys.stdout.write(buffer.getvalue())


if __name__ == "__main__":
    main()
