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


def check_jobs(jobs: object) -> int:
    """``jobs`` when it is a number of workers (1, 2, ...) or -1 (all cores), else a
    :class:`UserError`: ``ingest``, ``train`` and ``label`` take ``--jobs`` alike.

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


class RawDataError(UserError):
    """A raw input file is missing or differs from its checksum in ``data/raw/MANIFEST.csv``."""
