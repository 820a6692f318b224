"""Prompt templates, shipped as package data (see prompts/*.yaml)."""
