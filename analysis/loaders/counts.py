"""Counts as exports write them: ``1234``, ``1,234``, ``1.2K``, ``3M``, ``3.0``.

One reader of counts for the loaders that meet them as text or loosely typed values: YouTube's
displayed counts (youtube-comment-downloader's ``votes``), 4CAT CSV columns (``likes``,
``num_comments``, ...) and generic tables (``--format csv/jsonl/parquet``).

- :func:`parse_count` reads one value: an integer, a whole-number float (``3.0``, as pandas writes
  an integer column with nulls), digits with thousands separators (``1,234``), or an abbreviated
  count (``1.2K``, ``3M``, ``1B``; the suffix in either case, rounded to a whole number). Signs:
  ``+`` is allowed; ``-`` only with ``signed=True`` (a Reddit ``score`` can be below zero, a like
  count cannot). Anything else is ``None``: ``lots``, ``-3`` (unsigned), ``1.5`` (a fraction of
  a like means nothing), ``1.234`` (a thousands separator or a fraction? both readings are
  guesses), booleans, and numbers too large for the table's 64-bit count columns.
- :class:`CountNotes` reads the count cells of a table's records: an empty cell is null without
  a word; a cell that holds something that is no count is null too, but counted, and
  :meth:`CountNotes.warn` gives one :class:`UnreadableCountWarning` per file with the count per
  field and the first such value, as the other loaders report values they cannot read without
  losing the record (``python -m analysis ingest`` prints it as a ``warning:`` line). Losing a
  whole reply over a malformed like count would be worse than a null like count.

Examples
--------
>>> parse_count("1,234"), parse_count("1.2K"), parse_count("3M"), parse_count("3.0")
(1234, 1200, 3000000, 3)
>>> parse_count("lots"), parse_count("-3"), parse_count("-3", signed=True), parse_count("1.5")
(None, None, -3, None)
>>> notes = CountNotes()
>>> [notes.read(value, "like_count") for value in ("1.2K", "", "lots")]
[1200, None, None]
>>> notes.unreadable
{'like_count': [1, 'lots']}
"""

from __future__ import annotations

import math
import numbers
import re
import warnings
from decimal import ROUND_HALF_UP, Decimal

from analysis.loaders.base import in_count_range

#: Multipliers of abbreviated counts (``1.2K``), as YouTube, TikTok and Instagram show them.
COUNT_SUFFIXES = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}

#: Posts-table count fields that may be below zero (a Reddit score); the others may not.
SIGNED_FIELDS = ("score",)

_COUNT = re.compile(r"""
    ^\s*(?P<sign>[+-]?)\s*
    (?:(?P<grouped>\d{1,3}(?:,\d{3})+)              # 1,234 or 12,345,678
      |(?P<number>\d+)(?:\.(?P<fraction>\d+))?      # 1234, 3.0, 1.2 (with a suffix)
      \s*(?P<suffix>[KMB]?))
    \s*$""", re.VERBOSE | re.IGNORECASE | re.ASCII)


def parse_count(value: object, *, signed: bool = False) -> int | None:
    """A whole number from a displayed or exported count; ``None`` when it is no count.

    Parameters
    ----------
    value
        An int, a float, or a text such as ``"15"``, ``"1,234"``, ``"1.2K"``, ``"3M"``,
        ``"3.0"``. A blank text is 0 (YouTube shows no number for none; table loaders treat a
        blank cell as missing before asking, see :class:`CountNotes`).
    signed
        Whether the count may be below zero (a score).

    Returns
    -------
    int or None
        ``None`` for a value that is no count: a text of another form, a fraction without a
        suffix (``1.5``), a sign below zero unless ``signed``, a boolean, NaN or infinity, or a
        number the table's 64-bit count columns cannot hold.

    Examples
    --------
    >>> parse_count("1.2K"), parse_count("15"), parse_count("3M"), parse_count("2.5m")
    (1200, 15, 3000000, 2500000)
    >>> parse_count(7), parse_count(7.0), parse_count(7.5), parse_count(True), parse_count(" ")
    (7, 7, None, None, 0)
    >>> parse_count(Decimal("3")), parse_count(Decimal("3.5"))
    (3, None)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, Decimal):  # a Parquet decimal column (NUMERIC, NUMBER(38,0))
        if not value.is_finite() or value != value.to_integral_value():
            return None
        number = int(value)
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        number = int(value)
    elif isinstance(value, str):
        if not value.strip():
            return 0
        number = _parse_text(value)
        if number is None:
            return None
    else:
        return None
    if number < 0 and not signed:
        return None
    return in_count_range(number)


def _parse_text(text: str) -> int | None:
    """The whole number a count's text names (any sign), or ``None``."""
    match = _COUNT.match(text)
    if match is None:
        return None
    sign = -1 if match["sign"] == "-" else 1
    if match["grouped"] is not None:
        return sign * int(match["grouped"].replace(",", ""))
    fraction, suffix = match["fraction"], match["suffix"].upper()
    if not suffix:
        if fraction is not None and fraction.strip("0"):
            return None  # 1.5 likes: no count (and 1.234 may be a thousands separator)
        return sign * int(match["number"])
    amount = Decimal(f"{match['number']}.{fraction or '0'}") * COUNT_SUFFIXES[suffix]
    return sign * int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def _is_blank(value: object) -> bool:
    """A cell with nothing in it: null, NaN, pandas' NA, or a text of spaces only."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


#: Characters of a value that a warning shows (a long text in a count column is cut).
SHOWN_CHARS = 40


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}..."


class UnreadableCountWarning(UserWarning):
    """Count values of the file ``name`` that are no count (their fields are null).

    Attributes
    ----------
    name
        The file.
    unreadable
        Posts-table field -> ``[how many, the first such value]``.
    """

    def __init__(self, name: str, unreadable: dict[str, list]) -> None:
        total = sum(count for count, _ in unreadable.values())
        details = "; ".join(f"{field} {count}, e.g. {_shown(example)}"
                            for field, (count, example) in unreadable.items())
        super().__init__(f"{name}: {total} count value(s) could not be read ({details}); "
                         "those fields are null, the records kept. A count is a whole number of "
                         "0 or more (a score may be below 0) up to 2**63 - 1, written as 1234, "
                         "1,234, 3.0, 1.2K or 3M")
        self.name, self.unreadable = name, unreadable


class CountNotes:
    """Read the count cells of one file's records, keeping note of the ones that are no count.

    Attributes
    ----------
    unreadable
        Posts-table field -> ``[how many values were no count, the first of them]``.
    """

    def __init__(self) -> None:
        self.unreadable: dict[str, list] = {}

    def read(self, value: object, field: str, *, blank: int | None = None) -> int | None:
        """The count in ``value`` for ``field``; ``blank`` (null unless given: YouTube shows no
        number for none) for a blank cell, and null (noted) for a value that is no count (see
        :func:`parse_count`; ``score`` may be below zero)."""
        if _is_blank(value):
            return blank
        number = parse_count(value, signed=field in SIGNED_FIELDS)
        if number is None:
            note = self.unreadable.setdefault(field, [0, value])
            note[0] += 1
        return number

    def warn(self, name: str, stacklevel: int = 3) -> None:
        """Warn (:class:`UnreadableCountWarning`), when any value was no count, how many."""
        if self.unreadable:
            warnings.warn(UnreadableCountWarning(name, self.unreadable), stacklevel=stacklevel)
