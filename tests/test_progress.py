"""Tests for analysis.progress: a tqdm bar on stderr only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading

from analysis.progress import progress_bar


def test_no_bar_when_stderr_is_not_a_terminal_or_progress_is_false(capsys, monkeypatch):
    with progress_bar(total=3) as bar:
        assert bar is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress_bar(total=3, progress=False) as bar:
        assert bar is None
    assert capsys.readouterr().err == ""


def test_bar_on_a_terminal_without_a_monitor_thread(capsys, monkeypatch):
    """A second thread would make worker processes start slower (see ingest's bar)."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress_bar(range(4), unit=" bins", desc="work") as bar:
        assert sum(bar) == 6  # iterates over what it was given
        monitors = [t for t in threading.enumerate() if getattr(t, "tqdm_cls", None)
                    is type(bar)]
    assert monitors == [] and type(bar).monitor_interval == 0
    err = capsys.readouterr().err
    assert "work:" in err and "0/4 [" in err
