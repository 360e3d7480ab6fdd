"""The project's set-up files agree with each other, and the raw data matches its manifest."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from analysis import config, rawdata
from analysis.errors import RawDataError

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        names |= {_name(r) for r in extra}
    return names


def _environment_names() -> set[str]:
    names = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        item = line.split("#", 1)[0].strip()
        if not item.startswith("- ") or item.endswith(":"):
            continue
        requirement = item[2:].strip()
        if requirement in ("pip", "-e .") or requirement.startswith("python"):
            continue
        names.add(_name(requirement))
    return names


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    assert _environment_names() == _pyproject_names()


def test_environment_yml_installs_the_package_itself():
    assert "- -e ." in (ROOT / "environment.yml").read_text()


def test_every_raw_file_is_in_the_manifest_with_its_checksum():
    listed = rawdata.read_manifest()
    on_disk = {row["path"]: row for row in rawdata.manifest_rows()}
    assert set(on_disk) == set(listed)
    assert {p: r["sha256"] for p, r in on_disk.items()} == {
        p: r["sha256"] for p, r in listed.items()}
    assert all(row["source"] and row["license"] for row in listed.values())


def test_every_raw_dataset_has_its_source_md():
    for folder in (p for p in config.DATA_RAW.iterdir() if p.is_dir()):
        assert (folder / "SOURCE.md").is_file(), folder


def test_manifest_sums_match_the_staged_source_md():
    # SOURCE.md files carry the sums their curators recorded; ours must agree with them.
    listed = rawdata.read_manifest()
    source = (config.DATA_RAW / "rumoureval2019" / "SOURCE.md").read_text()
    digest = listed["rumoureval2019/rumoureval-2019-training-data.tar.gz"]["sha256"]
    assert f"{digest}  rumoureval-2019-training-data.tar.gz" in source


def _copy_raw(tmp_path: Path, rel: str) -> tuple[Path, Path]:
    root = tmp_path / "raw"
    (root / rel).parent.mkdir(parents=True)
    (root / rel).write_bytes((config.DATA_RAW / rel).read_bytes())
    manifest = tmp_path / "MANIFEST.csv"
    rows = [line for line in config.RAW_MANIFEST.read_text().splitlines()
            if line.startswith(("path,", rel + ","))]
    manifest.write_text("\n".join(rows) + "\n")
    return root, manifest


def test_verify_accepts_an_unchanged_file(tmp_path):
    rel = "tweeteval_stance/mapping.txt"
    root, manifest = _copy_raw(tmp_path, rel)
    assert rawdata.verify([root / rel], root=root, manifest=manifest) == [rel]


def test_verify_names_a_tampered_file(tmp_path):
    rel = "tweeteval_stance/mapping.txt"
    root, manifest = _copy_raw(tmp_path, rel)
    (root / rel).write_text("0 none\n1 against\n2 favour\n")
    with pytest.raises(RawDataError, match=r"mapping\.txt: raw file differs"):
        rawdata.verify([root / "tweeteval_stance"], root=root, manifest=manifest)


def test_verify_names_a_missing_file(tmp_path):
    rel = "tweeteval_stance/mapping.txt"
    root, manifest = _copy_raw(tmp_path, rel)
    (root / rel).unlink()
    with pytest.raises(RawDataError, match="raw file is missing"):
        rawdata.verify([root / rel], root=root, manifest=manifest)


def test_verify_names_a_file_in_a_folder_that_the_manifest_does_not_list(tmp_path):
    """Regression: a folder meant only the files the manifest lists in it, so a file added to
    the folder was read by the loaders unchecked."""
    rel = "tweeteval_stance/mapping.txt"
    root, manifest = _copy_raw(tmp_path, rel)
    (root / "tweeteval_stance" / ".DS_Store").write_bytes(b"generated")  # hidden: skipped
    assert rawdata.verify([root / "tweeteval_stance"], root=root, manifest=manifest) == [rel]
    (root / "tweeteval_stance" / "extra.txt").write_text("generated\n")
    with pytest.raises(RawDataError, match=r"extra\.txt: in the study's source folder "
                                           r"data/raw/tweeteval_stance but not listed"):
        rawdata.verify([root / "tweeteval_stance"], root=root, manifest=manifest)
    assert [row["path"] for row in rawdata.manifest_rows(root)] == [
        "tweeteval_stance/extra.txt", rel]


def test_verify_messages_say_how_to_record_ones_own_exports(tmp_path):
    """Regression: they said only 'restore it from git', though one's own exports are not in
    git; the manifest is made with `python -m analysis.rawdata`."""
    rel = "tweeteval_stance/mapping.txt"
    root, manifest = _copy_raw(tmp_path, rel)
    command = "'python -m analysis.rawdata > data/raw/MANIFEST.csv'"
    (root / rel).write_text("generated change\n")
    with pytest.raises(RawDataError) as changed:
        rawdata.verify([root / rel], root=root, manifest=manifest)
    assert str(changed.value).endswith(
        f"restore it (git checkout -- data/raw/{rel} if it is tracked) or, if the change is "
        f"intended, update the manifest with {command}")
    with pytest.raises(RawDataError) as missing:
        rawdata.verify([root / rel], root=root, manifest=tmp_path / "no-MANIFEST.csv")
    assert "restore it from git" in str(missing.value) and command in str(missing.value)
