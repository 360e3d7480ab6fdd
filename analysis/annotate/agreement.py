"""Agreement between coders: Krippendorff's alpha, Cohen's kappa, per-label agreement.

Krippendorff's alpha is computed from the coincidence matrix (Krippendorff 2011, "Computing
Krippendorff's Alpha-Reliability"): for every unit with ``m_u >= 2`` values, each ordered pair of
values from different coders adds ``1 / (m_u - 1)`` to the cell of its two values;
``alpha = 1 - (n - 1) * sum(o_ck * d_ck) / sum(n_c * n_k * d_ck)`` with ``d_ck`` the squared
difference (``0``/``1`` for nominal data). Alpha needs only how often each value was given to each
unit, so it also works for anonymous ratings (:func:`alpha_from_counts`). Its interval is a
percentile bootstrap over units (resampled with replacement, each keeping all its values), which is
not the same as Hayes and Krippendorff's (2007) bootstrap of pairable values.

Examples
--------
>>> gold = pd.DataFrame({
...     "uid": ["1", "1", "2", "2", "3", "3", "4", "4"],
...     "labeler_id": ["A", "B"] * 4,
...     "label": ["support", "support", "other", "other", "criticism", "other",
...               "support", "support"]})
>>> round(krippendorff_alpha(reliability_matrix(gold)), 3)
0.632
>>> pairwise_kappa(gold)[["coder_a", "coder_b", "n_items", "kappa"]].round(3).values.tolist()
[['A', 'B', 4, 0.6]]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.annotate.sheets import inert
from analysis.config import DEFAULT_SEED
from analysis.errors import UserError, check_n_boot

LEVELS = ("nominal", "interval")
DEFAULT_N_BOOT = 1000


@dataclass
class AgreementReport:
    """Everything :func:`measure_agreement` found.

    Attributes
    ----------
    alpha, alpha_ci
        Krippendorff's alpha (nominal) and its bootstrap interval ``(low, high)``.
    n_units, n_pairable, n_coders
        Posts coded by two or more coders, values in them, coders.
    pairs
        Cohen's kappa per coder pair: ``coder_a``, ``coder_b``, ``n_items``, ``agreement``
        (observed share of equal labels), ``kappa``.
    per_label
        Per label: ``n_values`` (values given in multi-coded posts), ``specific_agreement``
        (given one coder chose it, the chance another coder did too: ``o_cc / n_c``) and
        ``alpha_binary`` (alpha for this label against all others).
    coincidences
        The coincidence matrix (labels by labels).
    disagreements
        One row per multi-coded post whose coders disagree, with a column per coder and an empty
        ``resolved_label`` column to fill (the resolution file for :func:`adjudicate`).
    """

    alpha: float
    alpha_ci: tuple[float, float]
    n_units: int
    n_pairable: int
    n_coders: int
    pairs: pd.DataFrame
    per_label: pd.DataFrame
    coincidences: pd.DataFrame
    disagreements: pd.DataFrame
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """A JSON-serializable summary (disagreements counted, not listed)."""
        return {
            "alpha_nominal": _num(self.alpha),
            "alpha_ci": [_num(v) for v in self.alpha_ci],
            "n_units": self.n_units, "n_pairable_values": self.n_pairable,
            "n_coders": self.n_coders, "n_disagreements": int(len(self.disagreements)),
            "pairs": _records(self.pairs), "per_label": _records(self.per_label),
            "coincidences": {"labels": list(self.coincidences.index),
                             "matrix": self.coincidences.to_numpy().round(6).tolist()},
            "params": self.params,
        }

    def to_text(self) -> str:
        """A short plain-text report."""
        low, high = self.alpha_ci
        level = self.params.get("ci", 0.95)
        lines = [
            f"posts coded by 2+ coders: {self.n_units} ({self.n_coders} coders, "
            f"{self.n_pairable} labels)",
            f"Krippendorff's alpha (nominal): {_fmt(self.alpha)}  "
            f"[{level:.0%} bootstrap over posts: {_fmt(low)}, {_fmt(high)}]",
        ]
        if len(self.pairs):
            lines.append("Cohen's kappa per coder pair:")
            for row in self.pairs.itertuples(index=False):
                lines.append(f"  {row.coder_a} vs {row.coder_b}: kappa {_fmt(row.kappa)}, "
                             f"agreement {_fmt(row.agreement)} on {row.n_items} posts")
        if len(self.per_label):
            lines.append("per label (specific agreement, alpha of the label against the rest):")
            for row in self.per_label.itertuples(index=False):
                lines.append(f"  {row.label}: {_fmt(row.specific_agreement)}, "
                             f"{_fmt(row.alpha_binary)} ({row.n_values} labels)")
        lines.append(f"disagreements to adjudicate: {len(self.disagreements)}")
        return "\n".join(lines)


def reliability_matrix(gold: pd.DataFrame, *, coder_col: str = "labeler_id",
                       label_col: str = "label") -> pd.DataFrame:
    """Units by coders: each cell the coder's label for the post, or missing.

    Parameters
    ----------
    gold
        A long labels table (``uid``, coder, label), one row per coder and post.
    """
    for column in ("uid", coder_col, label_col):
        if column not in gold.columns:
            raise UserError(f"the labels table has no {column!r} column")
    frame = gold[["uid", coder_col, label_col]].dropna()
    check_one_label_per_coder(frame, coder_col=coder_col)
    matrix = frame.pivot(index="uid", columns=coder_col, values=label_col)
    matrix.columns = [str(c) for c in matrix.columns]
    return matrix.astype("object").where(matrix.notna(), None)


def check_one_label_per_coder(frame: pd.DataFrame, *, coder_col: str = "labeler_id") -> None:
    """Refuse a labels table in which a coder labelled a post more than once.

    Refused even when the rows give the same label (``annotate import`` already keeps such a
    repeated row once); with different labels, which one counts is for the coder to say.
    """
    dup = frame.duplicated(["uid", coder_col])
    if dup.any():
        first = frame.loc[dup].iloc[0]
        raise UserError(f"coder {first[coder_col]!r} labelled post {first['uid']} more than "
                        "once; keep one label per coder and post")


def value_counts(matrix: pd.DataFrame, values: Sequence | None = None) -> tuple[np.ndarray, list]:
    """Units by values: how many coders gave each value to each unit.

    Returns the counts and the value domain (sorted values seen, unless ``values`` is given).
    """
    cells = matrix.to_numpy(dtype=object)
    present = pd.notna(cells)
    seen = sorted({v for v in cells[present]}, key=_sort_key)
    domain = list(values) if values is not None else seen
    unknown = set(seen) - set(domain)
    if unknown:
        raise UserError(f"values outside the given domain: {sorted(map(str, unknown))[:5]}")
    index = {v: i for i, v in enumerate(domain)}
    counts = np.zeros((cells.shape[0], len(domain)), dtype=np.int64)
    rows, cols = np.nonzero(present)
    np.add.at(counts, (rows, [index[v] for v in cells[rows, cols]]), 1)
    return counts, domain


def coincidence_matrix(counts: np.ndarray, unit_weights: np.ndarray | None = None) -> np.ndarray:
    """The coincidence matrix of units-by-values counts (units with fewer than 2 values drop out).

    ``unit_weights`` multiplies each unit's contribution (bootstrap multiplicities).
    """
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1)
    w = np.where(m >= 2, 1.0 / np.maximum(m - 1, 1), 0.0)
    if unit_weights is not None:
        w = w * unit_weights
    outer = np.einsum("u,uc,uk->ck", w, counts, counts)
    return outer - np.diag(w @ counts)


def alpha_from_coincidences(coincidences: np.ndarray, distance: np.ndarray) -> float:
    """Alpha from a coincidence matrix and a squared-distance matrix; NaN when undefined."""
    o = np.asarray(coincidences, dtype=float)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    expected = float(n_c @ distance @ n_c)
    if n <= 1 or expected <= 0:
        return float("nan")
    return float(1.0 - (n - 1) * float((o * distance).sum()) / expected)


def distance_matrix(domain: Sequence, level: str = "nominal") -> np.ndarray:
    """Squared distances between values: nominal 0/1, interval ``(c - k) ** 2``."""
    if level == "nominal":
        return 1.0 - np.eye(len(domain))
    if level == "interval":
        values = np.asarray(domain, dtype=float)
        return (values[:, None] - values[None, :]) ** 2
    raise UserError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")


def alpha_from_counts(counts: np.ndarray, domain: Sequence | None = None,
                      level: str = "nominal") -> float:
    """Krippendorff's alpha from units-by-values counts (coders need not be known).

    >>> round(alpha_from_counts(np.array([[2, 0], [0, 2], [1, 1]])), 4)  # 1 - 5 * 2 / 18
    0.4444
    """
    counts = np.asarray(counts)
    domain = list(range(counts.shape[1])) if domain is None else list(domain)
    return alpha_from_coincidences(coincidence_matrix(counts), distance_matrix(domain, level))


def krippendorff_alpha(matrix: pd.DataFrame, *, level: str = "nominal",
                       values: Sequence | None = None) -> float:
    """Krippendorff's alpha of a units-by-coders matrix (:func:`reliability_matrix`)."""
    counts, domain = value_counts(matrix, values)
    return alpha_from_counts(counts, domain, level)


def bootstrap_alpha(counts: np.ndarray, domain: Sequence | None = None, *,
                    level: str = "nominal", n_boot: int = DEFAULT_N_BOOT, ci: float = 0.95,
                    random_state: int | np.random.Generator | None = DEFAULT_SEED
                    ) -> tuple[float, float]:
    """Percentile bootstrap interval of alpha, resampling units (with all their values).

    Resamples in which alpha is undefined (one value only) are left out. ``random_state`` is a
    seed or generator (default: :data:`~analysis.config.DEFAULT_SEED`, the seed of ``annotate
    agreement`` without ``--seed``, so the same data give the same interval).
    """
    counts = np.asarray(counts, dtype=float)
    domain = list(range(counts.shape[1])) if domain is None else list(domain)
    keep = counts.sum(axis=1) >= 2
    counts = counts[keep]
    if len(counts) < 2 or n_boot < 1:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(random_state)
    distance = distance_matrix(domain, level)
    m = counts.sum(axis=1)
    w = 1.0 / (m - 1)
    per_unit = np.einsum("u,uc,uk->uck", w, counts, counts)
    per_unit -= np.einsum("u,uc,ck->uck", w, counts, np.eye(counts.shape[1]))
    alphas = np.empty(n_boot)
    for start in range(0, n_boot, 200):
        size = min(200, n_boot - start)
        reps = rng.multinomial(len(counts), np.full(len(counts), 1.0 / len(counts)), size=size)
        o = np.einsum("bu,uck->bck", reps.astype(float), per_unit)
        n_c = o.sum(axis=2)
        n = n_c.sum(axis=1)
        observed = (o * distance).sum(axis=(1, 2))
        expected = np.einsum("bc,ck,bk->b", n_c, distance, n_c)
        with np.errstate(divide="ignore", invalid="ignore"):
            alphas[start:start + size] = np.where(expected > 0,
                                                  1.0 - (n - 1) * observed / expected, np.nan)
    alphas = alphas[~np.isnan(alphas)]
    if not len(alphas):
        return (float("nan"), float("nan"))
    tail = (1.0 - ci) / 2
    low, high = np.quantile(alphas, [tail, 1.0 - tail])
    return (float(low), float(high))


def cohen_kappa(a: Sequence, b: Sequence) -> float:
    """Cohen's kappa of two coders' labels for the same posts; NaN when chance agreement is 1.

    >>> round(cohen_kappa(["x", "x", "y", "y"], ["x", "y", "y", "y"]), 3)
    0.5
    """
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    if a.shape != b.shape:
        raise ValueError("both coders need the same number of labels")
    if not len(a):
        return float("nan")
    values = sorted(set(a) | set(b), key=_sort_key)
    observed = float(np.mean(a == b))
    pa = np.array([np.mean(a == v) for v in values])
    pb = np.array([np.mean(b == v) for v in values])
    expected = float(pa @ pb)
    if expected >= 1.0:
        return float("nan")
    return (observed - expected) / (1.0 - expected)


def pairwise_kappa(gold: pd.DataFrame, *, coder_col: str = "labeler_id") -> pd.DataFrame:
    """Cohen's kappa for every pair of coders, over the posts both coded."""
    matrix = reliability_matrix(gold, coder_col=coder_col)
    rows = []
    for a, b in itertools.combinations(matrix.columns, 2):
        both = matrix[[a, b]].dropna()
        rows.append({"coder_a": a, "coder_b": b, "n_items": int(len(both)),
                     "agreement": float((both[a] == both[b]).mean()) if len(both) else np.nan,
                     "kappa": cohen_kappa(both[a].tolist(), both[b].tolist())})
    return pd.DataFrame(rows, columns=["coder_a", "coder_b", "n_items", "agreement", "kappa"])


def per_label_agreement(matrix: pd.DataFrame, values: Sequence | None = None) -> pd.DataFrame:
    """Per label: how often it was given, specific agreement ``o_cc / n_c``, binary alpha."""
    counts, domain = value_counts(matrix, values)
    o = coincidence_matrix(counts)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    rows = []
    for i, label in enumerate(domain):
        agree = o[i, i]
        binary = np.array([[agree, n_c[i] - agree], [n_c[i] - agree, n - 2 * n_c[i] + agree]])
        rows.append({"label": label, "n_values": int(round(n_c[i])),
                     "specific_agreement": float(agree / n_c[i]) if n_c[i] else np.nan,
                     "alpha_binary": alpha_from_coincidences(binary, 1.0 - np.eye(2))})
    return pd.DataFrame(rows, columns=["label", "n_values", "specific_agreement",
                                       "alpha_binary"])


def find_disagreements(gold: pd.DataFrame, posts: pd.DataFrame | None = None, *,
                       coder_col: str = "labeler_id") -> pd.DataFrame:
    """Posts coded by several coders who did not all agree: the resolution file to fill.

    Columns: ``uid``, ``n_coders``, ``labels`` (``"A=support; B=other"``), one ``label_<coder>``
    column per coder, the post's ``text`` when ``posts`` is given (as the coding sheets show it:
    one that starts like a spreadsheet formula gets a leading apostrophe, see
    :func:`analysis.annotate.sheets.inert`), and empty ``resolved_label`` and ``adjudicator``
    columns.
    """

    matrix = reliability_matrix(gold, coder_col=coder_col)
    n_coders = matrix.notna().sum(axis=1)
    distinct = matrix.apply(lambda row: len(set(row.dropna())), axis=1)
    picked = matrix[(n_coders >= 2) & (distinct > 1)]
    out = pd.DataFrame({"uid": picked.index.astype(str),
                        "n_coders": n_coders[picked.index].to_numpy(dtype=int)})
    out["labels"] = ["; ".join(f"{c}={v}" for c, v in row.dropna().items())
                     for _, row in picked.iterrows()]
    for coder in matrix.columns:
        out[f"label_{coder}"] = picked[coder].to_numpy()
    if posts is not None and len(out):
        text = posts.drop_duplicates("uid").set_index(posts["uid"].drop_duplicates()
                                                      .astype(str))["text"]
        out["text"] = [inert(value) for value in out["uid"].map(text)]
    out["resolved_label"] = ""
    out["adjudicator"] = ""
    return out.reset_index(drop=True)


def measure_agreement(gold: pd.DataFrame, *, posts: pd.DataFrame | None = None,
                      values: Sequence | None = None, n_boot: int = DEFAULT_N_BOOT,
                      ci: float = 0.95, random_state: int | None = DEFAULT_SEED,
                      coder_col: str = "labeler_id",
                      source: object | None = None) -> AgreementReport:
    """Agreement of the human coders in a long labels table.

    Parameters
    ----------
    gold
        Labels from :func:`analysis.annotate.read_sheets` (one row per coder and post).
    posts
        The posts table, to show each disagreement's text.
    values
        The label domain (default: the labels seen).
    n_boot, ci, random_state
        Bootstrap resamples, interval level and seed for alpha's interval (the seed's default,
        :data:`~analysis.config.DEFAULT_SEED`, is that of ``annotate agreement`` without
        ``--seed``: the same labels give the same interval from Python and the command line).
    source
        The file ``gold`` came from, named in the error when no post has two coders.
    """
    if not 0 < ci < 1:
        raise UserError(f"ci (--ci) must be between 0 and 1 (e.g. 0.95), not {ci}")
    check_n_boot(n_boot)
    matrix = reliability_matrix(gold, coder_col=coder_col)
    counts, domain = value_counts(matrix, values)
    pairable = counts.sum(axis=1) >= 2
    if not pairable.any():
        raise UserError("no post was coded by two or more coders, so agreement cannot be "
                        "measured; give some posts to several coders (--overlap)", source)
    distance = distance_matrix(domain, "nominal")
    o = coincidence_matrix(counts)
    return AgreementReport(
        alpha=alpha_from_coincidences(o, distance),
        alpha_ci=bootstrap_alpha(counts, domain, n_boot=n_boot, ci=ci,
                                 random_state=random_state),
        n_units=int(pairable.sum()), n_pairable=int(counts[pairable].sum()),
        n_coders=int(matrix.shape[1]),
        pairs=pairwise_kappa(gold, coder_col=coder_col),
        per_label=per_label_agreement(matrix, domain),
        coincidences=pd.DataFrame(o, index=domain, columns=domain),
        disagreements=find_disagreements(gold, posts, coder_col=coder_col),
        params={"n_boot": n_boot, "ci": ci, "seed": random_state, "level": "nominal",
                "bootstrap": "percentile, units resampled with replacement"},
    )


def _sort_key(value: object) -> tuple:
    return (0, value, "") if isinstance(value, int | float) else (1, 0, str(value))


def _num(value: float) -> float | None:
    return None if value is None or value != value else round(float(value), 6)


def _fmt(value: float) -> str:
    return "n/a" if value is None or value != value else f"{value:.3f}"


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (_num(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]
