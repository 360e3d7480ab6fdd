"""Drawing posts to hand-code: a stratified sample with known inclusion probabilities.

The design is stratified sampling without replacement. Explicit strata are the cross of the keys
asked for among ``time`` (time bins), ``label`` (the classifier's predicted label) and
``uncertainty`` (the classifier's least sure posts against the rest); ``thread`` stratifies
implicitly: inside each stratum the posts are put in thread order (threads in random order) and
drawn by systematic sampling with a random start, which spreads the draws over threads while every
post of the stratum keeps the same inclusion probability ``n_h / N_h``. Over-sampling the uncertain
posts is disproportionate allocation between the two uncertainty strata, so the sample can still be
weighted back to the population with ``weight = 1 / inclusion_prob``
(:func:`estimate_label_shares`).

Examples
--------
>>> posts = pd.DataFrame({
...     "uid": [f"x:{i}" for i in range(40)],
...     "thread_id": [str(i % 4) for i in range(40)],
...     "parent_id": ["0"] * 40,
...     "text": ["a reply"] * 40,
...     "created_at": pd.date_range("2020-09-30", periods=40, freq="h", tz="UTC"),
... })
>>> sample = draw_sample(posts, 10, stratify_by=("time", "thread"), n_time_bins=2,
...                      random_state=1)
>>> len(sample.units), sample.units["inclusion_prob"].tolist() == [0.25] * 10
(10, True)
>>> assignments = assign_coders(sample.units, ["A", "B"], overlap=0.2, random_state=1)
>>> assignments.groupby("coder").size().tolist(), int(assignments["overlap"].sum())
([6, 6], 4)
"""

from __future__ import annotations

import math
import numbers
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import responses
from analysis.config import DEFAULT_SEED
from analysis.errors import UserError
from analysis.schema import PROBA_PREFIX

#: The keys ``stratify_by`` accepts.
STRATIFY_KEYS = ("time", "thread", "label", "uncertainty")
STRATEGIES = ("stratified", "uncertainty")
ALLOCATIONS = ("proportional", "equal")

#: Coder ids end up in file names, so they are kept to 1 to 40 ASCII letters, digits, ``_`` and
#: ``-``, starting with a letter or digit.
CODER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")

#: Default share of the sample given to the uncertain stratum, and the share of the eligible posts
#: that forms it (the least confident fifth), for ``strategy="uncertainty"``.
UNCERTAIN_SHARE = 0.5
UNCERTAIN_TOP = 0.2

#: The seed :func:`assign_coders` takes by default: the one ``annotate sample`` gives it without
#: ``--seed`` (it gives the coders its seed + 1, and the draw its seed, :data:`DEFAULT_SEED`).
CODERS_SEED = DEFAULT_SEED + 1

MISSING_BIN = "missing"


@dataclass(frozen=True)
class Sample:
    """A drawn sample and its design.

    Attributes
    ----------
    units
        One row per sampled post: ``uid``, ``stratum``, ``thread_id``, ``time_bin``,
        ``predicted_label``, ``uncertainty``, ``stratum_size`` (N_h), ``stratum_sampled`` (n_h),
        ``inclusion_prob`` (n_h / N_h) and ``weight`` (its inverse).
    strata
        One row per stratum of the eligible population, sampled or not.
    params
        The parameters of the draw (JSON-serializable), for the saved design.
    """

    units: pd.DataFrame
    strata: pd.DataFrame
    params: dict = field(default_factory=dict)


def parse_coders(text: str | Sequence[str]) -> list[str]:
    """Split ``"A,B,C"`` into coder ids, checking that they are usable as file names.

    >>> parse_coders("ann, bob")
    ['ann', 'bob']
    """
    coders = [c.strip() for c in text.split(",")] if isinstance(text, str) else list(text)
    coders = [c for c in coders if c]
    if not coders:
        raise UserError("give at least one coder id, e.g. --coders A,B")
    bad = [c for c in coders if not CODER_PATTERN.match(c)]
    if bad:
        raise UserError(f"coder id(s) {', '.join(map(repr, bad))} must be 1 to 40 ASCII letters "
                        "(a-z, A-Z), digits, _ or -, starting with a letter or digit: they name "
                        "the sheet files (use initials or a transliteration, e.g. Zoe)")
    if len(set(coders)) != len(coders):
        raise UserError(f"coder ids must be distinct: {', '.join(coders)}")
    if len({c.casefold() for c in coders}) != len(coders):
        raise UserError(f"coder ids must differ in more than letter case (their sheet files would "
                        f"collide on Windows and macOS): {', '.join(coders)}")
    return coders


def eligible_posts(posts: pd.DataFrame, *, include_roots: bool = False,
                   exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The posts that may be drawn: the responses that ``trend`` counts, so that the weighted
    shares of :func:`estimate_label_shares` describe the same population as the trend.

    A response is a post that is not a thread root, not a context row (``collection_role =
    "context"``), not a repost and not without text (:func:`analysis.responses.left_out`). A
    post's text is its title and body together, as the classifiers read it
    (:func:`analysis.classifiers.datasets.full_text`).

    Parameters
    ----------
    posts
        A posts table (:data:`analysis.schema.POSTS` columns; ``uid`` and ``text`` at least).
    include_roots
        Also draw thread roots, which have no target to code against.
    exclude
        uids not to draw again (posts already coded).
    """
    from analysis.classifiers.datasets import full_text  # imports scikit-learn: only when used

    if "uid" not in posts.columns or "text" not in posts.columns:
        raise UserError("the posts table needs 'uid' and 'text' columns")
    reason = responses.left_out(posts.assign(text=full_text(posts)), include_roots=include_roots)
    keep = reason.isna()
    if len(exclude):
        keep &= ~posts["uid"].isin(list(exclude))
    return posts.loc[keep.to_numpy(dtype=bool)].reset_index(drop=True)


def uncertainty_scores(labels: pd.DataFrame) -> pd.DataFrame:
    """Per post: the predicted label and its uncertainty (1 - the highest class probability).

    Parameters
    ----------
    labels
        A labels table with one row per ``uid`` and ``proba_<label>`` columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``uid``, ``predicted_label``, ``uncertainty``.

    Examples
    --------
    >>> table = pd.DataFrame({"uid": ["a", "b"], "label": ["support", "other"],
    ...                       "proba_support": [0.9, 0.4], "proba_other": [0.1, 0.6]})
    >>> uncertainty_scores(table)["uncertainty"].round(2).tolist()
    [0.1, 0.4]
    """
    probas = [c for c in labels.columns if c.startswith(PROBA_PREFIX)]
    if "uid" not in labels.columns:
        raise UserError("the labels table has no 'uid' column")
    if labels["uid"].duplicated().any():
        raise UserError("the labels table has several rows per post; pass one labeler's labels "
                        "(e.g. --labeler MODEL_ID)")
    out = pd.DataFrame({"uid": labels["uid"].astype("string")})
    if probas:
        matrix = labels[probas].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        has = ~np.isnan(matrix).all(axis=1)
        filled = np.where(np.isnan(matrix), -np.inf, matrix)
        top = np.where(has, filled.max(axis=1), np.nan)
        names = np.array([c[len(PROBA_PREFIX):] for c in probas], dtype=object)
        predicted = np.where(has, names[filled.argmax(axis=1)], None)
        out["predicted_label"] = pd.array(predicted, dtype="string")
        out["uncertainty"] = pd.array(1.0 - top, dtype="Float64")
    else:
        out["predicted_label"] = (labels["label"].astype("string") if "label" in labels.columns
                                  else pd.array([pd.NA] * len(labels), dtype="string"))
        out["uncertainty"] = pd.array([pd.NA] * len(labels), dtype="Float64")
    if "label" in labels.columns:
        given = labels["label"].astype("string")
        out["predicted_label"] = given.where(given.notna(), out["predicted_label"])
    return out.reset_index(drop=True)


def time_bins(times: pd.Series, *, freq: str | None = None, bins: int = 5) -> pd.Series:
    """Label each time with its bin's start (ISO, UTC); missing times get ``"missing"``.

    With ``freq`` (a pandas frequency such as ``"1D"``, ``"6h"``, ``"W"``, ``"MS"``) the bins are
    the calendar bins ``trend --freq`` makes in UTC (:func:`analysis.trend.calendar_edges`:
    anchored independently of the posts; a bad frequency is a UserError); without it, ``bins``
    bins holding about equal numbers of posts.

    >>> t = pd.Series(pd.to_datetime(["2020-01-01 10:00", "2020-01-02 09:00", None], utc=True))
    >>> time_bins(t, freq="1D").tolist()
    ['2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z', 'missing']
    """
    times = pd.to_datetime(times, utc=True)
    out = pd.Series(MISSING_BIN, index=times.index, dtype="object")
    present = times.notna()
    if not present.any():
        return out.astype("string")
    values = times[present]
    if freq is not None:
        from analysis.trend import calendar_edges

        edges = calendar_edges(values, freq).tz_convert("UTC")  # the bins trend makes, in UTC
        index = edges.searchsorted(values, side="right") - 1
        starts = edges[index]
    else:
        if bins < 1:
            raise UserError("the number of time bins must be at least 1")
        order = np.argsort(values.to_numpy(dtype="datetime64[ns]"), kind="stable")
        rank = np.empty(len(values), dtype=np.int64)
        rank[order] = np.arange(len(values))
        which = rank * bins // len(values)
        starts = values.groupby(which).transform("min")
    codes, uniques = pd.factorize(pd.DatetimeIndex(starts))
    names = np.array([t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in uniques], dtype=object)
    out[present] = names[codes]
    return out.astype("string")


def allocate(sizes: Sequence[int], n: int, *, equal: bool = False, minimum: int = 1) -> np.ndarray:
    """Split ``n`` draws over strata of the given sizes (largest-remainder rounding, capped).

    Parameters
    ----------
    sizes
        Number of posts in each stratum.
    n
        Total draws; at most ``sum(sizes)``.
    equal
        Equal allocation instead of proportional to size.
    minimum
        Every non-empty stratum gets at least this many (when ``n`` allows), so that no part of
        the period is left out.

    Examples
    --------
    >>> allocate([80, 15, 5], 10).tolist()
    [8, 1, 1]
    >>> allocate([80, 15, 5], 10, equal=True).tolist()
    [4, 3, 3]
    """
    size = np.asarray(sizes, dtype=np.int64)
    n = int(min(n, size.sum()))
    weight = (size > 0).astype(float) if equal else size.astype(float)
    target = np.zeros(len(size))
    fixed = size == 0
    while not fixed.all():
        free = ~fixed
        rest = n - target[fixed].sum()
        target[free] = rest * weight[free] / weight[free].sum()
        over = free & (target > size)
        if not over.any():
            break
        target[over] = size[over]
        fixed |= over
    alloc = np.minimum(np.floor(target + 1e-9).astype(np.int64), size)
    remainder = target - alloc
    for index in np.argsort(-remainder, kind="stable"):
        if alloc.sum() >= n:
            break
        if alloc[index] < size[index]:
            alloc[index] += 1
    nonempty = size > 0
    if minimum > 0 and n >= minimum * nonempty.sum():
        for index in np.flatnonzero(nonempty & (alloc < np.minimum(minimum, size))):
            need = min(minimum, size[index]) - alloc[index]
            while need > 0:
                donor = int(np.argmax(np.where(alloc > minimum, alloc - target, -np.inf)))
                if alloc[donor] <= minimum:
                    break
                alloc[donor] -= 1
                alloc[index] += 1
                need -= 1
    return alloc


def draw_sample(
    posts: pd.DataFrame,
    n: int,
    *,
    labels: pd.DataFrame | None = None,
    stratify_by: Sequence[str] = ("time", "thread"),
    strategy: str = "stratified",
    freq: str | None = None,
    n_time_bins: int = 5,
    allocation: str = "proportional",
    uncertain_share: float = UNCERTAIN_SHARE,
    uncertain_top: float = UNCERTAIN_TOP,
    include_roots: bool = False,
    exclude: Sequence[str] = (),
    random_state: int | np.random.Generator | None = DEFAULT_SEED,
) -> Sample:
    """Draw ``n`` posts to hand-code, stratified so that the whole period and many threads appear.

    Parameters
    ----------
    posts
        The posts table.
    n
        How many posts to draw (fewer if fewer are eligible).
    labels
        A classifier's labels table (one row per post, ``proba_<label>`` columns); needed for
        ``label`` and ``uncertainty`` strata.
    stratify_by
        Keys among ``time``, ``thread``, ``label``, ``uncertainty`` (see the module docstring).
    strategy
        ``"stratified"``, or ``"uncertainty"`` to over-sample the least sure posts (adds the
        ``uncertainty`` key).
    freq, n_time_bins
        Calendar time bins (a pandas frequency), or else this many equal-count bins.
    allocation
        ``"proportional"`` to stratum size, or ``"equal"`` per stratum (within each uncertainty
        stratum when over-sampling).
    uncertain_share
        Share of ``n`` drawn from the uncertain stratum.
    uncertain_top
        Share of the eligible posts, the least confident ones, that forms the uncertain stratum.
    include_roots, exclude
        See :func:`eligible_posts`.
    random_state
        Seed or generator (default: :data:`~analysis.config.DEFAULT_SEED`, the seed of
        ``annotate sample`` without ``--seed``). A whole-number seed is recorded in ``params``.

    Returns
    -------
    Sample
        The sampled units with their inclusion probabilities, the strata table and the parameters.
        When ``n`` is larger than the number of eligible posts, all of them are drawn, with a
        warning.
    """
    keys = _check_keys(stratify_by, strategy)
    if allocation not in ALLOCATIONS:
        raise UserError(f"allocation must be one of {', '.join(ALLOCATIONS)}, not {allocation!r}")
    if n < 1:
        raise UserError("the sample size n (-n) must be at least 1")
    if not (0.0 <= uncertain_share <= 1.0 and 0.0 < uncertain_top < 1.0):
        raise UserError("uncertain_share (--uncertain-share) must be in [0, 1] and uncertain_top "
                        "(--uncertain-top) in (0, 1)")
    rng = np.random.default_rng(random_state)
    frame = eligible_posts(posts, include_roots=include_roots, exclude=exclude)
    if frame.empty:
        raise UserError("no posts are eligible for coding (responses with text: not thread "
                        "roots, context rows or reposts; see --include-roots)")
    if n > len(frame):
        warnings.warn(f"the sample size n (-n) is {n}, larger than the {len(frame)} eligible "
                      f"post(s): all {len(frame)} are drawn", stacklevel=2)
    units = pd.DataFrame({"uid": frame["uid"].astype("string")})
    units["thread_id"] = (frame["thread_id"].astype("string") if "thread_id" in frame.columns
                          else pd.array([pd.NA] * len(frame), dtype="string"))
    created = frame["created_at"] if "created_at" in frame.columns else pd.Series(
        pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    units["created_at"] = pd.to_datetime(created, utc=True)
    units["time_bin"] = (time_bins(units["created_at"], freq=freq, bins=n_time_bins)
                         if "time" in keys else pd.array(["all"] * len(units), dtype="string"))
    units = _join_model(units, labels, keys)
    units["uncertain"] = _uncertain_flags(units, keys, uncertain_top)
    units["stratum"] = _stratum_names(units, keys)

    grouped = units.groupby("stratum", sort=True)
    strata = grouped[["time_bin", "predicted_label", "uncertain"]].first()
    strata["population"] = grouped.size()
    strata["first_post"] = grouped["created_at"].min()
    strata["last_post"] = grouped["created_at"].max()
    strata = strata.reset_index()
    if "label" not in keys:
        strata["predicted_label"] = pd.array([pd.NA] * len(strata), dtype="string")
    strata["sampled"] = _allocate_strata(strata, n, keys, allocation, uncertain_share)
    strata["inclusion_prob"] = strata["sampled"] / strata["population"]

    chosen = []
    thread_keys = _thread_keys(units["thread_id"], rng) if "thread" in keys else None
    members_of = units.groupby("stratum", sort=True).indices
    for row in strata.itertuples(index=False):
        if row.sampled == 0:
            continue
        members = np.asarray(members_of[row.stratum])
        if thread_keys is not None:
            order = np.lexsort((rng.random(len(members)), thread_keys[members]))
            chosen.extend(members[order][_systematic(len(members), row.sampled, rng)])
        else:
            chosen.extend(rng.choice(members, size=row.sampled, replace=False))
    sample = units.iloc[np.sort(np.asarray(chosen, dtype=np.int64))].merge(
        strata[["stratum", "population", "sampled", "inclusion_prob"]], on="stratum")
    sample = sample.rename(columns={"population": "stratum_size", "sampled": "stratum_sampled"})
    sample["weight"] = 1.0 / sample["inclusion_prob"]
    if (strata["sampled"] == 0).any():
        warnings.warn(f"{int((strata['sampled'] == 0).sum())} stratum/strata got no draws; "
                      "estimates cannot be weighted back to those posts", stacklevel=2)
    params = {
        "n_requested": int(n), "n_sampled": int(len(sample)), "population": int(len(units)),
        "seed": int(random_state) if isinstance(random_state, numbers.Integral) else None,
        "stratify_by": list(keys), "strategy": strategy, "freq": freq,
        "time_bins": None if freq else int(n_time_bins), "allocation": allocation,
        "uncertain_share": float(uncertain_share) if "uncertainty" in keys else None,
        "uncertain_top": float(uncertain_top) if "uncertainty" in keys else None,
        "include_roots": bool(include_roots), "excluded": int(len(exclude)),
        "thread_stratification": "implicit (systematic draw over threads in random order)"
        if "thread" in keys else None,
    }
    strata_out = strata.copy()
    return Sample(units=sample.reset_index(drop=True), strata=strata_out, params=params)


def assign_coders(units: pd.DataFrame, coders: Sequence[str], *, overlap: float = 0.2,
                  overlap_coders: int | None = None,
                  random_state: int | np.random.Generator | None = CODERS_SEED) -> pd.DataFrame:
    """Give each sampled post to one coder, and a share of them to several for agreement.

    Parameters
    ----------
    units
        The sampled posts (a ``uid`` column).
    coders
        Coder ids.
    overlap
        Share of the posts coded by several coders (at least 2 posts when positive and there are
        two or more coders). The overlap posts are a simple random subsample of the sample.
    overlap_coders
        How many coders code each overlap post (default: all of them).
    random_state
        Seed or generator (default: :data:`CODERS_SEED`, the one ``annotate sample`` uses
        without ``--seed``; with ``--seed S`` it uses ``S + 1``).

    Returns
    -------
    pandas.DataFrame
        ``uid``, ``coder``, ``position`` (row order in the coder's sheet, shuffled per coder) and
        ``overlap`` (bool); workloads are balanced.
    """
    coders = parse_coders(coders)
    if not 0.0 <= overlap <= 1.0:
        raise UserError(f"overlap (--overlap) must be between 0 and 1, not {overlap}")
    k = len(coders) if overlap_coders is None else int(overlap_coders)
    if len(coders) > 1 and not 2 <= k <= len(coders):
        raise UserError(f"overlap_coders (--overlap-coders) must be between 2 and {len(coders)}")
    rng = np.random.default_rng(random_state)
    uids = units["uid"].astype("string").tolist()
    count = len(uids)
    n_overlap = 0
    if len(coders) > 1 and overlap > 0:
        n_overlap = min(count, max(2, math.ceil(overlap * count - 1e-9)))
    order = rng.permutation(count)
    overlap_idx = set(order[:n_overlap].tolist())
    load = dict.fromkeys(coders, 0)
    tiebreak = {c: r for c, r in zip(coders, rng.permutation(len(coders)), strict=True)}
    rows = []
    for index in order:
        take = k if index in overlap_idx else 1
        chosen = sorted(coders, key=lambda c: (load[c], tiebreak[c]))[:take]
        for coder in chosen:
            load[coder] += 1
            tiebreak[coder] = rng.random()
            rows.append((uids[index], coder, index in overlap_idx))
    out = pd.DataFrame(rows, columns=["uid", "coder", "overlap"])
    out["position"] = 0
    for _coder, members in out.groupby("coder").groups.items():
        out.loc[members, "position"] = rng.permutation(len(members)) + 1
    out = out.sort_values(["coder", "position"], key=_coder_order(coders)).reset_index(drop=True)
    out["uid"] = out["uid"].astype("string")
    return out[["uid", "coder", "position", "overlap"]]


def estimate_label_shares(gold: pd.DataFrame, units: pd.DataFrame, *,
                          strata: pd.DataFrame | None = None,
                          labels: Sequence[str] | None = None, ci: float = 0.95) -> pd.DataFrame:
    """Share of each label in the population, from final gold labels weighted by the design.

    The stratified estimator: in each stratum the share among its coded posts, weighted by the
    stratum's population, with the stratified variance (finite population correction included)
    and a normal interval. A stratum with a single coded post (of a larger population) has no
    variance of its own: it is collapsed with neighbouring strata for the variance, with the
    conservative collapsed stratum estimator (Cochran 1977, ch. 5A; Wolter 2007; see
    :func:`_stratified_variance`); ``strata_collapsed`` counts the strata so grouped, and a
    warning says so. Without anything to collapse with (one stratum, one coded post) the
    standard error and interval are NaN. Strata where nothing was coded (no draws, or their
    posts left out) cannot be weighted back: the shares describe only the population of the
    covered strata (``population_covered``), and the others are counted in ``strata_missing``
    and ``population_missing``. Final labels of posts outside the sample are left out with a
    warning. An empty final label counts as a post not coded, like a sampled post missing from
    ``gold`` (left out, with a warning saying how many); if every label in the sample is empty,
    the estimate stops.

    Parameters
    ----------
    gold
        Final gold labels, one row per ``uid`` (see :func:`analysis.annotate.adjudicate`).
    units
        The sample's units (``uid``, ``stratum``, ``stratum_size``), as saved in ``sample.csv``.
    strata
        Every stratum of the eligible population (``stratum``, ``population``), as saved in
        ``strata.csv``. Without it, strata that got no draws are not known, nor counted.
    labels
        The codebook: its labels are reported even when no post has them (share 0). Labels seen
        outside it are reported too. Default: the labels seen.
    ci
        Interval level.
    """
    from statistics import NormalDist

    if gold["uid"].duplicated().any():
        raise UserError("estimate from final gold labels: one label per post (run adjudicate)")
    inside = gold["uid"].astype("string").isin(units["uid"].astype("string"))
    if not inside.any():
        raise UserError(f"none of the {len(gold)} final label(s) belong to this sample")
    if not inside.all():
        warnings.warn(f"{int((~inside).sum())} of {len(gold)} final label(s) are not in this "
                      "sample (another batch?) and are left out", stacklevel=2)
    empty = inside & ~_has_text(gold["label"])
    if empty.sum() == inside.sum():
        raise UserError(f"all {int(inside.sum())} final label(s) of this sample's posts are "
                        "empty; fill them (or adjudicate again) before estimating")
    if empty.any():
        warnings.warn(f"{int(empty.sum())} of this sample's final label(s) are empty; those "
                      "posts count as not coded", stacklevel=2)
    merged = units[["uid", "stratum", "stratum_size"]].astype({"uid": "string"}).merge(
        gold.loc[inside & ~empty, ["uid", "label"]].astype({"uid": "string", "label": "string"}),
        on="uid")
    labels = sorted(set(merged["label"]) | set(labels or ()))
    sizes = units.groupby("stratum")["stratum_size"].first().astype(float)
    if strata is not None:
        sizes = sizes.combine_first(strata.set_index("stratum")["population"].astype(float))
    coded = merged.groupby("stratum")
    covered = sizes[sizes.index.isin(coded.groups.keys())]
    total = covered.sum()
    missing = sizes.drop(covered.index)
    n_coded = coded.size().reindex(covered.index)
    group = _collapsed_strata(n_coded.to_numpy(), covered.to_numpy())
    in_groups = int((group >= 0).sum())
    n_collapsed = in_groups if in_groups > 1 else 0
    if n_collapsed:
        single = int(((n_coded == 1) & (covered > 1)).sum())
        warnings.warn(f"{single} stratum/strata have a single coded post; their variance is "
                      f"estimated by collapsing them with neighbouring strata ({n_collapsed} "
                      "strata in all; conservative, see strata_collapsed)", stacklevel=2)
    elif in_groups:
        warnings.warn("the only stratum with coded posts has a single one: the standard error "
                      "cannot be estimated", stacklevel=2)
    weight = covered / total
    z = NormalDist().inv_cdf(0.5 + ci / 2)
    shares = pd.crosstab(merged["stratum"], merged["label"], normalize="index").reindex(
        index=covered.index, columns=labels, fill_value=0.0).astype(float)
    rows = []
    for label in labels:
        share = shares[label]
        estimate = float((weight * share).sum())
        se = math.sqrt(_stratified_variance(share.to_numpy(), n_coded.to_numpy(),
                                            covered.to_numpy(), group))
        low, high = ((math.nan, math.nan) if math.isnan(se) else
                     (max(0.0, estimate - z * se), min(1.0, estimate + z * se)))
        rows.append({"label": label, "n_coded": int(len(merged)),
                     "n_label": int((merged["label"] == label).sum()), "estimate": estimate,
                     "se": se, "ci_low": low, "ci_high": high,
                     "strata_missing": int(len(missing)), "population_covered": int(total),
                     "population_missing": int(missing.sum()), "strata_collapsed": n_collapsed})
    return pd.DataFrame(rows)


def _collapsed_strata(n_coded: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Which group of collapsed strata each stratum (in stratum order) belongs to; -1 for none.

    A stratum with one coded post out of several has no variance estimate of its own. Such
    strata are grouped with their neighbours in stratum order (time bins in time order, inside
    each uncertainty and label stratum): in pairs, the last three together when their number is
    odd, and a single one with the stratum before it (or after it, when it is the first). A
    stratum whose one post is its whole population is a census and needs no variance. A lone
    stratum with nothing to collapse it with is a group of one.
    """
    group = np.full(len(n_coded), -1, dtype=np.int64)
    single = np.flatnonzero((n_coded == 1) & (sizes > 1))
    if len(single) == 1:
        at = int(single[0])
        group[[at, at - 1 if at else min(1, len(group) - 1)]] = 0
    elif len(single) > 1:
        group[single] = np.minimum(np.arange(len(single)) // 2, len(single) // 2 - 1)
    return group


def _stratified_variance(share: np.ndarray, n_coded: np.ndarray, sizes: np.ndarray,
                         group: np.ndarray) -> float:
    """The variance of the stratified share ``sum(weight * share)``, ``weight = sizes / total``.

    Each stratum adds ``weight**2 * fpc * p * (1 - p) / (m - 1)``, the usual stratified variance
    of a proportion (Cochran 1977, *Sampling Techniques*, 3rd ed., ch. 5). Each group of
    collapsed strata (``group`` >= 0, see :func:`_collapsed_strata`) adds instead the collapsed
    stratum estimator ``L / (L - 1) * sum((t_h - mean(t))**2)`` over its ``L`` strata, where
    ``t_h = weight_h * share_h`` is the stratum's estimated contribution (Cochran 1977, ch. 5A,
    one unit per stratum; Wolter 2007, *Introduction to Variance Estimation*, 2nd ed., the
    collapsed stratum estimator). Its expectation is the strata's variance plus the spread of
    their true contributions, so it errs on the large side; it also ignores the finite
    population correction. A group of one (nothing to collapse with) gives NaN.
    """
    weight = sizes / sizes.sum()
    own = (group < 0) & (n_coded > 1)
    fpc = np.maximum(0.0, 1.0 - n_coded[own] / sizes[own])
    p = share[own]
    variance = float((weight[own] ** 2 * fpc * p * (1 - p) / (n_coded[own] - 1)).sum())
    collapsed = group >= 0
    if not collapsed.any():
        return variance
    ids = group[collapsed]
    t = weight[collapsed] * share[collapsed]
    count = np.bincount(ids)
    if (count < 2).any():
        return math.nan
    deviation = np.bincount(ids, (t - (np.bincount(ids, t) / count)[ids]) ** 2)
    return variance + float((count / (count - 1) * deviation).sum())


def _has_text(values: pd.Series) -> pd.Series:
    """True where a value is present and not blank."""
    text = values.astype("string").str.strip()
    return (text.notna() & (text != "")).fillna(False).astype(bool)


def _check_keys(stratify_by: Sequence[str], strategy: str) -> tuple[str, ...]:
    if strategy not in STRATEGIES:
        raise UserError(f"strategy (--strategy) must be one of {', '.join(STRATEGIES)}, "
                        f"not {strategy!r}")
    keys = [k.strip() for k in (stratify_by.split(",") if isinstance(stratify_by, str)
                                else stratify_by) if k.strip()]
    unknown = [k for k in keys if k not in STRATIFY_KEYS]
    if unknown:
        raise UserError(f"unknown --stratify-by key(s) {', '.join(unknown)}; use "
                        f"{', '.join(STRATIFY_KEYS)}")
    if strategy == "uncertainty" and "uncertainty" not in keys:
        keys.append("uncertainty")
    return tuple(k for k in STRATIFY_KEYS if k in keys)


def _join_model(units: pd.DataFrame, labels: pd.DataFrame | None,
                keys: tuple[str, ...]) -> pd.DataFrame:
    needs = {"label", "uncertainty"} & set(keys)
    if labels is None:
        if needs:
            raise UserError(f"stratifying by {' and '.join(sorted(needs))} needs a classifier's "
                            "labels (--labels LABELS or --model M)")
        units["predicted_label"] = pd.array([pd.NA] * len(units), dtype="string")
        units["uncertainty"] = pd.array([pd.NA] * len(units), dtype="Float64")
        return units
    scores = uncertainty_scores(labels)
    if not units["uid"].isin(scores["uid"]).any():
        raise UserError("none of the labelled posts is among the eligible posts; label the same "
                        "posts table the sample is drawn from")
    out = units.merge(scores, on="uid", how="left")
    if "uncertainty" in keys and out["uncertainty"].isna().all():
        raise UserError("the labels table has no proba_<label> columns to measure uncertainty")
    missing = int(out["predicted_label"].isna().sum())
    if missing and needs:
        warnings.warn(f"{missing} eligible post(s) have no classifier label; they form their own "
                      "stratum", stacklevel=3)
    return out


def _uncertain_flags(units: pd.DataFrame, keys: tuple[str, ...], top: float) -> pd.Series:
    if "uncertainty" not in keys:
        return pd.Series(pd.NA, index=units.index, dtype="boolean")
    score = units["uncertainty"].astype("Float64").fillna(2.0).to_numpy(dtype=float)
    order = np.lexsort((units["uid"].to_numpy(dtype=object), -score))
    cut = max(1, round(top * len(units)))
    flags = np.zeros(len(units), dtype=bool)
    flags[order[:cut]] = True
    return pd.Series(flags, index=units.index, dtype="boolean")


def _stratum_names(units: pd.DataFrame, keys: tuple[str, ...]) -> pd.Series:
    parts = []
    if "uncertainty" in keys:
        parts.append(np.where(units["uncertain"].to_numpy(dtype=bool), "uncertain=yes",
                              "uncertain=no"))
    if "label" in keys:
        parts.append("label=" + units["predicted_label"].fillna("none").astype(str).to_numpy())
    if "time" in keys:
        parts.append("time=" + units["time_bin"].astype(str).to_numpy())
    if not parts:
        return pd.Series("all", index=units.index, dtype="string")
    names = parts[0].astype(object)
    for part in parts[1:]:
        names = names + "|" + part
    return pd.Series(names, index=units.index, dtype="string")


def _allocate_strata(strata: pd.DataFrame, n: int, keys: tuple[str, ...], allocation: str,
                     uncertain_share: float) -> np.ndarray:
    sizes = strata["population"].to_numpy()
    equal = allocation == "equal"
    if "uncertainty" not in keys:
        return allocate(sizes, n, equal=equal)
    n = min(n, int(sizes.sum()))
    flags = strata["uncertain"].to_numpy(dtype=bool)
    n_unc = min(round(uncertain_share * n), int(sizes[flags].sum()))
    n_rest = min(n - n_unc, int(sizes[~flags].sum()))
    n_unc = min(n - n_rest, int(sizes[flags].sum()))
    out = np.zeros(len(sizes), dtype=np.int64)
    out[flags] = allocate(sizes[flags], n_unc, equal=equal, minimum=1 if n_unc else 0)
    out[~flags] = allocate(sizes[~flags], n_rest, equal=equal, minimum=1 if n_rest else 0)
    return out


def _thread_keys(threads: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """A random rank per thread (threads in random order), repeated for each of its posts."""
    codes, uniques = pd.factorize(threads.fillna("").astype(str), sort=True)
    return rng.permutation(len(uniques))[codes].astype(np.int64)


def _systematic(size: int, take: int, rng: np.random.Generator) -> np.ndarray:
    """Systematic draw with a fractional interval: every position has probability take/size."""
    step = size / take
    start = rng.random() * step
    positions = np.floor(start + step * np.arange(take)).astype(np.int64)
    return np.minimum(positions, size - 1)


def _coder_order(coders: Sequence[str]):
    rank = {c: i for i, c in enumerate(coders)}

    def key(column: pd.Series) -> pd.Series:
        return column.map(rank) if column.name == "coder" else column

    return key


__all__ = [
    "CODERS_SEED", "STRATIFY_KEYS", "Sample", "allocate", "assign_coders", "draw_sample",
    "eligible_posts", "estimate_label_shares", "parse_coders", "time_bins", "uncertainty_scores",
]
