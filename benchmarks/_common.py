"""What the benchmark scripts share: their section of docs/benchmarks.md and peak memory.

Standard library only at import time, so a child process of another interpreter (e.g. one that
has twarc-csv installed) can import it to report its peak memory.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def write_section(header: str, body: str, doc: Path = DOC) -> None:
    """Replace the section ``header`` of ``doc`` with ``body``; append it when absent.

    Parameters
    ----------
    header
        The section's ``## `` heading line, e.g. ``"## Ingest"``; the section runs to the next
        ``## `` heading or the end of the file.
    body
        The section's text without its heading.
    doc
        The Markdown file (created with a ``# Benchmarks`` title when missing); written
        atomically, other sections left as they are.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from analysis.io import write_text

    existing = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^" + re.escape(header) + r"\n.*?(?=^## |\Z)", re.S | re.M)
    section = header + "\n\n" + body.strip() + "\n\n"
    if pattern.search(existing):
        updated = pattern.sub(lambda _: section, existing)
    else:
        updated = existing.rstrip("\n") + "\n\n" + section
    write_text(updated.rstrip("\n") + "\n", doc)


def peak_memory_mib() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's ``VmHWM`` of ``/proc/self/status``, not ``ru_maxrss``: Linux carries ``ru_maxrss``
    over from the parent across ``fork`` + ``exec``, so a small child of a large benchmark process
    would report the parent's peak. ``ru_maxrss`` only where ``/proc`` is missing.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ingest_worker(script: str, path: Path, *options: str) -> dict:
    """Run ``script --worker PATH --out FOLDER OPTIONS`` in a fresh interpreter (its own peak
    memory), with a fixed pseudonym key and a temporary output folder; its last line of output
    is a JSON object, returned."""
    with tempfile.TemporaryDirectory() as out_dir:
        env = dict(os.environ, ANALYSIS_PSEUDONYM_KEY="ab" * 32)
        proc = subprocess.run([sys.executable, script, "--worker", str(path), "--out", out_dir,
                               *options], capture_output=True, text=True, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def markdown_table(header: tuple, rows: list) -> str:
    """A Markdown table of ``rows`` (each a sequence of cells, shown with ``str``)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
