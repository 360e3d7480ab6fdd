"""Tests for analysis.provenance."""

from __future__ import annotations

import os

import pytest


def test_versions_name_the_blas_kernels_the_cpu_got():
    # the trained models' labels depend on them (see provenance.blas_library): a manifest that
    # did not say which kernels ran could not tell two machines' different figures apart
    import platform
    import subprocess
    import sys

    from threadpoolctl import threadpool_info

    from analysis.provenance import package_versions

    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if platform.machine() != "x86_64" or not blas or blas[0]["internal_api"] != "openblas":
        pytest.skip("OpenBLAS on x86_64 only: its kernels can be chosen by OPENBLAS_CORETYPE")
    # every BLAS loaded is named (numpy's and scipy's may be two builds)
    assert f"openblas {blas[0]['version']} (" in package_versions()["blas"]
    code = "from analysis.provenance import package_versions; print(package_versions()['blas'])"
    chosen = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={**os.environ, "OPENBLAS_CORETYPE": "Sandybridge"})
    assert chosen.stdout.strip().endswith("(Sandybridge)")
