"""The raw-data manifest: every file under ``data/raw/`` with its sha256, size, source and license.

``data/raw/MANIFEST.csv`` is made once, by a person, when a dataset is added::

    python -m analysis.rawdata > data/raw/MANIFEST.csv

(the same command records a researcher's own exports, and updates the manifest after an intended
change), and checked by :func:`verify` before any study reads a raw file: every file a study reads
must be listed with its sha256. Hidden files and folders (names starting with ``.``, such as
``.DS_Store``) are neither listed nor checked, since the loaders do not read them either. A path
under ``data/raw`` counts as it is written: a symbolic link there to a file or folder elsewhere
is listed and checked under its own name (a run reads through it). No code writes under
``data/raw``.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from analysis import config
from analysis.errors import RawDataError
from analysis.io import sha256_file

MANIFEST_FIELDS = ("path", "sha256", "bytes", "source", "license")
#: Files at the top of ``data/raw`` that are not data (and so not in the manifest).
NOT_DATA = ("MANIFEST.csv", "README.md")
#: The command that writes the manifest, as the error messages name it.
MAKE_MANIFEST = "python -m analysis.rawdata > data/raw/MANIFEST.csv"

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


def raw_relative(path: str | Path, root: Path | None = None) -> str | None:
    """``path`` relative to ``root`` (default ``data/raw``) as the manifest names it, or None
    when it is not under ``root``.

    The path as written counts first, so that a symbolic link under ``root`` to a file or folder
    elsewhere is under it (a run reads through the link); a path with ``..`` in it, or one that
    reaches ``root`` only through links, counts by where it leads.

    Examples
    --------
    >>> raw_relative("/p/data/raw/own/x.jsonl", Path("/p/data/raw"))
    'own/x.jsonl'
    >>> raw_relative("/p/data/other.jsonl", Path("/p/data/raw")) is None
    True
    """
    root = config.DATA_RAW if root is None else root
    path = Path(path)
    candidates = [(path, root)] if ".." not in path.parts else []
    for where, base in [*candidates, (path.resolve(), root.resolve())]:
        try:
            return where.relative_to(base).as_posix()
        except ValueError:
            continue
    return None


def data_files(folder: Path, root: Path | None = None) -> list[str]:
    """The files under ``folder`` that the manifest lists, as paths relative to ``root``
    (``data/raw``; see :func:`raw_relative`): every file but hidden ones (the loaders skip them
    too) and, at the top of ``root``, the manifest and README.md."""
    from analysis.loaders.ingest import read_folder_files  # what a loader reads in a folder

    root = config.DATA_RAW if root is None else root
    inside = PurePosixPath(raw_relative(folder, root))
    rels = ((inside / path.relative_to(folder).as_posix()).as_posix()
            for path in read_folder_files(folder))
    return [rel for rel in rels if rel not in NOT_DATA]


def listed_files(root: Path | None = None) -> list[str]:
    """Every file the manifest lists: the :func:`data_files` of ``root`` (default
    ``data/raw``), those in folders that symbolic links under it point to included, under the
    link's name (a study may read through the link); a folder reached twice is listed once."""
    root = config.DATA_RAW if root is None else root
    return data_files(root, root)


def manifest_rows(root: Path | None = None) -> list[dict[str, str]]:
    """One manifest row per file under ``root`` (default ``data/raw``; see
    :func:`listed_files`)."""
    root = config.DATA_RAW if root is None else root
    rows = []
    for rel in listed_files(root):
        path = root / rel
        dataset = rel.split("/", 1)[0]
        source, license_ = DATASETS.get(dataset, ("", ""))
        rows.append({"path": rel, "sha256": sha256_file(path), "bytes": str(path.stat().st_size),
                     "source": source, "license": license_})
    return rows


def read_manifest(path: Path | None = None) -> dict[str, dict[str, str]]:
    """The manifest (default ``data/raw/MANIFEST.csv``) as a mapping from relative path to its
    row."""
    path = config.RAW_MANIFEST if path is None else path
    if not path.is_file():
        raise RawDataError("raw-data manifest is missing; restore it from git (git checkout -- "
                           f"data/raw/MANIFEST.csv), or in your own project make it with "
                           f"'{MAKE_MANIFEST}'", path)
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)}


def verify(paths: Iterable[str | Path], root: Path | None = None,
           manifest: Path | None = None) -> list[str]:
    """Check raw files against the manifest before a run reads them.

    Parameters
    ----------
    paths
        Files or folders under ``root`` (default ``data/raw``) as the study gives them (see
        :func:`raw_relative`); a folder means every file in it (hidden files aside, as the
        loaders skip them), and each must be listed.
    manifest
        Default ``data/raw/MANIFEST.csv``.

    Returns
    -------
    list of str
        The relative paths that were checked.

    Raises
    ------
    RawDataError
        Naming the first file that is missing, unlisted or changed, or a path not under
        ``root``.
    """
    root = config.DATA_RAW if root is None else root
    entries = read_manifest(manifest)
    checked = []
    for item in paths:
        rel = raw_relative(item, root)
        if rel is None:
            raise RawDataError(f"is not under {root}, so data/raw/MANIFEST.csv cannot check it",
                               item)
        prefix = "" if rel == "." else rel + "/"
        wanted = [p for p in entries if p == rel or p.startswith(prefix)]
        if not wanted:
            raise RawDataError(f"not listed in data/raw/MANIFEST.csv; record it with "
                               f"'{MAKE_MANIFEST}' (a new dataset folder also needs its "
                               "SOURCE.md)", root / rel)
        if (root / rel).is_dir():
            _check_listed(data_files(root / rel, root), entries, root, rel)
        for entry in wanted:
            _check_file(root, entry, entries[entry]["sha256"])
            checked.append(entry)
    return checked


def _check_listed(files: Iterable[str], entries: Mapping[str, object], root: Path,
                  folder: str) -> None:
    """A :class:`RawDataError` for the first file in a source folder the manifest lacks: the
    loaders would read it, so it would change the results unchecked."""
    for rel in files:
        if rel not in entries:
            raise RawDataError(f"in the study's source folder data/raw/{folder} but not listed "
                               "in data/raw/MANIFEST.csv, so the run would read it unchecked; "
                               "move it out of the folder, or if it belongs to the data, record "
                               f"it with '{MAKE_MANIFEST}'", root / rel)


def _check_file(root: Path, entry: str, sha256: str) -> None:
    """A :class:`RawDataError` when a listed file is missing or differs from its sha256."""
    file = root / entry
    fix = (f"restore it (git checkout -- data/raw/{entry} if it is tracked) or, if the change "
           f"is intended, update the manifest with '{MAKE_MANIFEST}'")
    if not file.is_file():
        raise RawDataError(f"raw file is missing; {fix}", file)
    if sha256_file(file) != sha256:
        raise RawDataError(f"raw file differs from its sha256 in data/raw/MANIFEST.csv; {fix}",
                           file)


def main() -> None:
    """Print the manifest of ``data/raw`` as CSV on stdout."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(manifest_rows())
    sys.stdout.write(buffer.getvalue())


if __name__ == "__main__":
    main()
