"""The layers import downwards only: `rag` imports neither `ingest`, `api` nor `cli`; `api` and `cli`
use the library's public names (``rag.__all__``)."""

from __future__ import annotations

import ast
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parent.parent
# api/switching.py reads the index's CURRENT pointer name (rag.index.store.POINTER) to follow it.
DEEP_IMPORTS_ALLOWED = {"api/switching.py"}


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every import statement in a file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names)
    return found


def test_the_library_imports_no_consumer():
    upward = [(str(p.relative_to(ROOT)), module) for p in sorted((ROOT / "rag").rglob("*.py"))
              for module, _ in imports(p) if module.split(".")[0] in ("api", "ingest", "cli")]
    assert upward == []


def test_api_and_cli_import_the_public_names():
    deep, unknown = [], []
    for p in sorted([*(ROOT / "api").rglob("*.py"), *(ROOT / "cli").rglob("*.py")]):
        name = str(p.relative_to(ROOT))
        for module, names in imports(p):
            if module == "rag":
                unknown += [(name, n) for n in names if n not in rag.__all__]
            elif module.startswith("rag.") and module not in ("rag.evaluate", "rag.models"):
                deep.append((name, module))
    assert unknown == []
    assert [d for d in deep if d[0] not in DEEP_IMPORTS_ALLOWED] == []
