"""Classifier benchmarks on the bundled val / dev splits (the test splits are held back).

Measures, and with ``--write`` puts under ``## Classifiers`` in docs/benchmarks.md:

- SemEval-2016 Task 6 (TweetEval stance) val F_avg (mean F1 of favor and against): the
  ``train`` pipeline (and ``train --fast``) on SemEval train only, as ``train`` runs it (its
  5-fold CV grouped by target chooses C) (labels favor / against /
  none, target = the target's name); the default recipe (SemEval train + RumourEval train,
  mapped to support / criticism / other); a text-only TF-IDF logistic regression; VADER
  (positive tone = favor);
- RumourEval 2019 subtask A dev: 4-class SDQC macro-F1 and deny F1 of the ``train`` pipeline
  (and ``--fast``) trained on train only (target = source post, context = parent, depth); the
  text-only baseline; the default recipe on the mapped 3 labels (macro-F1, criticism F1 =
  deny), and the calibration (expected calibration error) of its probabilities on dev;
- leave-one-event-out prediction over RumourEval train + dev (what the study runs): time and
  macro-F1;
- VADER: Pearson r of the compound score with the mean human rating per corpus of the VADER
  ground truth (Hutto & Gilbert 2014), macro recall on TweetEval sentiment val, slowest post;
- throughput (posts/s on one core) of ``default`` and ``vader`` prediction, and of counting word
  n-grams with scikit-learn and with the counter ``default`` uses;

The models' labels and probabilities are those ``label`` and ``evaluate`` give
(:func:`~analysis.classifiers.labelling.predict_with_rules`: texts without words are ``other``, a
phrase repeated is read once; no language column, so no probabilities are pulled), except for
the text-only baseline, which is the issue's plain scikit-learn reference.
- the motivating example: what ``vader`` and ``default`` say about "send support or keep
  quiet" style replies.

Usage: ``python benchmarks/classifiers.py [--write]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # per-core numbers
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import markdown_table as table  # noqa: E402
from _common import write_section  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score, recall_score  # noqa: E402
from sklearn.pipeline import make_pipeline as sk_pipeline  # noqa: E402

from analysis.classifiers import datasets, get_model, predict_out_of_group, train_model  # noqa: E402,E501
from analysis.classifiers import vader as vader_module  # noqa: E402
from analysis.classifiers.default import make_pipeline  # noqa: E402
from analysis.classifiers.features import _word_params  # noqa: E402
from analysis.classifiers.labelling import predict_with_rules  # noqa: E402
from analysis.classifiers.metrics import calibration_error  # noqa: E402

SECTION = "## Classifiers"
STANCE = ["support", "criticism", "other"]


def text_only_baseline():
    """The issue's reference baseline: TF-IDF word 1-2-grams + logistic regression on text."""
    return sk_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))


def labels_of(model, frame: pd.DataFrame) -> np.ndarray:
    """The labels ``label`` and ``evaluate`` give ``frame``'s rows."""
    return predict_with_rules(model, frame)[1]


def fmt(x: float) -> str:
    return f"{x:.4f}"


def semeval(rows: list, re_train: pd.DataFrame) -> None:
    train = datasets.read_semeval_stance("train")
    val = datasets.read_semeval_stance("val")
    fa = ["favor", "against"]

    for fast in (False, True):
        model, card = train_model(train, cv=5, fast=fast)
        rows.append(("SemEval-2016 val (n=294)",
                     f"`train`{' --fast' if fast else ''} pipeline, SemEval train "
                     f"(C {card['C']:g} chosen by 5-fold CV grouped by target)", "F_avg",
                     fmt(f1_score(val["label"], labels_of(model, val), labels=fa,
                                  average="macro"))))
    mapped_train = datasets.recipe_frame(train, re_train)
    default = make_pipeline().fit(mapped_train, mapped_train["label"].astype(str))
    pred = pd.Series(labels_of(default, val)).map(
        {"support": "favor", "criticism": "against", "other": "none"})
    rows.append(("SemEval-2016 val", "default recipe, SemEval + RumourEval train",
                 "F_avg", fmt(f1_score(val["label"], pred, labels=fa, average="macro"))))
    base = text_only_baseline().fit(train["text"], train["label"])
    rows.append(("SemEval-2016 val", "text-only TF-IDF + LR, SemEval train", "F_avg",
                 fmt(f1_score(val["label"], base.predict(val["text"]), labels=fa,
                              average="macro"))))
    vader = get_model("vader")
    pred = pd.Series(labels_of(vader, val)).map(
        {"support": "favor", "criticism": "against", "other": "none"})
    rows.append(("SemEval-2016 val", "vader (positive tone = favor)", "F_avg",
                 fmt(f1_score(val["label"], pred, labels=fa, average="macro"))))
    return default


def rumoureval(rows: list, full: pd.DataFrame, semeval_train: pd.DataFrame) -> dict:
    train = full[full["split"] == "train"].reset_index(drop=True)
    dev = full[full["split"] == "dev"].reset_index(drop=True)
    labels4 = ["support", "deny", "query", "comment"]
    for fast in (False, True):
        model, card = train_model(train, cv=5, fast=fast)
        pred = labels_of(model, dev)
        rows.append(("RumourEval 2019 dev (n=1,478)",
                     f"`train`{' --fast' if fast else ''} pipeline, RumourEval train "
                     f"(C {card['C']:g} chosen by 5-fold CV grouped by event)",
                     "macro-F1 (4 SDQC) / deny F1",
                     f"{fmt(f1_score(dev['label'], pred, labels=labels4, average='macro'))} / "
                     f"{fmt(f1_score(dev['label'], pred, labels=['deny'], average='macro'))}"))
        if not fast:
            speed_frame = pd.concat([dev] * 5, ignore_index=True)
            start = time.perf_counter()
            predict_with_rules(model, speed_frame)
            took = time.perf_counter() - start
            rows.append(("throughput, one core", "`train` pipeline (with character n-grams), "
                         f"{len(speed_frame):,} replies", "posts/s",
                         f"{len(speed_frame) / took:,.0f}"))
    base = text_only_baseline().fit(train["text"].fillna(""), train["label"])
    pred = base.predict(dev["text"].fillna(""))
    rows.append(("RumourEval 2019 dev", "text-only TF-IDF + LR, RumourEval train",
                 "macro-F1 (4 SDQC) / deny F1",
                 f"{fmt(f1_score(dev['label'], pred, labels=labels4, average='macro'))} / "
                 f"{fmt(f1_score(dev['label'], pred, labels=['deny'], average='macro'))}"))
    mapped_train = datasets.recipe_frame(semeval_train, train)
    default = make_pipeline().fit(mapped_train, mapped_train["label"].astype(str))
    dev3 = datasets.map_labels(dev, "rumoureval2019")
    proba, pred = predict_with_rules(default, dev3)
    rows.append(("RumourEval 2019 dev", "default recipe, SemEval + RumourEval train",
                 "macro-F1 (3 mapped) / criticism F1",
                 f"{fmt(f1_score(dev3['label'], pred, labels=STANCE, average='macro'))} / "
                 f"{fmt(f1_score(dev3['label'], pred, labels=['criticism'], average='macro'))}"))
    bare = dev3.assign(target="the person who posted", context=None, depth=pd.NA)
    pred_bare = labels_of(default, bare)
    shares_bare = pd.Series(pred_bare).value_counts(normalize=True)
    rows.append(("RumourEval 2019 dev, no thread information (fixed short target, no parent, "
                 "no depth)", "default recipe, SemEval + RumourEval train",
                 "macro-F1 (3 mapped) / predicted shares",
                 f"{fmt(f1_score(dev3['label'], pred_bare, labels=STANCE, average='macro'))} / "
                 + ", ".join(f"{c} {shares_bare.get(c, 0):.3f}" for c in STANCE)))
    ece = calibration_error(dev3["label"].astype(str), proba, list(default.classes_))
    pred_share = pd.Series(pred).value_counts(normalize=True)
    mean_proba = dict(zip(default.classes_, proba.mean(axis=0), strict=True))
    true_share = dev3["label"].value_counts(normalize=True)
    rows.append(("RumourEval 2019 dev", "default recipe: calibration", "ECE (top class)",
                 fmt(ece)))
    shares = {c: (true_share.get(c, 0), pred_share.get(c, 0), mean_proba[c]) for c in STANCE}
    return {"shares": shares}


def out_of_group(rows: list, full: pd.DataFrame) -> None:
    frame = datasets.map_labels(full, "rumoureval2019")
    start = time.perf_counter()
    out = predict_out_of_group(frame, "default", "group", random_state=20200930)
    took = time.perf_counter() - start
    score = f1_score(frame["label"], out["label"], labels=STANCE, average="macro")
    deny = f1_score(frame["label"], out["label"], labels=["criticism"], average="macro")
    rows.append((f"RumourEval train+dev, leave-one-event-out ({frame['group'].nunique()} "
                 "events)", "default recipe per fold (+ SemEval train+val), 1 job",
                 "macro-F1 (3 mapped) / criticism F1 / seconds",
                 f"{fmt(score)} / {fmt(deny)} / {took:.1f}"))


def vader_checks(rows: list) -> list[tuple[str, int, float, float]]:
    pearson = []
    slowest = 0.0
    for corpus in datasets.VADER_CORPORA:
        gt = datasets.read_vader_ground_truth(corpus)
        scores = []
        for text in gt["text"]:
            start = time.perf_counter()
            scores.append(vader_module.polarity_scores(text)["compound"])
            slowest = max(slowest, time.perf_counter() - start)
        r = float(np.corrcoef(scores, gt["rating"])[0, 1])
        pearson.append((corpus, len(gt), r))
        rows.append((f"VADER ground truth: {corpus} (n={len(gt):,})", "vader", "Pearson r",
                     fmt(r)))
    sent = datasets.read_tweeteval_sentiment("val")
    model = get_model("vader")
    model.set_params(labels=("positive", "negative", "neutral")).fit(None)
    pred = model.predict(sent)
    rows.append(("TweetEval sentiment val (n=2,000)", "vader, thresholds +/-0.05",
                 "macro recall", fmt(recall_score(sent["label"], pred, average="macro"))))
    emoji = "lol great 😂😂 " * 1500
    start = time.perf_counter()
    vader_module.polarity_scores(emoji)
    worst = time.perf_counter() - start
    rows.append(("VADER time per post", "guarded vader",
                 "slowest ground-truth post / generated 3,000-emoji post (ms)",
                 f"{slowest * 1000:.1f} / {worst * 1000:.1f}"))
    return pearson


def throughput(rows: list, texts: pd.Series, default) -> None:
    n = 50_000
    reps = int(np.ceil(n / len(texts)))
    frame = pd.DataFrame({"text": np.tile(texts.to_numpy(dtype=object), reps)[:n],
                          "target": "the woman who shared her pregnancy loss",
                          "context": None, "depth": 1})
    predict_with_rules(default, frame.iloc[:100])
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        predict_with_rules(default, frame)
        best = min(best, time.perf_counter() - start)
    rows.append(("throughput, one core", "default (labels and probabilities with the text "
                 "rules, batch of 50,000 replies)", "posts/s", f"{n / best:,.0f}"))
    rows.append(("throughput, one core", "word 1-2-gram counts of the same replies over the "
                 "default model's vocabulary: scikit-learn CountVectorizer / WordNgramCounter",
                 "posts/s",
                 " / ".join(f"{n / s:,.0f}" for s in word_count_seconds(default, frame))))
    vader = get_model("vader")
    sample = frame.iloc[:10_000]
    start = time.perf_counter()
    predict_with_rules(vader, sample)
    took = time.perf_counter() - start
    rows.append(("throughput, one core", "vader (10,000 replies)", "posts/s",
                 f"{len(sample) / took:,.0f}"))


def word_count_seconds(default, frame: pd.DataFrame) -> tuple[float, float]:
    """Best of three seconds to count the word n-grams of ``frame``'s texts with scikit-learn and
    with the counter the model uses (the same matrix, see tests/test_ngrams.py)."""
    features = default.named_steps["features"]
    counters = (CountVectorizer(vocabulary=features.word_terms_.tolist(),
                                **_word_params(features.word_ngrams)),
                features._counter("word"))
    texts = frame["text"].tolist()
    out = []
    for counter in counters:
        best = np.inf
        for _ in range(3):
            start = time.perf_counter()
            counter.transform(texts)
            best = min(best, time.perf_counter() - start)
        out.append(best)
    return out[0], out[1]


MOTIVATING = [
    ("Send support or keep quiet. What she went through is devastating and the cruelty in "
     "these replies is disgusting.", "the woman who shared her pregnancy loss"),
    ("If you can't be kind, keep quiet. Nobody deserves this hate after losing a baby.",
     "the woman who shared her pregnancy loss"),
    ("Why would anyone post these photos? Attention seeking.",
     "the woman who shared her pregnancy loss"),
    ("So sorry for your loss, sending love and prayers",
     "the woman who shared her pregnancy loss"),
]


def motivating(default) -> list[tuple[str, str, str, str]]:
    vader = get_model("vader")
    out = []
    for text, target in MOTIVATING:
        X = pd.DataFrame({"text": [text], "target": [target], "context": [None], "depth": [1]})
        proba = default.predict_proba(X)[0]
        best = int(np.argmax(proba))
        out.append((text, f"{vader_module.polarity_scores(text)['compound']:+.3f} -> "
                          f"{vader.predict(X)[0]}",
                    f"{default.classes_[best]} ({proba[best]:.2f})", target))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    rows: list = []
    full = datasets.read_rumoureval(("train", "dev"))
    semeval_train = datasets.read_semeval_stance("train")
    default_train_only = semeval(rows, full[full["split"] == "train"])
    extra = rumoureval(rows, full, semeval_train)
    out_of_group(rows, full)
    vader_checks(rows)
    default = get_model("default")
    throughput(rows, full["text"].fillna(""), default)
    examples = motivating(default)
    body = table(("data (split)", "model (trained on)", "metric", "value"), rows)
    shares = table(("label", "dev share", "predicted share", "mean probability"),
                   [(c, fmt(a), fmt(b), fmt(p)) for c, (a, b, p) in extra["shares"].items()])
    card = default_card_summary()
    ex = table(("reply", "VADER compound -> label", "default (probability)", "target"),
               examples)
    text = (
        "Validation numbers only: SemEval-2016 val and RumourEval 2019 dev (the test splits are "
        "held back for independent evaluation). Models are trained on the train splits only for "
        "these rows; the shipped `default` model is trained on train + val/dev.\n\n"
        f"Command: `python benchmarks/classifiers.py --write`; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs (load average {load:.1f} at the start), "
        f"Python {platform.python_version()}, BLAS/OpenMP limited to one thread; date: "
        f"{dt.date.today().isoformat()}; total run {time.perf_counter() - started:.0f} s.\n\n"
        f"{body}\n\n"
        "Calibration of the default recipe on RumourEval dev (trained on train only): share of "
        "each label in the gold labels, among predictions, and the mean predicted probability "
        "(what probabilistic counting uses):\n\n"
        f"{shares}\n\n"
        f"The shipped `default` model's card (trained on all of train + val/dev): {card}\n\n"
        "The motivating example (generated sentences; not a test of accuracy): VADER reads the "
        "tone, the default model the stance toward the target.\n\n"
        f"{ex}\n"
    )
    print(f"{SECTION}\n\n{text}")
    if args.write:
        write_section(SECTION, text)
    del default_train_only


def default_card_summary() -> str:
    from analysis.classifiers import model_card

    card = model_card("default")
    m = card["cv_metrics"]
    per = ", ".join(f"{k} {v['f1']:.3f}" for k, v in m["per_class"].items())
    return (f"{card['cv_folds']}-fold CV grouped by SemEval target / RumourEval event, "
            f"macro-F1 {m['macro_f1']:.3f} [{m['macro_f1_ci'][0]:.3f}, "
            f"{m['macro_f1_ci'][1]:.3f}], per-class F1 {per}, ECE "
            f"{card['cv_calibration_ece']:.3f} (version {card['version']}).")


if __name__ == "__main__":
    main()
