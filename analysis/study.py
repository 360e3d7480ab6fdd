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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import pandas as pd

from analysis import config, rawdata
from analysis.errors import UserError, check_n_boot
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
    """One figure to draw: its kind (:data:`FIGURE_KINDS`), file name (no suffix), model
    (``"gold"``: the gold labels; the study's model when it has only one; None only for a
    validation figure of every model), method (default ``trend.primary_method``) and title."""

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
        """The sources to check against ``data/raw/MANIFEST.csv``: those under ``data/raw`` as
        the study file gives them (see :func:`analysis.rawdata.raw_relative`: a symbolic link
        under ``data/raw`` is checked wherever it points) or once resolved."""
        written = [config.PROJECT_ROOT / str(entry["path"]) for entry in self.raw["sources"]]
        return [path for path in written if rawdata.raw_relative(path) is not None]


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
    get = partial(_get, path)
    study = get(raw, "study", dict, "")
    sources = tuple(_source(s, path) for s in get(raw, "sources", list, ""))
    if not sources:
        raise UserError("a study needs at least one [[sources]] entry", path)
    target = get(raw, "target", dict, "", {})
    classify = get(raw, "classify", dict, "", {})
    prediction = get(classify, "prediction", str, "classify.", "fit")
    if prediction not in PREDICTION_SCHEMES:
        raise UserError(f"classify.prediction must be one of {', '.join(PREDICTION_SCHEMES)}",
                        path)
    gold = _gold(raw, prediction, path)
    models = tuple(get(classify, "models", list, "classify.", ["default"]))
    if not models:
        raise UserError("classify.models is empty; list at least one model ('default', 'vader' "
                        "or the path of a .skops file)", path)
    model_files = _model_files(models, path)
    if prediction == "leave-one-group-out" and model_files:
        raise UserError("classify.prediction = 'leave-one-group-out' trains a model per held-out "
                        f"group: it works with 'default' and 'vader', not a .skops file "
                        f"({next(iter(model_files))!r}); use prediction = 'fit'", path)
    trend = _trend_settings(get(raw, "trend", dict, "", {}), path)
    events = tuple(
        Event(time=_time(get(e, "time", str, "events."), path), label=get(e, "label", str,
                                                                          "events."))
        for e in get(raw, "events", list, "", []))
    if events and trend["relative_to"] is not None:
        raise UserError("[[events]] mark calendar times, but trend.relative_to makes the bins "
                        "hours since a reference; leave out one of them", path)
    figures = tuple(_figure(f, models, path) for f in get(raw, "figures", list, "", []))
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
        **trend,
        events=events,
        figures=figures,
        seed=_seed(get(study, "seed", int, "study.", config.DEFAULT_SEED), path),
        raw=raw,
        model_files=model_files,
    )
    _check_figures(spec)
    _check_figure_methods(spec)
    return spec


def _get(path: Path, table: Mapping, key: str, kind: type, where: str,
         default: object = ...) -> object:
    """``table[key]``, which must be of ``kind`` (an int passes as a float, a bool as neither);
    ``default`` when it is absent, or a :class:`UserError` naming ``where + key`` when there is
    no default."""
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


def _checked(key: str, path: Path, check: Callable[..., object], *args: object) -> object:
    """``check(*args)``: a validator of another module (the trend or ingest command's), whose
    :class:`UserError` is given again naming the study file and ``key``."""
    try:
        return check(*args)
    except UserError as exc:
        raise UserError(f"{key}: {exc}", path) from exc


def _names(values: list, key: str, path: Path) -> tuple[str, ...]:
    """The entries of a list of names such as ``trend.by``: strings, each once (a method listed
    twice would run twice, and a figure would count its responses twice)."""
    for value in values:
        if not isinstance(value, str) or not value:
            raise UserError(f"{key} must be a list of names in quotes; {value!r} is not one",
                            path)
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise UserError(f"{key} lists {repeated[0]!r} more than once; list each once", path)
    return tuple(values)


def _gold(raw: Mapping[str, object], prediction: str, path: Path) -> Gold | None:
    """The ``[gold]`` table, or None; refuses keys that the prediction scheme needs or ignores."""
    if "gold" not in raw:
        if prediction == "leave-one-group-out":
            raise UserError("classify.prediction = 'leave-one-group-out' needs gold.group_task",
                            path)
        return None
    get = partial(_get, path)
    table = get(raw, "gold", dict, "")
    gold = Gold(task=get(table, "task", str, "gold."),
                mapping=get(table, "mapping", dict, "gold."),
                group_task=get(table, "group_task", str, "gold.", None),
                by_task=get(table, "by_task", str, "gold.", None),
                thread_blocks=_thread_blocks(get(table, "thread_blocks", dict, "gold.", {}), path))
    bad = sorted({str(v) for v in gold.mapping.values()} - set(STANCE_LABELS))
    if bad:
        raise UserError(f"gold.mapping maps to {bad}, which are not stance labels "
                        f"({', '.join(STANCE_LABELS)})", path)
    if gold.thread_blocks and gold.group_task is None:
        raise UserError("gold.thread_blocks needs gold.group_task", path)
    if prediction == "leave-one-group-out" and gold.group_task is None:
        raise UserError("classify.prediction = 'leave-one-group-out' needs gold.group_task", path)
    if prediction == "fit" and (gold.group_task is not None or gold.thread_blocks):
        raise UserError("gold.group_task and gold.thread_blocks apply to leave-one-group-out; "
                        "with classify.prediction = 'fit' they have no effect: leave them out "
                        "or use prediction = 'leave-one-group-out'", path)
    return gold


def _trend_settings(trend: Mapping[str, object], path: Path) -> dict[str, object]:
    """The ``[trend]`` keys as :class:`Study` fields, checked as far as they can be before the
    posts are read: values :func:`analysis.trend.estimate_shares` would refuse only after the
    sources were read and labelled are refused here, naming the key."""
    get = partial(_get, path)
    methods = _methods(get(trend, "methods", list, "trend.", ["cc"]), path)
    primary = get(trend, "primary_method", str, "trend.", methods[0])
    if primary not in methods:
        raise UserError(f"trend.primary_method {primary!r} is not in trend.methods "
                        f"{list(methods)}", path)
    settings = dict(
        freq=_freq(trend.get("freq"), path),
        relative_to=get(trend, "relative_to", str, "trend.", None),
        tz=get(trend, "tz", str, "trend.", "UTC"),
        by=_names(get(trend, "by", list, "trend.", []), "trend.by", path),
        methods=methods,
        primary_method=primary,
        min_posts=get(trend, "min_posts", int, "trend.", 20),
        n_boot=get(trend, "n_boot", int, "trend.", 500),
        ci=get(trend, "ci", float, "trend.", 0.95),
        max_hours=get(trend, "max_hours", float, "trend.", None),
    )
    _check_bins(settings["freq"], settings["relative_to"], settings["tz"], path)
    _check_bootstrap(settings, path)
    return settings


def _methods(values: list, path: Path) -> tuple[str, ...]:
    """``trend.methods``: at least one, each once, each a method of
    :data:`analysis.trend.METHODS` other than ``auto``."""
    from analysis.trend import METHODS

    methods = _names(values, "trend.methods", path)
    listed = ", ".join(m for m in METHODS if m != "auto")
    if not methods:
        raise UserError(f"trend.methods is empty; list at least one of {listed}", path)
    unknown = [method for method in methods if method not in METHODS]
    if unknown:
        raise UserError(f"trend.methods: unknown method {unknown[0]!r}; use {listed}", path)
    if "auto" in methods:
        # its rows carry the method it chose, which the figures cannot ask for by name and
        # which may be one listed besides it (its rows then twice in the trend table)
        raise UserError("trend.methods: 'auto' chooses its method only as the trend runs, so "
                        "the study's figures and summary cannot select it; list the methods to "
                        f"run ({listed}; docs/statistics.md says which suits which data)", path)
    return methods


def _check_bins(freq: str | tuple[float, ...], relative_to: str | None, tz: str,
                path: Path) -> None:
    """Refuse a time zone, bin width or reference that the trend would refuse, with the
    trend's own checks (:func:`analysis.trend.calendar_edges` on a generated time)."""
    from analysis.trend import calendar_edges, event_time

    generated = pd.Series([pd.Timestamp("2020-01-01", tz="UTC")])
    _checked("trend.tz", path, calendar_edges, generated, "1D", tz)
    if relative_to is None or isinstance(freq, str):  # bin edges in hours are checked by _freq
        _checked("trend.freq", path, calendar_edges, generated, freq, tz)
    if relative_to is not None and relative_to != "root":
        _checked("trend.relative_to", path, event_time, relative_to, tz)


def _check_bootstrap(settings: Mapping[str, object], path: Path) -> None:
    """Refuse an interval level, replicate count, flag threshold or cut-off that the trend
    would refuse or ignore."""
    if not 0 < settings["ci"] < 1:
        raise UserError(f"trend.ci must be between 0 and 1 (0.95 for 95% intervals), not "
                        f"{settings['ci']:g}", path)
    if settings["min_posts"] < 0:
        raise UserError("trend.min_posts must not be negative", path)
    check_n_boot(settings["n_boot"], "trend.n_boot", path)
    max_hours = settings["max_hours"]
    if max_hours is not None and settings["relative_to"] is None:
        raise UserError("trend.max_hours cuts off responses that many hours after the "
                        "reference of trend.relative_to; calendar bins have none (leave it out, "
                        "or set relative_to)", path)
    if max_hours is not None and not max_hours > 0:
        raise UserError(f"trend.max_hours must be a positive number of hours, not {max_hours:g}",
                        path)


def _seed(seed: int, path: Path) -> int:
    """``study.seed``, in the range numpy's and scikit-learn's generators take."""
    if not 0 <= seed < 2**32:
        raise UserError(f"study.seed must be a whole number from 0 to {2**32 - 1}, not {seed}",
                        path)
    return seed


def _check_figures(spec: Study) -> None:
    """Refuse a figure that could not be drawn from the trend table, or only wrongly."""
    for figure in spec.figures:
        _check_figure_model(spec, figure)
        _check_figure_groups(spec, figure)
    files = [figure.file for figure in spec.figures]
    for file in files:
        if not re.fullmatch(_PLAIN_NAME, file):
            raise UserError(f"[[figures]] file {file!r} must be a plain file name without a "
                            "suffix (letters, digits, '.', '_', '-'; no '/' or '..')", spec.file)
    repeated = sorted({f for f in files if files.count(f) > 1})
    if repeated:
        raise UserError(f"[[figures]] file {repeated[0]!r} is named twice; one would overwrite "
                        "the other", spec.file)


def _check_figure_model(spec: Study, figure: Figure) -> None:
    """The figure's model and method are ones the study runs."""
    where = f"[[figures]] '{figure.file}'"
    if figure.model is not None and figure.model not in (*spec.models, "gold"):
        raise UserError(f"{where} draws model {figure.model!r}, which is not in classify.models "
                        f"{list(spec.models)} (or 'gold')", spec.file)
    if figure.model == "gold" and spec.gold is None:
        raise UserError(f"{where} draws model 'gold', but the study has no [gold] table",
                        spec.file)
    if (figure.method is not None and figure.model != "gold"
            and figure.method not in spec.methods):
        raise UserError(f"{where} draws method {figure.method!r}, which is not in trend.methods "
                        f"{list(spec.methods)}", spec.file)
    if figure.kind == "validation" and spec.gold is None:
        raise UserError(f"{where}: kind = 'validation' sets the estimates against the gold "
                        "shares, and the study has no [gold] table", spec.file)
    if figure.kind == "validation" and figure.model == "gold":
        raise UserError(f"{where}: kind = 'validation' sets a model's estimates against the gold "
                        "shares; name a model of classify.models (or none for all)", spec.file)


def _check_figure_groups(spec: Study, figure: Figure) -> None:
    """The figure's kind suits the groups of ``trend.by``: ``shares`` draws one series per label
    (none per group), ``multiples`` one panel per value of one column."""
    where = f"[[figures]] '{figure.file}'"
    if figure.kind == "shares" and spec.by:
        raise UserError(f"{where}: kind = 'shares' draws one line per label, and trend.by "
                        f"{list(spec.by)} makes one per group too; use kind = 'multiples' (a "
                        "panel per group) or leave out trend.by", spec.file)
    if figure.kind == "multiples" and not spec.by:
        raise UserError(f"{where}: kind = 'multiples' draws a panel per value of a trend.by "
                        "column, and the study has no trend.by; give one, or use kind = "
                        "'shares'", spec.file)
    if figure.kind == "multiples" and len(spec.by) > 1:
        raise UserError(f"{where}: kind = 'multiples' draws a panel per value of one column, "
                        f"and trend.by has {len(spec.by)} ({', '.join(spec.by)}): a panel would "
                        "hold several groups; keep one column in trend.by", spec.file)


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
    from analysis.loaders import REGISTRY

    get = partial(_get, path)
    where = get(entry, "path", str, "sources.")
    loader = get(entry, "format", str, "sources.", "auto")
    if loader != "auto" and loader not in REGISTRY:
        raise UserError(f"sources.format {loader!r} (of {where!r}) is not a loader; use auto or "
                        f"one of {', '.join(REGISTRY)}", path)
    options = {k: v for k, v in entry.items() if k not in ("path", "format")}
    _check_source_options(options, path)
    return Source(path=(config.PROJECT_ROOT / where).resolve(), format=loader, options=options)


def _check_source_options(options: Mapping[str, object], path: Path) -> None:
    """Refuse loader options that ingest would refuse only once the run has started, with
    ingest's own check of them."""
    from analysis.loaders.ingest import load_options

    for key in ("thread_id", "platform"):
        _get(path, options, key, str, "sources.", None)
    if "tz" in options:
        _checked("sources.tz", path, load_options, None, options["tz"], None, None)
    if "field_map" in options:
        _checked("sources.field_map", path, load_options, options["field_map"], None, None, None)


def _figure(entry: object, models: tuple[str, ...], path: Path) -> Figure:
    """One ``[[figures]]`` entry; without a ``model``, the study's only model (a validation
    figure without one draws every model)."""
    if not isinstance(entry, dict) or entry.get("kind") not in FIGURE_KINDS or "file" not in entry:
        raise UserError(f"each [[figures]] entry needs 'file' and a 'kind' in "
                        f"{', '.join(FIGURE_KINDS)}", path)
    get = partial(_get, path)
    figure = Figure(kind=entry["kind"], file=get(entry, "file", str, "figures."),
                    model=get(entry, "model", str, "figures.", None),
                    method=get(entry, "method", str, "figures.", None),
                    title=get(entry, "title", str, "figures.", None))
    if figure.model is not None or figure.kind == "validation":
        return figure
    if len(models) > 1:
        raise UserError(f"[[figures]] '{figure.file}' has no model, and the study runs "
                        f"{len(models)} ({', '.join(models)}): drawn together, each response "
                        f"would count once per model; add model = {models[0]!r} (or 'gold')",
                        path)
    return replace(figure, model=models[0])


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

