"""Provenance of a run: what went in (with sha256), which code and versions, which parameters.

The manifest holds no wall-clock time, so running the same study twice on the same commit gives
the same manifest.
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

from analysis import __version__, config
from analysis.io import sha256_file

#: Packages whose versions can change a result; recorded in every manifest and model card.
TRACKED_PACKAGES = ("pandas", "numpy", "scikit-learn", "vaderSentiment", "matplotlib", "pyarrow",
                    "skops", "py3langid")


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`TRACKED_PACKAGES` (``missing`` when not installed), and
    the linear-algebra library numpy runs on (:func:`blas_library`)."""
    versions = {"python": platform.python_version(), "analysis": __version__}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    versions["blas"] = blas_library()
    return versions


def blas_library() -> str:
    """The BLAS library numpy uses, its version and the CPU kernels it chose (OpenBLAS picks
    them for the processor: ``Haswell``, ``SkylakeX``, ...), or ``unknown``.

    The trained models' probabilities depend on these kernels in their last digits, and a few
    labels with them: the same code, data and package versions gave 15 of 6,683 different
    labels in the default study with OpenBLAS's Haswell and Sandybridge kernels on one machine
    (see the README), so a manifest names them.
    """
    import numpy  # noqa: F401 - loads the BLAS library that threadpoolctl reports
    from threadpoolctl import threadpool_info

    found = [" ".join(str(part) for part in (info.get("internal_api"), info.get("version"))
                      if part) + (f" ({info['architecture']})" if info.get("architecture") else "")
             for info in threadpool_info() if info.get("user_api") == "blas"]
    return "; ".join(sorted(set(found))) or "unknown"


def git_commit(root: Path = config.PROJECT_ROOT) -> str | None:
    """The checked-out commit, with ``+dirty`` when the work tree differs; None outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, check=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def project_names(paths: Iterable[Path], root: Path = config.PROJECT_ROOT) -> dict[str, Path]:
    """Each file (folders expanded) under its path relative to ``root`` where possible."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        files.extend(sorted(p for p in path.rglob("*") if p.is_file())
                     if path.is_dir() else [path])
    named = {}
    for file in files:
        try:
            named[file.resolve().relative_to(root.resolve()).as_posix()] = file
        except ValueError:
            named[str(file)] = file
    return named


def describe_files(files: Mapping[str, Path]) -> list[dict]:
    """Name, size and sha256 of each file, sorted by name."""
    return [{"path": name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}
            for name, path in sorted(files.items())]


def run_manifest(*, command: str, inputs: Iterable[Path], outputs: Mapping[str, Path],
                 parameters: Mapping[str, object], seed: int) -> dict:
    """The provenance record of one run, as a JSON-ready dict.

    ``outputs`` maps the name each output will have (relative to the project) to where it is
    now, since runs write to a temporary folder first.
    """
    return {
        "command": command,
        "git_commit": git_commit(),
        "versions": package_versions(),
        "seed": seed,
        "parameters": dict(parameters),
        "inputs": describe_files(project_names(inputs)),
        "outputs": describe_files(outputs),
    }
