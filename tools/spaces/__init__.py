"""Gradio Spaces over HTTP: agents.md discovery, /info schema, the client, SSE, retries, files."""
