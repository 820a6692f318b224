"""spacesmith's agent side: settings, models, the CodeAgent harness, chat, headless runs, CLI."""
