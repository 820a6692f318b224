"""``spacesmith doctor``: can the configured path work here? Each check with its fix.

Checks, in order: the token (where it was found; never its value), the Hub and each
configured Space (agents.md or ``/gradio_api/info`` reachable, the Hub's runtime state), or
with ``--offline`` the local stand-ins; the model (server reachable, the model listed, a
one-token completion with its latency, the context window); Chromium (screenshots); npm or
its cache (the viewer's pinned JavaScript). A check is *required* when the configured path
cannot work without it; the exit code is 0 only when every required check passed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from spacesmith.agent.runs.settings import Settings

HTTP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    """One check: its name, whether it passed, what was found, and the fix."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def token_check(settings: Settings, *, needed: bool) -> Check:
    """Where the token was found (never its value)."""
    if os.environ.get("HF_TOKEN", "").strip():
        where = "HF_TOKEN"
    elif os.environ.get("HUGGING_FACE_HUB_TOKEN", "").strip():
        where = "HUGGING_FACE_HUB_TOKEN"
    elif settings.token:
        where = "the file saved by 'hf auth login'"
    else:
        return Check("token", not needed, "no Hugging Face token found",
                     "set HF_TOKEN or run 'hf auth login'" + ("" if needed else
                                                               " (only needed for the Hub)"),
                     required=needed)
    return Check("token", True, f"found in {where}", required=needed)


def space_checks(settings: Settings, *, http: httpx.Client) -> list[Check]:
    """The Hub and each configured Space: discovery, and the Hub's runtime state."""
    from spacesmith.agent.runs.runner import DEFAULT_IMAGE_SPACE, DEFAULT_SPLAT_SPACE
    from spacesmith.tools.errors import SpacesmithError
    from spacesmith.tools.hub.auth import hub_endpoint
    from spacesmith.tools.hub.runtime import get_runtime
    from spacesmith.tools.spaces.discovery import discover, resolve

    checks: list[Check] = []
    named = [(role, space) for role, space in (
        ("image", settings.image_space or DEFAULT_IMAGE_SPACE),
        ("splat", settings.splat_space or DEFAULT_SPLAT_SPACE))]
    if any(resolve(space).space_id for _, space in named):
        hub = hub_endpoint()
        try:
            http.get(f"{hub}/api/spaces/{DEFAULT_SPLAT_SPACE}", timeout=HTTP_TIMEOUT_S)
            checks.append(Check("hub", True, f"{hub} answers"))
        except httpx.HTTPError as exc:
            unnamed = not (settings.image_space or settings.splat_space)
            checks.append(Check(
                "hub", False, f"{hub} cannot be reached ({type(exc).__name__})"
                + ("; builds will use the local stand-in Spaces" if unnamed else ""),
                "check the network, or use --offline for the local stand-ins",
                required=not unnamed))
            if unnamed:
                checks.append(standin_check())
            return checks
    for role, space in named:
        name = f"{role} Space {space}"
        try:
            spec = discover(space, http=http, token=settings.token)
        except SpacesmithError as exc:
            checks.append(Check(name, False, exc.message, exc.hint))
            continue
        detail = ("agents.md read" if spec.source == "agents.md"
                  else "no agents.md; /gradio_api/info read")
        ref = resolve(space)
        if ref.space_id:
            try:
                runtime = get_runtime(ref.space_id, http=http, token=settings.token)
            except SpacesmithError as exc:
                checks.append(Check(name, False, exc.message, exc.hint))
                continue
            if runtime is not None:
                detail += f"; runtime {runtime.stage}"
                if runtime.stage not in ("RUNNING", "RUNNING_BUILDING", "SLEEPING", "BUILDING",
                                         "APP_STARTING", "RUNNING_APP_STARTING"):
                    checks.append(Check(name, False, detail,
                                        "restart it on the Hub or name another Space"))
                    continue
        checks.append(Check(name, True, detail))
    return checks


def standin_check() -> Check:
    """The local stand-ins need gradio (the ``local`` extra)."""
    if importlib.util.find_spec("gradio") is None:
        return Check("stand-in Spaces", False, "gradio is not installed",
                     "pip install 'spacesmith[local]'")
    return Check("stand-in Spaces", True, "gradio installed; they start on 127.0.0.1")


def model_check(settings: Settings) -> list[Check]:
    """The model: offline planner, or the server, its model list, one token, the window."""
    from spacesmith.agent.codeagent.llm import ChatModel
    from spacesmith.agent.codeagent.models import choose_model
    from spacesmith.agent.codeagent.server_info import probe_server
    from spacesmith.tools.errors import SpacesmithError

    try:
        choice = choose_model(settings)
    except SpacesmithError as exc:
        return [Check("model", False, exc.message, exc.hint)]
    model = choice.model
    if not isinstance(model, ChatModel):
        return [Check("model", True, choice.label)]
    checks: list[Check] = []
    key = None if settings.api_base is None else os.environ.get("OPENAI_API_KEY")
    info = probe_server(model.server, key if settings.api_base else settings.token,
                        str(model.model_id), timeout_s=min(5.0, settings.model_timeout))
    if info.error is None:
        listed = str(model.model_id) in info.models
        checks.append(Check(
            "model list", listed or not info.models,
            f"{model.server}/models lists {len(info.models)} model(s)"
            + ("" if listed or not info.models else f", not {model.model_id}: "
               + ", ".join(info.models[:5])),
            "" if listed or not info.models else "use one of the listed ids as --model",
            required=False))
    try:
        latency, text = model.ping()
    except SpacesmithError as exc:
        checks.append(Check("model", False, exc.message, exc.hint))
        return checks
    checks.append(Check("model", True, f"{choice.label}: answered one token in "
                        f"{latency * 1000:.0f} ms ({text!r}); context window {model.window} "
                        f"tokens ({model.window_source})"))
    return checks


def tool_checks(which: Callable[[str], str | None] = shutil.which) -> list[Check]:
    """Chromium (screenshots) and npm or its cache (the viewer's JavaScript)."""
    from spacesmith.agent.runs.screenshot import find_chromium
    from spacesmith.tools.site.vendor import cache_root

    chromium = find_chromium()
    checks = [Check("chromium", chromium is not None, chromium or "not found",
                    "" if chromium else "apt-get install chromium (only for screenshots)",
                    required=False)]
    npm = which("npm")
    cached = (cache_root() / "npm").is_dir() and any((cache_root() / "npm").glob("*/node_modules"))
    if npm or cached:
        detail = (f"npm at {npm}" if npm else "no npm") + (
            "; viewer packages cached" if cached else "; viewer packages not cached yet")
        checks.append(Check("viewer JavaScript", True, detail, required=False))
    else:
        checks.append(Check("viewer JavaScript", False, "no npm and no cached packages: sites "
                            "will load three.js and Spark from a CDN",
                            "install npm (apt-get install npm) to vendor them", required=False))
    return checks


def run_doctor(settings: Settings, *, offline: bool) -> list[Check]:
    """Every check for ``settings`` (flags, environment and goal file applied)."""
    from spacesmith.agent.codeagent.models import DEFAULT_MODEL_ID

    uses_router = (not settings.uses_offline_planner and settings.api_base is None
                   and not (settings.model or "").startswith("litellm/"))
    needs_token = uses_router or settings.deploy_space is not None
    checks = [token_check(settings, needed=needs_token)]
    if offline:
        checks.append(standin_check())
    else:
        with httpx.Client(follow_redirects=True) as http:
            checks.extend(space_checks(settings, http=http))
    if uses_router and settings.token is None:
        checks.append(Check("model", False, f"{settings.model or DEFAULT_MODEL_ID} on Inference "
                            "Providers needs a token", "set HF_TOKEN, or --model offline"))
    else:
        checks.extend(model_check(settings))
    checks.extend(tool_checks())
    return checks


def passed(checks: list[Check]) -> bool:
    """True when every required check passed."""
    return all(c.ok for c in checks if c.required)


def render(checks: list[Check]) -> str:
    """The checks as text lines: ``ok``/``FAIL``/``warn``, the detail, the fix."""
    lines = []
    for c in checks:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "warn")
        lines.append(f"{mark} {c.name}: {c.detail}" + (f"\n     fix: {c.fix}"
                                                       if c.fix and not c.ok else ""))
    verdict = "the configured path can work" if passed(checks) else \
        "the configured path cannot work until the FAIL lines are fixed"
    return "\n".join([*lines, verdict])
