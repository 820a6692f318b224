"""The Hugging Face token: where it comes from, and which URLs may see it.

The token goes as ``Authorization: Bearer`` only to the Space's own host and to Hugging Face
hosts over https (``huggingface.co``, ``*.huggingface.co``, ``*.hf.space``), never anywhere
else. It is never logged, printed or put in an error message.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

from spacesmith.tools.redact import register

HF_SUFFIXES = (".huggingface.co", ".hf.space")


def hub_endpoint() -> str:
    """The Hub's base URL: ``HF_ENDPOINT`` (read now, not at import) or huggingface.co."""
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or "https://huggingface.co"


def get_token() -> str | None:
    """The user's token: ``HF_TOKEN``, else the one saved by ``hf auth login``.

    Reads the saved token file the way huggingface_hub does (``HF_TOKEN_PATH``, else
    ``$HF_HOME/token``, else ``~/.cache/huggingface/token``) without importing it, so that
    the CLI starts fast.

    Returns:
        The token, or ``None`` when there is none.
    """
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = os.environ.get(name, "").strip()
        if value:
            register(value)
            return value
    path = os.environ.get("HF_TOKEN_PATH")
    if not path:
        home = os.environ.get("HF_HOME") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface")
        path = os.path.join(home, "token")
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    register(value)
    return value or None


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def may_send_token(url: str, own_host: str) -> bool:
    """Whether ``url`` may receive the token of a Space whose host is ``own_host``.

    Args:
        url: the URL about to be requested.
        own_host: the Space's own ``host[:port]``.

    Returns:
        True for the Space's own host (same port; over https unless it is a loopback
        address, so a downgrade to plain http never carries the token off the machine)
        and for Hugging Face hosts over https; False for everything else.
    """
    parts = urlsplit(url)
    if parts.username or parts.password:
        return False
    hostname = (parts.hostname or "").lower()
    if parts.netloc.lower() == own_host.lower():
        return parts.scheme == "https" or _is_loopback(hostname)
    if parts.scheme != "https" or parts.port not in (None, 443):
        return False
    return hostname == "huggingface.co" or hostname.endswith(HF_SUFFIXES)


def auth_headers(url: str, token: str | None, own_host: str) -> dict[str, str]:
    """The ``Authorization`` header for ``url``, or none when it may not see the token."""
    if token and may_send_token(url, own_host):
        return {"Authorization": f"Bearer {token}"}
    return {}
