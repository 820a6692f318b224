"""The smolagents side: CodeAgent construction, models, prompts, Tool adapters."""
