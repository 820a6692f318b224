"""Run settings: one frozen object built from flags, the environment and goal files.

Precedence, highest first: an explicit command-line flag, the environment (``HF_TOKEN``,
``SPACESMITH_MODEL``, ``SPACESMITH_API_BASE``), the goal file, the defaults below.
The token is held in the settings only to be handed to Space clients and the model;
it never appears in ``repr`` and is never written anywhere.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from spacesmith.tools.hub.auth import get_token
from spacesmith.tools.text import slugify

DEFAULT_MAX_STEPS = 20
DEFAULT_MAX_SPACE_CALLS = 60
DEFAULT_NUM_GAUSSIANS = "32768"
DEFAULT_CALL_TIMEOUT_S = 900.0
DEFAULT_CALL_ATTEMPTS = 3
DEFAULT_RETRY_BACKOFF_S = 1.0
DEFAULT_MODEL_TIMEOUT_S = 120.0
DEFAULT_MAX_TOKENS = 2048
DEFAULT_CODE_CPU_S = 60.0
DEFAULT_CODE_WALL_S = 120.0
DEFAULT_CODE_MEMORY_MB = 2048
DEFAULT_CODE_OUTPUT_CHARS = 50_000
DEFAULT_STALL_AFTER_S = 120.0
DEFAULT_STALL_FACTOR = 3.0


@dataclass(frozen=True)
class Settings:
    """Everything one agent run needs to know.

    Attributes:
        goal: the sentence to turn into a gallery.
        output: the run's workspace folder.
        model: a model id, ``"offline"``, ``"litellm/<id>"``, or None for the default.
        api_base: an OpenAI-compatible server URL (Ollama, vLLM, llama.cpp).
        subjects: an explicit subject list, or empty to let the agent choose.
        image_space: the text-to-image Space (Hub id, agents.md URL or base URL), or None.
        splat_space: the image-to-splat Space, or None.
        more_image_spaces: further text-to-image Spaces sharing the image role's jobs.
        more_splat_spaces: further image-to-splat Spaces sharing the splat role's jobs.
        deploy_space: ``owner/name`` of the static Space to deploy to, or None.
        offline: start the local stand-in Spaces instead of reaching the Hub.
        max_steps: the agent's step limit.
        max_space_calls: how many uncached Space calls a run may make.
        num_gaussians: splat size asked of the image-to-splat Space.
        call_timeout: the deadline of one Space call attempt in seconds, the client's own
            retries of transport faults included (a hung Space costs this much, no more).
        call_attempts: how many times the harness makes one call when it fails in a way
            worth repeating (an error event, a hang, a corrupt or missing output file).
        retry_backoff_s: the client's first wait before retrying a transport fault (doubles);
            also the first wait before a model request is retried (429, 5xx, refused).
        model_timeout: the deadline of one model request in seconds (a hung model server
            costs this much, no more).
        max_tokens: the most tokens the model may write in one step.
        context_window: the model's context window in tokens; None: ask the server, else
            assume 8192.
        code_cpu_s: CPU seconds one step of agent code may use.
        code_wall_s: seconds one step of agent code may take (time in tools not counted).
        code_memory_mb: the address space of the process running agent code, MiB.
        code_output_chars: printed output kept per step of agent code.
        code_jail: confine the agent-code process with the OS jail where there is one.
        stall_after_s: a call that shows no progress (queue position, start, progress,
            output) for ``max(stall_after_s, stall_factor × its expected duration)`` is given
            up, and its Space set aside (see ``spacesmith.tools.spaces.stall``).
        stall_factor: see ``stall_after_s``.
        token: the Hugging Face token, or None (kept out of ``repr``).
    """

    goal: str
    output: Path
    model: str | None = None
    api_base: str | None = None
    subjects: tuple[str, ...] = ()
    image_space: str | None = None
    splat_space: str | None = None
    more_image_spaces: tuple[str, ...] = ()
    more_splat_spaces: tuple[str, ...] = ()
    deploy_space: str | None = None
    offline: bool = False
    max_steps: int = DEFAULT_MAX_STEPS
    max_space_calls: int = DEFAULT_MAX_SPACE_CALLS
    num_gaussians: str = DEFAULT_NUM_GAUSSIANS
    call_timeout: float = DEFAULT_CALL_TIMEOUT_S
    call_attempts: int = DEFAULT_CALL_ATTEMPTS
    retry_backoff_s: float = DEFAULT_RETRY_BACKOFF_S
    model_timeout: float = DEFAULT_MODEL_TIMEOUT_S
    max_tokens: int = DEFAULT_MAX_TOKENS
    context_window: int | None = None
    code_cpu_s: float = DEFAULT_CODE_CPU_S
    code_wall_s: float = DEFAULT_CODE_WALL_S
    code_memory_mb: int = DEFAULT_CODE_MEMORY_MB
    code_output_chars: int = DEFAULT_CODE_OUTPUT_CHARS
    code_jail: bool = True
    stall_after_s: float = DEFAULT_STALL_AFTER_S
    stall_factor: float = DEFAULT_STALL_FACTOR
    token: str | None = field(default=None, repr=False, compare=False)

    def spaces(self, role: str) -> tuple[str, ...]:
        """Every Space named for ``role`` ("image" or "splat"), the first one first."""
        first, more = ((self.image_space, self.more_image_spaces) if role == "image"
                       else (self.splat_space, self.more_splat_spaces))
        return (first, *more) if first else tuple(more)

    def with_(self, **changes: object) -> Settings:
        """A copy with ``changes`` applied (dataclasses.replace, typed loosely)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def uses_offline_planner(self) -> bool:
        """True when the offline planner (no LLM) will drive the agent."""
        if self.model == "offline":
            return True
        return self.model is None and self.api_base is None and self.token is None


def default_output(goal: str) -> Path:
    """The default workspace for a goal: ``runs/<slug of the goal>``."""
    words = [w for w in re.findall(r"[\w']+", goal.lower()) if w not in _STOP_WORDS]
    return Path("runs") / slugify(" ".join(words[:6]) or goal)


_STOP_WORDS = {"build", "make", "create", "a", "an", "the", "of", "me", "please", "gallery"}


def from_environment(settings: Settings) -> Settings:
    """Fill what flags left unset from the environment (model, API base, token).

    Args:
        settings: settings built from flags and the goal file.

    Returns:
        The settings with environment values where the flags gave none.
    """
    model = settings.model or os.environ.get("SPACESMITH_MODEL") or None
    api_base = settings.api_base or os.environ.get("SPACESMITH_API_BASE") or None
    token = settings.token or get_token()
    return settings.with_(model=model, api_base=api_base, token=token)
