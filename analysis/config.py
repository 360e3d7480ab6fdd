"""Where things live: the one place that spells out the project's paths.

Every path is derived from :data:`PROJECT_ROOT`, which is the repository checkout the package was
installed from (editable installs) or the current directory; ``ANALYSIS_PROJECT_ROOT`` overrides
it.
"""

from __future__ import annotations

import os
from pathlib import Path


def _find_root() -> Path:
    override = os.environ.get("ANALYSIS_PROJECT_ROOT")
    if override:
        return Path(override).resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").exists() and (here / "data" / "raw").is_dir():
        return here
    return Path.cwd().resolve()


PROJECT_ROOT = _find_root()
DATA_RAW = PROJECT_ROOT / "data" / "raw"
DATA_PROCESSED = PROJECT_ROOT / "data" / "processed"
RAW_MANIFEST = DATA_RAW / "MANIFEST.csv"
REPORTS = PROJECT_ROOT / "reports"
STUDIES = PROJECT_ROOT / "studies"
MODELS = DATA_PROCESSED / "models"

DEFAULT_STUDY = "rumour-replies"

#: Seed used wherever a command takes ``--seed`` and none is given.
DEFAULT_SEED = 20200930

#: Bootstrap resamples of a classifier's macro-F1 interval unless told otherwise: ``evaluate``
#: and the model card's cross-validation alike, so that ``evaluate --cv`` gives the card's
#: interval.
N_BOOT = 1000

#: The fewest bootstrap resamples an interval is made from (0 aside: no interval), in
#: ``evaluate``, ``trend`` and their Python functions alike (:func:`analysis.errors.check_n_boot`).
#: A 95% interval is the 2.5th and 97.5th percentiles of the resamples: with B resamples
#: 0.025 * B of them lie beyond each end, fewer than one below 40 (one resample gives a single
#: point, which can exclude the estimate), five at 200.
MIN_N_BOOT = 200

#: Environment variable holding the pseudonymization key (hex), and the file it is kept in
#: otherwise. The key never lives under ``data/processed``.
PSEUDONYM_KEY_ENV = "ANALYSIS_PSEUDONYM_KEY"


def user_config_dir() -> Path:
    """The per-user config folder: ``$XDG_CONFIG_HOME/analysis`` or ``~/.config/analysis``
    (a relative XDG_CONFIG_HOME is ignored, as the XDG specification says: it would put the key
    file in whatever folder a command runs from)."""
    base = os.environ.get("XDG_CONFIG_HOME")
    if not base or not Path(base).is_absolute():
        base = str(Path.home() / ".config")
    return Path(base) / "analysis"
