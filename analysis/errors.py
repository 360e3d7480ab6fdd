"""Errors a user can cause, and the exit status the CLI gives them.

Library code raises :class:`UserError` (or a subclass) with a message that says what is wrong and
what to do; the CLI prints it as one line and exits with :data:`EXIT_USER_ERROR`. Anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Bad input, a missing file or a wrong option: something the user can fix.

    Parameters
    ----------
    message
        One line: what is wrong and what to do about it.
    path
        The file the problem is in, when there is one; it is put in front of the message.
    """

    def __init__(self, message: str, path: object | None = None) -> None:
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)


class WrongTypeError(UserError, TypeError):
    """A Python argument of the wrong type, such as a column (a Series) given where a table
    belongs: a :class:`TypeError` to Python callers, one line and exit 2 from the CLI."""


def check_table(value: object, name: str, what: str, source: object = None, *,
                optional: bool = False) -> None:
    """A :class:`WrongTypeError` unless ``value`` is a pandas DataFrame (or None, when
    ``optional``). The message says that argument ``name`` must be ``what``, and what it is.

    Examples
    --------
    >>> import pandas as pd
    >>> check_table(pd.Series([1]), "posts", "a posts table")
    Traceback (most recent call last):
    ...
    analysis.errors.WrongTypeError: posts must be a posts table, not a Series (one column of a table: pass the table itself)
    """  # noqa: E501 - a doctest's output is one line
    import pandas as pd

    if isinstance(value, pd.DataFrame) or (optional and value is None):
        return
    hint = " (one column of a table: pass the table itself)" \
        if isinstance(value, pd.Series) else ""
    raise WrongTypeError(f"{name} must be {what}, not a {type(value).__name__}{hint}", source)


def check_jobs(jobs: object) -> int:
    """``jobs`` when it is a number of workers (1, 2, ...) or -1 (all cores), else a
    :class:`UserError`: ``ingest``, ``train`` and ``label`` take ``--jobs`` alike (and start
    :func:`worker_count` processes for it).

    Examples
    --------
    >>> check_jobs(-1), check_jobs(2)
    (-1, 2)
    >>> check_jobs(0)
    Traceback (most recent call last):
    ...
    analysis.errors.UserError: --jobs must be a number of workers (1, 2, ...) or -1 for all cores, not 0
    """  # noqa: E501 - a doctest's output is one line
    import numbers

    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral) or \
            not (jobs >= 1 or jobs == -1):
        raise UserError("--jobs must be a number of workers (1, 2, ...) or -1 for all cores, "
                        f"not {jobs}")
    return int(jobs)


def check_n_boot(n_boot: object, name: str = "n_boot", source: object = None) -> int:
    """``n_boot`` when it is 0 (no interval) or a whole number of at least
    :data:`analysis.config.MIN_N_BOOT` bootstrap resamples, else a :class:`UserError` naming
    ``name`` (the argument, or the command's option) and the file ``source`` it was read from.

    Examples
    --------
    >>> check_n_boot(0), check_n_boot(1000)
    (0, 1000)
    >>> check_n_boot(1, "--n-boot")
    Traceback (most recent call last):
    ...
    analysis.errors.UserError: --n-boot must be 0 (no interval) or at least 200 resamples for a percentile interval, not 1
    """  # noqa: E501 - a doctest's output is one line
    import numbers

    from analysis.config import MIN_N_BOOT

    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral):
        raise UserError(f"{name} must be a whole number of bootstrap resamples, not {n_boot!r}",
                        source)
    if not (n_boot == 0 or n_boot >= MIN_N_BOOT):
        raise UserError(f"{name} must be 0 (no interval) or at least {MIN_N_BOOT} resamples "
                        f"for a percentile interval, not {n_boot}", source)
    return int(n_boot)


def worker_count(jobs: int | None, tasks: int | None = None) -> int:
    """The worker processes to start for ``--jobs jobs`` (checked by :func:`check_jobs`; None or
    -1: all cores) over ``tasks`` pieces of work: never more than the cores this process may use
    (:func:`analysis.loaders.parts.default_jobs`), nor than the tasks, nor fewer than one. More
    processes than cores only compete for them, and ``--jobs 1000`` would start a thousand
    processes for a few batches.

    Examples
    --------
    >>> worker_count(1, 50), worker_count(4, 1), worker_count(10_000) <= worker_count(-1)
    (1, 1, True)
    """
    from analysis.loaders.parts import default_jobs

    cores = default_jobs()
    count = cores if jobs in (None, -1) else min(int(jobs), cores)
    if tasks is not None:
        count = min(count, tasks)
    return max(count, 1)


class RawDataError(UserError):
    """A raw input file is missing or differs from its checksum in ``data/raw/MANIFEST.csv``."""
