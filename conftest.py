"""pytest set-up shared by the tests (tests/) and the doctests (analysis/)."""

from __future__ import annotations

import tempfile

import pytest


@pytest.fixture(autouse=True)
def _doctest_files_in_tmp_path(request, monkeypatch):
    """The doctests make their example files with :mod:`tempfile`, as a reader would; during a
    test run those go to the doctest's ``tmp_path``, which pytest removes in time, instead of
    being left in the system's temporary folder."""
    if type(request.node).__name__ == "DoctestItem":
        monkeypatch.setattr(tempfile, "tempdir", str(request.getfixturevalue("tmp_path")))


@pytest.fixture
def ctrl_c():
    """SIGINT raises KeyboardInterrupt during the test, as at a terminal, even when the tests
    run where it is ignored (a shell's background job, ``nohup``): for tests that press Ctrl-C
    by sending the signal."""
    import signal

    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)
