"""`label` leftovers found by acceptance testers: replies whose thread root is not in the table
(labelled without a target, now with a note saying so), texts that are only @handles and links
(now labelled as empty texts are), and the default model's label moving when one text is
repeated. All data here is generated."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.classifiers import label_posts, labelling, train_model
from analysis.commands import main
from tests.test_classifiers import generated_frame

PROBA = ["proba_support", "proba_criticism", "proba_other"]
NOTE = ("labelled without a target (give --target or --target-col; in Python, target= or "
        "target_col=)")


def posts_table(rows: list[tuple[str, str | None, str | None, str | None]]) -> pd.DataFrame:
    """A posts table from (id, root_id, parent_id, text) rows, all on Twitter."""
    return pd.DataFrame({
        "uid": [f"twitter:{i}" for i, _, _, _ in rows],
        "platform": "twitter",
        "id": [i for i, _, _, _ in rows],
        "root_id": [r for _, r, _, _ in rows],
        "parent_id": [p for _, _, p, _ in rows],
        "text": [t for _, _, _, t in rows],
        "lang": "en",
    })


def run_label(posts: pd.DataFrame, tmp_path, capsys, *extra: str, model: str = "default"
              ) -> tuple[int, list[str]]:
    data = tmp_path / "posts.parquet"
    posts.to_parquet(data)
    code = main(["label", str(data), "--model", model, "--no-progress",
                 "-o", str(tmp_path / "labels.parquet"), *extra])
    _, err = capsys.readouterr()
    return code, [line for line in err.splitlines() if "labelled without a target" in line]


# --- 1. replies whose root is not in the table ----------------------------------------------

def test_label_notes_replies_whose_root_is_not_in_the_table(tmp_path, capsys):
    posts = posts_table([
        ("1", "1", None, "The minister resigned today"),
        ("2", "1", "1", "so true"),          # root in the table
        ("3", "2", "2", "agreed"),           # reply to a reply: root 2 is not a root, but is here
        ("4", "99", "99", "this is fake"),   # root 99 is not in the table
        ("5", "99", "4", "why would you say that"),
        ("6", None, "77", "no idea"),        # root not known at all
    ])
    code, notes = run_label(posts, tmp_path, capsys)
    assert code == 0
    assert len(notes) == 1, notes
    assert notes[0].startswith("warning: 3 replies have no root post in the table;"), notes
    assert notes[0].endswith(NOTE)


def test_label_counts_a_root_without_text_apart(tmp_path, capsys):
    posts = posts_table([
        ("1", "1", None, None),              # the root was deleted
        ("2", "1", "1", "so true"),
        ("3", "50", "50", "this is fake"),
    ])
    code, notes = run_label(posts, tmp_path, capsys)
    assert code == 0
    assert len(notes) == 1, notes
    assert "2 replies have no root post text in the table (1 no root post, 1 a root without " \
        "text)" in notes[0], notes


def test_label_says_nothing_when_every_root_is_in_the_table(tmp_path, capsys):
    posts = posts_table([("1", "1", None, "The minister resigned"), ("2", "1", "1", "so true"),
                         ("3", "1", "2", "agreed")])
    code, notes = run_label(posts, tmp_path, capsys)
    assert code == 0 and notes == []


def test_label_says_nothing_about_roots_when_a_target_is_given(tmp_path, capsys):
    posts = posts_table([("4", "99", "99", "this is fake"), ("5", "99", "4", "why")])
    assert run_label(posts, tmp_path, capsys, "--target", "the minister") == (0, [])
    code, notes = run_label(posts.assign(post_text="the claim"), tmp_path, capsys,
                            "--target-col", "post_text")
    assert code == 0 and notes == []


def test_replies_without_root_one_reply_is_singular(tmp_path, capsys):
    posts = posts_table([("1", "1", None, "a claim"), ("4", "99", "99", "this is fake")])
    assert labelling.replies_without_root(posts) == (1, 0)
    _, notes = run_label(posts, tmp_path, capsys)
    assert notes and notes[0].startswith("warning: 1 reply has no root post in the table;")


def test_replies_without_root_matches_numeric_and_text_ids():
    posts = pd.DataFrame({"platform": ["twitter"] * 2, "id": [1, 2], "root_id": ["1", "1"],
                          "parent_id": [None, "1"], "text": ["a claim", "so true"]})
    assert labelling.replies_without_root(posts) == (0, 0)
    # not a posts table: no root to look for
    assert labelling.replies_without_root(posts.drop(columns="root_id")) == (0, 0)


# --- 2. texts that are only @handles and links ----------------------------------------------

BARE = ["@someone https://t.co/abc", "@a @b", "https://www.bbc.co.uk/news", "@ann",
        "u/someone", "pic.twitter.com/xyz @a", "@name.bsky.social https://t.co/x",
        "@some.user_1", "@Ann's", "HTTPS://T.CO/X", "U/Someone"]


@pytest.mark.parametrize("text", BARE)
def test_handles_and_links_are_not_words(text):
    assert not labelling.has_words(text)


@pytest.mark.parametrize("text", ["#fake", "@ann so true", "RT @x: fake", "me@example.com",
                                  "https://t.co/x lies", "5"])
def test_a_word_beside_handles_links_or_in_a_hashtag_counts(text):
    assert labelling.has_words(text)


@pytest.mark.parametrize("model", ["vader", "default"])
def test_texts_of_handles_and_links_only_get_uniform_probabilities(model):
    frame = pd.DataFrame({"uid": [f"u{i}" for i in range(len(BARE) + 1)],
                          "text": BARE + ["this is a lie and you know it"]})
    out = label_posts(frame, model, target="the minister", progress=False)
    bare = out.iloc[:len(BARE)]
    assert np.allclose(bare[PROBA].to_numpy(dtype=float), 1 / 3)
    assert (bare["label"] == "other").all()
    # a text with words is labelled by the model, not as an empty text
    assert not np.allclose(out.iloc[-1][PROBA].to_numpy(dtype=float), 1 / 3)


def test_user_model_labels_handle_only_texts_as_empty_texts():
    model, _ = train_model(generated_frame(), cv=0)
    frame = pd.DataFrame({"uid": ["a", "b", "c"], "text": ["@a @b", "", "@x https://t.co/1"],
                          "target": "Alice posted an update"})
    out = label_posts(frame, model, progress=False)
    assert np.allclose(out[PROBA].to_numpy(dtype=float), 1 / 3)
    assert out["label"].tolist() == ["other"] * 3


# --- 3. one phrase repeated many times ------------------------------------------------------

PHRASES = ["so sad", "thank you", "i love her", "this is fake", "why would anyone post these"]


@pytest.mark.parametrize("model", ["default", "vader"])
def test_a_phrase_repeated_gets_the_label_and_probabilities_of_the_phrase(model):
    texts = PHRASES + [" ".join([p] * 30) for p in PHRASES] + ["\n".join([p] * 3) for p in PHRASES]
    frame = pd.DataFrame({"uid": [f"u{i}" for i in range(len(texts))], "text": texts})
    out = label_posts(frame, model, target="the woman who posted", progress=False)
    k = len(PHRASES)
    once, thirty, three = out.iloc[:k], out.iloc[k:2 * k], out.iloc[2 * k:]
    for repeated in (thirty, three):
        assert repeated["label"].tolist() == once["label"].tolist()
        assert np.allclose(repeated[PROBA].to_numpy(dtype=float),
                           once[PROBA].to_numpy(dtype=float))


def test_a_text_that_is_not_one_phrase_repeated_is_read_as_written():
    assert labelling.collapse_repeats("so sad so sad so") == "so sad so sad so"
    assert labelling.collapse_repeats("not fake, not fake at all") == "not fake, not fake at all"
    assert labelling.collapse_repeats("fake") == "fake"
    assert labelling.collapse_repeats(None) is None
    assert labelling.collapse_repeats("no no  no\tno") == "no"


def test_copies_that_differ_in_case_folding_and_punctuation_are_one_phrase():
    assert labelling.collapse_repeats("Straße STRASSE strasse!") == "Straße"
    assert labelling.collapse_repeats("ǅa Ǆa ǆa") == "ǅa"
    assert labelling.collapse_repeats("!! so !! so") == "!! so"


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.sampled_from(["so", "SO", "sad", "Sad,", "ß", "SS", "ss", "!", "..."]),
                      min_size=1, max_size=8), copies=st.integers(1, 4))
def test_collapse_repeats_finds_the_shortest_repeated_phrase(words, copies):
    def key(word):
        return word.strip(string.punctuation).casefold()

    text = " ".join(words * copies)
    all_words = text.split()
    keys = [key(w) for w in all_words]
    n = len(all_words)
    periods = [p for p in range(1, n // 2 + 1)
               if n % p == 0 and keys == keys[:p] * (n // p)]
    expected = " ".join(all_words[:periods[0]]) if periods else text
    assert labelling.collapse_repeats(text) == expected


# --- found by an acceptance re-test ------------------------------------------------------------

def _orphans() -> pd.DataFrame:
    return posts_table([("1", "1", None, "The minister resigned today"),
                        ("4", "99", "99", "this is fake"), ("5", "99", "4", "why say that")])


def test_the_root_note_counts_rows_repeated_exactly_once(tmp_path, capsys):
    posts = _orphans()
    code, notes = run_label(pd.concat([posts, posts.iloc[[1, 1]]]), tmp_path, capsys)
    assert code == 0 and len(notes) == 1
    assert notes[0].startswith("warning: 2 replies have no root post in the table;"), notes


def test_no_root_note_under_vader_which_reads_no_target(tmp_path, capsys):
    code, notes = run_label(_orphans(), tmp_path, capsys, model="vader")
    assert code == 0 and notes == []


def test_no_root_note_when_labelling_fails(tmp_path, capsys):
    posts = _orphans()
    posts.loc[1, "uid"] = None
    code, notes = run_label(posts, tmp_path, capsys)
    assert code == 2 and notes == []


def test_a_bad_output_is_refused_before_labelling(tmp_path, capsys, monkeypatch):
    import analysis.classifiers as classifiers

    def must_not_label(*args, **kwargs):
        raise AssertionError("labelled before the output was checked")

    monkeypatch.setattr(classifiers, "label_posts", must_not_label)
    data = tmp_path / "posts.parquet"
    _orphans().to_parquet(data)
    folder = tmp_path / "out"
    folder.mkdir()
    for output, message in ((folder, "is a folder"), (tmp_path / "labels.txt", "unknown table")):
        assert main(["label", str(data), "--model", "vader", "-o", str(output)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err


@pytest.mark.parametrize("option", ["--target-col", "--text-col", "--context-col"])
def test_an_empty_column_option_is_a_usage_error(tmp_path, capsys, option):
    data = tmp_path / "posts.parquet"
    _orphans().to_parquet(data)
    with pytest.raises(SystemExit) as stop:
        main(["label", str(data), "--model", "vader", option, "", "-o",
              str(tmp_path / "l.parquet")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument " + option) and "empty column name" in err


@pytest.mark.parametrize("text", ["@tanaka本当にひどい", "https://t.co/abc”LIES", "@bob-liar",
                                  "@ann.Great", "@some.user.Liar", "@Ann.So true"])
def test_words_beside_a_handle_or_glued_to_a_link_count(text):
    assert labelling.has_words(text)


def test_a_phrase_repeated_with_punctuation_is_labelled_as_the_phrase():
    frame = pd.DataFrame({"uid": ["a", "b", "c"], "lang": "en",
                          "text": ["so sad", "so sad, so sad, so sad", "so sad so sad so sad."]})
    out = label_posts(frame, "vader", target="the minister", progress=False)
    probabilities = out[PROBA].to_numpy(dtype=float)
    assert np.allclose(probabilities[1], probabilities[0])
    assert np.allclose(probabilities[2], probabilities[0])
