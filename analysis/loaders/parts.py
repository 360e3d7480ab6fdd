"""Reading a large JSON-lines file in parts, in worker processes.

An uncompressed file of JSON lines (twarc2, Pushshift NDJSON) bigger than two parts is cut at
line ends into byte ranges of about :data:`PART_BYTES` (:func:`plan_parts`). Each part is read
by :func:`read_part`: the loader's ``read_lines`` maps its lines to rows, a
:class:`~analysis.loaders.chunks.Collector` types them in chunks (and detects their language)
and spills them to a temporary Arrow file; the part returns that file, the light columns, its
rejects and counts, and the warnings raised while reading it. :class:`PartReader` runs the parts
in a process pool (or in this process for one job) and gives the results back in input order
(raising each part's warnings again in this process), so the run that merges them (see
:mod:`analysis.loaders.ingest`) builds the same table, rejects, summary and warnings whatever the
number of jobs: line numbers are moved on by the lines of the parts before, and after a part
whose loader stopped the rest of the file is dropped, as a serial read would stop there.

A loader takes part in this by defining ``read_lines(path, lines, options)``: its ``read`` for
an iterable of ``(line number, raw bytes)`` of a file read as JSON lines.

Workers are forked, except in an interactive session or notebook kernel that runs other threads:
there they start from a fork server, since forking a process with several threads may deadlock
the child (Python 3.12+ warns about it). A script or ``python -m`` module is forked even then
(as Python 3.12+ warns): a fork server's workers would run its main module again, and a script
without an ``if __name__ == "__main__":`` guard would start over in every worker; see
:func:`start_method`. A worker that dies (killed, out of memory) ends the run with one line.
:func:`read_part` is a module-level function and :class:`PartTask` a plain dataclass, so every
start method works. Each worker writes its own spill files, so only the light columns, rejects,
counts and warnings travel back.
Workers leave Ctrl-C to the main process, which stops them when it is interrupted or fails
(:meth:`PartReader.__exit__`); on Linux a worker also ends when the main process dies, however
it dies (:func:`_start_worker`).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import gc
import json
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from analysis.errors import UserError
from analysis.loaders import loader_module
from analysis.loaders.base import (
    BROKEN_TEXTS,
    COMPRESSED_SUFFIXES,
    BrokenTextWarning,
    LoadOptions,
    Reject,
    count_lines,
    iter_lines_between,
    line_ranges,
    open_binary,
    warn_broken_texts,
)
from analysis.loaders.chunks import Collector, SpillSink, guarded, system_memory
from analysis.loaders.counts import UnreadableCountWarning

#: Bytes of input per part (a file is read in parts when it has at least two).
PART_BYTES = 8 * 1024 * 1024
#: Parts waiting or running per worker (bounds the results held in memory).
PARTS_PER_JOB = 2


def default_jobs() -> int:
    """The CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _first_line_is_object(path: Path) -> bool:
    with open_binary(path) as handle:  # skips a byte order mark, as the loaders do
        for raw in handle:
            if raw.strip():
                try:
                    return isinstance(json.loads(raw), dict)
                except ValueError:
                    return False
    return False


def plan_parts(path: Path, format: str) -> list[tuple[int, int]]:  # noqa: A002
    """Byte ranges to read ``path`` in, or ``[]`` to read it whole.

    A file is read in parts when its loader has ``read_lines``, it is not compressed, it holds
    at least two parts of :data:`PART_BYTES`, and its first line is a JSON object (so that every
    loader reads it as JSON lines rather than as one document).
    """
    path = Path(path)
    if not hasattr(loader_module(format), "read_lines"):
        return []
    if path.suffix.lower() in COMPRESSED_SUFFIXES or not path.is_file():
        return []
    if path.stat().st_size < 2 * PART_BYTES or not _first_line_is_object(path):
        return []
    return line_ranges(path, PART_BYTES)


@dataclass(frozen=True)
class PartTask:
    """One byte range of a file to read, and where to spill its chunks."""

    path: str
    format: str
    start: int
    end: int
    spill_dir: str
    number: int
    options: LoadOptions
    detect_language: bool
    key: bytes | None


@dataclass
class PartResult:
    """What reading one part gives back (line numbers count from the start of the part), with
    the warnings raised while reading it as ``(message, category)`` (:meth:`PartReader.read`
    raises them again in the main process)."""

    task: PartTask
    spill: list[str]
    light: pa.Table | None
    rows: int
    rows_read: int
    matched: int
    rejects: list[Reject]
    labels: list
    counts: dict
    lines: int
    stopped: bool
    warned: list[tuple[str, type[Warning]]] = dataclasses.field(default_factory=list)
    #: Texts of the part that held a lone surrogate (a :class:`~analysis.loaders.base.
    #: BrokenTextWarning`, given once per file with the count of all its parts).
    broken_texts: int = 0
    #: Count values of the part that are no count, by field: ``[how many, the first]`` (an
    #: :class:`~analysis.loaders.counts.UnreadableCountWarning`, given once per file likewise).
    unreadable_counts: dict = dataclasses.field(default_factory=dict)


def read_part(task: PartTask) -> PartResult:
    """Read one part: rows typed in chunks and spilled (runs in a worker process); the warnings
    raised meanwhile are kept in the result instead of shown."""
    was_enabled = gc.isenabled()
    gc.disable()  # see analysis.loaders.ingest._gc_paused
    try:
        with system_memory(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # the main process's filters decide (raise_warnings)
            result = _read_part(task)
        once_per_file = (BrokenTextWarning, UnreadableCountWarning)
        result.warned = [(str(item.message), item.category) for item in caught
                         if not isinstance(item.message, once_per_file)]
        for item in caught:
            if isinstance(item.message, BrokenTextWarning):
                result.broken_texts += item.message.count
            elif isinstance(item.message, UnreadableCountWarning):
                add_unreadable(result.unreadable_counts, item.message.unreadable)
        return result
    finally:
        if was_enabled:
            gc.enable()


def add_unreadable(total: dict[str, list], more: dict[str, list]) -> None:
    """Add the unreadable counts ``more`` (field -> ``[how many, the first value]``) to
    ``total``, whose first values stay first."""
    for field, (count, example) in more.items():
        total.setdefault(field, [0, example])[0] += count


def _warn_once_per_file(path: str, broken: int, unreadable: dict[str, list]) -> None:
    """The warnings a serial read gives once per file, with the counts of all its parts read:
    texts with a broken character, count values that are no count."""
    if broken:
        warn_broken_texts(path, Counter({BROKEN_TEXTS: broken}))
    if unreadable:
        warnings.warn(UnreadableCountWarning(str(path), unreadable), stacklevel=3)


def raise_warnings(result: PartResult) -> None:
    """Raise again, in this process, the warnings raised while reading a part."""
    for message, category in result.warned:
        warnings.warn(message, category, stacklevel=2)


def _read_part(task: PartTask) -> PartResult:
    path = Path(task.path)
    sink = SpillSink(Path(task.spill_dir), prefix=f"part-{task.number:06d}-")
    collector = Collector(sink, detect_language=task.detect_language, key=task.key)
    counts = {"rows": 0, "rejects": 0, "labels": 0}
    state: dict = {}
    lines = _CountedLines(path, task.start, task.end)
    records = loader_module(task.format).read_lines(path, lines, task.options)
    collector.add(guarded(records, path, task.format, state), counts, path, task.format)
    collector.flush()
    sink.close()
    return PartResult(task=task, spill=[str(p) for p, _ in sink.segments],
                      light=sink.light_table() if sink.rows else None, rows=sink.rows,
                      rows_read=counts["rows"], matched=collector.matched,
                      rejects=collector.rejects, labels=collector.labels, counts=counts,
                      lines=lines.count(), stopped=bool(state.get("stopped")))


class _CountedLines:
    """The lines of a part (:func:`~analysis.loaders.base.iter_lines_between`), for a loader's
    ``read_lines``; :meth:`count` gives how many lines the part has, counted while the loader
    read them (a second pass over the part cost about 3% of a run's CPU time)."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self.path, self.start, self.end = path, start, end
        self.total: int | None = None

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        self.total = yield from iter_lines_between(self.path, self.start, self.end)

    def count(self) -> int:
        """The number of lines of the part (blank ones too), as
        :func:`~analysis.loaders.base.count_lines` counts them."""
        if self.total is None:  # the loader stopped before the end
            return count_lines(self.path, self.start, self.end)
        return self.total


def shift_lines(rejects: Iterable[Reject], offset: int) -> list[Reject]:
    """``rejects`` with their line numbers moved on by ``offset``."""
    return [r if r.line is None or not offset else dataclasses.replace(r, line=r.line + offset)
            for r in rejects]


class _InProcess(Executor):
    """Runs each task when it is submitted (one job: no worker processes)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller as a future does
            future.set_exception(exc)
        return future


#: prctl option that sends a process a signal when its parent dies (Linux, <linux/prctl.h>).
PR_SET_PDEATHSIG = 1


def _start_worker(parent: int | None) -> None:
    """Set up a worker process: Ctrl-C is left to the main process (which stops the workers),
    SIGTERM ends it, and on Linux it gets SIGTERM when its parent, the main process ``parent``
    (None: a fork server), dies, so a killed run leaves no worker behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the CLI's handler, copied by fork
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent is not None and os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _main_runs_again() -> bool:
    """Whether a worker started afresh (fork server, spawn) would run this program's main module
    again: a script (``__main__`` has a file, or names one such as ``<stdin>``) or a ``python -m``
    module; not an interactive session or a notebook kernel."""
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    return name is not None or getattr(main, "__file__", None) is not None


def start_method() -> str:
    """How worker processes start (see the module docstring): ``fork`` (fast) where this
    platform has it, unless this process runs other threads in an interactive session or a
    notebook kernel; then ``forkserver`` where there is one, else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and (threading.active_count() == 1 or _main_runs_again()):
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _worker_parent(method: str) -> int | None:
    """This process, the parent of the workers it starts (None when a fork server starts
    them)."""
    return None if method == "forkserver" else os.getpid()


class PartReader:
    """Reads parts with ``jobs`` worker processes (started at the first file with parts).

    Use as a context manager; :meth:`read` yields results in the order of the tasks.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, int(jobs))
        self._executor: Executor | None = None

    def __enter__(self) -> PartReader:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        """Shut the workers down; after an error or an interrupt (Ctrl-C, SIGTERM) they are
        stopped at once rather than left to finish their parts."""
        if self._executor is None:
            return
        if exc_type is not None:
            self._stop_workers()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None

    def _stop_workers(self) -> None:
        processes = getattr(self._executor, "_processes", None) or {}
        for process in list(processes.values()):
            with contextlib.suppress(OSError, ValueError):  # already gone
                process.terminate()

    def _pool(self, tasks: int) -> Executor:
        if self._executor is None:
            if self.jobs == 1 or tasks == 1:
                return _InProcess()
            method = start_method()
            self._executor = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=multiprocessing.get_context(method),
                initializer=_start_worker, initargs=(_worker_parent(method),))
        return self._executor

    def read(self, tasks: list[PartTask]) -> Iterator[PartResult]:
        """The result of every task, in order; at most :data:`PARTS_PER_JOB` per job at once.

        The warnings a part raised are raised again here, just before its result is yielded, so
        they come in input order and are shown as this process shows warnings, whatever the
        number of jobs.
        """
        pool = self._pool(len(tasks))
        window = self.jobs * PARTS_PER_JOB
        pending: list[Future] = []
        broken = 0
        unreadable: dict[str, list] = {}
        queue = iter(tasks)
        for task in queue:
            pending.append(pool.submit(read_part, task))
            if len(pending) >= window:
                break
        while pending:
            try:
                result = pending.pop(0).result()
            except BrokenProcessPool as exc:
                raise UserError("a worker process ended abruptly (killed, or out of memory?); "
                                "nothing written; run again, with --jobs 1 to read in this "
                                "process", tasks[0].path) from exc
            task = next(queue, None)
            if task is not None:
                pending.append(pool.submit(read_part, task))
            raise_warnings(result)
            broken += result.broken_texts
            add_unreadable(unreadable, result.unreadable_counts)
            if result.stopped:  # the last part read: the caller drops the rest of the file
                _warn_once_per_file(tasks[0].path, broken, unreadable)
                yield result
                return
            yield result
        _warn_once_per_file(tasks[0].path, broken, unreadable)
