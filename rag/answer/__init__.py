"""Answer generation: prompts, the LLM client, citation verification."""
