"""Telling a Space to drop a call the client gave up on, as gradio_client's ``Job.cancel``.

A Gradio Space runs one event at a time by default. When a call hangs and the client leaves,
Gradio may never notice (its stream ends on a failed write, not a disconnect) and a stuck
function holds the worker for good: every later call waits behind it. ``POST …/cancel`` with
the event's session, its function's index and its id (Gradio 4.29 and newer) cancels the
event's task, which frees the worker even when the function itself cannot be stopped.

Best effort, bounded: one ``GET /config`` for the function's index, one ``POST``, a few
seconds each; any failure is ignored (the stall or deadline error is what the caller
reports).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

CANCEL_TIMEOUT_S = 3.0


def cancel_event(http: httpx.Client, api_root: str, api_name: str, event_id: str,
                 auth: Callable[[str], dict[str, str]]) -> bool:
    """Ask the Space to cancel ``event_id`` of the endpoint ``api_name``.

    Args:
        http: the client's HTTP session.
        api_root: the Space's API root (``…/gradio_api``).
        api_name: the endpoint's name without its slash (``generate``).
        event_id: the event the call route returned (it is also the event's session).
        auth: the headers for a URL (the token only where it may go).

    Returns:
        True when the Space accepted the cancel.
    """
    fn_index = _fn_index(http, api_root.rsplit("/", 1)[0], api_name, auth)
    if fn_index is None:
        return False
    url = f"{api_root}/cancel"
    try:
        response = http.post(url, headers=auth(url), timeout=CANCEL_TIMEOUT_S, json={
            "session_hash": event_id, "fn_index": fn_index, "event_id": event_id})
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _fn_index(http: httpx.Client, root: str, api_name: str,
              auth: Callable[[str], dict[str, str]]) -> int | None:
    """The index Gradio knows the endpoint's function by, from the Space's ``/config``."""
    url = f"{root}/config"
    try:
        response = http.get(url, headers=auth(url), timeout=CANCEL_TIMEOUT_S)
        config = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    deps = config.get("dependencies") if isinstance(config, dict) else None
    for position, dep in enumerate(deps if isinstance(deps, list) else []):
        if isinstance(dep, dict) and dep.get("api_name") == api_name:
            index = dep.get("id", position)
            return index if isinstance(index, int) and not isinstance(index, bool) else None
    return None
