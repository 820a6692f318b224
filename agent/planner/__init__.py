"""The offline planner: a smolagents Model that needs no LLM, and what it understands."""
