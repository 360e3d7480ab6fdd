"""Run a study end to end: ingest -> label -> trend -> figures, summary and provenance.

``python -m analysis reproduce [STUDY]`` calls :func:`reproduce`. Tables go to
``data/processed/<study>/`` and figures, ``summary.md`` and ``manifest.json`` to
``reports/<study>/``. Both folders are built in temporary folders and moved into place together
only when every stage has succeeded, so a failed run leaves the previous outputs as they were.
Files and folders in the two folders that the run does not write (your own notes, hand-coded
tables) are kept: they are moved into the new folders, and a warning names them. The new folders
get the modes of the old ones (a folder only you may read stays so). A folder that is a symbolic
link stays one: the new outputs go into the folder it points to. The records that could not be
read go to ``data/processed/<study>/posts.rejects.jsonl``, as ``ingest`` writes them.

Two study files with the same ``[study]`` name would write the same folders: a run refuses to
replace the outputs of another study file (as ``reports/<study>/manifest.json`` records it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import stat
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import __version__, config, io, rawdata, report, schema
from analysis.errors import UserError
from analysis.loaders.base import Reject
from analysis.provenance import run_manifest
from analysis.report import GOLD
from analysis.responses import responses
from analysis.study import Study, load_study

#: What ``Study.command`` starts with; the rest is the study's name or file.
COMMAND_PREFIX = "python -m analysis reproduce "


@dataclass(frozen=True)
class StudyOutputs:
    """Where a study's outputs were written, and the files and empty folders found there that
    the run does not write (``kept``: moved into the new folders as they were)."""

    processed: Path
    report: Path
    figures: tuple[Path, ...]
    summary: Path
    manifest: Path
    kept: tuple[Path, ...] = ()


def reproduce(study: str | Path = config.DEFAULT_STUDY, *, progress: bool | None = None,
              jobs: int = 1) -> StudyOutputs:
    """Run every stage of a study and write its tables, figures, summary and manifest.

    Parameters
    ----------
    study
        A study name from ``studies/`` or the path of a study TOML file.
    progress
        Progress bars on long stages (default: when stderr is a terminal).
    jobs
        Worker processes for training and labelling (-1: one per core). Results do not depend
        on it.

    Returns
    -------
    StudyOutputs

    Raises
    ------
    UserError
        Unknown study, missing inputs (for template studies that expect the researcher's own
        exports), a raw file that differs from ``data/raw/MANIFEST.csv``, or output folders that
        hold another study file's outputs.
    """
    spec = load_study(study)
    processed_dir = config.DATA_PROCESSED / spec.name
    report_dir = config.REPORTS / spec.name
    check_same_study(spec, report_dir)
    check_sources(spec)
    rawdata.verify(spec.raw_inputs)
    with _staged(processed_dir, report_dir) as staging:
        work, out = staging.folders
        posts, gold, rejects = read_sources(spec, progress=progress)
        io.write_table(posts, work / "posts.parquet")
        staging.owned.append(write_rejects(rejects, work / "posts.parquet"))
        if not gold.empty:
            io.write_table(gold, work / "gold.parquet")
        truth = gold_stance(spec, posts, gold)
        check_group_columns(spec, _with_group_columns(spec, posts, truth))
        validation_set(spec, posts, truth)  # refused before labelling when there is none
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            labels = {model: label_study(spec, model, posts, truth, progress=progress,
                                         jobs=jobs)
                      for model in spec.models}
            trend = trend_study(spec, posts, truth, labels, progress=progress)
        notes = tuple(dict.fromkeys(str(w.message) for w in caught))
        for model, table in labels.items():
            io.write_table(table, work / spec.labels_file(model))
        io.write_table(trend, work / "trend.csv")
        figures = report.draw_figures(spec, trend, out)
        summary_text = report.summarize(spec, posts, truth, labels, trend,
                                         rejects=len(rejects), notes=notes)
        io.write_text(summary_text, out / "summary.md")
        manifest = run_manifest(
            command=spec.command,
            inputs=[s.path for s in spec.sources] + [spec.file] + model_inputs(spec),
            outputs={f"{_relative(final)}/{p.relative_to(folder).as_posix()}": p
                     for folder, final in ((work, processed_dir), (out, report_dir))
                     for p in sorted(folder.rglob("*")) if p.is_file()},
            parameters=spec.raw, seed=spec.seed)
        io.write_json(manifest, out / "manifest.json")
    if staging.kept:
        warnings.warn(_kept_message(staging.kept), UserWarning, stacklevel=2)
    return StudyOutputs(processed=processed_dir, report=report_dir,
                        figures=tuple(report_dir / p.name for p in figures),
                        summary=report_dir / "summary.md", manifest=report_dir / "manifest.json",
                        kept=tuple(staging.kept))


def check_same_study(spec: Study, report_dir: Path) -> None:
    """Refuse to replace the outputs of another study file that has the same ``[study]`` name:
    the command recorded in ``report_dir/manifest.json`` names another file. Running the same
    file again is allowed, and so is a folder without a readable manifest."""
    try:
        recorded = json.loads((report_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    command = recorded.get("command") if isinstance(recorded, dict) else None
    if not isinstance(command, str) or command == spec.command:
        return
    if (config.PROJECT_ROOT / _recorded_file(command)).resolve() == spec.file.resolve():
        return  # the same file, given by another path (one outside the project stays as given)
    raise UserError(f"{_relative(report_dir)} holds the outputs of {_recorded_file(command)}; "
                    "give this study another [study] name, or delete that folder")


def _recorded_file(command: str) -> str:
    """The study file a recorded ``Study.command`` ran: its path, or ``studies/<name>.toml``."""
    given = command.removeprefix(COMMAND_PREFIX)
    return given if given.endswith(".toml") else _relative(config.STUDIES / f"{given}.toml")


def check_sources(spec: Study) -> None:
    """Refuse to start when a source or a model file is missing, naming it and saying what the
    study expects."""
    for source in spec.sources:
        if not source.path.exists():
            raise UserError(
                f"study '{spec.name}' expects this input, which is not there (bundled data: "
                "restore it with git checkout; your own exports: see the comments at the top of "
                f"{spec.file.name} and the README)", _relative(source.path))
    for model, file in spec.model_files.items():
        if not file.is_file():
            raise UserError(
                f"study '{spec.name}' labels with this model file (classify.models {model!r}, "
                "relative to the project root), which is not there; train it with 'python -m "
                "analysis train' or correct the path", _relative(file))


def model_inputs(spec: Study) -> list[Path]:
    """The ``.skops`` files of the study's models and their cards (where there), recorded with
    their sha256 among the inputs: a retrained model changes the figures."""
    from analysis.classifiers.persistence import card_path

    files = []
    for file in spec.model_files.values():
        files += [file] + [card for card in [card_path(file)] if card.is_file()]
    return files


# -- stages ------------------------------------------------------------------------------------


def ingest_sources(spec: Study, *, progress: bool | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """:func:`read_sources` with the number of rejected records instead of the records."""
    posts, gold, rejects = read_sources(spec, progress=progress)
    return posts, gold, len(rejects)


def read_sources(spec: Study, *, progress: bool | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[Reject]]:
    """Load every source of the study into one posts table (reply trees across all of them),
    one table of gold labels (see :func:`collapse_gold`), and the records that could not be
    read (their ``file`` relative to the project, as the posts' ``source_file``)."""
    from analysis.loaders.ingest import collapse_duplicates, ingest
    from analysis.loaders.threads import add_threads

    posts, gold, rejects = [], [], []
    for source in spec.sources:
        options = {k: v for k, v in source.options.items()
                   if k in ("tz", "thread_id", "platform", "field_map")}
        result = ingest([source.path], format=source.format, progress=progress, **options)
        posts.append(result.posts)
        gold.append((_relative(source.path), result.labels))
        rejects += [dataclasses.replace(r, file=_in_project(r.file)) for r in result.rejects]
    table = posts[0]
    if len(posts) > 1:  # the same duplicate rule as within one ingest run, then trees across all
        stacked = pd.concat(posts, ignore_index=True)
        kept, _ = collapse_duplicates(stacked.assign(_pos=range(len(stacked))))
        table = add_threads(kept.drop(columns="_pos"))
    labels = collapse_gold(gold, spec.file)
    # Provenance relative to the project, so the tables do not depend on where it is checked out.
    table = table.assign(source_file=table["source_file"].astype("string")
                         .str.removeprefix(_project_prefix()))
    return schema.conform(table, schema.POSTS), labels, rejects


def collapse_gold(labels: Iterable[tuple[str, pd.DataFrame]], study_file: Path
                  ) -> pd.DataFrame:
    """The gold labels of every source (``labels``: pairs of source name and its labels), one
    row per ``uid`` and ``task``, as duplicate posts collapse: sources that overlap give the
    same label twice, and it is kept once (the first source's row). Two different labels of one
    post are a :class:`UserError` naming the post and both sources."""
    tables = [table.assign(_source=name) for name, table in labels if not table.empty]
    if not tables:
        return pd.DataFrame()
    stacked = pd.concat(tables, ignore_index=True)
    key = ["uid", "task"]
    distinct = stacked.drop_duplicates([*key, "label"])
    clash = distinct[distinct.duplicated(key, keep=False)]
    if not clash.empty:
        uid, task = clash.iloc[0][key]
        rows = clash[(clash["uid"] == uid) & (clash["task"] == task)].head(2)
        said = " but ".join(f"{label!r} in {source}"
                            for label, source in zip(rows["label"], rows["_source"], strict=True))
        raise UserError(f"the sources give post {uid} two different {task!r} gold labels: {said}; "
                        "leave out the source that is wrong, or correct its labels", study_file)
    return stacked.drop_duplicates(key).drop(columns="_source").reset_index(drop=True)


def write_rejects(rejects: list[Reject], posts_file: Path) -> Path:
    """Write ``rejects`` next to ``posts_file`` under the name and in the form ``ingest`` gives
    them (``posts.rejects.jsonl``: one JSON object per record), when there are any; return that
    file's path either way (a run without rejects leaves no rejects file, as ``ingest`` does,
    so an earlier run's is not kept)."""
    from analysis.loaders.ingest import output_paths

    path = output_paths(posts_file)["rejects"]
    if rejects:
        io.write_jsonl((r.as_dict() for r in rejects), path)
    return path


def run_id(spec: Study) -> str:
    """A run id that depends only on the study file, its raw inputs (a folder: the relative
    paths and contents of the files the loaders read in it, as ``ingest``'s manifest records
    them), its model files and the package version."""
    from analysis.loaders.ingest import describe_input

    digest = hashlib.sha256(spec.file.read_bytes())
    digest.update(__version__.encode())
    for source in spec.sources:
        described = describe_input(source.path)
        digest.update((described.get("sha256") or described["sha256_of_file_list"]).encode())
    for file in model_inputs(spec):
        digest.update(io.sha256_file(file).encode())
    return digest.hexdigest()[:16]


def gold_stance(spec: Study, posts: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """The study's gold labels mapped to stance labels, one row per labelled post, with the
    post's group (e.g. its event) and grouping label (e.g. its thread's veracity)."""
    if spec.gold is None:
        return pd.DataFrame(columns=["uid", "label"])
    if gold.empty or "task" not in gold.columns:
        raise UserError("the study has a [gold] table but its sources gave no gold labels "
                        "(RumourEval / PHEME folders and archives carry them)", spec.file)
    tasks = sorted(set(gold["task"].dropna().astype(str)))
    for key, task in (("gold.task", spec.gold.task), ("gold.group_task", spec.gold.group_task),
                      ("gold.by_task", spec.gold.by_task)):
        if task is not None and task not in tasks:
            raise UserError(f"{key} {task!r} is not a task of the sources' gold labels "
                            f"({', '.join(tasks)})", spec.file)
    rows = gold[gold["task"] == spec.gold.task]
    unknown = sorted(set(rows["label"].dropna()) - set(spec.gold.mapping))
    if unknown:
        raise UserError(f"gold labels {unknown[:5]} are missing from gold.mapping", spec.file)
    rows = rows[rows["uid"].isin(posts["uid"])]
    table = pd.DataFrame({"uid": rows["uid"].astype("string").to_numpy(),
                          "label": rows["label"].map(spec.gold.mapping).astype("string")
                          .to_numpy()})
    roots = root_uids(posts).set_axis(posts["uid"])
    table["thread_id"] = table["uid"].map(roots).astype("string")
    for task in (spec.gold.group_task, spec.gold.by_task):
        if task:
            per_root = gold[gold["task"] == task].set_index("uid")["label"]
            table[task] = table["thread_id"].map(per_root).astype("string")
    if spec.gold.thread_blocks:
        _check_thread_blocks(spec, table[spec.gold.group_task])
        table[spec.gold.group_task] = split_groups_by_thread(
            table[spec.gold.group_task], table["thread_id"], spec.gold.thread_blocks)
    return table


def _check_thread_blocks(spec: Study, groups: pd.Series) -> None:
    """Refuse a ``gold.thread_blocks`` group that is not a group of the labelled posts (a typo
    would otherwise leave the group whole while the summary says it was split)."""
    known = sorted(set(groups.dropna().astype(str)))
    for group in spec.gold.thread_blocks:
        if group not in known:
            raise UserError(f"gold.thread_blocks.{group}: {group!r} is not a "
                            f"gold.group_task {spec.gold.group_task!r} group of the labelled "
                            f"posts ({', '.join(known) or 'none'})", spec.file)


def split_groups_by_thread(groups: pd.Series, threads: pd.Series,
                           blocks: Mapping[str, int]) -> pd.Series:
    """Split each group named in ``blocks`` into that many blocks of whole threads.

    A held-out group should be one topic the model has not seen. RumourEval's Reddit threads have
    no event: the data set puts them all under ``reddit``, though each is about a rumour of its
    own, so holding out ``reddit`` as one group would hold out a whole platform. Here the group's
    threads are sorted and dealt round-robin into ``<group>-1`` ... ``<group>-<n>``; the other
    groups are left as they are.

    Examples
    --------
    >>> groups = pd.Series(["a", "reddit", "reddit", "reddit", "reddit"])
    >>> threads = pd.Series(["t0", "t3", "t1", "t2", "t1"])
    >>> split_groups_by_thread(groups, threads, {"reddit": 2}).tolist()
    ['a', 'reddit-1', 'reddit-1', 'reddit-2', 'reddit-1']
    """
    out = groups.astype("string").copy()
    for group, count in blocks.items():
        inside = (out == group).fillna(False).to_numpy()
        names = sorted(set(threads[inside].dropna().astype(str)))
        block = {name: f"{group}-{i % count + 1}" for i, name in enumerate(names)}
        out[inside] = threads[inside].astype(str).map(block).astype("string").to_numpy()
    return out


def root_uids(posts: pd.DataFrame) -> pd.Series:
    """The uid of each post's thread root (its own uid for a root or when the root is unknown)."""
    root = posts["root_id"].astype("object")
    uid = posts["platform"].astype(str) + ":" + root.astype(str)
    return uid.where(root.notna(), posts["uid"].astype(str)).astype("string")


def label_study(spec: Study, model: str, posts: pd.DataFrame, truth: pd.DataFrame, *,
                progress: bool | None = None, jobs: int = 1) -> pd.DataFrame:
    """Label the study's posts with ``model``: out-of-group predictions under
    ``leave-one-group-out`` (each group predicted by a model trained on the others, with the
    gold labels of :func:`gold_stance` as ``truth``), otherwise the fitted model."""
    from analysis.classifiers import label_posts, posts_frame, predict_out_of_group

    if spec.prediction == "leave-one-group-out":
        frame = posts_frame(posts, target=spec.target)
        language = [c for c in ("lang_detected", "lang") if c in posts.columns]  # as label reads
        frame = frame.merge(posts[["uid", *language]], on="uid", how="left",
                            validate="one_to_one")
        frame = frame.merge(truth[["uid", "label", spec.gold.group_task]], on="uid",
                            how="inner", validate="one_to_one")
        labels = predict_out_of_group(frame, spec.model_source(model), spec.gold.group_task,
                                      random_state=spec.seed, jobs=jobs)
        labels = labels.drop(columns=["group"])
    else:
        labels = label_posts(posts, spec.model_source(model), target=spec.target,
                             progress=progress, jobs=jobs)
    return labels.assign(run_id=run_id(spec))


def trend_study(spec: Study, posts: pd.DataFrame, truth: pd.DataFrame,
                labels: dict[str, pd.DataFrame], *, progress: bool | None = None
                ) -> pd.DataFrame:
    """Shares per bin for every model and method (and for the gold labels ``truth`` of
    :func:`gold_stance`, when there are some), stacked in one table with a ``model`` column;
    ``progress`` as for :func:`analysis.trend.estimate_shares`."""
    grouped = _with_group_columns(spec, posts, truth)
    common = dict(freq=spec.freq, relative_to=spec.relative_to, tz=spec.tz, by=spec.by,
                  ci=spec.ci, min_posts=spec.min_posts, max_hours=spec.max_hours,
                  random_state=spec.seed, progress=progress)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tables = _estimate_all(spec, truth, grouped, labels, common)
    for message in dict.fromkeys(str(w.message) for w in caught):
        warnings.warn(message, UserWarning, stacklevel=2)  # each once, not once per method
    out = pd.concat(tables, ignore_index=True)
    first = ["model", *spec.by]
    return out[first + [c for c in out.columns if c not in first]]


def _estimate_all(spec: Study, truth: pd.DataFrame, grouped: pd.DataFrame,
                  labels: dict[str, pd.DataFrame], common: dict) -> list[pd.DataFrame]:
    from analysis.trend import ADJUSTED, estimate_shares

    tables = []
    if not truth.empty:
        gold_trend = estimate_shares(truth[["uid", "label"]], grouped, method="cc",
                                     n_boot=spec.n_boot, **common)
        tables.append(gold_trend.assign(model=GOLD))
    for model, table in labels.items():
        validation, confusion = _validation(spec, model, truth, grouped)
        unavailable = spec.unavailable_methods(model)
        for method in spec.methods:
            if method in unavailable or (
                    method in ADJUSTED and validation is None and confusion is None):
                continue  # nothing to adjust with: the summary says so
            trend = estimate_shares(table, grouped, method=method, validation=validation,
                                    confusion=confusion, n_boot=spec.n_boot, **common)
            tables.append(trend.assign(model=model))
    return tables


def check_group_columns(spec: Study, grouped: pd.DataFrame) -> None:
    """Refuse, before labelling, a ``trend.by`` column that the posts (with the thread-level gold
    labels of ``gold.by_task``) do not have, naming the study file and the key."""
    missing = [column for column in spec.by if column not in grouped.columns]
    if missing:
        raise UserError(f"trend.by: the posts have no column {missing[0]!r} (a posts-table "
                        "column, or a thread-level gold task named in gold.by_task)", spec.file)


def _with_group_columns(spec: Study, posts: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Posts with the study's ``by`` columns joined from thread-level gold labels."""
    if spec.gold is None or not spec.gold.by_task:
        return posts
    per_root = truth.drop_duplicates("thread_id").set_index("thread_id")[spec.gold.by_task]
    out = posts.copy()
    out[spec.gold.by_task] = root_uids(posts).map(per_root).astype("string")
    return out


def validation_set(spec: Study, posts: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """The gold labels ``truth`` of :func:`gold_stance` that the adjusted methods correct with:
    those of responses (:func:`analysis.responses.responses` of ``posts``, the posts whose
    shares are estimated), not of thread roots or posts without text (an empty ``truth``, of a
    study without ``[gold]``, as it is). When there are none and the study asks for an adjusted
    method, a :class:`UserError`."""
    from analysis.trend import ADJUSTED

    if truth.empty:  # no [gold] table
        return truth
    counted = truth["uid"].isin(responses(posts)["uid"]).to_numpy()
    validation = truth.loc[counted, ["uid", "label", "thread_id"]]
    wanted = [method for method in spec.methods if method in ADJUSTED]
    if validation.empty and wanted:
        raise UserError(f"trend.methods {wanted} correct with the gold labels of responses, "
                        "but every gold label is on a thread root or a post without text; use "
                        "cc or pcc", spec.file)
    return validation


def _validation(spec: Study, model: str, truth: pd.DataFrame, posts: pd.DataFrame):
    """What the adjusted methods correct with: the gold labels of the study's own responses
    (:func:`validation_set`; with the out-of-group predictions), else the model card's
    cross-validated confusion matrix."""
    if not truth.empty:
        return validation_set(spec, posts, truth), None
    if model == "vader":
        return None, None
    from analysis.classifiers import model_card

    return None, model_card(spec.model_source(model)).get("cv_confusion")


# -- helpers -----------------------------------------------------------------------------------


@dataclass
class _Staging:
    """Temporary ``folders`` being filled, one per destination, and the files and empty
    folders of the destinations that the run did not write (``kept``), once the folders are in
    place."""

    folders: tuple[Path, ...]
    kept: list[Path] = field(default_factory=list)
    #: Files in ``folders`` that the run writes only sometimes (the rejects file): an earlier
    #: run's copy is not kept when this run has none.
    owned: list[Path] = field(default_factory=list)


@contextlib.contextmanager
def _staged(*dests: Path) -> Iterator[_Staging]:
    """Fresh temporary folders, one next to each of ``dests``, that replace all of them together
    if the block succeeds; the temporary folders are removed whatever happens.

    A destination that is a symbolic link is followed: its target is replaced and the link
    stays. Each new folder has the mode of the folder it replaces (:func:`analysis.io.
    staging_folder`). Files and folders of a destination that the block did not write are
    moved into its new folder (see :func:`_carry_over`) and listed in ``kept`` by their path
    under ``dests``.
    """
    targets = [_real_folder(dest) for dest in dests]
    if len(set(targets)) < len(targets) or any(
            a in b.parents for a in targets for b in targets):
        raise UserError("the output folders of the study are one and the same folder, or one "
                        f"is inside the other ({', '.join(map(str, targets))}); point the links "
                        "at separate folders", dests[0])
    made: list[Path] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.append(io.staging_folder(target))
        staging = _Staging(tuple(made))
        yield staging
        for dest, target, tmp in zip(dests, targets, made, strict=True):
            owned = {p.relative_to(tmp) for p in staging.owned if p.is_relative_to(tmp)}
            staging.kept += [dest / p for p in _carry_over(target, tmp, skip=owned)]
        io.swap_folders(made, targets)
    finally:
        for tmp in made:
            shutil.rmtree(tmp, ignore_errors=True)


def _real_folder(dest: Path) -> Path:
    """The folder ``dest`` stands for: itself, or the target of a symbolic link (along its
    path). A link to nothing, or a file where the folder should be, is a :class:`UserError`."""
    real = dest.resolve()
    if dest.is_symlink() and not real.is_dir():
        raise UserError(f"is a symbolic link to {real}, which is not a folder; point it at a "
                        "folder or remove it", _relative(dest))
    if real.exists() and not real.is_dir():
        raise UserError("is a file where the study's output folder goes; move it away",
                        _relative(dest))
    return real


def _carry_over(old: Path, new: Path, skip: set[Path] | frozenset = frozenset()) -> list[Path]:
    """Put every file and folder of ``old`` that ``new`` lacks into ``new``, at the same
    relative path (files as hard links where the file system allows, else copies; folders with
    their modes), except the relative paths in ``skip``; return the relative paths of the files
    and of the folders left empty."""
    if not old.is_dir():
        return []
    carried: list[Path] = []
    folders: list[Path] = []
    for path in sorted(old.rglob("*")):
        relative = path.relative_to(old)
        copy = new / relative
        if os.path.lexists(copy) or relative in skip:
            continue
        if path.is_dir() and not path.is_symlink():
            copy.mkdir(parents=True)
            folders.append(relative)
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, copy, follow_symlinks=False)
        except OSError:
            shutil.copy2(path, copy, follow_symlinks=False)
        carried.append(relative)
    for relative in reversed(folders):  # once filled, inner first: a mode may shut the owner out
        (new / relative).chmod(stat.S_IMODE((old / relative).stat().st_mode))
    empty = [f for f in folders if not any(f in p.parents for p in [*carried, *folders])]
    return sorted([*carried, *empty])


def _kept_message(kept: list[Path]) -> str:
    """The warning that names what a run kept: files, and empty folders (with a final '/')."""
    folders = [path for path in kept if path.is_dir() and not path.is_symlink()]
    names = ", ".join(_relative(p) + ("/" if p in folders else "") for p in kept)
    counts = f"{len(kept) - len(folders)} file(s)" + (
        f" and {len(folders)} empty folder(s)" if folders else "")
    return f"kept {counts} reproduce does not write: {names}"


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(config.PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def _project_prefix() -> str:
    """The project root as the start of the file names loaders give (with a final '/')."""
    return config.PROJECT_ROOT.as_posix().rstrip("/") + "/"


def _in_project(name: str) -> str:
    """A file name a loader gave (a path, or an archive's path and a member in it) relative to
    the project when it starts there, so that what the run writes does not depend on where the
    project is."""
    return name.removeprefix(_project_prefix())
