"""The corpus folder as a document store: safe names, bounded uploads, deletion, status per file.

Uploaded originals live in the corpus folder next to the other articles, so ``rag ingest`` and the
HTTP side see the same documents. Nothing is ever written outside that folder: an upload goes to a
hidden temporary file there (ingest ignores hidden files) and is renamed into place when complete.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES
from rag.errors import RagError

_MAX_NAME = 120
# Characters kept in a file name: letters and digits of any script, CJK, and a few separators.
_UNSAFE = re.compile(r"[^\w\u3000-\u303f\uff00-\uffef.\-()（）【】《》 ]+")
_TEMP_PREFIX = ".upload-"


class DocumentError(RagError):
    """A document operation failed; ``reason`` is the Chinese text shown to the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DocumentNotFoundError(DocumentError):
    """No document of that name is in the corpus folder."""


def size_text(n: int) -> str:
    """Bytes for people: ``20 MB``, ``200 KB``."""
    return f"{n / (1024 * 1024):g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"


def safe_name(filename: str) -> str:
    """A file name that stays inside the corpus folder: no directories, no hidden or control characters.

    ``../../etc/passwd.md`` → ``passwd.md``; ``C:\\tmp\\报告.PDF`` → ``报告.pdf``. Raises DocumentError
    when nothing usable is left or the type is not an article format.
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" ._")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = f".{suffix.lower()}" if suffix else ""
    if suffix not in SUPPORTED_SUFFIXES or not suffix:
        raise DocumentError(f"不支持的文件类型（支持 {'、'.join(sorted(s for s in SUPPORTED_SUFFIXES if s))}）")
    stem = stem.strip(" ._")[: _MAX_NAME - len(suffix)]
    if not stem:
        raise DocumentError("文件名无效")
    return stem + suffix


class Upload:
    """One file being received: written to a hidden temporary file, bounded in size, renamed on commit."""

    def __init__(self, corpus: Corpus, name: str) -> None:
        self.corpus = corpus
        self.name = name
        self.size = 0
        self.too_large = False
        self._temp = corpus.root / f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
        self._fh = open(self._temp, "xb")  # noqa: SIM115 - closed in commit/discard

    def write(self, data: bytes) -> None:
        """Append ``data``; past the size limit the file is dropped and only counted."""
        self.size += len(data)
        if self.too_large:
            return
        if self.size > self.corpus.max_bytes:
            self.too_large = True
            self._fh.close()
            self._temp.unlink(missing_ok=True)
            return
        self._fh.write(data)

    def commit(self) -> dict:
        """Move the finished file into place; DocumentError when it is empty or too large."""
        if self.too_large:
            self.discard()
            raise DocumentError(f"文件太大（上限 {size_text(self.corpus.max_bytes)}）")
        if self.size == 0:
            self.discard()
            raise DocumentError("空文件")
        self._fh.close()
        target = self.corpus.root / self.name
        replaced = target.exists()
        os.replace(self._temp, target)
        return {"name": self.name, "size": self.size, "replaced": replaced}

    def discard(self) -> None:
        """Forget the file (a failed or cut-off upload)."""
        if not self._fh.closed:
            self._fh.close()
        self._temp.unlink(missing_ok=True)


@dataclass(frozen=True)
class DocumentInfo:
    """A file of the corpus folder and what the served index knows about it."""

    name: str
    size: int
    modified: float
    status: str  # indexed | failed | pending
    reason: str | None = None
    article_id: str | None = None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    chunks: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class Corpus:
    """The corpus folder: list, receive and delete article files."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def start_upload(self, filename: str) -> Upload:
        """Begin receiving ``filename`` (sanitised); DocumentError when the name or type is refused."""
        name = safe_name(filename)
        self.root.mkdir(parents=True, exist_ok=True)
        return Upload(self, name)

    def path_of(self, name: str) -> Path:
        """The file ``name`` (relative, as listed) inside the folder; DocumentNotFoundError otherwise."""
        root = self.root.resolve()
        parts = Path(name).parts
        path = (root / name).resolve()
        if (not name or any(p.startswith(".") for p in parts) or not path.is_relative_to(root)
                or not path.is_file()):
            raise DocumentNotFoundError("找不到该文档")
        return path

    def delete(self, name: str) -> None:
        """Remove one document file from the folder."""
        self.path_of(name).unlink()

    def files(self) -> list[Path]:
        """Article files of the folder (hidden files and temporary uploads excluded), sorted."""
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.rglob("*")):
            rel = path.relative_to(self.root)
            if path.is_file() and not any(p.startswith(".") for p in rel.parts):
                found.append(path)
        return found

    def documents(self, index=None) -> list[DocumentInfo]:
        """Every file with its status in ``index`` (a LoadedIndex, or None before the first one)."""
        # By source: metadata, content hash and chunk count (the store counts; no text is read).
        articles = {meta.source: (meta, digest, n) for meta, digest, n in index.store.catalog()} if index is not None else {}
        skipped: dict[Path, str] = {}
        if index is not None:
            for entry in index.manifest.skipped:
                skipped[Path(entry["path"]).resolve()] = entry["reason"]
        out = []
        for path in self.files():
            name = path.relative_to(self.root).as_posix()
            stat = path.stat()
            article = articles.get(name)
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                info = DocumentInfo(name, stat.st_size, stat.st_mtime, "failed", "不支持的文件类型")
            elif article is not None and article[1] == _sha256(path):
                meta, _, n = article
                info = DocumentInfo(name, stat.st_size, stat.st_mtime, "indexed", None, meta.article_id, meta.title,
                                    meta.author, meta.date, n)
            elif path.resolve() in skipped:
                info = DocumentInfo(name, stat.st_size, stat.st_mtime, "failed", skipped[path.resolve()])
            else:
                info = DocumentInfo(name, stat.st_size, stat.st_mtime, "pending")
            out.append(info)
        return out


def _sha256(path: Path) -> str:
    """Same digest as ``Article.content_hash``: an indexed file whose bytes changed is pending again."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
