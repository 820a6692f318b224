"""A Hub Space's runtime state: wait while it builds or wakes up, fail fast when it cannot run.

Uses the Hub's ``GET /api/spaces/<owner>/<name>/runtime`` (what huggingface_hub's
``get_space_runtime`` calls) over the caller's httpx client, against ``HF_ENDPOINT``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from spacesmith.tools.errors import (
    DiscoveryError,
    SpaceError,
    SpaceTimeoutError,
    SpaceUnavailableError,
)
from spacesmith.tools.hub.auth import auth_headers, hub_endpoint
from spacesmith.tools.spaces.discovery import space_host
from spacesmith.tools.spaces.http_errors import raise_for_status

RUNNING = frozenset({"RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING"})
WAITING = frozenset({"BUILDING", "APP_STARTING", "SLEEPING", "STARTING"})
BROKEN = {
    "PAUSED": "is paused by its owner",
    "STOPPED": "is stopped",
    "BUILD_ERROR": "failed to build",
    "RUNTIME_ERROR": "crashed (runtime error)",
    "CONFIG_ERROR": "has a configuration error",
    "NO_APP_FILE": "has no app file",
    "DELETING": "is being deleted",
}


@dataclass(frozen=True)
class SpaceRuntime:
    """The Hub's view of a Space: ``stage`` (RUNNING, BUILDING, …) and its hardware."""

    stage: str
    hardware: str | None


def get_runtime(space_id: str, *, http: httpx.Client, token: str | None) -> SpaceRuntime | None:
    """Ask the Hub for a Space's runtime.

    Returns:
        The runtime, or ``None`` when the Hub cannot be reached (offline use goes on).

    Raises:
        DiscoveryError: the Hub does not know the Space.
    """
    url = f"{hub_endpoint()}/api/spaces/{space_id}/runtime"
    try:
        response = http.get(url, headers=auth_headers(url, token, space_host(space_id)),
                            timeout=15.0, follow_redirects=True)
    except httpx.HTTPError:
        return None
    try:
        raise_for_status(response, space=space_id, endpoint=None, what="runtime")
    except DiscoveryError:
        raise
    except SpaceError:
        return None  # the Hub is in trouble, not the Space: offline use goes on
    try:
        data: Any = response.json()
    except ValueError:
        return None  # not the Hub answering (a captive portal, a proxy page)
    if not isinstance(data, dict):
        return None
    hardware = data.get("hardware")
    current = hardware.get("current") if isinstance(hardware, dict) else None
    return SpaceRuntime(stage=str(data.get("stage", "UNKNOWN")),
                        hardware=current if isinstance(current, str) else None)


def wait_until_running(
    space_id: str,
    *,
    http: httpx.Client,
    token: str | None,
    max_wait_s: float = 300.0,
    poll_s: float = 5.0,
    on_wait: Callable[[str, float], None] | None = None,
) -> SpaceRuntime | None:
    """Return once the Space runs; wait (bounded) while it builds, starts or sleeps.

    A sleeping Space is woken by a request to its host.

    Args:
        space_id: ``owner/name``.
        http: the client.
        token: for private Spaces; sent only to Hugging Face hosts.
        max_wait_s: the longest wait in all.
        poll_s: how often to ask again.
        on_wait: told (stage, seconds until the next look) before each wait.

    Returns:
        The runtime, or ``None`` when the Hub cannot be reached.

    Raises:
        SpaceUnavailableError: the Space is paused, stopped or broken.
        SpaceTimeoutError: it did not start within ``max_wait_s``.
        DiscoveryError: the Hub does not know the Space.
    """
    end = time.monotonic() + max_wait_s
    woken = False
    while True:
        runtime = get_runtime(space_id, http=http, token=token)
        if runtime is None or runtime.stage in RUNNING:
            return runtime
        if runtime.stage in BROKEN:
            raise SpaceUnavailableError(f"{BROKEN[runtime.stage]} ({runtime.stage})",
                                        space=space_id)
        if runtime.stage == "SLEEPING" and not woken:
            woken = True
            url = f"https://{space_host(space_id)}/"
            with contextlib.suppress(httpx.HTTPError):  # best effort; the stage tells the rest
                http.get(url, headers=auth_headers(url, token, space_host(space_id)), timeout=10.0)
        if time.monotonic() + poll_s > end:
            raise SpaceTimeoutError(
                f"is still {runtime.stage} after {max_wait_s:g} s", space=space_id,
                hint="the Space is starting; try again in a few minutes")
        if on_wait is not None:
            on_wait(runtime.stage, poll_s)
        time.sleep(poll_s)
