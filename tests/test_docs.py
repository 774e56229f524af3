"""The README's configuration table lists every setting with its real default and description."""

from __future__ import annotations

from conftest import ROOT

from rag.settings import Settings


def _row(name: str, field) -> str:
    env = f"RAG_{name.upper()}"
    choices = getattr(field.validation_alias, "choices", None) or []
    standard = [c for c in choices if isinstance(c, str) and not c.upper().startswith("RAG_")]
    if standard:  # OPENAI_API_KEY and OPENAI_BASE_URL keep their standard names
        env = f"{standard[0].upper()} (or {env})"
    default = field.get_default(call_default_factory=True)
    shown = "—" if default is None or default == [] else str(default)
    return f"| `{env}` | `{shown}` | {field.description} |"


def test_readme_configuration_table_matches_settings():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = [line for line in readme.splitlines() if line.startswith("| `")]
    expected = [_row(name, field) for name, field in Settings.model_fields.items()]
    # Same rows in the same order as the Settings class: a new or changed setting updates the README.
    assert [r for r in table if r.split("`")[1].startswith(("RAG_", "OPENAI_"))] == expected
