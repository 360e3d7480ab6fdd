"""Study-file mistakes are refused by :func:`analysis.study.load_study`, before anything runs, as
one line naming the file and the key: values the trend would refuse (or crash on) only after the
sources were read and labelled, figures that could not be drawn or would count responses twice,
and keys that would have no effect.

Every study here is generated TOML text; its source is a real twarc2 sample (tests/data), which
loading does not read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import config
from analysis.errors import UserError
from analysis.study import load_study

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "twarc2_samples" / "flat.jsonl"

#: A generated study that loads; each case below changes one part of it.
STUDY = """
[study]
name = "checks"
title = "generated study"

[[sources]]
path = "{sample}"
format = "twarc2"

[classify]
models = ["default"]

[trend]
freq = "1D"
methods = ["cc", "pcc"]
min_posts = 2
n_boot = 200
"""

#: A [gold] table, as RumourEval's gold labels would be mapped.
GOLD = """
[gold]
task = "sdqc"
mapping = { support = "support", deny = "criticism", query = "other", comment = "other" }
"""


def _figure(kind: str, **keys: str) -> str:
    lines = [f'kind = "{kind}"', f'file = "{keys.pop("file", kind)}"']
    lines += [f'{key} = "{value}"' for key, value in keys.items()]
    return "\n[[figures]]\n" + "\n".join(lines) + "\n"


def _write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _study(old: str = "", new: str = "", extra: str = "") -> str:
    text = STUDY.format(sample=SAMPLE.as_posix())
    if old:
        assert old in text
        text = text.replace(old, new, 1)
    return text + extra


def _refused(tmp_path: Path, text: str) -> str:
    """The message of the UserError that loading ``text`` raises; checks it is one line that
    starts with the study file."""
    path = _write(tmp_path, text)
    with pytest.raises(UserError) as caught:
        load_study(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


def test_the_generated_study_loads(tmp_path):
    spec = load_study(_write(tmp_path, _study()))
    assert spec.methods == ("cc", "pcc") and spec.models == ("default",)


# -- figures that would count every response once per model or method -------------------------


def test_a_figure_without_model_is_refused_when_the_study_has_several(tmp_path):
    text = _study('models = ["default"]', 'models = ["default", "vader"]', _figure("volume"))
    message = _refused(tmp_path, text)
    assert "[[figures]] 'volume' has no model" in message and "default, vader" in message


def test_a_figure_without_model_draws_the_only_model(tmp_path):
    """A study with gold labels has gold rows in its trend table too; a figure without a model
    selected them together with the model's (counted twice)."""
    spec = load_study(_write(tmp_path, _study(extra=GOLD + _figure("volume")
                                              + _figure("validation"))))
    assert [figure.model for figure in spec.figures] == ["default", None]


def test_a_method_listed_twice_is_refused(tmp_path):
    message = _refused(tmp_path, _study('methods = ["cc", "pcc"]', 'methods = ["pcc", "pcc"]'))
    assert "trend.methods lists 'pcc' more than once" in message


def test_auto_is_refused_since_its_rows_carry_the_method_it_chose(tmp_path):
    text = _study('methods = ["cc", "pcc"]', 'methods = ["pcc", "auto"]')
    assert "trend.methods: 'auto'" in _refused(tmp_path, text)


# -- figures that cannot be drawn ---------------------------------------------------------------


@pytest.mark.parametrize(("by", "figure", "expected"), [
    ('["platform"]', _figure("shares"), "kind = 'shares' draws one line per label, and trend.by"),
    ('["platform", "lang"]', _figure("multiples"), "trend.by has 2 (platform, lang)"),
    (None, _figure("multiples"), "the study has no trend.by"),
], ids=["shares-with-by", "multiples-with-two-by", "multiples-without-by"])
def test_a_figure_kind_that_does_not_suit_trend_by_is_refused(tmp_path, by, figure, expected):
    old, new = ("n_boot = 200", f"n_boot = 200\nby = {by}") if by else ("", "")
    assert expected in _refused(tmp_path, _study(old, new, figure))


def test_multiples_with_one_by_column_and_volume_with_two_load(tmp_path):
    one = _study("n_boot = 200", 'n_boot = 200\nby = ["platform"]', _figure("multiples"))
    assert load_study(_write(tmp_path, one)).by == ("platform",)
    two = _study("n_boot = 200", 'n_boot = 200\nby = ["platform", "lang"]', _figure("volume"))
    assert load_study(_write(tmp_path, two)).by == ("platform", "lang")


@pytest.mark.parametrize(("extra", "expected"), [
    (_figure("shares", model="gold"), "draws model 'gold', but the study has no [gold] table"),
    (_figure("validation"), "kind = 'validation' sets the estimates against the gold shares, "
                            "and the study has no [gold] table"),
    (GOLD + _figure("validation", model="gold"), "name a model of classify.models"),
    (_figure("shares", title="3").replace('"3"', "3"), "key 'figures.title' must be a string"),
    ('\n[[figures]]\nkind = "shares"\nfile = 12\n', "key 'figures.file' must be a string"),
], ids=["gold-without-gold", "validation-without-gold", "validation-of-gold", "title-number",
        "file-number"])
def test_figures_of_gold_labels_the_study_lacks_or_of_wrong_types_are_refused(tmp_path, extra,
                                                                              expected):
    assert expected in _refused(tmp_path, _study(extra=extra))


def test_a_study_without_figures_loads(tmp_path):
    assert load_study(_write(tmp_path, _study(extra=GOLD))).figures == ()


# -- values the trend would refuse, or crash on, after the sources were read and labelled -------


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('models = ["default"]', "models = []", "classify.models is empty"),
    ('methods = ["cc", "pcc"]', "methods = []", "trend.methods is empty"),
    ('methods = ["cc", "pcc"]', 'methods = ["cc", "bogus"]', "unknown method 'bogus'"),
    ('methods = ["cc", "pcc"]', "methods = [1, 2]", "trend.methods must be a list of names"),
    ("n_boot = 200", "n_boot = 200\nby = [1]", "trend.by must be a list of names"),
    ("n_boot = 200", 'n_boot = 200\nby = ["lang", "lang"]', "trend.by lists 'lang' more than"),
    ('title = "generated study"', 'title = "generated study"\nseed = -1', "study.seed must be"),
    ('title = "generated study"', 'title = "t"\nseed = 99999999999999999', "study.seed must be"),
    ("n_boot = 200", "n_boot = 200\nci = 95", "trend.ci must be between 0 and 1"),
    ("n_boot = 200", "n_boot = -3", "trend.n_boot must be 0 (no interval) or at least 200"),
    ("min_posts = 2", "min_posts = -5", "trend.min_posts must not be negative"),
    ('freq = "1D"', 'freq = "1D"\ntz = "Mars/Olympus"', "trend.tz: unknown time zone"),
    ('freq = "1D"', 'freq = "bogus"', "trend.freq: bad frequency 'bogus'"),
    ('freq = "1D"', 'freq = "0D"', "trend.freq: bad frequency '0D'"),
    ('freq = "1D"', "freq = [0, 1, 3]", "trend.freq: calendar bins need freq as a pandas"),
    ('freq = "1D"', 'freq = "1D"\nrelative_to = "yesterday"', "trend.relative_to: relative_to"),
    ('freq = "1D"', 'freq = "1D"\nrelative_to = "now"',
     "trend.relative_to: relative_to 'now': not a time"),
    ('freq = "1D"', 'freq = "1D"\nmax_hours = 24', "trend.max_hours cuts off responses"),
    ('freq = "1D"', 'freq = "1h"\nrelative_to = "root"\nmax_hours = -1',
     "trend.max_hours must be a positive number"),
], ids=["models-empty", "methods-empty", "methods-unknown", "methods-numbers", "by-number",
        "by-twice", "seed-negative", "seed-huge", "ci-percent", "n_boot-negative",
        "min_posts-negative", "tz", "freq", "freq-zero", "edges-calendar", "relative_to",
        "relative_to-now", "max_hours-calendar", "max_hours-negative"])
def test_trend_and_study_values_are_checked_at_load(tmp_path, old, new, expected):
    assert expected in _refused(tmp_path, _study(old, new))


@pytest.mark.parametrize(("old", "new"), [
    ("n_boot = 200", "n_boot = 0"),
    ('freq = "1D"', 'freq = [0, 1, 3]\nrelative_to = "root"\nmax_hours = 3'),
    ('freq = "1D"', 'freq = "1h"\nrelative_to = "2021-04-08T00:00:00"'),
], ids=["n_boot-0", "edges-and-max_hours", "naive-event-time"])
def test_values_the_trend_command_accepts_load(tmp_path, old, new):
    """n_boot = 0 is no intervals, as ``trend --n-boot 0``; a naive reference time is read in
    trend.tz, as ``trend --relative-to ... --tz``."""
    load_study(_write(tmp_path, _study(old, new)))


# -- sources ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('format = "twarc2"', 'format = "twarc3"', "sources.format 'twarc3'"),
    ('format = "twarc2"', "format = 7", "key 'sources.format' must be a string"),
    ('format = "twarc2"', 'format = "twarc2"\ntz = "Nowhere/Place"', "sources.tz: unknown time"),
    ('format = "twarc2"', 'format = "twarc2"\nfield_map = "id=x"', "sources.field_map:"),
    (f'path = "{SAMPLE.as_posix()}"', "path = 5", "key 'sources.path' must be a string"),
], ids=["format-unknown", "format-number", "tz", "field_map", "path-number"])
def test_source_options_are_checked_at_load(tmp_path, old, new, expected):
    assert expected in _refused(tmp_path, _study(old, new))


# -- keys without effect ------------------------------------------------------------------------


@pytest.mark.parametrize("key", ['group_task = "event"',
                                 'group_task = "event"\nthread_blocks = { reddit = 4 }'])
def test_leave_one_group_out_keys_are_refused_with_fit(tmp_path, key):
    text = _study(extra=GOLD + key + "\n")
    assert "apply to leave-one-group-out" in _refused(tmp_path, text)
    loo = text.replace('models = ["default"]', 'models = ["default"]\nprediction = '
                       '"leave-one-group-out"')
    assert load_study(_write(tmp_path, loo)).gold.group_task == "event"


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new"), [
    ('methods = ["cc", "pcc"]', "methods = []"),
    ('title = "generated study"', 'title = "generated study"\nseed = -1'),
], ids=["methods-empty", "seed-negative"])
def test_reproduce_stops_with_one_line_and_writes_nothing(tmp_path, old, new):
    """Regression: these gave a traceback, the seed one after reading and labelling the
    sources."""
    text = _study(old, new).replace('models = ["default"]', 'models = ["vader"]')
    _write(tmp_path, text, "bad.toml")
    env = {**os.environ, "ANALYSIS_PROJECT_ROOT": str(tmp_path),
           config.PSEUDONYM_KEY_ENV: "ab" * 32, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "analysis", "reproduce", "bad.toml",
                           "--no-progress"], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=300)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {tmp_path / 'bad.toml'}: ")
    assert done.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
