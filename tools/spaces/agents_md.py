"""agents.md text -> :class:`SpaceSpec`, for both generations of the file.

agents.md is untrusted text: only the URLs are taken from it, and each must be on the Space's
own host (``expected_host``), or :class:`ForeignHostError` is raised. Extra lines, blank
lines, odd spacing and capitalisation are tolerated.

Newer generation (named parameters)::

    To use this application (owner/name: title):
    API schema: GET https://owner-name.hf.space/gradio_api/info
    Call endpoint: POST https://owner-name.hf.space/gradio_api/call/v2/{endpoint} {...}
    Poll result: GET https://owner-name.hf.space/gradio_api/call/{endpoint}/{event_id}
    File inputs: POST https://owner-name.hf.space/gradio_api/upload -F "files=@file.ext", ...
    Auth: Bearer $HF_TOKEN (https://huggingface.co/settings/tokens)

Older generation: ``Call endpoint: POST …/gradio_api/call/{endpoint} {"data": [...]}`` and
no ``File inputs`` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from spacesmith.tools.errors import AgentsMdError, ForeignHostError

CallStyle = Literal["v2", "positional"]
INFO_SUFFIX = "/info"
_LINE = re.compile(
    r"^\s*[-*]?\s*(api schema|call endpoint|poll result|file inputs|auth)\s*:\s*(.*?)\s*$",
    re.IGNORECASE,
)
_TITLE = re.compile(r"to use this application\s*\((.*)\)\s*:?\s*$", re.IGNORECASE)
_URL = re.compile(r"\b(GET|POST)\s+(https?://\S+)", re.IGNORECASE)
MAX_CHARS = 64_000


@dataclass(frozen=True)
class SpaceSpec:
    """Where and how to call one Space; every URL is on ``host``.

    Attributes:
        space: the Space as the user named it (Hub id or URL), used in messages.
        space_id: the Hub id (``owner/name``) when known.
        title: the title from agents.md (untrusted text; for display only).
        host: the Space's own ``host[:port]``, lower-cased.
        schema_url: ``GET`` it for the ``/gradio_api/info`` JSON.
        call_url: the call route with an ``{endpoint}`` placeholder.
        call_style: ``"v2"`` (named JSON object) or ``"positional"`` (``{"data": [...]}``).
        poll_url: the result route with ``{endpoint}`` and ``{event_id}`` placeholders.
        upload_url: the multipart upload route.
        source: ``"agents.md"`` or ``"info"`` (no agents.md: built from the base URL).
    """

    space: str
    space_id: str | None
    title: str | None
    host: str
    schema_url: str
    call_url: str
    call_style: CallStyle
    poll_url: str
    upload_url: str
    source: Literal["agents.md", "info"] = "agents.md"

    @property
    def api_root(self) -> str:
        """The ``…/gradio_api`` prefix every route hangs from."""
        return self.schema_url[: -len(INFO_SUFFIX)]

    @property
    def root(self) -> str:
        """The Space's base URL (scheme, host and any mount path)."""
        return self.api_root.rsplit("/", 1)[0]

    def call_url_for(self, api_name: str, style: CallStyle | None = None) -> str:
        """The call URL of an endpoint (``api_name`` without the leading slash)."""
        style = style or self.call_style
        if style == self.call_style:
            return self.call_url.replace("{endpoint}", api_name)
        if style == "v2":
            return f"{self.api_root}/call/v2/{api_name}"
        return f"{self.api_root}/call/{api_name}"

    def poll_url_for(self, api_name: str, event_id: str) -> str:
        """The result-stream URL of one event."""
        return self.poll_url.replace("{endpoint}", api_name).replace("{event_id}", event_id)

    def file_url(self, server_path: str) -> str:
        """The download URL of a file the Space holds at ``server_path``."""
        return f"{self.api_root}/file={server_path}"


def spec_from_root(space: str, root: str, *, space_id: str | None = None) -> SpaceSpec:
    """The spec of a Gradio app at base URL ``root`` that has no agents.md.

    Args:
        space: the Space as the user named it.
        root: the base URL, e.g. ``http://127.0.0.1:7861``.
        space_id: the Hub id when known.

    Returns:
        A spec assuming the v2 call route (the client falls back to positional on 404/405).
    """
    root = root.rstrip("/")
    api = f"{root}/gradio_api"
    return SpaceSpec(
        space=space, space_id=space_id, title=None, host=urlsplit(root).netloc.lower(),
        schema_url=f"{api}/info", call_url=f"{api}/call/v2/{{endpoint}}", call_style="v2",
        poll_url=f"{api}/call/{{endpoint}}/{{event_id}}", upload_url=f"{api}/upload",
        source="info",
    )


def parse_agents_md(
    text: str, *, space: str, expected_host: str, space_id: str | None = None
) -> SpaceSpec:
    """Parse an agents.md (either generation) into a :class:`SpaceSpec`.

    Args:
        text: the file's text.
        space: the Space as the user named it (for messages).
        expected_host: the Space's own ``host[:port]``; every URL must be on it.
        space_id: the Hub id when known.

    Returns:
        The spec.

    Raises:
        AgentsMdError: a required line (API schema, Call endpoint) is missing or unreadable.
        ForeignHostError: a URL points to another host than ``expected_host``.
    """
    if len(text) > MAX_CHARS:
        raise AgentsMdError(f"agents.md is {len(text):,} characters, too long to be one",
                            space=space)
    fields: dict[str, str] = {}
    title: str | None = None
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and match.group(1).lower() not in fields:
            fields[match.group(1).lower()] = match.group(2)
        elif title is None and (found := _TITLE.search(line)):
            title = " ".join(found.group(1).split())[:200]
    if "api schema" not in fields or "call endpoint" not in fields:
        missing = "API schema" if "api schema" not in fields else "Call endpoint"
        raise AgentsMdError(f"agents.md has no readable '{missing}:' line", space=space)
    host = expected_host.lower()
    schema_url = _url(fields["api schema"], "API schema", space=space, host=host)
    if not urlsplit(schema_url).path.endswith(f"/gradio_api{INFO_SUFFIX}"):
        raise AgentsMdError(f"the API schema URL {schema_url} does not end in /gradio_api/info",
                            space=space)
    call_url = _url(fields["call endpoint"], "Call endpoint", space=space, host=host)
    if "{endpoint}" not in call_url:
        raise AgentsMdError(f"the call URL {call_url} has no {{endpoint}} placeholder", space=space)
    api = schema_url[: -len(INFO_SUFFIX)]
    style: CallStyle = "v2" if "/call/v2/" in call_url else "positional"
    poll_url = f"{api}/call/{{endpoint}}/{{event_id}}"
    if "poll result" in fields:
        poll_url = _url(fields["poll result"], "Poll result", space=space, host=host)
        if "{event_id}" not in poll_url or "{endpoint}" not in poll_url:
            raise AgentsMdError(f"the poll URL {poll_url} lacks {{endpoint}} or {{event_id}}",
                                space=space)
    upload_url = f"{api}/upload"
    if "file inputs" in fields:
        upload_url = _url(fields["file inputs"], "File inputs", space=space, host=host)
    return SpaceSpec(space=space, space_id=space_id, title=title, host=host,
                     schema_url=schema_url, call_url=call_url, call_style=style,
                     poll_url=poll_url, upload_url=upload_url)


def _url(value: str, label: str, *, space: str, host: str) -> str:
    match = _URL.search(value)
    if match is None:
        raise AgentsMdError(f"the '{label}:' line has no 'GET/POST http(s)://…' URL", space=space)
    url = match.group(2).rstrip("\"'`,;)")
    parts = urlsplit(url)
    if parts.netloc.lower() != host or parts.username or parts.password:
        raise ForeignHostError(
            f"agents.md points '{label}' at {parts.scheme}://{parts.netloc}, not at the "
            f"Space's own host {host}", space=space,
        )
    return url
