"""Readers of the bundled labelled data into model-ready frames (X columns plus ``label``).

Every reader returns a new DataFrame with the columns of :data:`X_COLUMNS` (``text``, ``target``,
``context``, ``depth``), the gold ``label`` as the dataset spells it, ``group`` (what folds are
grouped by: the SemEval target, the RumourEval event), ``split`` and ``uid``. Map labels to the
stance labels with :func:`map_labels` and the mappings in :data:`STANCE_MAPPINGS`.

Examples
--------
>>> frame = read_semeval_stance("val")
>>> sorted(frame["group"].unique())[:2], len(frame)
(['abortion', 'atheism'], 294)
>>> map_labels(frame, "semeval2016")["label"].value_counts().to_dict()["criticism"]
141
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import UserError

#: The columns a model reads.
X_COLUMNS = ("text", "target", "context", "depth")

#: SemEval-2016 Task 6 targets: TweetEval folder -> the target as the task names it.
SEMEVAL_TARGETS: dict[str, str] = {
    "abortion": "Legalization of Abortion",
    "atheism": "Atheism",
    "climate": "Climate Change is a Real Concern",
    "feminist": "Feminist Movement",
    "hillary": "Hillary Clinton",
}

#: TweetEval's integer codes (``mapping.txt`` of each task).
SEMEVAL_CODES = {0: "none", 1: "against", 2: "favor"}
SENTIMENT_CODES = {0: "negative", 1: "neutral", 2: "positive"}

#: How each dataset's labels map onto support / criticism / other.
STANCE_MAPPINGS: dict[str, dict[str, str]] = {
    "semeval2016": {"favor": "support", "against": "criticism", "none": "other"},
    "rumoureval2019": {"support": "support", "deny": "criticism", "query": "other",
                       "comment": "other"},
}

VADER_CORPORA = ("tweets", "nytEditorialSnippets", "movieReviewSnippets", "amazonReviewSnippets")

RUMOUREVAL_ARCHIVE = ("rumoureval2019", "rumoureval-2019-training-data.tar.gz")


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise UserError("bundled data file is missing; restore data/raw from the repository",
                        path)
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    return text.replace("\r\n", "\n").split("\n")[:-1] if text.endswith("\n") else \
        text.replace("\r\n", "\n").split("\n")


def _frame(text: Iterable, target: Iterable, context: Iterable, depth: Iterable,
           label: Iterable, group: Iterable, split: Iterable, uid: Iterable) -> pd.DataFrame:
    return pd.DataFrame({
        "uid": pd.array(list(uid), dtype="string"),
        "text": pd.array(list(text), dtype="string"),
        "target": pd.array(list(target), dtype="string"),
        "context": pd.array(list(context), dtype="string"),
        "depth": pd.array(list(depth), dtype="Int16"),
        "label": pd.array(list(label), dtype="string"),
        "group": pd.array(list(group), dtype="string"),
        "split": pd.array(list(split), dtype="string"),
    })


def read_semeval_stance(splits: str | Iterable[str] = ("train", "val"),
                        root: Path | None = None) -> pd.DataFrame:
    """SemEval-2016 Task 6 stance tweets (TweetEval copy) with labels favor / against / none.

    Parameters
    ----------
    splits
        ``"train"`` and/or ``"val"`` (the test split is held back and not bundled).
    root
        The ``tweeteval_stance`` folder (default: under ``data/raw``).
    """
    root = Path(root) if root else config.DATA_RAW / "tweeteval_stance"
    splits = [splits] if isinstance(splits, str) else list(splits)
    parts = []
    for split in splits:
        for folder, target in SEMEVAL_TARGETS.items():
            texts = _lines(root / folder / f"{split}_text.txt")
            codes = _lines(root / folder / f"{split}_labels.txt")
            if len(texts) != len(codes):
                raise UserError(f"{len(texts)} texts but {len(codes)} labels",
                                root / folder / f"{split}_text.txt")
            n = len(texts)
            parts.append(_frame(
                [t.strip() for t in texts], [target] * n, [None] * n, [None] * n,
                [SEMEVAL_CODES[int(c)] for c in codes], [folder] * n, [split] * n,
                [f"semeval2016:{split}:{folder}:{i}" for i in range(n)],
            ))
    return pd.concat(parts, ignore_index=True)


def read_tweeteval_sentiment(split: str = "val", root: Path | None = None) -> pd.DataFrame:
    """TweetEval sentiment (SemEval-2017 Task 4A) tweets: ``text`` and ``label`` (pos/neg/neu)."""
    root = Path(root) if root else config.DATA_RAW / "tweeteval_sentiment"
    texts = _lines(root / f"{split}_text.txt")
    codes = _lines(root / f"{split}_labels.txt")
    return pd.DataFrame({
        "text": pd.array([t.strip() for t in texts], dtype="string"),
        "label": pd.array([SENTIMENT_CODES[int(c)] for c in codes], dtype="string"),
    })


def read_vader_ground_truth(corpus: str, root: Path | None = None) -> pd.DataFrame:
    """Hutto & Gilbert (2014) ground truth of one corpus: ``id``, ``rating`` (mean, -4..4),
    ``text``."""
    if corpus not in VADER_CORPORA:
        raise UserError(f"unknown VADER corpus {corpus!r}; use one of {', '.join(VADER_CORPORA)}")
    root = Path(root) if root else config.DATA_RAW / "vader_ground_truth"
    rows = []
    for line in _lines(root / f"{corpus}_GroundTruth.txt"):
        if not line.strip():
            continue
        ident, rating, text = line.split("\t", 2)
        rows.append((ident, float(rating), text))
    return pd.DataFrame(rows, columns=["id", "rating", "text"])


def read_rumoureval(splits: str | Iterable[str] = ("train", "dev"),
                    archive: Path | None = None) -> pd.DataFrame:
    """RumourEval 2019 subtask A posts with SDQC labels, via the project's RumourEval loader.

    ``text`` is the post, ``target`` the text of its thread's source post (the rumour),
    ``context`` its parent's text (null for a source post), ``depth`` its depth in the thread,
    ``group`` the event (``reddit`` for Reddit threads), ``split`` from the key files.
    """
    try:
        from analysis.loaders.ingest import ingest
    except ImportError as exc:  # the loader is another task's; say so plainly
        raise UserError("the RumourEval loader (analysis.loaders.ingest) is not available in "
                        "this checkout") from exc
    archive = Path(archive) if archive else config.DATA_RAW.joinpath(*RUMOUREVAL_ARCHIVE)
    splits = [splits] if isinstance(splits, str) else list(splits)
    result = ingest([archive], format="rumoureval", keep_authors=True, detect_language=False,
                    progress=False)
    return rumoureval_frame(result.posts, result.labels, splits)


def rumoureval_frame(posts: pd.DataFrame, labels: pd.DataFrame,
                     splits: Iterable[str] = ("train", "dev")) -> pd.DataFrame:
    """Join a RumourEval posts table and its gold labels into the model frame (see above)."""
    splits = list(splits)
    sdqc = labels[labels["task"] == "sdqc"]
    sdqc = sdqc[sdqc["split"].isin(splits)]
    # labelled Reddit "more" stubs have no post (no text): they cannot be learned from
    sdqc = sdqc[sdqc["uid"].isin(posts["uid"])]
    events = labels[labels["task"] == "event"].set_index("uid")["label"]
    text = full_text(posts).set_axis(posts["uid"])
    uid_of = {(p, i): u for p, i, u in zip(posts["platform"].astype(str), posts["id"],
                                           posts["uid"], strict=True)}
    info = posts.set_index("uid")
    rows = info.loc[sdqc["uid"].to_numpy()]
    platform = rows["platform"].astype(str).to_numpy()
    root_uid = [uid_of.get((p, r)) if isinstance(r, str) else None
                for p, r in zip(platform, rows["root_id"], strict=True)]
    parent_uid = [uid_of.get((p, r)) if isinstance(r, str) else None
                  for p, r in zip(platform, rows["parent_id"], strict=True)]
    own = rows.index.to_numpy()
    root_uid = [r if r is not None else u for r, u in zip(root_uid, own, strict=True)]
    target = [text.get(r) for r in root_uid]
    context = [text.get(p) if p is not None else None for p in parent_uid]
    group = [events.get(r, "unknown") for r in root_uid]
    return _frame(text.loc[own].to_numpy(), target, context, rows["depth"].to_numpy(),
                  sdqc["label"].to_numpy(), group, sdqc["split"].to_numpy(), own)


def full_text(posts: pd.DataFrame) -> pd.Series:
    """A post's title and text together (Reddit submissions keep their claim in the title); a
    blank text (a link post's) adds nothing to its title."""
    text = posts["text"].astype("object")
    if "title" not in posts.columns:
        return text
    title = posts["title"].astype("object")
    both = [f"{t} {x}" if isinstance(t, str) and isinstance(x, str) and x.strip() else
            (t if isinstance(t, str) else x) for t, x in zip(title, text, strict=True)]
    return pd.Series(both, index=posts.index, dtype="object")


def map_labels(frame: pd.DataFrame, mapping: str | Mapping[str, str],
               label_col: str = "label") -> pd.DataFrame:
    """A copy of ``frame`` with ``label_col`` mapped (e.g. favor -> support); unknown -> error."""
    table = STANCE_MAPPINGS[mapping] if isinstance(mapping, str) else dict(mapping)
    values = frame[label_col].astype("string")
    unknown = sorted(set(values.dropna()) - set(table))
    if unknown:
        raise UserError(f"labels {unknown[:5]} are not in the mapping {sorted(table)}")
    out = frame.copy()
    out[label_col] = pd.array([table[v] if isinstance(v, str) else None for v in values],
                              dtype="string")
    return out


def default_training_frame(*, semeval_splits: Iterable[str] = ("train", "val"),
                           rumoureval_splits: Iterable[str] | None = ("train", "dev"),
                           ) -> pd.DataFrame:
    """The default model's training data: SemEval-2016 and RumourEval 2019, mapped to stance.

    ``rumoureval_splits=None`` leaves RumourEval out. A ``source`` column names the dataset.
    """
    semeval = read_semeval_stance(tuple(semeval_splits))
    rumoureval = read_rumoureval(tuple(rumoureval_splits)) if rumoureval_splits else None
    return recipe_frame(semeval, rumoureval)


#: Share of RumourEval rows whose context and depth the default recipe blanks (chosen by a hash
#: of the uid): without it, "no thread information" would mean "SemEval" to the model, and
#: replies labelled without depth or parent (a plain CSV) came out about 80% criticism on
#: RumourEval dev.
THREAD_INFO_DROPOUT = 0.5


def drop_thread_info(frame: pd.DataFrame, share: float = THREAD_INFO_DROPOUT) -> pd.DataFrame:
    """A copy with ``context`` and ``depth`` blanked for a deterministic ``share`` of rows."""
    import hashlib

    out = frame.copy()
    cut = int(share * 1000)
    mask = np.array([int(hashlib.sha256(str(u).encode()).hexdigest()[:8], 16) % 1000 < cut
                     for u in out["uid"]], dtype=bool)
    out.loc[mask, "context"] = None
    out.loc[mask, "depth"] = pd.NA
    return out


def recipe_frame(semeval: pd.DataFrame | None, rumoureval: pd.DataFrame | None) -> pd.DataFrame:
    """The default recipe's training rows from raw-label SemEval and RumourEval frames: labels
    mapped to stance, thread information blanked for part of RumourEval, ``source`` added."""
    parts = []
    if semeval is not None:
        parts.append(map_labels(semeval, "semeval2016").assign(source="semeval2016"))
    if rumoureval is not None:
        parts.append(drop_thread_info(map_labels(rumoureval, "rumoureval2019"))
                     .assign(source="rumoureval2019"))
    out = pd.concat(parts, ignore_index=True)
    out["source"] = out["source"].astype("string")
    return out


def read_user_table(path: str | Path) -> pd.DataFrame:
    """A user's table as ``train``, ``evaluate`` and ``label`` read it: as
    :func:`analysis.io.read_table`, with a CSV file's delimiter (``,``, ``;``, tab or ``|``)
    sniffed from its header line as ``ingest`` sniffs it
    (:func:`analysis.loaders.table.guess_delimiter`): spreadsheets in many locales save CSV
    with semicolons. A file that is not UTF-8 is a :class:`~analysis.errors.UserError` saying
    so."""
    from analysis.io import read_table
    from analysis.loaders.table import guess_delimiter

    source = Path(path)
    if source.suffix.lower() == ".csv" and source.is_file():
        return read_table(source, delimiter=guess_delimiter(source))
    return read_table(source)


def frame_digest(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> str:
    """sha256 of a frame's values (column names, then each value as text): a training-data key."""
    import hashlib

    digest = hashlib.sha256()
    cols = list(columns) if columns is not None else list(frame.columns)
    for col in cols:
        digest.update(f"\x1e{col}\x1f".encode())
        values = frame[col].astype("object").where(frame[col].notna(), None).tolist()
        digest.update("\x1f".join("\x00" if v is None else str(v) for v in values).encode())
    return digest.hexdigest()
