"""Which Spaces agent code may reach and deploy to: a policy the agent cannot widen.

Agent code may discover Hub ids (``owner/name``: the Hub and the Space's ``*.hf.space``
host) and ``https://*.hf.space`` / ``https://huggingface.co/spaces/…`` URLs, plus exactly
the Spaces the user named: the run's image and splat Spaces, and any URL or Hub id in the
user's own words (the goal, a chat message) — matched by origin (scheme, host, port), never
by a prefix, and never with a user name or password in the URL. It deploys only to the
Space the user named (``--deploy``, ``[deploy]``, or a Hub id in the user's words). Only
the run adds names (:meth:`SpacePolicy.name`, :meth:`SpacePolicy.name_in_text`); nothing
agent code sends can.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

from spacesmith.tools.errors import ForeignHostError, SiteError

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
URL_IN_TEXT = re.compile(r"https?://[^\s'\"<>()\[\]{}`,;]+")
HUB_ID_IN_TEXT = re.compile(r"(?<![\w./:@-])[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*(?![\w/])")
_HUB_SPACE_PATH = re.compile(r"^/spaces/[\w.-]+/[\w.-]+(?:/agents\.md)?/?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str | None:
    """``scheme://host:port`` of an http(s) URL without credentials, else None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


def _hub_url(url: str) -> bool:
    """An https URL on a Hugging Face host that names a Space."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or "@" in parts.netloc or parts.port not in (None, 443):
        return False
    if host.endswith(".hf.space") and re.fullmatch(r"[a-z0-9-]+\.hf\.space", host):
        return True
    return host == "huggingface.co" and bool(_HUB_SPACE_PATH.match(parts.path))


class SpacePolicy:
    """The Spaces of one run that agent code may reach, and where it may deploy."""

    def __init__(self) -> None:
        self.origins: set[str] = set()
        self.hub_ids: set[str] = set()
        self.deploy_ids: set[str] = set()
        self._lock = threading.Lock()

    def name(self, space: str | None) -> None:
        """The user named ``space`` (a Hub id or a URL)."""
        if not space:
            return
        text = space.strip().rstrip("/")
        with self._lock:
            if HUB_ID.match(text):
                self.hub_ids.add(text.lower())
            elif (found := origin(text)) is not None:
                self.origins.add(found)

    def name_deploy(self, space_id: str | None) -> None:
        """The user named ``space_id`` as the Space to deploy to."""
        if space_id and HUB_ID.match(space_id.strip()):
            with self._lock:
                self.deploy_ids.add(space_id.strip().lower())

    def name_in_text(self, text: str) -> None:
        """Name every URL and Hub id in the user's own words (a goal, a chat message)."""
        for url in URL_IN_TEXT.findall(text):
            self.name(url.rstrip(".!?"))
        stripped = URL_IN_TEXT.sub(" ", text)
        for hub_id in HUB_ID_IN_TEXT.findall(stripped):
            self.name(hub_id.rstrip("."))
            self.name_deploy(hub_id.rstrip("."))

    def check_discover(self, space: object) -> str:
        """``space`` if agent code may discover it.

        Raises:
            ForeignHostError: it is not a Hub Space and the user did not name it.
        """
        if not isinstance(space, str) or not space.strip() or len(space) > 2000:
            raise ForeignHostError("discover_space needs a Space: a Hub id or a URL",
                                   space=str(space)[:100],
                                   hint="e.g. discover_space('owner/name')")
        text = space.strip()
        if HUB_ID.match(text) or _hub_url(text):
            return text
        found = origin(text)
        with self._lock:
            if found is not None and found in self.origins:
                return text
        raise ForeignHostError(
            f"discover_space may not reach {text[:200]!r}: only Hub Spaces (owner/name, "
            "https://NAME.hf.space) and the Spaces the user named are allowed",
            space=text[:100], hint="use a Hub id, or ask the user to name that Space")

    def check_deploy(self, space_id: object) -> str:
        """``space_id`` if it is the Space the user named for deploying.

        Raises:
            SiteError: it is not.
        """
        text = space_id.strip() if isinstance(space_id, str) else ""
        with self._lock:
            if text and text.lower() in self.deploy_ids:
                return text
            named = ", ".join(sorted(self.deploy_ids)) or "none"
        raise SiteError(f"deploy_site may deploy only to a Space the user named "
                        f"(named: {named}); {text[:120]!r} is not one",
                        hint="deploy to the Space the user gave with --deploy or [deploy]")
