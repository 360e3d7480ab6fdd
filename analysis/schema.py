"""Column names and types of the project's tables: posts, labels, trend and rejects.

The tables are described as data (module-level constants); :func:`conform` turns any DataFrame that
has a subset of a table's columns into one with exactly those columns, in order, with the stated
types, and missing values as nulls. Id columns (:func:`is_id_column`: ``id``, ``uid``,
``*_id``) are exact text: a number is written as its digits, and a floating-point id that may
have been rounded is refused rather than written as ``5.527836670521672e+17``.

Examples
--------
>>> posts = conform(pd.DataFrame({"uid": ["twitter:1"], "platform": ["twitter"], "id": ["1"]}),
...                 POSTS)
>>> list(posts.columns) == list(POSTS)
True
>>> str(posts["depth"].dtype), bool(posts["text"].isna().all())
('Int16', True)
"""

from __future__ import annotations

import ast
import io
import math
import numbers
import tokenize
from collections.abc import Iterable, Mapping

import pandas as pd
import pyarrow as pa

PLATFORMS = ("twitter", "reddit", "instagram", "youtube", "tiktok", "bluesky", "other")
KINDS = ("post", "reply", "quote", "repost", "comment")
TIME_PRECISIONS = ("second", "day", "relative", "missing")
TEXT_STATUSES = ("ok", "deleted", "removed", "withheld", "unavailable")
COLLECTION_ROLES = ("matched", "context")
LABELER_TYPES = ("human", "model", "lexicon")

#: The labels of the support / criticism / other task, in their canonical order.
STANCE_LABELS = ("support", "criticism", "other")
STANCE_TASK = "stance"


def label_order(names: Iterable[object]) -> list[str]:
    """``names`` once each (nulls left out): support, criticism, other first (those present),
    then the rest sorted. The trend's classes, the summary's tables and the figures' labels
    follow it.

    Examples
    --------
    >>> label_order(["other", "pro", "support", "anti", "pro"])
    ['support', 'other', 'anti', 'pro']
    """
    names = [str(name) for name in dict.fromkeys(names) if not pd.isna(name)]
    known = [label for label in STANCE_LABELS if label in names]
    return known + sorted(n for n in names if n not in known)

UTC_TIME = pd.DatetimeTZDtype(unit="ns", tz="UTC")
#: The first and last times a :data:`UTC_TIME` column can hold (nanoseconds since 1970 in 64
#: bits); pandas turns a time outside them into a wrong one when it converts it, silently.
FIRST_TIME = pd.Timestamp.min.tz_localize("UTC")
LAST_TIME = pd.Timestamp.max.tz_localize("UTC")
TIME_RANGE = f"{FIRST_TIME.year}-{LAST_TIME.year}"
STRING = pd.StringDtype()
STRING_LIST = pd.ArrowDtype(pa.list_(pa.string()))


def _category(values: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(categories=list(values), ordered=False)


#: The posts table: one row per post, reply or comment (see docs/schema.md).
POSTS: dict[str, object] = {
    "uid": STRING,
    "platform": _category(PLATFORMS),
    "id": STRING,
    "kind": _category(KINDS),
    "thread_id": STRING,
    "parent_id": STRING,
    "root_id": STRING,
    "depth": "Int16",
    "created_at": UTC_TIME,
    "created_at_precision": _category(TIME_PRECISIONS),
    "collected_at": UTC_TIME,
    "author_id": STRING,
    "author_handle": STRING,
    "author_is_op": "boolean",
    "reply_to_author_id": STRING,
    "text": STRING,
    "title": STRING,
    "text_status": _category(TEXT_STATUSES),
    "lang": STRING,
    "lang_detected": STRING,
    "lang_confidence": "Float64",
    "like_count": "Int64",
    "reply_count": "Int64",
    "share_count": "Int64",
    "quote_count": "Int64",
    "score": "Int64",
    "hashtags": STRING_LIST,
    "mentions": STRING_LIST,
    "urls": STRING_LIST,
    "collection_role": _category(COLLECTION_ROLES),
    "source_format": STRING,
    "source_file": STRING,
    "source_line": "Int64",
    "loader_version": STRING,
}

#: Fixed columns of the labels table; one ``proba_<label>`` Float64 column per label follows
#: ``label``.
LABELS: dict[str, object] = {
    "uid": STRING,
    "task": STRING,
    "label": STRING,
    "labeler_type": _category(LABELER_TYPES),
    "labeler_id": STRING,
    "run_id": STRING,
    "created_at": UTC_TIME,
}
PROBA_PREFIX = "proba_"

#: The trend table; the ``--by`` grouping columns come first.
TREND: dict[str, object] = {
    "bin_start": STRING,
    "bin_end": STRING,
    "label": STRING,
    "n_posts": "Int64",
    "estimate": "Float64",
    "ci_low": "Float64",
    "ci_high": "Float64",
    "method": STRING,
    "flag": STRING,
}

#: One line of a rejects file (JSON lines).
REJECT_FIELDS = ("file", "line", "reason", "snippet")

#: Whole numbers below this are exact in a 64-bit float; an id read as a float at or above it
#: may have been rounded (2**53, the float's 53-bit significand).
EXACT_FLOAT_LIMIT = 2 ** 53


def is_id_column(name: object) -> bool:
    """Whether a column holds ids, kept as exact text in every table: ``id``, ``uid`` and any
    column whose name ends in ``_id`` (``parent_id``, ``root_id``, ``thread_id``,
    ``author_id``, ``conversation_id``, ...).

    Examples
    --------
    >>> [is_id_column(c) for c in ("id", "uid", "parent_id", "text", "depth")]
    [True, True, True, False, False]
    """
    return isinstance(name, str) and (name in ("id", "uid") or name.endswith("_id"))


def id_text(value: object, name: str) -> str | None:
    """One id as exact text: strings as they are, whole numbers as digits, nulls as ``None``.

    Raises
    ------
    ValueError
        For a floating-point id at or above :data:`EXACT_FLOAT_LIMIT`, which may have been
        rounded on its way into a float (``552783667052167168`` comes back as
        ``552783667052167200``): the message names the column and says to keep ids as text.

    Examples
    --------
    >>> id_text(552783667052167168, "id"), id_text(100.0, "parent_id"), id_text(None, "id")
    ('552783667052167168', '100', None)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if math.isnan(number):
            return None
        if not number.is_integer():
            return repr(number)
        if abs(number) >= EXACT_FLOAT_LIMIT:
            raise ValueError(f"column {name!r} holds the id {number!r} as a floating-point "
                             "number, which may have rounded it; write ids as text (or as "
                             "integers without nulls) and read the table again")
        return str(int(number))
    return str(value)


def id_texts(column: pd.Series) -> pd.Series:
    """A column of ids as exact text (object values: ``str`` or ``None``); see :func:`id_text`.

    Raises
    ------
    ValueError
        For a floating-point id that may have been rounded.
    """
    if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        return column.astype("object").where(column.notna(), None)
    name = str(column.name)
    return pd.Series([id_text(v, name) for v in column.astype("object")], index=column.index,
                     dtype="object")


def ids_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every id column (:func:`is_id_column`) as exact text; a new frame when
    any changes. Raises ``ValueError`` as :func:`id_text` does."""
    names = [c for c in frame.columns if is_id_column(c)
             and pd.api.types.infer_dtype(frame[c], skipna=True) not in ("string", "empty")]
    if not names:
        return frame
    out = frame.copy()
    for name in names:
        out[name] = id_texts(out[name])
    return out


def proba_column(label: str) -> str:
    """Name of the probability column for ``label`` in a labels table."""
    return f"{PROBA_PREFIX}{label}"


def proba_columns(frame: pd.DataFrame) -> list[str]:
    """The ``proba_<label>`` columns of a labels table, in their order."""
    return [c for c in frame.columns if c.startswith(PROBA_PREFIX)]


def conform(frame: pd.DataFrame, table: Mapping[str, object], *,
            extra: bool = False) -> pd.DataFrame:
    """Return a copy of ``frame`` with exactly the columns of ``table``, typed as it says.

    Parameters
    ----------
    frame
        Any DataFrame; columns it lacks are added as nulls.
    table
        One of :data:`POSTS`, :data:`LABELS`, :data:`TREND` (column name to dtype).
    extra
        Keep columns that ``table`` does not name, after its own (for ``proba_*`` and grouping
        columns).

    Returns
    -------
    pandas.DataFrame
        A new frame; ``frame`` is not changed.
    """
    out = pd.DataFrame(index=frame.index)
    for name, dtype in table.items():
        if name in frame.columns:
            out[name] = _cast(frame[name], dtype)
        else:
            out[name] = pd.Series(pd.NA, index=frame.index, dtype="object").astype(dtype)
    if extra:
        for name in frame.columns:
            if name not in table:
                out[name] = frame[name]
    return out.reset_index(drop=True)


def _cast(column: pd.Series, dtype: object) -> pd.Series:
    if isinstance(dtype, pd.DatetimeTZDtype):
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            utc = column.dt.tz_convert("UTC")
            if utc.dtype != dtype and utc.notna().any():
                first, last = utc.min(), utc.max()
                if first < FIRST_TIME or last > LAST_TIME:
                    raise ValueError(f"column {column.name!r} holds a time outside the years "
                                     f"{TIME_RANGE} that the table holds ({first.year} to "
                                     f"{last.year})")
            return utc.astype(dtype)
        if column.isna().all():
            return pd.Series(pd.NaT, index=column.index, dtype=dtype)
        if pd.api.types.is_string_dtype(column.dtype):  # e.g. read back from CSV
            raise TypeError(f"column {column.name!r} holds text, not times; parse a table read "
                            "from CSV with analysis.schema.parse_text_columns(frame, table) "
                            "first")
        raise TypeError(f"column {column.name!r} must hold tz-aware times, not {column.dtype}")
    if isinstance(dtype, pd.CategoricalDtype):
        values = column.astype("object").where(column.notna(), None)
        unknown = set(values.dropna()) - set(dtype.categories)
        if unknown:
            raise ValueError(f"column {column.name!r} has values outside "
                             f"{list(dtype.categories)}: {sorted(map(str, unknown))[:5]}")
        return pd.Series(pd.Categorical(values, dtype=dtype), index=column.index)
    if dtype == STRING_LIST:
        return pd.Series(
            pd.array([_as_list(v) for v in column], dtype=STRING_LIST), index=column.index
        )
    if dtype == STRING and is_id_column(column.name):
        return id_texts(column).astype(dtype)  # never through float: 5.527836670521672e+17
    return column.astype(dtype)


def _is_null(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _as_list(value: object) -> list[str] | None:
    """A list cell as a list of strings: a plain string is one item; null items are dropped."""
    if _is_null(value):
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if not _is_null(v)]  # type: ignore[union-attr]


#: How an ISO time with a time zone ends: a clock time, then ``Z`` or an offset such as
#: ``+02:00`` (after a date alone, ``-30`` is the day, not an offset).
_OFFSET_AT_END = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"


def without_offset(values: pd.Series) -> pd.Series:
    """True for the texts in ``values`` that are not null and do not end in a time zone (``Z``
    or ``+hh:mm``): times that would be read as local to nowhere.

    Examples
    --------
    >>> without_offset(pd.Series(["2020-09-30T10:00Z", "2020-09-30 10:00", "2020-09-30",
    ...                           "2020-09-30T10:00:00.5-07:00", None])).tolist()
    [False, True, True, False, False]
    """
    text = values.astype("string").str.strip()
    return (text.notna() & ~text.str.contains(_OFFSET_AT_END)).fillna(False).astype(bool)


def parse_text_columns(frame: pd.DataFrame, table: Mapping[str, object]) -> pd.DataFrame:
    """Return a copy of ``frame`` with the time, list, boolean and number columns of ``table``
    parsed from text, for tables read from CSV (where every value is a string); then
    :func:`conform` types them.

    Times are ISO 8601 with an offset (as ``write_table`` writes them; a time without one is
    refused, not taken for UTC); lists are JSON lists or
    the Python / NumPy form (``['a' 'b']``) that pandas writes to CSV; booleans are
    ``True`` / ``False`` (any case) or ``1`` / ``0``.

    Raises
    ------
    ValueError
        Naming the column and the first value that is not a time or a list.

    Examples
    --------
    >>> text = pd.DataFrame({"created_at": ["2020-09-30 10:00:00+00:00", None],
    ...                      "hashtags": ["['a' 'b c']", '["x"]']})
    >>> out = conform(parse_text_columns(text, POSTS), POSTS)
    >>> str(out.loc[0, "created_at"]), out.loc[0, "hashtags"], out.loc[1, "hashtags"]
    ('2020-09-30 10:00:00+00:00', ['a', 'b c'], ['x'])
    """
    out = frame.copy()
    for name, dtype in table.items():
        if name not in out.columns or out[name].dtype != object and not isinstance(
                out[name].dtype, pd.StringDtype):
            continue
        values = out[name]
        if isinstance(dtype, pd.DatetimeTZDtype):
            naive = without_offset(values)
            if naive.any():
                raise ValueError(f"column {name!r} holds a time without an offset "
                                 f"({values[naive].iloc[0]!r}); give every time its offset, "
                                 "such as +00:00 for UTC")
            try:
                out[name] = pd.to_datetime(values, format="ISO8601", utc=True)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"column {name!r} holds a value that is not a time with an "
                                 f"offset: {_first_line(exc)}") from None
        elif dtype == STRING_LIST:
            out[name] = [text_list(v, name) for v in values]
        elif str(dtype) == "boolean":
            words = values.astype("object").map(
                lambda v: _BOOLEANS.get(v.strip().lower(), v) if isinstance(v, str) else v)
            out[name] = words.where(words.notna(), None)
        elif str(dtype) in ("Int16", "Int64", "Float64"):
            try:
                out[name] = pd.to_numeric(values.astype("object").where(values.notna(), None))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"column {name!r} holds a value that is not a number: "
                                 f"{_first_line(exc)}") from None
    return out


def _first_line(exc: BaseException) -> str:
    """The first line of an error's message, without pandas' "You might want to try:"."""
    lines = str(exc).strip().splitlines()
    return lines[0].removesuffix(" You might want to try:") if lines else type(exc).__name__


#: Words ``write_table`` (and spreadsheets) write for true and false.
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def text_list(value: object, name: str) -> list[str] | None:
    """A list column's value read from text: a list as JSON, Python or NumPy print it
    (``['a', 'b']``, ``['a' 'b']``); null stays None, a list stays as it is.

    Raises
    ------
    ValueError
        When the text is not such a list (``name`` is the column, for the message).

    Examples
    --------
    >>> text_list("['a' 'b, c']", "hashtags"), text_list('["x"]', "urls")
    (['a', 'b, c'], ['x'])
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if not isinstance(value, str):
        return value  # already a list
    text = value.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise ValueError(f"column {name!r} holds {value[:40]!r}, not a list")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text[1:-1]).readline))
        items = [ast.literal_eval(t.string) for t in tokens if t.type == tokenize.STRING]
    except (tokenize.TokenError, SyntaxError, ValueError) as exc:
        raise ValueError(f"column {name!r} holds {value[:40]!r}, not a list ({exc})") from None
    return [str(item) for item in items]


def empty(table: Mapping[str, object]) -> pd.DataFrame:
    """An empty DataFrame with the columns and types of ``table`` (what :func:`conform` makes
    of an empty frame, made directly: about a fifth of the time)."""
    return pd.DataFrame({name: pd.array([], dtype=dtype) for name, dtype in table.items()})
