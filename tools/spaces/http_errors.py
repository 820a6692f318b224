"""Turn what a Space answers into spacesmith's typed errors, in one place.

:func:`raise_for_status` maps an HTTP answer, :func:`error_from_event` an SSE ``error``
event, :func:`transport_error` an httpx exception. Which errors are retried follows from the
class: only :class:`TransientSpaceError` is.
"""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from spacesmith.tools.errors import (
    AppError,
    DiscoveryError,
    DownloadError,
    ParameterError,
    QuotaError,
    SpaceError,
    SpaceTimeoutError,
    SpaceUnavailableError,
    TransientSpaceError,
    UploadError,
)

_RETRY_IN = re.compile(r"retry in\s+(?:(\d+):)?(\d{1,2}):(\d{2})", re.I)
_QUOTA = re.compile(r"gpu quota|zerogpu|no gpu (?:was |is )?available|gpu task aborted", re.I)
_TAGS = re.compile(r"<[^>]+>")
MAX_DETAIL = 300


def plain(text: str, limit: int = MAX_DETAIL) -> str:
    """Text from a Space, made one short line: HTML tags and entities removed."""
    flat = " ".join(html.unescape(_TAGS.sub(" ", text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_retry_in(text: str) -> float | None:
    """Seconds from a ZeroGPU "retry in H:MM:SS" (or "MM:SS"), or None."""
    found = _RETRY_IN.search(text)
    if not found:
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in found.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def _detail(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return plain(response.text) or response.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        return plain(str(body["detail"]))
    return plain(str(body))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return float(value)
    except ValueError:
        return None


def raise_for_status(
    response: httpx.Response, *, space: str, endpoint: str | None, what: str
) -> None:
    """Raise the error an HTTP answer stands for; return if it is a success.

    Args:
        response: the answer (its body must be readable).
        space: the Space, for the message.
        endpoint: the endpoint, when there is one.
        what: what was being done ("call", "poll", "upload", "download", "schema",
            "runtime").

    Raises:
        TransientSpaceError: 429, 503 and other 5xx (except a 500 on a call, see below).
        ParameterError: 4xx on a call, or 500 on a call (Gradio's answer to arguments that
            do not match /info).
        DownloadError: 4xx (but 429) on a download: the file is not there to fetch.
        UploadError: 4xx (but 429) on an upload: the Space refuses the files.
        DiscoveryError: 401/404 from the Hub's runtime API: no such Space, or private.
        SpaceUnavailableError: 401/403/404 and the rest.
    """
    status = response.status_code
    if status < 400:
        return
    detail = _detail(response)
    where = f"{what} answered HTTP {status}: {detail}"
    if status == 500 and what == "call":
        raise ParameterError(
            f"{where} (Gradio answers 500 when the arguments do not match the endpoint)",
            space=space, endpoint=endpoint)
    if status == 429 or status >= 500:
        raise TransientSpaceError(where, space=space, endpoint=endpoint,
                                  retry_after_s=_retry_after(response))
    if what == "runtime" and status in (401, 404):
        raise DiscoveryError("the Hub knows no such Space (or it is private)", space=space,
                             hint="check the id; for a private Space set HF_TOKEN")
    if what == "upload":
        raise UploadError(f"upload answered HTTP {status}: {detail}", space=space,
                          endpoint=endpoint)
    if what == "download":
        raise DownloadError(f"GET {response.request.url} answered HTTP {status}",
                            space=space, endpoint=endpoint)
    if what == "call" and status in (400, 422):
        raise ParameterError(where, space=space, endpoint=endpoint)
    if status in (401, 403):
        raise SpaceUnavailableError(
            where, space=space, endpoint=endpoint,
            hint="the Space is private or gated: set HF_TOKEN or run 'hf auth login'")
    raise SpaceUnavailableError(where, space=space, endpoint=endpoint)


def error_from_event(data: Any, *, space: str, endpoint: str) -> SpaceError:
    """The error an SSE ``error`` event stands for.

    Handles gradio 6.x (``{"error": "<message>" | null, ...}``), 5.x (``null``), and the
    plain string of an unknown event (``"404: Not Found"``).
    """
    if isinstance(data, str):
        if data.startswith("404"):
            return TransientSpaceError(
                f"the Space does not know this event ({plain(data)}); it may have restarted",
                space=space, endpoint=endpoint)
        return AppError(f"the Space reported an error: {plain(data)}", space=space,
                        endpoint=endpoint)
    message = data.get("error") if isinstance(data, dict) else None
    if not isinstance(message, str) or not message.strip():
        return AppError(
            "the app failed without a message (an exception other than gr.Error)",
            space=space, endpoint=endpoint)
    if _QUOTA.search(message):
        return QuotaError(f"ZeroGPU refused the call: {plain(message)}", space=space,
                          endpoint=endpoint, retry_after_s=parse_retry_in(message))
    return AppError(f"the app raised: {plain(message)}", space=space, endpoint=endpoint)


def transport_error(
    exc: httpx.HTTPError, *, space: str, endpoint: str | None, what: str, deadline_passed: bool
) -> SpaceError:
    """The error an httpx exception stands for: a timeout once the deadline passed, else
    a transient failure (connection refused or broken, read timeout)."""
    text = f"{what} failed: {type(exc).__name__}: {plain(str(exc)) or 'no detail'}"
    if deadline_passed:
        return SpaceTimeoutError(f"{what} did not finish before the deadline", space=space,
                                 endpoint=endpoint)
    return TransientSpaceError(text, space=space, endpoint=endpoint)
