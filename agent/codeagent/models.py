"""Choose the model that drives the agent.

=====================  ==============================================================
``--model``            model
=====================  ==============================================================
(none, token found)    Hugging Face Inference Providers, :data:`DEFAULT_MODEL_ID`
(none, no token)       the offline planner (no LLM); the CLI says so
``offline``            the offline planner
``litellm/<id>``       LiteLLM (imported only when asked for: it is slow to import)
``<id>`` + api_base    any OpenAI-compatible server (Ollama, vLLM, llama.cpp)
``<id>``               Inference Providers with that model id
=====================  ==============================================================

Inference Providers and OpenAI-compatible servers are one path: a
:class:`~spacesmith.agent.codeagent.llm.ChatModel` on an OpenAI-compatible root, the
Inference Providers router (``https://router.huggingface.co/v1``; ``HF_INFERENCE_ENDPOINT``
moves it, e.g. to a local test server) with the HF token, or ``api_base`` with
``OPENAI_API_KEY`` (never the HF token: it must not leave HF hosts).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from smolagents.models import Model

from spacesmith.agent.codeagent.llm import DEFAULT_WINDOW, ChatModel, ModelLimits
from spacesmith.agent.codeagent.llm_clients import TextSink, make_client
from spacesmith.agent.runs.settings import Settings
from spacesmith.tools.errors import AgentError
from spacesmith.tools.hub.auth import may_send_token

DEFAULT_MODEL_ID = "Qwen/Qwen3-Coder-480B-A35B-Instruct"
ROUTER_URL = "https://router.huggingface.co/v1"
ROUTER_WINDOW = 32768  # the router does not say; every model it serves for code has this
VISION_ENV = "SPACESMITH_MODEL_VISION"


@dataclass(frozen=True)
class ModelChoice:
    """The model and one line that tells the user what was chosen and why."""

    model: Model
    label: str


def router_url() -> str:
    """The Inference Providers router root (``HF_INFERENCE_ENDPOINT`` + ``/v1`` moves it)."""
    moved = os.environ.get("HF_INFERENCE_ENDPOINT", "").strip().rstrip("/")
    if not moved:
        return ROUTER_URL
    return moved if moved.endswith("/v1") else moved + "/v1"


def _loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def keep_hub_quiet() -> None:
    """Stop huggingface_hub from calling huggingface.co on its own.

    Building its request headers, huggingface_hub fetches an "agent harnesses" registry
    from the Hub to name the calling agent in its user-agent string: a request to
    huggingface.co for every run, even one on a local server with ``offline = true``.
    Telemetry off skips that lookup; nothing else changes.
    """
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_TELEMETRY = True


def choose_model(settings: Settings, *, on_text: TextSink | None = None) -> ModelChoice:
    """Build the model named by the settings.

    Args:
        settings: the run settings (model, api_base, token, model limits).
        on_text: receives the model's answer as it streams in (a terminal display).

    Returns:
        The model with a human-readable label.

    Raises:
        AgentError: LiteLLM was asked for but is not installed; Inference Providers without
            a token, or moved to a host that may not see it.
    """
    from spacesmith.agent.planner.planner import OfflinePlanner

    model_id = settings.model
    if model_id == "offline" or settings.uses_offline_planner:
        why = "" if model_id == "offline" else " (no HF token and no --model given)"
        planner = OfflinePlanner(num_gaussians=settings.num_gaussians)
        return ModelChoice(planner, f"offline planner, no LLM{why}")
    if model_id and model_id.startswith("litellm/"):
        try:
            import litellm  # noqa: F401  - fail here, with a hint, not mid-run
            from smolagents import LiteLLMModel
        except ImportError as exc:
            raise AgentError(
                "LiteLLM is not installed", hint="pip install litellm, or pick another --model"
            ) from exc
        lite_id = model_id.removeprefix("litellm/")
        return ModelChoice(LiteLLMModel(model_id=lite_id, timeout=settings.model_timeout,
                                        retry=False, max_tokens=settings.max_tokens),
                           f"LiteLLM {lite_id}")
    keep_hub_quiet()
    if settings.api_base:
        key = os.environ.get("OPENAI_API_KEY") or "not-needed"
        model = chat_model(settings, model_id or "default", settings.api_base, key,
                           on_text=on_text, auth_hint="set OPENAI_API_KEY for this server")
        return ModelChoice(model, f"{model_id or 'default'} at {settings.api_base}")
    hf_id = model_id or DEFAULT_MODEL_ID
    base = router_url()
    if not settings.token:
        raise AgentError(f"the model {hf_id} runs on Hugging Face Inference Providers, which "
                         "needs a token", hint="set HF_TOKEN or run 'hf auth login'; or give "
                         "--api-base for your own server, or --model offline")
    if not (may_send_token(base, "") or _loopback(base)):
        raise AgentError(f"HF_INFERENCE_ENDPOINT={base} is not a Hugging Face host; the "
                         "token is not sent there", hint="unset it, or use --api-base")
    model = chat_model(settings, hf_id, base, settings.token, on_text=on_text,
                       auth_hint="check HF_TOKEN: it needs the Inference Providers permission",
                       window=ROUTER_WINDOW)
    where = "" if base == ROUTER_URL else f" at {base}"
    return ModelChoice(model, f"{hf_id} on Hugging Face Inference Providers{where}")


def chat_model(settings: Settings, model_id: str, base_url: str, key: str, *,
               on_text: TextSink | None = None, auth_hint: str = "",
               window: int | None = None) -> ChatModel:
    """A :class:`ChatModel` on ``base_url`` with the settings' limits; the window from the
    setting, else from the server (one short probe), else ``window`` or the default."""
    from spacesmith.agent.codeagent.server_info import probe_server

    limits = ModelLimits(timeout_s=settings.model_timeout, max_tokens=settings.max_tokens,
                         context_window=settings.context_window,
                         backoff_s=settings.retry_backoff_s)
    if settings.context_window:
        size, source = settings.context_window, "the setting"
    elif window is not None:
        size, source = window, "the router default"
    else:
        info = probe_server(base_url, None if key == "not-needed" else key, model_id,
                            timeout_s=min(5.0, settings.model_timeout))
        size, source = (info.window, info.window_source) if info.window else (
            DEFAULT_WINDOW, "the default (the server does not say)")
    vision = os.environ.get(VISION_ENV, "").strip().lower() in ("1", "true", "yes")
    client = make_client(base_url, key, settings.model_timeout)
    return ChatModel(client, model_id, base_url, limits=limits, window=size,
                     window_source=source, vision=vision, on_text=on_text,
                     auth_hint=auth_hint, secret=key)
