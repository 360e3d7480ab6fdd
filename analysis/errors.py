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


class RawDataError(UserError):
    """A raw input file is missing or differs from its checksum in ``data/raw/MANIFEST.csv``."""
