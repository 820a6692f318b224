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
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from smolagents.models import Model

from spacesmith.agent.runs.settings import Settings
from spacesmith.tools.errors import AgentError

DEFAULT_MODEL_ID = "Qwen/Qwen3-Coder-480B-A35B-Instruct"


@dataclass(frozen=True)
class ModelChoice:
    """The model and one line that tells the user what was chosen and why."""

    model: Model
    label: str


def choose_model(settings: Settings) -> ModelChoice:
    """Build the model named by the settings.

    Args:
        settings: the run settings (model, api_base, token).

    Returns:
        The model with a human-readable label.

    Raises:
        AgentError: LiteLLM was asked for but is not installed.
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
        return ModelChoice(LiteLLMModel(model_id=lite_id), f"LiteLLM {lite_id}")
    if settings.api_base:
        return _openai_compatible(model_id or "default", settings.api_base)
    from smolagents import InferenceClientModel

    hf_id = model_id or DEFAULT_MODEL_ID
    model = InferenceClientModel(model_id=hf_id, token=settings.token)
    return ModelChoice(model, f"{hf_id} on Hugging Face Inference Providers")


def _openai_compatible(model_id: str, api_base: str) -> ModelChoice:
    """A model on an OpenAI-compatible server: ``OpenAIServerModel`` when the ``openai``
    package is installed, else huggingface_hub's client pointed at ``api_base``. The key is
    ``OPENAI_API_KEY`` or a placeholder, never the HF token (it must not leave HF hosts)."""
    key = os.environ.get("OPENAI_API_KEY") or "not-needed"
    label = f"{model_id} at {api_base}"
    try:
        import openai  # noqa: F401
    except ImportError:
        return ModelChoice(_server_model(model_id, api_base, key), label)
    from smolagents import OpenAIServerModel

    return ModelChoice(OpenAIServerModel(model_id=model_id, api_base=api_base, api_key=key),
                       label)


def _server_model(model_id: str, api_base: str, key: str) -> Model:
    """huggingface_hub's InferenceClient on an OpenAI-compatible server.

    smolagents passes both ``model`` and ``base_url`` to ``InferenceClient``, which
    huggingface_hub >= 1.0 refuses; this subclass builds the client with ``base_url`` only
    and sends the model id in each request.
    """
    from huggingface_hub import InferenceClient
    from smolagents import InferenceClientModel

    class ServerModel(InferenceClientModel):  # type: ignore[misc]
        def create_client(self) -> InferenceClient:
            return InferenceClient(base_url=api_base, api_key=key)

    model: Model = ServerModel(model_id=model_id, api_key=key)
    return model
