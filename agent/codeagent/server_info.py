"""What an OpenAI-compatible server says about itself: its models and context window.

Read with plain ``GET`` requests to the named server only, under one short deadline:
llama.cpp's ``/props`` (``default_generation_settings.n_ctx``, the window it runs with),
then ``/models`` (vLLM ``max_model_len``, OpenRouter-style ``context_length``, llama.cpp
``meta.n_ctx_train``). A server that says nothing leaves the window to the setting or the
default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from spacesmith.agent.codeagent.llm_clients import iter_model_ids

PROBE_TIMEOUT_S = 5.0
_WINDOW_KEYS = ("max_model_len", "context_length", "context_window", "max_context_length",
                "n_ctx", "n_ctx_train")


@dataclass(frozen=True)
class ServerInfo:
    """The server's answers; ``error`` says why it could not be read."""

    models: tuple[str, ...] = ()
    window: int | None = None
    window_source: str = ""
    error: str | None = None


def _root(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def _window_in(item: Any) -> int | None:
    if not isinstance(item, dict):
        return None
    for key in _WINDOW_KEYS:
        value = item.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    for nested in ("meta", "top_provider", "default_generation_settings"):
        found = _window_in(item.get(nested))
        if found:
            return found
    return None


def _get_json(http: httpx.Client, url: str, deadline: float) -> Any:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpx.TimeoutException("probe deadline passed")
    response = http.get(url, timeout=remaining)
    response.raise_for_status()
    return response.json()


def probe_server(base_url: str, api_key: str | None, model_id: str | None = None, *,
                 timeout_s: float = PROBE_TIMEOUT_S) -> ServerInfo:
    """Ask the server for its models and window, within ``timeout_s`` in all.

    Args:
        base_url: the OpenAI-compatible root (``…/v1``).
        api_key: sent as a bearer token to this server only (None: no header).
        model_id: the model whose window is wanted (else the first listed).
        timeout_s: the deadline for all probe requests together.

    Returns:
        What could be learnt; never raises for a server that fails to answer.
    """
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + timeout_s
    models: list[str] = []
    window: int | None = None
    source = ""
    error: str | None = None
    with httpx.Client(headers=headers, follow_redirects=False) as http:
        try:
            data = _get_json(http, base_url.rstrip("/") + "/models", deadline)
            models = list(iter_model_ids(data))
            items = [i for key in ("data", "models") for i in (data.get(key) or [])
                     if isinstance(i, dict)] if isinstance(data, dict) else []
            chosen = [i for i in items if model_id in (i.get("id"), i.get("model"),
                                                       i.get("name"))] or items[:1]
            if chosen and (found := _window_in(chosen[0])):
                window, source = found, "the server's /models"
        except (httpx.HTTPError, ValueError) as exc:
            error = f"GET {base_url.rstrip('/')}/models: {_describe(exc)}"
        try:
            props = _get_json(http, _root(base_url) + "/props", deadline)
            found = _window_in(props.get("default_generation_settings")) or (
                props.get("n_ctx") if isinstance(props.get("n_ctx"), int) else None)
            if found:
                window, source = found, "the server's /props"
        except (httpx.HTTPError, ValueError, AttributeError):
            pass  # not llama.cpp: /models was the only source
    return ServerInfo(tuple(models), window, source, error)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unknown"
    return str(exc) or type(exc).__name__
