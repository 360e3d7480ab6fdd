"""Progress bars for long work: a tqdm bar on stderr, only when stderr is a terminal.

A log file or a pipe gets no bar (its output stays the same); ``progress=False`` (a command's
``--no-progress`` or ``--quiet``) turns the bar off on a terminal too.

Examples
--------
>>> with progress_bar(total=3, unit=" bins", progress=False) as bar:
...     bar is None
True
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable
from typing import Any


def progress_bar(iterable: Iterable | None = None, *, total: int | None = None,
                 unit: str = " items", desc: str | None = None,
                 progress: bool | None = None) -> contextlib.AbstractContextManager[Any]:
    """A context manager giving a tqdm bar on stderr, or ``None`` when no bar is to be shown.

    Parameters
    ----------
    iterable
        What the bar iterates over (else advance it with ``bar.update(n)``).
    total
        Steps in all (None: a counter without an end).
    unit, desc
        The bar's unit (with a leading space, as tqdm joins it to the count) and label.
    progress
        ``False``: no bar. ``None`` or ``True``: a bar when stderr is a terminal.

    Notes
    -----
    The bar has no monitor thread: tqdm's would be a second thread in the process, and a run
    with one thread can fork its worker processes, which start faster
    (see :func:`analysis.loaders.parts.start_method`).
    The bar is removed when the block ends (``leave=False``): the command's closing line says
    what was done.
    """
    if progress is False or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0  # no monitor thread

    return Bar(iterable, total=total, unit=unit, desc=desc, file=sys.stderr, mininterval=0.5,
               leave=False)
