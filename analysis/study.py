"""Study files: one TOML file per study in ``studies/`` that says what ``reproduce`` runs.

A study names its sources (paths and formats), the target of the replies, the classifiers and how
they predict, the gold labels if any, the time bins and estimation methods, the events to mark,
and the figures to draw. :func:`load_study` reads and checks one; every problem is a
:class:`~analysis.errors.UserError` naming the file and the key. See ``docs/studies.md``.

Examples
--------
>>> study = load_study("rumour-replies")
>>> study.name, study.models
('rumour-replies', ('default', 'vader'))
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.errors import UserError
from analysis.schema import STANCE_LABELS

PREDICTION_SCHEMES = ("fit", "leave-one-group-out")
#: A study name or figure file: a plain name (it becomes a folder or a file in the outputs).
_PLAIN_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
FIGURE_KINDS = ("shares", "volume", "validation", "multiples")

#: How a type of TOML value is called in errors.
_KIND_NAMES = {int: "a whole number", float: "a number", str: "a string", list: "a list",
               dict: "a table"}

#: The keys each table of a study file may have ("" is the top level); any other key is an error
#: (a misspelt key would otherwise be ignored and its default used).
KEYS: dict[str, tuple[str, ...]] = {
    "": ("study", "sources", "target", "classify", "gold", "trend", "events", "figures"),
    "study": ("name", "title", "seed"),
    "sources": ("path", "format", "tz", "thread_id", "platform", "field_map"),
    "target": ("text",),
    "classify": ("models", "prediction"),
    "gold": ("task", "mapping", "group_task", "by_task", "thread_blocks"),
    "trend": ("freq", "relative_to", "tz", "by", "methods", "primary_method", "min_posts",
              "n_boot", "ci", "max_hours"),
    "events": ("time", "label"),
    "figures": ("kind", "file", "model", "method", "title"),
}


@dataclass(frozen=True)
class Source:
    """One input of the study: a path under the project and how to read it."""

    path: Path
    format: str = "auto"
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Gold:
    """Gold labels that came with the data: their task and how they map to stance labels."""

    task: str
    mapping: Mapping[str, str]
    group_task: str | None = None
    by_task: str | None = None
    #: Groups to hold out as several blocks of whole threads instead of as one group, e.g.
    #: ``{"reddit": 4}`` (see :func:`analysis.reproduce.split_groups_by_thread`).
    thread_blocks: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    time: pd.Timestamp
    label: str


@dataclass(frozen=True)
class Figure:
    kind: str
    file: str
    model: str | None = None
    method: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Study:
    """A parsed study file. Paths are absolute."""

    name: str
    title: str
    file: Path
    sources: tuple[Source, ...]
    target: str | None
    models: tuple[str, ...]
    prediction: str
    gold: Gold | None
    freq: str | tuple[float, ...]
    relative_to: str | None
    tz: str
    by: tuple[str, ...]
    methods: tuple[str, ...]
    primary_method: str
    min_posts: int
    n_boot: int
    ci: float
    max_hours: float | None
    events: tuple[Event, ...]
    figures: tuple[Figure, ...]
    seed: int
    raw: Mapping[str, object]
    #: The ``.skops`` file of each model that is not built in (absolute paths).
    model_files: Mapping[str, Path] = field(default_factory=dict)

    @property
    def shown_file(self) -> str:
        """The study file as a summary shows it: relative to the project when it lies there."""
        try:
            return self.file.resolve().relative_to(config.PROJECT_ROOT.resolve()).as_posix()
        except ValueError:
            return str(self.file)

    @property
    def command(self) -> str:
        """The command that runs this study again: by name from ``studies/``, else by path."""
        in_studies = (self.file.resolve().parent == config.STUDIES.resolve()
                      and self.file.stem == self.name)
        return f"python -m analysis reproduce {self.name if in_studies else self.shown_file}"

    def model_source(self, model: str) -> str:
        """What the classifiers load ``model`` from: a built-in name or its absolute path."""
        return str(self.model_files.get(model, model))

    def labels_file(self, model: str) -> str:
        """The file name of ``model``'s labels table in ``data/processed/<study>/``."""
        return f"labels_{_model_stem(model)}.parquet"

    def unavailable_methods(self, model: str) -> dict[str, str]:
        """The methods of ``trend.methods`` that cannot run for ``model``, with why: the adjusted
        methods need a confusion matrix, from the study's gold labels or else the model's card
        (VADER has none; a ``.skops`` model has one when its card records ``cv_confusion``);
        ``pacc`` and ``emq`` also need the validation set's probabilities, which a card (counts
        only) lacks: with a card alone they would run as ``acc``."""
        from analysis.trend import ADJUSTED

        if self.gold is not None:
            return {}
        if _has_cv_confusion(self.model_files.get(model), model):
            why = ("a model card holds counts only, and this method needs the validation set's "
                   "probabilities (it would run as acc; use acc)")
            return {method: why for method in self.methods if method in ("pacc", "emq")}
        why = ("VADER has no model card" if model == "vader" else
               f"model {model!r} has no card with a cross-validated confusion matrix "
               "(cv_confusion in its .card.json)")
        why += " and the study has no [gold] labels to correct with (use cc or pcc)"
        return {method: why for method in self.methods if method in ADJUSTED}

    @property
    def raw_inputs(self) -> list[Path]:
        """The source paths that lie under ``data/raw`` (checked against the manifest)."""
        return [s.path for s in self.sources if _is_under(s.path, config.DATA_RAW)]


def study_path(name_or_path: str | Path) -> Path:
    """The TOML file of a study given by name (``rumour-replies``) or path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml":
        return candidate if candidate.is_absolute() else Path.cwd() / candidate
    return config.STUDIES / f"{name_or_path}.toml"


def available_studies() -> list[str]:
    """Names of the studies in ``studies/``."""
    return sorted(p.stem for p in config.STUDIES.glob("*.toml"))


def load_study(name_or_path: str | Path) -> Study:
    """Read and check a study file.

    Parameters
    ----------
    name_or_path
        A study name from ``studies/`` or a path to a ``.toml`` file.

    Returns
    -------
    Study

    Raises
    ------
    UserError
        Unknown study, invalid TOML, or a missing or invalid key (named in the message).
    """
    path = study_path(name_or_path)
    if not path.is_file():
        known = ", ".join(available_studies()) or "none"
        raise UserError(f"no such study; known studies: {known}", path)
    try:
        # utf-8-sig: Windows editors start the file with a byte order mark
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"invalid TOML: {exc}", path) from exc
    _check_keys(raw, path)
    return _parse(raw, path)


def _check_keys(raw: Mapping[str, object], path: Path) -> None:
    """A :class:`UserError` for the first key that :data:`KEYS` does not list."""
    import difflib

    def check(table: object, where: str) -> None:
        if not isinstance(table, Mapping):
            return
        known = KEYS[where]
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else \
                    f"; known: {', '.join(known)}"
                name = f"{where}.{key}" if where else key
                raise UserError(f"unknown key '{name}'{hint}", path)

    check(raw, "")
    for where in KEYS:
        if not where:
            continue
        value = raw.get(where)
        for table in value if isinstance(value, list) else [value]:
            check(table, where)


def _parse(raw: Mapping[str, object], path: Path) -> Study:
    def get(table: Mapping, key: str, kind: type, where: str, default: object = ...) -> object:
        if key not in table:
            if default is ...:
                raise UserError(f"missing key '{where}{key}'", path)
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            raise UserError(f"key '{where}{key}' must be {_KIND_NAMES[kind]}", path)
        return value

    study = get(raw, "study", dict, "")
    sources = tuple(_source(s, path) for s in get(raw, "sources", list, ""))
    if not sources:
        raise UserError("a study needs at least one [[sources]] entry", path)
    target = get(raw, "target", dict, "", {})
    classify = get(raw, "classify", dict, "", {})
    trend = get(raw, "trend", dict, "", {})
    prediction = get(classify, "prediction", str, "classify.", "fit")
    if prediction not in PREDICTION_SCHEMES:
        raise UserError(f"classify.prediction must be one of {', '.join(PREDICTION_SCHEMES)}",
                        path)
    gold = None
    if "gold" in raw:
        table = get(raw, "gold", dict, "")
        gold = Gold(task=get(table, "task", str, "gold."),
                    mapping=get(table, "mapping", dict, "gold."),
                    group_task=get(table, "group_task", str, "gold.", None),
                    by_task=get(table, "by_task", str, "gold.", None),
                    thread_blocks=_thread_blocks(
                        get(table, "thread_blocks", dict, "gold.", {}), path))
    if gold is not None:
        bad = sorted({str(v) for v in gold.mapping.values()} - set(STANCE_LABELS))
        if bad:
            raise UserError(f"gold.mapping maps to {bad}, which are not stance labels "
                            f"({', '.join(STANCE_LABELS)})", path)
    if gold is not None and gold.thread_blocks and gold.group_task is None:
        raise UserError("gold.thread_blocks needs gold.group_task", path)
    if prediction == "leave-one-group-out" and (gold is None or gold.group_task is None):
        raise UserError("classify.prediction = 'leave-one-group-out' needs gold.group_task", path)
    methods = tuple(get(trend, "methods", list, "trend.", ["cc"]))
    events = tuple(
        Event(time=_time(get(e, "time", str, "events."), path), label=get(e, "label", str,
                                                                          "events."))
        for e in get(raw, "events", list, "", []))
    figures = tuple(_figure(f, path) for f in get(raw, "figures", list, "", []))
    models = tuple(get(classify, "models", list, "classify.", ["default"]))
    model_files = _model_files(models, path)
    if prediction == "leave-one-group-out" and model_files:
        raise UserError("classify.prediction = 'leave-one-group-out' trains a model per held-out "
                        f"group: it works with 'default' and 'vader', not a .skops file "
                        f"({next(iter(model_files))!r}); use prediction = 'fit'", path)
    for figure in figures:
        if figure.model is not None and figure.model not in (*models, "gold"):
            raise UserError(f"[[figures]] '{figure.file}' draws model {figure.model!r}, which is "
                            f"not in classify.models {list(models)} (or 'gold')", path)
        if (figure.method is not None and figure.model != "gold"
                and figure.method not in methods):
            raise UserError(f"[[figures]] '{figure.file}' draws method {figure.method!r}, "
                            f"which is not in trend.methods {list(methods)}", path)
    files = [figure.file for figure in figures]
    for file in files:
        if not re.fullmatch(_PLAIN_NAME, file):
            raise UserError(f"[[figures]] file {file!r} must be a plain file name without a "
                            "suffix (letters, digits, '.', '_', '-'; no '/' or '..')", path)
    repeated = sorted({f for f in files if files.count(f) > 1})
    if repeated:
        raise UserError(f"[[figures]] file {repeated[0]!r} is named twice; one would overwrite "
                        "the other", path)
    relative_to = get(trend, "relative_to", str, "trend.", None)
    if events and relative_to is not None:
        raise UserError("[[events]] mark calendar times, but trend.relative_to makes the bins "
                        "hours since a reference; leave out one of them", path)
    primary = get(trend, "primary_method", str, "trend.", methods[0])
    if primary not in methods:
        raise UserError(f"trend.primary_method {primary!r} is not in trend.methods "
                        f"{list(methods)}", path)
    name = get(study, "name", str, "study.")
    if not re.fullmatch(_PLAIN_NAME, name):
        # the name is a folder under data/processed/ and reports/ that a run replaces
        raise UserError(f"study.name {name!r} must be a plain folder name (letters, digits, "
                        "'.', '_', '-'; no '/' or '..'), such as 'my-study'", path)
    spec = Study(
        name=name,
        title=get(study, "title", str, "study."),
        file=path,
        sources=sources,
        target=get(target, "text", str, "target.", None),
        models=models,
        prediction=prediction,
        gold=gold,
        freq=_freq(trend.get("freq"), path),
        relative_to=relative_to,
        tz=get(trend, "tz", str, "trend.", "UTC"),
        by=tuple(get(trend, "by", list, "trend.", [])),
        methods=methods,
        primary_method=primary,
        min_posts=get(trend, "min_posts", int, "trend.", 20),
        n_boot=get(trend, "n_boot", int, "trend.", 500),
        ci=get(trend, "ci", float, "trend.", 0.95),
        max_hours=get(trend, "max_hours", float, "trend.", None),
        events=events,
        figures=figures,
        seed=get(study, "seed", int, "study.", config.DEFAULT_SEED),
        raw=raw,
        model_files=model_files,
    )
    _check_figure_methods(spec)
    return spec


def _model_files(models: tuple[str, ...], path: Path) -> dict[str, Path]:
    """The ``.skops`` file of each model that is not built in (``default``, ``vader``),
    relative to the project root; refuses an unknown model name and two models whose labels
    files would be the same."""
    from analysis.classifiers import MODEL_NAMES

    files = {}
    for model in models:
        if not isinstance(model, str) or not model:
            raise UserError("classify.models must be a list of model names or paths", path)
        if model in MODEL_NAMES:
            continue
        if not model.endswith(".skops"):
            raise UserError(f"classify.models: unknown model {model!r}; use 'default', 'vader' "
                            "or the path of a .skops file (relative to the project root)", path)
        files[model] = (config.PROJECT_ROOT / model).resolve()
    stems = [_model_stem(model) for model in models]
    for stem in stems:
        if stems.count(stem) > 1:
            others = [m for m, s in zip(models, stems, strict=True) if s == stem]
            raise UserError(f"classify.models {others} would all write labels_{stem}.parquet; "
                            "rename one of the model files (or list a model once)", path)
    return files


def _model_stem(model: str) -> str:
    """A plain file-name part for a model: a built-in model's name, or its file's name without
    ``.skops`` (characters other than letters, digits, '.', '_', '-' become '_')."""
    stem = Path(model).name.removesuffix(".skops")
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem) or "_"


def _has_cv_confusion(file: Path | None, model: str) -> bool:
    """Whether a model has a card with a cross-validated confusion matrix: of the built-in
    models (no ``file``), the default model; a ``.skops`` model when its card records one."""
    if file is None:
        return model == "default"
    from analysis.classifiers.persistence import read_card

    return bool(read_card(file).get("cv_confusion"))


def _check_figure_methods(spec: Study) -> None:
    """Refuse a figure of a model and method that cannot run (see
    :meth:`Study.unavailable_methods`): it would fail only after the whole run."""
    for figure in spec.figures:
        file = spec.model_files.get(figure.model)
        if (figure.kind == "validation" or figure.model in (None, "gold")
                or (file is not None and not file.is_file())):  # reproduce names a missing file
            continue
        method = figure.method or spec.primary_method
        why = spec.unavailable_methods(figure.model).get(method)
        if why:
            given = "draws" if figure.method else "draws trend.primary_method"
            raise UserError(f"[[figures]] '{figure.file}' {given} {method!r} for model "
                            f"{figure.model!r}, which cannot run: {why}", spec.file)


def _freq(value: object, path: Path) -> str | tuple[float, ...]:
    """A pandas frequency string, or bin edges in hours (for bins relative to a reference)."""
    if isinstance(value, str) and value:
        return value
    if (isinstance(value, list) and len(value) >= 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            and all(a < b for a, b in zip(value, value[1:], strict=False))):
        return tuple(float(v) for v in value)
    raise UserError("trend.freq must be a frequency such as '6h' or '1D', or increasing bin "
                    "edges in hours such as [0, 1, 3, 6]", path)


def _source(entry: object, path: Path) -> Source:
    if not isinstance(entry, dict) or "path" not in entry:
        raise UserError("each [[sources]] entry needs a 'path'", path)
    options = {k: v for k, v in entry.items() if k not in ("path", "format")}
    return Source(path=(config.PROJECT_ROOT / str(entry["path"])).resolve(),
                  format=str(entry.get("format", "auto")), options=options)


def _figure(entry: object, path: Path) -> Figure:
    if not isinstance(entry, dict) or entry.get("kind") not in FIGURE_KINDS or "file" not in entry:
        raise UserError(f"each [[figures]] entry needs 'file' and a 'kind' in "
                        f"{', '.join(FIGURE_KINDS)}", path)
    return Figure(kind=entry["kind"], file=str(entry["file"]), model=entry.get("model"),
                  method=entry.get("method"), title=entry.get("title"))


def _thread_blocks(blocks: Mapping[str, object], path: Path) -> dict[str, int]:
    for group, count in blocks.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 2:
            raise UserError(f"gold.thread_blocks.{group} must be a whole number of at least 2",
                            path)
    return dict(blocks)


def _time(text: str, path: Path) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(text)
    except ValueError as exc:
        raise UserError(f"event time {text!r} is not an ISO time", path) from exc
    if stamp.tzinfo is None:
        raise UserError(f"event time {text!r} needs a UTC offset (e.g. +00:00)", path)
    return stamp.tz_convert("UTC")


def _is_under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
