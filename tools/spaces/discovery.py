"""SPACE string -> :class:`SpaceSpec`: Hub ids, agents.md URLs and base URLs.

- ``owner/name`` (or ``https://huggingface.co/spaces/owner/name``): the Hub serves
  ``https://huggingface.co/spaces/owner/name/agents.md``; the Space's own host is
  ``owner-name.hf.space`` (lower-cased, dots and underscores become dashes).
- ``http(s)://…/agents.md``: that file; the Space's host is the file's host (or the
  ``.hf.space`` host when the file is on the Hub).
- ``http(s)://host[:port][/path]``: ``/agents.md`` is tried first, then
  ``/gradio_api/info`` directly (a bare Gradio app serves no agents.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from spacesmith.tools.errors import DiscoveryError
from spacesmith.tools.hub.auth import auth_headers, hub_endpoint
from spacesmith.tools.spaces.agents_md import SpaceSpec, parse_agents_md, spec_from_root

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
_HUB_PATH = re.compile(r"^/spaces/([\w.-]+)/([\w.-]+)(?:/agents\.md)?/?$")
DISCOVERY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SpaceRef:
    """Where to look for a Space, before anything is fetched.

    Attributes:
        space: the string the user gave.
        space_id: the Hub id when the string names one.
        host: the Space's own ``host[:port]``.
        agents_md_url: the agents.md to fetch first.
        root: the base URL to fall back to (``/gradio_api/info``) when there is no agents.md.
    """

    space: str
    space_id: str | None
    host: str
    agents_md_url: str
    root: str


def space_host(space_id: str) -> str:
    """The ``*.hf.space`` host of a Hub Space id (``microsoft/TRELLIS.2`` ->
    ``microsoft-trellis-2.hf.space``)."""
    return re.sub(r"[^a-z0-9-]", "-", space_id.lower().replace("/", "-")) + ".hf.space"


def resolve(space: str) -> SpaceRef:
    """Work out where a SPACE string points, without any network access.

    Args:
        space: a Hub id, an agents.md URL or a base URL.

    Returns:
        The reference.

    Raises:
        DiscoveryError: the string is none of those.
    """
    text = space.strip()
    if _HUB_ID.match(text):
        return _hub_ref(text, text)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DiscoveryError(
            "is neither a Hub id (owner/name) nor an http(s) URL", space=space,
            hint="give e.g. 'VAST-AI/TripoSplat', 'http://127.0.0.1:7861' or an agents.md URL",
        )
    hub = urlsplit(hub_endpoint()).netloc.lower()
    found = _HUB_PATH.match(parts.path)
    if parts.netloc.lower() in (hub, "huggingface.co") and found:
        return _hub_ref(text, f"{found.group(1)}/{found.group(2)}")
    base = f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
    if base.endswith("/agents.md"):
        root = base[: -len("/agents.md")]
        return SpaceRef(space=space, space_id=None, host=parts.netloc.lower(),
                        agents_md_url=base, root=root)
    return SpaceRef(space=space, space_id=None, host=parts.netloc.lower(),
                    agents_md_url=f"{base}/agents.md", root=base)


def _hub_ref(space: str, space_id: str) -> SpaceRef:
    host = space_host(space_id)
    return SpaceRef(space=space, space_id=space_id, host=host,
                    agents_md_url=f"{hub_endpoint()}/spaces/{space_id}/agents.md",
                    root=f"https://{host}")


def discover(space: str, *, http: httpx.Client | None = None,
             token: str | None = None) -> SpaceSpec:
    """Find a Space's agents.md (or its bare /gradio_api/info) and read it into a spec.

    Args:
        space: a Hub id, an agents.md URL or a base URL.
        http: the client to fetch with (its cookies are kept for the Space); default: a
            client of its own for this one look-up.
        token: sent only to the Space's own host and Hugging Face hosts.

    Returns:
        The Space's spec; every URL in it is on the Space's own host.

    Raises:
        DiscoveryError: nothing could be fetched, or neither agents.md nor /info exists.
        AgentsMdError: the agents.md is malformed.
        ForeignHostError: the agents.md points outside the Space's own host.
    """
    if http is None:
        with httpx.Client() as own:
            return discover(space, http=own, token=token)
    ref = resolve(space)
    response = _get(http, ref.agents_md_url, ref, token)
    if response.status_code == 200 and not _looks_like_html(response):
        return parse_agents_md(response.text, space=space, expected_host=ref.host,
                               space_id=ref.space_id)
    if response.status_code not in (404, 200):
        raise DiscoveryError(f"GET {ref.agents_md_url} answered HTTP {response.status_code}",
                             space=space)
    info_url = f"{ref.root}/gradio_api/info"
    probe = _get(http, info_url, ref, token)
    if probe.status_code == 200 and "json" in probe.headers.get("content-type", ""):
        return spec_from_root(space, ref.root, space_id=ref.space_id)
    raise DiscoveryError(
        f"found no agents.md ({ref.agents_md_url}: HTTP {response.status_code}) and no "
        f"Gradio API ({info_url}: HTTP {probe.status_code})", space=space,
    )


def _get(http: httpx.Client, url: str, ref: SpaceRef, token: str | None) -> httpx.Response:
    # httpx drops the Authorization header on redirects to another origin.
    try:
        return http.get(url, headers=auth_headers(url, token, ref.host),
                        follow_redirects=True, timeout=DISCOVERY_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise DiscoveryError(f"cannot fetch {url}: {type(exc).__name__}: {exc}",
                             space=ref.space) from exc


def _looks_like_html(response: httpx.Response) -> bool:
    return "html" in response.headers.get("content-type", "") or response.text.lstrip()[
        :15
    ].lower().startswith(("<!doctype", "<html"))
