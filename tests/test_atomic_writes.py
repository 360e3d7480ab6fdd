"""Outputs are replaced whole or not at all: output sets (ingest's table, rejects and manifest; a
model and its card), interrupts (Ctrl-C, SIGTERM) at any point, a full disk, and a bad -o refused
before the work (analysis.io.OutputSet, analysis.commands.main).

Interrupts are simulated by a stand-in for ``os`` in :mod:`analysis.io` whose ``replace`` raises
``KeyboardInterrupt`` (or sends a real signal) right after the Nth rename; full disks by a writer
that raises ``OSError(ENOSPC)``, and in a subprocess by a real file-size limit.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from analysis import commands, io
from analysis.classifiers.persistence import card_path, read_card, save_model
from analysis.commands import main
from analysis.errors import EXIT_USER_ERROR, UserError
from analysis.loaders import ingest as ingest_module
from analysis.loaders.ingest import ingest, write_outputs

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path(__file__).parent / "data" / "twarc2_samples"
WITH_REJECTS = SAMPLES / "streaming_output_with_error.jsonl"
CLEAN = SAMPLES / "two_tweets.jsonl"


class ReplaceThen:
    """Stands in for ``os`` in analysis.io: after the ``after``-th rename, ``then()`` runs
    (raise KeyboardInterrupt, send a signal), as if Ctrl-C came right then."""

    def __init__(self, after: int, then) -> None:
        self.after, self.then, self.calls = after, then, 0

    def __getattr__(self, name: str):
        return getattr(os, name)

    def replace(self, source, dest) -> None:
        os.replace(source, dest)
        self.calls += 1
        if self.calls == self.after:
            self.then()


def interrupt() -> None:
    raise KeyboardInterrupt


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (hidden temporary files too) and its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def loaded(path: Path):
    return ingest([path], keep_authors=True, detect_language=False)


# --- 1. an output set is replaced whole or not at all ------------------------------------------

@pytest.mark.parametrize("after", [1, 2, 3, 4, 5])
def test_ingest_outputs_interrupted_between_renames_stay_the_earlier_set(tmp_path, monkeypatch,
                                                                         after):
    out = tmp_path / "posts.parquet"
    write_outputs(loaded(WITH_REJECTS), out, [WITH_REJECTS])  # posts, rejects, manifest
    before = snapshot(tmp_path)
    new = loaded(CLEAN)  # no rejects: its set replaces two files and removes the third
    monkeypatch.setattr(io, "os", ReplaceThen(after, interrupt))
    with pytest.raises(KeyboardInterrupt):
        write_outputs(new, out, [CLEAN])
    assert snapshot(tmp_path) == before


def test_ingest_outputs_committed_whole_also_when_ctrl_c_comes_during_the_renames(
        tmp_path, monkeypatch, ctrl_c):
    out = tmp_path / "posts.parquet"
    write_outputs(loaded(WITH_REJECTS), out, [WITH_REJECTS])
    monkeypatch.setattr(io, "os", ReplaceThen(1, lambda: signal.raise_signal(signal.SIGINT)))
    with pytest.raises(KeyboardInterrupt):  # delivered after the set was renamed
        write_outputs(loaded(CLEAN), out, [CLEAN])
    manifest = json.loads((tmp_path / "posts.manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["path"] == str(CLEAN)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posts.manifest.json", "posts.parquet"]


def test_cli_says_which_outputs_an_interrupt_left_written(tmp_path, monkeypatch, capsys,
                                                         ctrl_c):
    out = tmp_path / "generated.txt"

    def write(args):
        io.write_text("new", out)
        return 0
    monkeypatch.setattr(commands, "build_parser", lambda: _parser_running(write))
    monkeypatch.setattr(io, "os", ReplaceThen(1, lambda: signal.raise_signal(signal.SIGINT)))
    assert main([]) == 130
    err = capsys.readouterr().err
    assert out.read_text() == "new"
    assert err.count("\n") == 1 and "1 output(s) were written whole" in err and str(out) in err


def _parser_running(func):
    """A stand-in for the CLI's parser whose command is ``func``."""
    parser = argparse.ArgumentParser()
    parser.set_defaults(func=func)
    return parser


def _fitted_model():
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="prior").fit([[0], [1]], ["support", "other"])


@pytest.mark.parametrize("after", [1, 2, 3])
def test_model_and_card_interrupted_between_renames_stay_the_earlier_pair(tmp_path, monkeypatch,
                                                                         after):
    model = tmp_path / "m.skops"
    save_model(_fitted_model(), model, {"model_id": "old", "fixed_target": "Alice"})
    before = snapshot(tmp_path)
    monkeypatch.setattr(io, "os", ReplaceThen(after, interrupt))
    with pytest.raises(KeyboardInterrupt):
        save_model(_fitted_model(), model, {"model_id": "new", "fixed_target": None})
    assert snapshot(tmp_path) == before
    assert read_card(model)["model_id"] == "old"


def test_save_model_refuses_a_folder_in_the_way_of_the_card_before_writing_the_model(tmp_path):
    model = tmp_path / "m.skops"
    card_path(model).mkdir()
    with pytest.raises(UserError, match="is a folder"):
        save_model(_fitted_model(), model, {"model_id": "m"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.card.json"]


def _labelled_table(path: Path) -> Path:
    """A generated labelled table (3 labels x 4 rows)."""
    texts = {"support": "sending love to {t}", "criticism": "{t} should be ashamed",
             "other": "what time is it {t}"}
    rows = [{"text": template.format(t=f"person{i}"), "label": label, "target": "Alice"}
            for label, template in texts.items() for i in range(4)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_train_refuses_a_card_folder_before_training(tmp_path, monkeypatch, capsys):
    data = _labelled_table(tmp_path / "generated_coded.csv")
    (tmp_path / "t3" / "m.card.json").mkdir(parents=True)
    monkeypatch.setattr("analysis.classifiers.train_model", _no_training)
    code = main(["train", str(data), "--cv", "0", "--fast", "-o", str(tmp_path / "t3/m.skops")])
    assert code == EXIT_USER_ERROR
    assert "is a folder" in capsys.readouterr().err
    assert not (tmp_path / "t3" / "m.skops").exists()


def _no_training(*args, **kwargs):
    raise AssertionError("trained although the output could not be written")


# --- 2. SIGTERM runs the same cleanup as Ctrl-C ----------------------------------------------

def test_sigterm_removes_temporary_files_and_exits_143_with_one_line(tmp_path):
    out = tmp_path / "generated.txt"
    script = textwrap.dedent(f"""
        import argparse, os, signal, sys, time
        from analysis import commands, io

        def run(args):
            with io.atomic_path({str(out)!r}) as tmp:
                tmp.write_text("half")
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(10)
            return 0

        parser = argparse.ArgumentParser()
        parser.set_defaults(func=run)
        commands.build_parser = lambda: parser
        sys.exit(commands.main([]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 143
    assert done.stderr == "terminated; no output was written\n"
    assert list(tmp_path.iterdir()) == []


# --- 4. a full disk is one line naming the output ----------------------------------------------

def test_full_disk_is_a_user_error_naming_the_output_and_leaves_no_temporary_file(
        tmp_path, monkeypatch):
    def full_disk(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(io.pq, "write_table", full_disk)
    out = tmp_path / "generated.parquet"
    with pytest.raises(UserError, match="No space left on device") as caught:
        io.write_table(pd.DataFrame({"a": [1]}), out)
    assert caught.value.path == str(out)
    assert list(tmp_path.iterdir()) == []


def test_full_disk_in_a_command_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    def write(args):
        with io.atomic_path(tmp_path / "generated.txt") as tmp, open(tmp, "w") as handle:
            handle.write("half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(commands, "build_parser", lambda: _parser_running(write))
    assert main([]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err
    assert list(tmp_path.iterdir()) == []


def test_an_input_that_cannot_be_read_is_not_called_a_refused_write(tmp_path):
    with pytest.raises(PermissionError), io.atomic_path(tmp_path / "generated.txt"):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "input.csv"))
    assert list(tmp_path.iterdir()) == []


def test_file_size_limit_is_a_user_error(tmp_path):
    out = tmp_path / "generated.txt"
    script = textwrap.dedent(f"""
        import resource, signal
        from analysis import io
        from analysis.errors import UserError

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))
        try:
            io.write_text("x" * 100_000, {str(out)!r})
        except UserError as exc:
            print(exc)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.stdout.strip() == f"{out}: cannot write the output (File too large); it was " \
                                  "left as it was"
    assert list(tmp_path.iterdir()) == []


# --- 5. Ctrl-C while the commands load --------------------------------------------------------

def test_ctrl_c_while_the_commands_load_is_one_line(monkeypatch, capsys):
    def slow_imports():
        raise KeyboardInterrupt
    monkeypatch.setattr(commands, "build_parser", slow_imports)
    try:
        code = main(["ingest", "--help"])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C while the commands load escaped main() (a traceback)")
    assert code == 130
    assert capsys.readouterr().err == "interrupted; no output was written\n"


# --- 8. a bad -o is refused before the work ----------------------------------------------------

def test_ingest_refuses_a_file_where_the_output_folder_should_be_before_reading(
        tmp_path, monkeypatch, capsys):
    blocking = tmp_path / "generated.jsonl"
    blocking.write_text("{}\n")
    monkeypatch.setattr(ingest_module, "plan_inputs", _no_reading)
    code = main(["ingest", str(CLEAN), "-o", str(blocking / "x.parquet")])
    assert code == EXIT_USER_ERROR
    assert f"{blocking} is a file, not a folder" in capsys.readouterr().err


def _no_reading(*args, **kwargs):
    raise AssertionError("read the inputs although the output could not be written")


def test_train_refuses_a_file_where_the_output_folder_should_be_before_training(
        tmp_path, monkeypatch, capsys):
    data = _labelled_table(tmp_path / "generated_coded.csv")
    monkeypatch.setattr("analysis.classifiers.train_model", _no_training)
    code = main(["train", str(data), "--cv", "0", "-o", str(data / "m.skops")])
    assert code == EXIT_USER_ERROR
    assert "is a file, not a folder" in capsys.readouterr().err


def test_a_folder_that_cannot_be_written_in_is_refused_up_front(tmp_path, monkeypatch):
    monkeypatch.setattr(io.os, "access", lambda path, mode: False)
    with pytest.raises(UserError, match=r"cannot create the folder .*sub \(Permission denied\)"):
        io.check_output(tmp_path / "sub" / "generated.txt")
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_an_output_without_the_formats_suffix(tmp_path, capsys):
    code = main(["export", str(tmp_path / "generated.parquet"), "-o", str(tmp_path / "x.parquet")])
    assert code == EXIT_USER_ERROR
    assert "4cat-csv writes a .csv file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
