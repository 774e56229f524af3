"""A damaged index version is detected (checksums in the manifest) and rebuilt by the next ingest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS, make_settings

from ingest.pipeline import run_ingest
from rag.engine import Engine
from rag.errors import IndexCorruptError
from rag.index.store import current_version, open_index

DAMAGED = ["dense.faiss", "docs.sqlite", "sentences.keys.npy", "bm25_words/vocab.index.json",
           "bm25_bigrams/data.csc.index.npy"]


def copy_index(index_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    return target


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_manifest_records_size_and_checksum_of_every_index_file(index_dir: Path):
    version = current_version(index_dir)
    files = json.loads((version / "manifest.json").read_text("utf-8"))["files"]
    on_disk = sorted(p.relative_to(version).as_posix() for p in version.rglob("*")
                     if p.is_file() and p.name != "manifest.json")
    assert sorted(files) == on_disk and set(DAMAGED) <= set(files)
    assert files["dense.faiss"]["size"] == (version / "dense.faiss").stat().st_size
    assert all(len(f["sha256"]) == 64 for f in files.values())


@pytest.mark.parametrize("name", DAMAGED)
def test_ingest_rebuilds_a_truncated_index_file(name: str, index_dir: Path, tmp_path: Path, engine: Engine):
    directory = copy_index(index_dir, tmp_path)
    settings = make_settings(directory)
    damaged = current_version(directory)
    truncate(damaged / name)
    with pytest.raises(IndexCorruptError, match=f"索引版本 {damaged.name} 已损坏：文件 {name} 大小不符"):
        open_index(directory)

    report = run_ingest([CORPUS], settings, progress=False, embedder=engine.embedder)
    assert not report.unchanged and report.version != damaged.name
    # Intact vectors are reused: only a damaged FAISS file costs embedding the corpus again.
    assert report.embedded == (report.chunks if name == "dense.faiss" else 0)
    assert report.repaired is not None and name in report.repaired
    assert f"原索引已重建：文件 {name} 大小不符" in report.summary()
    repaired = Engine.open(settings, embedder=engine.embedder)
    assert repaired.search("产业互联网的主战场在哪里？")[0].chunk == engine.search("产业互联网的主战场在哪里？")[0].chunk
    # And now the shortcut holds again.
    assert run_ingest([CORPUS], settings, progress=False, embedder=engine.embedder).unchanged


def test_altered_file_of_the_same_size_is_caught_by_the_checksum(index_dir: Path, tmp_path: Path, engine: Engine):
    directory = copy_index(index_dir, tmp_path)
    chunks = current_version(directory) / "docs.sqlite"
    data = bytearray(chunks.read_bytes())
    data[100] ^= 0x01
    chunks.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="文件 docs.sqlite 校验和不符"):
        open_index(directory)
    report = run_ingest([CORPUS], make_settings(directory), progress=False, embedder=engine.embedder)
    assert not report.unchanged and report.repaired == "文件 docs.sqlite 校验和不符"
    open_index(directory)
