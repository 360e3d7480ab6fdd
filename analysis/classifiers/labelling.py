"""Labelling a table of posts with a model: batched, optionally parallel, into the labels table.

For a posts table the target of a reply is, by default, its thread root's text (the post it
answers, in RumourEval terms the rumour), the context its parent's text and the depth its depth.
Replies whose root is not in the table (or has no text) get no target
(:func:`replies_without_root` counts them; ``label`` says so). Empty texts, and texts without a
single Unicode letter or digit (emoji or punctuation only, a zero-width space) once @handles and
links are set aside (:func:`has_words`; "@someone https://t.co/abc"), get the label ``other``
(when the model has it) and uniform probabilities; texts the language detector marks as not
English (``lang_detected`` or ``lang``; in a table without either, the detector of
:mod:`analysis.loaders.language` is run on the texts) keep their label (the one they get as
English) with probabilities pulled halfway to uniform: a low confidence, not a crash. A uid on
rows repeated exactly is labelled once (with a warning); on rows that differ it is a
:class:`UserError`, as in ``train`` and ``evaluate``. Labels follow the model's decision rule
(for the default model: balanced class costs), probabilities its calibrated estimates.
"""

from __future__ import annotations

import hashlib
import os
import re
import string
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.classifiers.datasets import X_COLUMNS
from analysis.classifiers.linear import labels_from_proba, proba_and_weights
from analysis.errors import UserError, check_jobs, check_table, worker_count
from analysis.progress import progress_bar
from analysis.schema import LABELS, STANCE_LABELS, STANCE_TASK, conform, id_texts, proba_column

#: Rows per batch of :func:`label_posts`.
BATCH_SIZE = 20_000

#: Shown a progress bar above this many rows (when ``progress`` is None and stderr is a tty).
PROGRESS_MIN_ROWS = 50_000


def labels_table(uids: Sequence, proba: np.ndarray, classes: Sequence[str], *,
                 labeler_type: str, labeler_id: str, task: str = STANCE_TASK,
                 run_id: str | None = None, labels: Sequence[str] | None = None,
                 weights: np.ndarray | None = None) -> pd.DataFrame:
    """The labels table: schema columns, with one ``proba_<label>`` column per class after
    ``label``. ``label`` is ``labels`` when given, else the class with the largest
    ``proba * weights`` (``weights``: the model's decision weights, one row for all rows or one
    per row; default none). A null uid stays null (never the text ``"<NA>"``); :func:`label_posts`
    refuses a table with null uids."""
    proba = np.asarray(proba, dtype=float)
    classes = [str(c) for c in classes]
    if labels is None:
        labels = labels_from_proba(proba, classes, weights) if len(proba) \
            else np.array([], dtype=object)
    frame = pd.DataFrame({
        "uid": pd.array([None if pd.isna(u) else str(u) for u in uids], dtype="string"),
        "task": task,
        "label": np.asarray(list(labels), dtype=object),
        "labeler_type": labeler_type,
        "labeler_id": labeler_id,
        "run_id": run_id,
        "created_at": pd.NaT,
    })
    base = conform(frame, LABELS)
    probas = pd.DataFrame({proba_column(c): pd.array(proba[:, j], dtype="Float64")
                           for j, c in enumerate(classes)})
    position = list(base.columns).index("label") + 1
    return pd.concat([base.iloc[:, :position], probas, base.iloc[:, position:]], axis=1)


def posts_frame(posts: pd.DataFrame, *, target: str | None = None, text_col: str = "text",
                target_col: str | None = None, context_col: str | None = None,
                label_col: str | None = None, group_col: str | None = None,
                source: object = None) -> pd.DataFrame:
    """The model frame of a posts table (or any table with the named columns).

    As :func:`~analysis.classifiers.training.model_frame`, with defaults for the columns not
    named: a ``target`` and a ``context`` column when the table has them (as a hand-coded sample
    from ``annotate adjudicate --posts`` does); else, for a posts table, the thread root's text
    and the parent's text. ``label``, ``train`` and ``evaluate`` all read tables this way, so
    they give models the same inputs.
    """
    from analysis.classifiers.training import model_frame

    asked_target_col, asked_context_col = target_col, context_col
    if target is None and target_col is None and "target" in posts.columns:
        target_col = "target"
    if context_col is None and "context" in posts.columns:
        context_col = "context"
    frame = model_frame(posts, text_col=text_col, target_col=target_col, target=target,
                        context_col=context_col, label_col=label_col, group_col=group_col,
                        source=source)
    if _is_posts(posts) and text_col in posts.columns:
        texts, text_of, platforms = _post_texts(posts, text_col, source)
        if text_col == "text" and "title" in posts.columns:
            frame["text"] = pd.array([t if isinstance(t, str) else None for t in texts],
                                     dtype="string")

        def lookup(column: str) -> list[object]:
            out = []
            for platform, ident in zip(platforms, _ids(posts, column, source), strict=True):
                value = text_of.get((platform, ident)) if ident is not None else None
                out.append(value if isinstance(value, str) else None)
            return out

        if target is None and target_col is None:
            roots = lookup("root_id")
            own = list(texts)
            is_root = posts["parent_id"].isna().to_numpy()
            frame["target"] = pd.array(
                [o if (r is None and root) else r for r, o, root in
                 zip(roots, own, is_root, strict=True)], dtype="string")
        if context_col is None:
            frame["context"] = pd.array(lookup("parent_id"), dtype="string")
    frame.attrs["columns"] = {"text": text_col, "label": label_col, "target": asked_target_col,
                              "fixed_target": target, "context": asked_context_col,
                              "group": group_col}  # as asked: a model card records them
    return frame


class ModelInputs(NamedTuple):
    """The columns a model reads a table with (:func:`model_inputs`): a fixed ``target`` or a
    ``target_col``, the ``text_col`` and the ``context_col`` (None: the table's default, see
    :func:`posts_frame`)."""

    target: str | None
    text_col: str
    target_col: str | None
    context_col: str | None


def model_inputs(model: object, table: pd.DataFrame, *, target: str | None = None,
                 text_col: str | None = None, target_col: str | None = None,
                 context_col: str | None = None, source: object = None
                 ) -> tuple[ModelInputs, list[str]]:
    """The fixed target, text, target and context columns to apply ``model`` with to ``table``
    (read from ``source``), and notes that say which came from the model's card.

    Those given are used; for those not given, a ``.skops`` ``model`` (its path) is applied
    with those it was trained with, as its card records them under ``columns`` (``train
    --text-col``, ``--target``, ``--target-col``, ``--context-col``); ``default``, ``vader`` and
    fitted models have no card to read, and get the table's defaults (the ``text`` column; for
    target and context see :func:`posts_frame`), except that a model loaded from a file
    (:func:`~analysis.classifiers.persistence.load_model`) is applied toward the fixed target
    its card recorded (``fixed_target_``). ``label`` and :func:`label_posts` (and so
    ``evaluate``) read a table this way, ``label`` printing the notes on stderr and
    :func:`label_posts` giving them as warnings.

    A trained fixed target is :func:`analysis.classifiers.model_target`'s. A trained column is
    used when the table has it, with a note when it is not the column read by default anyway
    (``text``, ``target``, ``context``); else the note says the table lacks it and the table's
    default is used instead (the ``text`` / ``target`` / ``context`` column, else a posts
    table's thread root / parent, else no target or context). A table with neither the trained
    text column nor ``text`` is refused when the model frame is made (missing text column).
    """
    from analysis.classifiers import model_target

    name = model if isinstance(model, str) else None
    notes: list[str] = []
    if name is not None:
        chosen, from_card = model_target(name, target, target_col)
    else:  # a loaded model: the fixed target its card recorded (persistence.load_model)
        trained = getattr(model, "fixed_target_", None)
        from_card = target is None and target_col is None and isinstance(trained, str)
        chosen = trained if from_card else target
    if from_card:
        which = name if name is not None else getattr(model, "model_id_", "the model")
        notes.append(f"labelling toward {chosen!r}, the fixed target {which} was trained with; "
                     "--target or --target-col (in Python, target= or target_col=) gives "
                     "another")
    trained = _trained_columns(name)
    where = "the table" if source is None else source
    if text_col is None:
        text_col = _trained_column(name, trained.get("text"), "text", table, where,
                                   "--text-col", notes) or "text"
    if chosen is None and target_col is None:
        target_col = _trained_column(name, trained.get("target"), "target", table, where,
                                     "--target-col or --target", notes)
    if context_col is None:
        context_col = _trained_column(name, trained.get("context"), "context", table, where,
                                      "--context-col", notes)
    return ModelInputs(chosen, text_col, target_col, context_col), notes


def _trained_columns(model: str | None) -> dict:
    """The ``columns`` of the card of a ``.skops`` ``model`` ({} for None, ``default`` and
    ``vader``, whose inputs are not named columns, and for a card without them)."""
    from analysis.classifiers import MODEL_NAMES, read_card

    if model is None or model in MODEL_NAMES or not model.strip() or Path(model).is_dir():
        return {}  # '' and folders are refused by get_model
    trained = read_card(model).get("columns")
    return trained if isinstance(trained, dict) else {}


#: What a table gives a model as target and context when no column is named and the table has
#: none named ``target`` / ``context`` (:func:`posts_frame`).
_POSTS_DEFAULT = {"target": "each reply's thread root", "context": "each reply's parent"}


def _trained_column(model: str | None, trained: object, role: str, table: pd.DataFrame,
                    where: object, options: str, notes: list[str]) -> str | None:
    """The ``role`` (text, target or context) column to read: ``trained``, the card's, when the
    table has it (None when the card names none); a note added to ``notes`` when that changes
    what the table gives the model. A trained text column the table lacks is returned when
    the table has no ``text`` column either, so that the error names it."""
    if not isinstance(trained, str) or not trained:
        return None
    columns = set(table.columns)
    if trained in columns:
        if trained != role:  # a 'text' / 'target' / 'context' column is read without being named
            notes.append(f"reading the {role} from the {trained!r} column, the {role} column "
                         f"{model} was trained with; {options} gives another")
        return trained
    if role in columns:
        instead = f"its {role!r} column"
    elif role == "text":
        return trained  # nothing to read instead: refused as a missing text column
    elif _is_posts(table):
        instead = _POSTS_DEFAULT[role]
    else:
        instead = f"no {role}"
    notes.append(f"{model} was trained with the {role} column {trained!r}, which {where} does "
                 f"not have; labelling with {instead} instead (give {options})")
    return None


def _is_posts(posts: pd.DataFrame) -> bool:
    """Whether ``posts`` is a posts table (with reply links), whose rows get their thread root's
    text as the default target."""
    return {"platform", "id", "root_id", "parent_id"} <= set(posts.columns)


def _post_texts(posts: pd.DataFrame, text_col: str, source: object
                ) -> tuple[list[object], dict[tuple[str, str | None], object], list[str]]:
    """Each row's text as the models read it (a Reddit submission's title and body together),
    the text of each ``(platform, id)``, and each row's platform."""
    texts = posts[text_col].astype("object")
    if text_col == "text" and "title" in posts.columns:
        # a Reddit submission's claim is in its title: read title and body together
        from analysis.classifiers.datasets import full_text

        texts = full_text(posts)
    texts = list(texts)
    platforms = posts["platform"].astype(str).tolist()
    keys = zip(platforms, _ids(posts, "id", source), strict=True)
    return texts, dict(zip(keys, texts, strict=True)), platforms


def root_note(posts: pd.DataFrame, text_col: str = "text", source: object = None) -> str | None:
    """What to tell about the replies of a posts table labelled without a target because their
    thread root is not in the table or has no text (:func:`replies_without_root`); None when
    there are none."""
    if "uid" in posts.columns:  # rows repeated exactly are labelled once: count them once
        posts = posts.drop_duplicates(subset="uid")
    missing, textless = replies_without_root(posts, text_col=text_col, source=source)
    if not missing and not textless:
        return None
    if not textless:
        what = f"{missing} {_replies(missing)} no root post in the table"
    elif not missing:
        what = (f"{textless} {_replies(textless)} a root post without text (deleted or removed) "
                "in the table")
    else:
        total = missing + textless
        what = (f"{total} {_replies(total)} no root post text in the table ({missing} no root "
                f"post, {textless} a root without text)")
    return (f"{what}; labelled without a target (give --target or --target-col; in Python, "
            "target= or target_col=)")


def _replies(n: int) -> str:
    return "reply has" if n == 1 else "replies have"


def replies_without_root(posts: pd.DataFrame, *, text_col: str = "text",
                         source: object = None) -> tuple[int, int]:
    """How many replies of a posts table get no target from their thread root: ``(missing,
    textless)``, the replies (rows with a ``parent_id``) whose root post is not in the table (or
    not known), and those whose root is in it without a text (deleted, removed). Both are
    labelled without a target unless one is given. ``(0, 0)`` for a table that is not a posts
    table.

    >>> posts = pd.DataFrame({"platform": ["twitter"] * 3, "id": ["1", "2", "3"],
    ...                       "root_id": ["1", "1", "9"], "parent_id": [None, "1", "9"],
    ...                       "text": ["a claim", "fake", "so true"]})
    >>> replies_without_root(posts)
    (1, 0)
    """
    if not _is_posts(posts) or text_col not in posts.columns:
        return 0, 0
    _, text_of, platforms = _post_texts(posts, text_col, source)
    missing = textless = 0
    replies = posts["parent_id"].notna().to_numpy()
    roots = _ids(posts, "root_id", source)
    for platform, root, reply in zip(platforms, roots, replies, strict=True):
        if not reply:
            continue
        if root is None or (platform, root) not in text_of:
            missing += 1
        elif not isinstance(text_of[(platform, root)], str):
            textless += 1
    return missing, textless


def _ids(posts: pd.DataFrame, column: str, source: object) -> list[str | None]:
    """An id column as exact text, so that numeric and text ids of one post match; an id that
    may have been rounded in a float is a :class:`UserError`."""
    try:
        return id_texts(posts[column]).tolist()
    except ValueError as exc:
        raise UserError(str(exc), source) from None


def _check_uids(posts: pd.DataFrame, source: object) -> None:
    """A :class:`UserError` when a ``uid`` column has nulls (its labels would join to no post);
    a table without the column is labelled by its ``id`` or row number instead."""
    if "uid" not in posts.columns:
        return
    missing = int(posts["uid"].isna().sum())
    if missing:
        raise UserError(f"{missing} of {len(posts)} rows have no uid; fill them in, or drop the "
                        "uid column to label rows by their id or row number", source)


#: What does not count as words of a text (:func:`has_words`): @handles (ASCII letters, digits
#: and ``_``, with dotted parts for Instagram's ``@some.user`` and Bluesky's
#: ``@name.bsky.social``; both platforms write handles in lower case, so a dotted part starting
#: with a capital is a sentence glued to a handle: "@ann.Great point"), Reddit's ``u/name``
#: mentions and links (with a scheme, ``www.``, or Twitter's ``pic.twitter.com/...``; up to the
#: first character a URL cannot hold unescaped, so that a word glued to a link,
#: "https://t.co/x”LIES", is kept). Hashtags do count: the word of "#fake" or "#PrayForParis"
#: says what its writer thinks.
NOT_WORDS = re.compile(r"@[A-Za-z0-9_]+(?:\.[a-z0-9_-]+)*(?i:'s)?|(?i:(?<![\w/])/?u/[\w-]+)"
                       r"|(?i:(?:https?://|www\.|pic\.twitter\.com/)[\x21-\x7e]+)")


#: :data:`NOT_WORDS`, else a letter or digit (group 1; ``[^\W_]`` is what ``str.isalnum`` takes):
#: scanned left to right, it finds what :func:`has_words` looks for without rewriting the text.
_NOT_WORDS_OR_WORD = re.compile(f"(?:{NOT_WORDS.pattern})|([^\\W_])")


def has_words(text: object) -> bool:
    """Whether ``text`` is a string with at least one Unicode letter or digit outside @handles,
    ``u/`` mentions and links (:data:`NOT_WORDS`). Texts without (empty, emoji or punctuation
    only, a zero-width space, "@someone https://t.co/abc", "@a @b") are labelled as empty texts
    are: no model can tell their stance.

    >>> [has_words(t) for t in ["@ann https://t.co/x1", "@a @b 🙏", "#fake", "@ann so true"]]
    [False, False, True, True]
    """
    if not isinstance(text, str):
        return False
    for match in _NOT_WORDS_OR_WORD.finditer(text):  # the first letter or digit outside them
        if match.group(1) is not None:
            return True
    return False


def collapse_repeats(text: object) -> object:
    """``text`` as one copy when it is one phrase written several times over (its
    whitespace-separated words are two or more copies of the same words: "so sad so sad so sad"
    is "so sad"), else as it is. The models' lexicon and cue features count words, so a phrase
    repeated thirty times would otherwise weigh thirty times over and could change the label;
    repeating a phrase says it louder, not something else.

    >>> collapse_repeats("so sad so sad so sad"), collapse_repeats("FAKE  FAKE FAKE")
    ('so sad', 'FAKE')
    >>> collapse_repeats("so sad, so sad, so sad."), collapse_repeats("so sad so")
    ('so sad,', 'so sad so')
    """
    if not isinstance(text, str):
        return text
    words = text.split()
    n = len(words)
    if n < 2:
        return text

    def key(word: str) -> str:
        return word.strip(string.punctuation).casefold()  # "sad," is "sad"

    first, keys = key(words[0]), None
    if first and text.casefold().count(first) < 2:  # no later word can be a copy of the first
        return text
    for period in range(1, n // 2 + 1):
        if n % period == 0 and key(words[period]) == first:  # a copy may start here
            keys = keys or [key(word) for word in words]
            if keys == keys[:period] * (n // period):
                return " ".join(words[:period])
    return text


def _language_column(posts: pd.DataFrame) -> str | None:
    """The column that says which rows are in English: ``lang_detected``, else ``lang`` (the
    first of them with any value); None when the table has neither with a value, and the
    language detector is to be run on the texts."""
    for col in ("lang_detected", "lang"):
        if col in posts.columns and posts[col].notna().any():
            return col
    return None


def _not_english(lang: pd.Series) -> np.ndarray:
    lang = lang.astype("object")
    return (lang.notna() & ~lang.isin(["en", "und"])).to_numpy(dtype=bool)


def _detect_non_english(read: pd.Series) -> np.ndarray:
    """Texts the language detector (:mod:`analysis.loaders.language`, as ``ingest`` runs it)
    finds not English, given as the models read them (:func:`read_texts`); texts too short
    for a guess count as English."""
    from analysis.loaders.language import detect_languages

    return _not_english(detect_languages(pd.Series(read, dtype="object"))[0])


def non_english(table: pd.DataFrame, texts: pd.Series) -> np.ndarray:
    """Which rows of ``table`` are not in English: by its ``lang_detected`` or ``lang`` column,
    or, in a table without either, by the language detector run on ``texts``."""
    column = _language_column(table)
    if column is None:
        return _detect_non_english(read_texts(texts))
    return _not_english(table[column])


def read_texts(texts: pd.Series) -> pd.api.extensions.ExtensionArray:
    """``texts`` as the models read them: a phrase repeated is one copy of it
    (:func:`collapse_repeats`)."""
    return pd.array([collapse_repeats(t) for t in texts.astype("object")], dtype="string")


def model_input(X: pd.DataFrame) -> pd.DataFrame:
    """The model frame ``X`` as the models read it (:func:`read_texts`)."""
    return X.assign(text=read_texts(X["text"]))


def apply_text_rules(proba: np.ndarray, labels: Sequence[str], texts: pd.Series,
                     model: object, *, foreign: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities and labels a model gave ``texts`` (in the order of ``model.classes_``),
    after the rules of the module docstring: a text without words (:func:`has_words`) gets
    uniform probabilities and the label of :func:`_empty_text_label`; a ``foreign`` one (not in
    English) keeps its label, with its probabilities pulled halfway to uniform."""
    classes = [str(c) for c in model.classes_]
    proba = np.array(proba, dtype=float)
    labels = np.asarray(labels, dtype=object).copy()
    empty = ~texts.astype("object").map(has_words).to_numpy(dtype=bool)
    uniform = np.full(len(classes), 1.0 / len(classes))
    if foreign is not None:
        pulled = np.asarray(foreign, dtype=bool) & ~empty
        proba[pulled] = 0.5 * proba[pulled] + 0.5 * uniform
    if empty.any():
        proba[empty] = uniform
        labels[empty] = _empty_text_label(model, classes)
    return proba, labels


def predict_with_rules(model: object, X: pd.DataFrame, *, foreign: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (in the order of ``model.classes_``) and labels of a fitted ``model`` for
    the model frame ``X``, with the text rules of the module docstring (:func:`model_input`,
    :func:`apply_text_rules`). ``label``, ``evaluate``, the cross-validation of ``train`` and
    out-of-group prediction all label this way, so that what is validated is what is written.
    """
    return _predict_read(model, model_input(X), X["text"], foreign)


def _predict_read(model: object, read: pd.DataFrame, texts: pd.Series,
                  foreign: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict_with_rules` of ``read``, the model frame as the models read it
    (:func:`model_input`), whose texts as written are ``texts``."""
    classes = [str(c) for c in model.classes_]
    proba, weights = proba_and_weights(model, read)
    _check_shape(proba, len(read), classes)
    labels = labels_from_proba(proba, classes, weights)
    return apply_text_rules(proba, labels, texts, model, foreign=foreign)


def _predict_batch(model: object, X: pd.DataFrame, foreign: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict_with_rules` of one batch, its texts read once; ``foreign`` None: the
    language detector is run on the batch's texts (in the worker, so that ``jobs`` share the
    work)."""
    read = model_input(X)
    if foreign is None:
        foreign = _detect_non_english(read["text"])
    return _predict_read(model, read, X["text"], foreign)


def _check_shape(proba: np.ndarray, rows: int, classes: list[str]) -> None:
    """A :class:`UserError` when a model gave other than one row of probabilities per row and
    one column per class (a model that does not read the model frame: a scikit-learn pipeline
    that reads a list of texts takes the frame's column names for its texts)."""
    if proba.ndim != 2 or proba.shape != (rows, len(classes)):
        raise UserError(f"the model gave {proba.shape[0] if proba.ndim else 0} rows of "
                        f"probabilities for {rows} rows: it does not read the model frame "
                        "(text, target, context, depth); use a model from 'python -m analysis "
                        "train', 'default' or 'vader'")


def label_posts(posts: pd.DataFrame, model: object | str = "default", *,
                target: str | None = None, text_col: str | None = None,
                target_col: str | None = None, context_col: str | None = None,
                batch_size: int = BATCH_SIZE, jobs: int = 1, progress: bool | None = None,
                source: object = None) -> pd.DataFrame:
    """Label each row of ``posts`` with ``model``; return the labels table.

    Parameters
    ----------
    posts
        A posts table, or any table with ``text_col`` (and ``uid``; without that column the
        ``id`` or the row number is used; a ``uid`` column with nulls is a UserError, and so is
        a uid on rows with different texts; rows repeated exactly are labelled once, see
        :func:`~analysis.classifiers.training.distinct_rows`).
    model
        ``"default"``, ``"vader"``, a ``.skops`` path (``str`` or ``pathlib.Path``), or a fitted
        estimator. The labels' ``labeler_id`` is ``<model id>@<version>``: a model straight
        from :func:`~analysis.classifiers.training.train_model` has the version of its card, as
        the file :func:`~analysis.classifiers.persistence.save_model` writes with that card
        loads; another fitted estimator, without ``version_``, has version ``0``.
    target
        A fixed target for every row (e.g. the person the replies address). Without one (nor
        ``target_col``), replies of a posts table whose thread root is not in it are labelled
        without a target, with a warning that says how many.
    text_col, target_col, context_col
        Columns to read. Those not given (nor ``target``) are, for a ``.skops`` path, those the
        model was trained with, each said in a warning (:func:`model_inputs`, as ``label``
        applies them); else ``text`` and, for a posts table, the thread root's text as target
        and the parent's text as context.
    batch_size, jobs
        Rows per batch, and parallel workers (joblib processes) over the batches (1, 2, ...;
        -1: all cores; anything else is a UserError).
    progress
        A progress bar on stderr when it is a terminal (None: with many rows; False: never).
    source
        The file ``posts`` came from, named in errors about its columns.
    """
    from analysis.classifiers import VaderClassifier, get_model
    from analysis.classifiers.training import distinct_rows

    check_jobs(jobs)
    check_table(posts, "posts", "a table (a pandas DataFrame) with a text column", source)
    _check_uids(posts, source)
    model = os.fspath(model) if isinstance(model, os.PathLike) else model
    fitted = get_model(model) if isinstance(model, str) else model
    classes = [str(c) for c in fitted.classes_]
    inputs, notes = model_inputs(model, posts, target=target, text_col=text_col,
                                 target_col=target_col, context_col=context_col, source=source)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    frame = posts_frame(posts, target=inputs.target, text_col=inputs.text_col,
                        target_col=inputs.target_col, context_col=inputs.context_col,
                        source=source)
    if not frame["uid"].is_unique:  # as train and evaluate: repeats once, clashes refused
        keep = distinct_rows(frame, source=source)
        frame = frame[keep].reset_index(drop=True)
        posts = posts[keep].reset_index(drop=True)
    if inputs.target is None and inputs.target_col is None and "target" not in posts.columns \
            and not isinstance(fitted, VaderClassifier):  # vader reads no target
        note = root_note(posts, inputs.text_col, source)
        if note:
            warnings.warn(note, UserWarning, stacklevel=2)
    X = frame.loc[:, list(X_COLUMNS)]
    n = len(X)
    size = max(int(batch_size), 1)
    starts = list(range(0, n, size))
    show = progress if progress is not None else n >= PROGRESS_MIN_ROWS
    lang_col = _language_column(posts)
    foreign = None if lang_col is None else _not_english(posts[lang_col])
    batches = ((X.iloc[s:s + size], None if foreign is None else foreign[s:s + size])
               for s in starts)
    workers = worker_count(jobs, len(starts))
    if workers > 1:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=workers, return_as="generator")(
            delayed(_predict_batch)(fitted, b, f) for b, f in batches)
    else:
        parts = (_predict_batch(fitted, b, f) for b, f in batches)
    with progress_bar(parts, total=len(starts), unit=" batches", desc="labelling",
                      progress=show) as bar:
        results = list(parts if bar is None else bar)
    proba = np.vstack([p for p, _ in results]) if results else np.zeros((0, len(classes)))
    labels = np.concatenate([lab for _, lab in results]) if results else []
    order = classes
    if set(classes) == set(STANCE_LABELS):
        order = list(STANCE_LABELS)
        proba = proba[:, [classes.index(c) for c in order]]
    labeler_type = "lexicon" if type(fitted).__name__ == "VaderClassifier" else "model"
    labeler_id = (f"{getattr(fitted, 'model_id_', type(fitted).__name__)}@"
                  f"{getattr(fitted, 'version_', '0')}")
    task = STANCE_TASK if set(classes) <= set(STANCE_LABELS) else "custom"
    digest = hashlib.sha256(labeler_id.encode())
    for column in ("uid", *X_COLUMNS):  # what the model read of each row
        for value in frame[column].astype("object").tolist():
            text = "\x01" if value is None or value is pd.NA else str(value)  # null
            digest.update(text.encode("utf-8", "replace") + b"\x00")
    return labels_table(frame["uid"], proba, order, labeler_type=labeler_type,
                        labeler_id=labeler_id, task=task, run_id=digest.hexdigest()[:16],
                        labels=labels)


#: Labels that say "no stance" (compared without case), in the order :func:`_empty_text_label`
#: prefers them: SemEval's ``none``, sentiment's ``neutral``, RumourEval's ``comment``.
NO_STANCE_LABELS = ("other", "none", "neutral", "neither", "comment", "unrelated", "irrelevant")


def _empty_text_label(model: object, classes: list[str]) -> str:
    """The label of a text without words: ``other`` when the model has it, else another label
    that says no stance (:data:`NO_STANCE_LABELS`: ``none`` for a model trained on SemEval's
    favor / against / none), else the label most common in the model's training data (its class
    prior), else the first label."""
    folded = {label.casefold(): label for label in classes}
    for name in NO_STANCE_LABELS:
        if name in folded:
            return folded[name]
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    prior = getattr(last, "class_prior_", None)
    if prior is not None and len(prior) == len(getattr(last, "classes_", ())):
        return str(last.classes_[int(np.argmax(prior))])
    return classes[0]
