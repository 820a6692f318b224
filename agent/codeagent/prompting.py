"""Load the prompt templates in ``prompts/*.yaml`` and render them strictly."""

from __future__ import annotations

import importlib.resources
from functools import cache
from typing import Any

import jinja2
import yaml

from spacesmith.tools.errors import AgentError

# Prompts are plain text for a model, not HTML: autoescape stays off on purpose.
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


@cache
def templates(name: str = "agent") -> dict[str, str]:
    """The templates of ``prompts/<name>.yaml``, by key.

    Raises:
        AgentError: the file is missing or is not a mapping of strings.
    """
    try:
        source = importlib.resources.files("spacesmith.prompts").joinpath(f"{name}.yaml")
        text = source.read_text("utf-8")
    except FileNotFoundError as exc:
        raise AgentError(f"prompt file prompts/{name}.yaml is missing",
                         hint="reinstall spacesmith") from exc
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise AgentError(f"prompts/{name}.yaml must map names to template strings")
    return {str(k): v for k, v in data.items()}


def render(key: str, /, **variables: Any) -> str:
    """Render one template with Jinja ``StrictUndefined`` (a missing variable raises).

    Args:
        key: the template's key in ``prompts/agent.yaml``.
        **variables: the template's variables.

    Returns:
        The rendered text, stripped.

    Raises:
        AgentError: unknown key or a variable the template needs is missing.
    """
    source = templates().get(key)
    if source is None:
        raise AgentError(f"no prompt template '{key}'", hint=f"known: {', '.join(templates())}")
    try:
        return _ENV.from_string(source).render(**variables).strip()
    except jinja2.UndefinedError as exc:
        raise AgentError(f"prompt template '{key}': {exc.message}") from exc
