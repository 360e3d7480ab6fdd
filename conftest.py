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
