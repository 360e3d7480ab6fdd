"""Saving and loading models with skops (never pickle), and their model cards.

:func:`save_model` writes ``MODEL.skops`` and ``MODEL.card.json`` together, atomically: both are
replaced or neither (:class:`analysis.io.OutputSet`). :func:`load_model`
lists the types a file would create before loading anything and refuses the file unless every type
is one skops trusts by default or one of this package's classifier types (:data:`TRUSTED_TYPES`),
so a crafted file cannot run code on load. Whole modules are not trusted: numpy, builtins and
scikit-learn hold functions (``builtins.exec``, ``numpy.vectorize``) that a crafted pipeline can
call when it predicts. A file that loads is then refused unless its model is one this package
makes (:func:`is_package_model`): ``label`` and ``evaluate`` are built and tested for those only
(a plain scikit-learn text pipeline, for one, takes the model frame's column names for texts).

A card belongs to one model file: :func:`save_model` records the sha256 of the ``.skops`` bytes
it wrote in the card (:data:`MODEL_SHA256`), and :func:`load_model` refuses a model whose card
names other bytes, another ``model_id`` or other labels (:func:`check_card`): its metrics,
confusion matrix and version would otherwise be used for another model.

Labels are read in Unicode's composed form (NFC; see
:func:`~analysis.classifiers.training.label_form`); a model saved before they were has its labels
as they were written, perhaps decomposed (NFD): :func:`load_model` gives it its labels in NFC
(:func:`compose_classes`), so that they are the data's labels.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

from analysis.errors import UserError
from analysis.io import OutputSet, check_output, json_text, sha256_file

#: The types a model file may contain beyond those skops trusts by default: the classifiers of
#: this package (what `train`, the default model and VADER are made of; listed from saved models
#: of all three with skops.io.get_untrusted_types).
TRUSTED_TYPES = ("analysis.classifiers.features.StanceFeatures",
                 "analysis.classifiers.linear.BalancedLogisticRegression",
                 "analysis.classifiers.linear.PooledAndPerTarget",
                 "analysis.classifiers.vader.VaderClassifier")

CARD_SUFFIX = ".card.json"

#: The card field that ties a card to its model file: the sha256 of the ``.skops`` file's bytes,
#: as ``sha256sum`` gives it (written by :func:`save_model`; cards written before it have none).
#: It is left out of :func:`card_version`, since skops writes different bytes on every save.
MODEL_SHA256 = "model_sha256"


#: A model id (in the card, and with the version in labels' ``labeler_id``, ``<id>@<version>``):
#: ASCII letters, digits, ``-``, ``_`` and ``.``, starting with a letter or digit, so that it is
#: safe in file names and ``@`` only ever separates the version.
MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_model_id(model_id: object, *, what: str = "--model-id", hint: str = "") -> str:
    """``model_id`` when it is a valid model id (:data:`MODEL_ID`), else a
    :class:`~analysis.errors.UserError` naming ``what`` was given (the option) and the
    characters allowed, with ``hint`` at its end.

    Examples
    --------
    >>> check_model_id("stance-v2.1_en")
    'stance-v2.1_en'
    >>> check_model_id("a@b")
    Traceback (most recent call last):
    ...
    analysis.errors.UserError: --model-id 'a@b' is not a model id: use ASCII letters, digits, '-', '_' and '.' only, starting with a letter or digit (at most 100 characters)
    """  # noqa: E501 - a doctest's output is one line
    if not isinstance(model_id, str) or not MODEL_ID.fullmatch(model_id):
        raise UserError(f"{what} {model_id!r} is not a model id: use ASCII letters, digits, "
                        "'-', '_' and '.' only, starting with a letter or digit (at most 100 "
                        f"characters){hint}")
    return model_id


def card_path(model_path: str | Path) -> Path:
    """``MODEL.card.json`` next to ``MODEL.skops``."""
    path = Path(model_path)
    return path.with_name(path.stem + CARD_SUFFIX)


def check_model_output(path: str | Path) -> Path:
    """Refuse a model file name :func:`save_model` could not write (not ``.skops``; a folder
    in the way of the model or its card; a folder that cannot be written), before training."""
    dest = Path(path)
    if dest.suffix != ".skops":
        raise UserError("model files end in .skops; rename the output", dest)
    for output in (dest, card_path(dest)):
        check_output(output)
    return dest


def save_model(model: object, path: str | Path, card: Mapping | None = None) -> Path:
    """Write ``model`` with skops to ``path`` and ``card`` next to it, atomically: both files
    are replaced, or (on any error or interrupt) neither. The card written is ``card`` with
    :data:`MODEL_SHA256`, the sha256 of the model file written, which ties it to that file (see
    :func:`check_card`; ``card`` itself is not changed). Without a ``card``, a card of an
    earlier model at ``path`` is removed (it would describe another model)."""
    import skops.io as sio

    dest = check_model_output(path)
    with OutputSet() as outputs:
        model_tmp = outputs.add(dest)
        card_tmp = None if card is None else outputs.add(card_path(dest))
        if card_tmp is None:
            outputs.remove(card_path(dest))
        sio.dump(model, model_tmp)
        if card_tmp is not None:
            written = dict(card, **{MODEL_SHA256: sha256_file(model_tmp)})
            card_tmp.write_text(json_text(written), encoding="utf-8")
    return dest


#: Largest total size, uncompressed, of the files inside a ``.skops`` file that is opened (the
#: default model's are 11 MB): a small crafted file could otherwise unpack to gigabytes (a zip
#: bomb) when skops reads its schema and arrays.
MAX_MODEL_BYTES = 2 << 30


def _check_size(path: Path) -> None:
    """Refuse a model file whose members would unpack to more than :data:`MAX_MODEL_BYTES`
    (sizes from the zip's directory; the zip reader never reads past them)."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(f"not a skops model file ({type(exc).__name__}); pass a .skops file "
                        "written by 'python -m analysis train'", path) from exc
    if total > MAX_MODEL_BYTES:
        raise UserError(f"model file would unpack to {total / 2**20:,.0f} MiB (more than "
                        f"{MAX_MODEL_BYTES / 2**20:,.0f} MiB); refusing to load it", path)


def untrusted_types(path: str | Path) -> list[str]:
    """Types in a skops file that are outside the trusted modules (a file that would unpack to
    more than :data:`MAX_MODEL_BYTES` is refused first)."""
    import skops.io as sio

    _check_size(Path(path))
    try:
        found = sio.get_untrusted_types(file=Path(path))
    except Exception as exc:  # not a zip, no schema: not a skops file
        raise UserError(f"not a skops model file ({type(exc).__name__}); pass a .skops file "
                        "written by 'python -m analysis train'", path) from exc
    return [t for t in found if t not in TRUSTED_TYPES]


def load_model(path: str | Path) -> object:
    """Load a skops model, refusing files that would create untrusted types, and models that
    this package did not make (:func:`is_package_model`).

    The loaded model gets ``model_id_`` (from its card, else the file name) when it has none,
    ``version_`` (:func:`card_model_version` of its card; without one, the version it was saved
    with, else the first 12 hex digits of the file's sha256), and ``fixed_target_``: the fixed
    target it was trained with (the card's ``columns.fixed_target``, else None), which
    :func:`~analysis.classifiers.labelling.label_posts` applies to the loaded model as it does
    to its path. A model without its card is loaded with a warning: its training columns and
    fixed target are unknown.
    """
    import skops.io as sio

    source = Path(path)
    if source.is_dir():
        raise UserError("is a directory, not a model file; pass the .skops file written by "
                        "'python -m analysis train'", source)
    if not source.is_file():
        raise UserError("no such model file", source)
    bad = untrusted_types(source)
    if bad:
        raise UserError(f"model file contains untrusted types {bad[:3]}; refusing to load it",
                        source)
    try:
        found = sio.get_untrusted_types(file=source)
        model = sio.load(source, trusted=found)
    except Exception as exc:
        raise UserError(f"cannot load model: {type(exc).__name__}: {exc}", source) from exc
    if not (hasattr(model, "predict") and hasattr(model, "classes_")):
        raise UserError("file holds no fitted classifier", source)
    if not _reads_texts(model):
        raise UserError("the model does not read texts (it was not made by 'python -m "
                        "analysis train', which writes models that do)", source)
    if not is_package_model(model):
        raise UserError(f"not a model made by 'python -m analysis train' (it is "
                        f"{_describe(model)}); give a model from train, 'default' or 'vader'",
                        source)
    card = read_card(source)
    if not card:
        warnings.warn(f"{source}: no model card next to it ({card_path(source).name}), so the "
                      "columns and fixed target it was trained with are unknown and it labels "
                      "with the table's defaults (give --text-col, --target or --target-col; in "
                      "Python, text_col=, target= or target_col=); keep the card with the model",
                      UserWarning, stacklevel=2)
    check_card(model, card, source)
    compose_classes(model, source)
    if not hasattr(model, "model_id_"):
        name = card.get("model_id")
        model.model_id_ = name if isinstance(name, str) and name else source.stem
    if card:  # the card decides (a card edited after training gives its own version)
        model.version_ = card_model_version(card)
    elif not hasattr(model, "version_"):
        model.version_ = sha256_file(source)[:12]
    trained = (card.get("columns") or {}).get("fixed_target") if card else None
    model.fixed_target_ = trained if isinstance(trained, str) and trained.strip() else None
    return model


def check_card(model: object, card: Mapping, model_path: str | Path) -> None:
    """A :class:`~analysis.errors.UserError` naming the card and the model file when ``card``
    (the model card next to ``model_path``) is not the card of this model: it records the
    sha256 of other bytes than ``model_path``'s (:func:`check_card_file`; the card of another
    model file, copied or renamed next to this one), a ``model_id`` other than the model's
    ``model_id_``, or other labels (:func:`check_card_labels`). Cards written before
    :data:`MODEL_SHA256` existed have no sha256 and are checked by model id and labels only; a
    model without a card passes."""
    if not card:
        return
    check_card_file(card, model_path)
    card_id, model_id = card.get("model_id"), getattr(model, "model_id_", None)
    if isinstance(card_id, str) and card_id and isinstance(model_id, str) \
            and card_id != model_id:
        raise UserError(f"the model card is of model {card_id!r} but {Path(model_path)} holds "
                        f"model {model_id!r}: it is the card of another model; restore the card "
                        "written with this model, or train again", card_path(model_path))
    check_card_labels(model, card, model_path)


def check_card_file(card: Mapping, model_path: str | Path) -> None:
    """A :class:`~analysis.errors.UserError` naming the card and the model file when ``card``
    (the model card next to ``model_path``) records the sha256 of other bytes than
    ``model_path``'s (:data:`MODEL_SHA256`): it is the card of another model file (copied or
    renamed next to this one). A card without the sha256 (written before it was recorded)
    passes."""
    recorded = card.get(MODEL_SHA256)
    if recorded is None:
        return
    actual = sha256_file(model_path)
    if recorded != actual:
        raise UserError(f"the model card is of another model file: it records sha256 "
                        f"{str(recorded)[:12]}... but {Path(model_path)} has "
                        f"{actual[:12]}...; restore the card written with this model, or "
                        "train again", card_path(model_path))


def check_card_labels(model: object, card: Mapping, model_path: str | Path) -> None:
    """A :class:`~analysis.errors.UserError` naming the card when ``card`` (the model card
    next to ``model_path``) lists other labels than the model's ``classes_`` (in any order,
    compared in Unicode NFC, as labels are read): it is the card of another model, and its
    metrics, confusion matrix and version would be used for this one. A model without a card,
    or a card without ``labels``, passes."""
    if "labels" not in card:
        return
    labels = card["labels"]
    classes = [str(c) for c in model.classes_]
    if not isinstance(labels, list) or \
            sorted(map(_composed, labels)) != sorted(map(_composed, classes)):
        listed = _quoted(labels) if isinstance(labels, list) else f"{labels!r} (not a list)"
        raise UserError(f"the model card lists labels {listed} but the model predicts "
                        f"{_quoted(classes)}: it is the card of another model; restore the "
                        "card written with this model, or train again", card_path(model_path))


def _composed(label: object) -> str:
    """A label in Unicode's composed form (NFC), as data labels are read."""
    return unicodedata.normalize("NFC", str(label))


def compose_classes(model: object, model_path: str | Path) -> None:
    """Give ``model`` (loaded from ``model_path``) its labels in Unicode NFC, as data labels are
    read (:func:`~analysis.classifiers.training.label_form`), when they are not: a model saved
    before labels were read so has them as they were written (``réfute`` decomposed, NFD), and
    its labels would otherwise be other labels than the data's. Labels that are one label in
    NFC are a :class:`~analysis.errors.UserError`: the model learned one label as two.

    >>> from sklearn.dummy import DummyClassifier
    >>> model = DummyClassifier().fit([[0], [1]], [unicodedata.normalize("NFD", "réfute"), "b"])
    >>> compose_classes(model, "old.skops")
    >>> [label == unicodedata.normalize("NFC", "réfute") for label in model.classes_]
    [False, True]
    """
    import numpy as np

    last = model.steps[-1][1] if hasattr(model, "steps") else model
    classes = [str(c) for c in last.classes_]
    composed = [_composed(c) for c in classes]
    if composed == classes:
        return
    if len(set(composed)) < len(composed):
        twice = sorted({c for c in composed if composed.count(c) > 1})
        raise UserError(f"the model has the labels {_quoted(twice)} twice, spelled in composed "
                        "and decomposed Unicode (it was saved before labels were read in NFC); "
                        "train it again", model_path)
    dtype = object if np.asarray(last.classes_).dtype == object else None
    last.classes_ = np.array(composed, dtype=dtype)


def _quoted(labels: list) -> str:
    """Labels for a message, each quoted (``['favor', ' none']``): an empty label, or one with
    spaces around it, shows."""
    return "[" + ", ".join(repr(str(label)) if isinstance(label, str) else repr(label)
                           for label in labels) + "]"


def is_package_model(model: object) -> bool:
    """Whether ``model`` is one of the models this package makes: a pipeline of
    :class:`~analysis.classifiers.features.StanceFeatures` and
    :class:`~analysis.classifiers.linear.BalancedLogisticRegression` (``train`` and the default
    model), or a :class:`~analysis.classifiers.vader.VaderClassifier`. Other scikit-learn
    models, even those built with these parts, are not: ``label`` and ``evaluate`` are built and
    tested for these only (they give a model a frame of text, target, context and depth)."""
    from sklearn.pipeline import Pipeline

    from analysis.classifiers.features import StanceFeatures
    from analysis.classifiers.linear import BalancedLogisticRegression, PooledAndPerTarget
    from analysis.classifiers.vader import VaderClassifier

    if type(model) is VaderClassifier:
        return True
    if type(model) is not Pipeline or len(model.steps) != 2:
        return False
    (_, features), (_, classifier) = model.steps
    return type(features) is StanceFeatures and \
        type(classifier) in (BalancedLogisticRegression, PooledAndPerTarget)


def _describe(model: object) -> str:
    """``a LogisticRegression``, or ``a Pipeline of TfidfVectorizer, LogisticRegression``."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        parts = ", ".join(type(step[1]).__name__ for step in steps if len(step) == 2)
        return f"a {type(model).__name__} of {parts}"
    return f"a {type(model).__name__}"


def card_version(card: Mapping) -> str:
    """A model's version from its card (12 hex digits of the sha256 of the card's JSON): the
    same data, settings, seed and package versions give the same version, though skops writes
    a different file each time (the zip's member names and times vary): the card's
    :data:`MODEL_SHA256` of those bytes is left out, so a card keeps the version it had before
    :func:`save_model` recorded it."""
    card = {key: value for key, value in card.items() if key != MODEL_SHA256}
    text = json.dumps(card, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def card_model_version(card: Mapping[str, object]) -> str:
    """The version of the model a card belongs to, as its labels' ``labeler_id`` has it: the
    card's ``version`` (the default model's cards have one), else :func:`card_version` of the
    card (a model trained by ``train``). :func:`load_model` gives a model with a card this
    version."""
    version = card.get("version")
    return version if isinstance(version, str) and version else card_version(card)


def _reads_texts(model: object) -> bool:
    """Whether ``model`` labels a one-row model frame (a text and nothing else) without error."""
    import pandas as pd

    from analysis.classifiers.datasets import X_COLUMNS

    probe = pd.DataFrame({column: [None] for column in X_COLUMNS})
    probe["text"] = "a short test text"
    try:
        with warnings.catch_warnings():  # a model that cannot read the probe may warn first
            warnings.simplefilter("ignore")
            model.predict_proba(probe) if hasattr(model, "predict_proba") else model.predict(probe)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        return False
    return True


def read_card(model_path: str | Path) -> dict:
    """The model card next to a model file ({} when there is none)."""
    path = card_path(model_path)
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"unreadable model card: {exc}", path) from exc
    if not isinstance(card, dict):
        raise UserError(f"the model card is not a JSON object but a {type(card).__name__}", path)
    return card
