"""Push a built site to a static Hugging Face Space.

``create_repo(space, sdk=static)`` (an existing Space is fine) then ``upload_folder`` with
``delete_patterns=["*"]``: the Space ends up holding exactly the folder's files (files
removed from the site are deleted; ``.gitattributes`` is kept by huggingface_hub), and an
unchanged folder commits nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacesmith.tools.errors import AuthError, DeployError
from spacesmith.tools.hub.auth import get_token, hub_endpoint

SPACE_ID = re.compile(r"^(?P<owner>[A-Za-z0-9][A-Za-z0-9._-]{0,95})/"
                      r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,95})$")


@dataclass(frozen=True)
class DeployResult:
    """Where the Space is, what was (or would be) pushed, and whether a commit was made."""

    url: str
    files: tuple[str, ...]
    committed: bool


def validate_space_id(space_id: str) -> str:
    """Check an ``OWNER/NAME`` Space id locally, before any network call.

    Raises:
        DeployError: the id is not ``OWNER/NAME`` with letters, digits, ``-``, ``_``, ``.``.
    """
    match = SPACE_ID.match(space_id or "")
    if not match or ".." in space_id or any(
        part.endswith((".", "-")) or part.endswith(".git") for part in space_id.split("/")
    ):
        raise DeployError(
            f"invalid Space id {space_id!r}: expected OWNER/NAME",
            hint="use letters, digits, '-', '_' or '.', e.g. --space alice/paris-monuments",
        )
    return space_id


def site_files(folder: Path) -> tuple[str, ...]:
    """The files a push sends: every file under the folder, as sorted POSIX paths."""
    return tuple(sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                        if p.is_file() and ".git" not in p.relative_to(folder).parts))


def deploy(folder: str | Path, space_id: str, *, token: str | None = None, private: bool = False,
           dry_run: bool = False, endpoint: str | None = None) -> DeployResult:
    """Create (if needed) a static Space and make its files exactly the folder's.

    Args:
        folder: a built site (``index.html`` and ``README.md`` at its root).
        space_id: ``OWNER/NAME``.
        token: a Hub token with write access; default: the logged-in token or ``HF_TOKEN``.
        private: create the Space private (an existing Space keeps its visibility).
        dry_run: only list what would be pushed; no token and no network needed.
        endpoint: the Hub URL; default ``HF_ENDPOINT`` or huggingface.co, as for discovery.

    Returns:
        The Space URL, the files pushed (or to be pushed) and whether a commit was made.

    Raises:
        DeployError: bad Space id, not a site folder, or the Hub refused the push.
        AuthError: no token, or the token may not write to that namespace.
    """
    validate_space_id(space_id)
    root = Path(folder).resolve()
    if not (root / "index.html").is_file() or not (root / "README.md").is_file():
        raise DeployError(f"{root} is not a built site (index.html and README.md needed)",
                          hint="build it with 'spacesmith site build GALLERY.json -o DIR'")
    files = site_files(root)
    base = (endpoint or hub_endpoint()).rstrip("/")
    url = f"{base}/spaces/{space_id}"
    if dry_run:
        return DeployResult(url=url, files=files, committed=False)

    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    token = token or get_token()
    if not token:
        raise AuthError("no Hugging Face token found")
    api = HfApi(endpoint=base, token=token)
    try:
        _create_space(api, space_id, private=private)
        space = api.repo_info(space_id, repo_type="space")
        sdk = getattr(space, "sdk", None)
        if sdk not in (None, "static"):
            raise DeployError(f"Space '{space_id}' uses the {sdk} SDK, not static",
                              hint="pick a new Space id; a gallery needs a static Space")
        before = space.sha
        info = api.upload_folder(
            repo_id=space_id, repo_type="space", folder_path=root,
            commit_message="Update gallery (spacesmith)", delete_patterns=["*"],
        )
    except HfHubHTTPError as exc:
        raise _map_http_error(exc, space_id) from exc
    except (OSError, ValueError) as exc:
        raise DeployError(f"push to Space '{space_id}' failed: {exc}") from exc
    return DeployResult(url=url, files=files, committed=info.oid != before)


def _create_space(api: Any, space_id: str, *, private: bool) -> None:
    """``create_repo(exist_ok=True)`` semantics, with a 401/403 surfacing as itself.

    huggingface_hub's own ``exist_ok`` branch for 401/403 builds a URL that only parses for
    huggingface.co endpoints and hides the permission error; a 409 (exists) is all we accept.
    """
    from huggingface_hub.errors import HfHubHTTPError

    try:
        api.create_repo(space_id, repo_type="space", space_sdk="static", exist_ok=False,
                        private=private)
    except HfHubHTTPError as exc:
        if getattr(exc.response, "status_code", None) != 409:
            raise


def _map_http_error(exc: Any, space_id: str) -> DeployError:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status == 401:
        return AuthError(f"the Hub rejected the token for Space '{space_id}' (401)")
    if status == 403:
        owner = space_id.split("/")[0]
        return AuthError(f"the token may not write to '{owner}' (403)",
                         hint=f"use a token with write access to {owner}, or pick a Space "
                              "id in your own namespace")
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DeployError(f"push to Space '{space_id}' failed ({status}): {first}",
                       hint="check the Space id and try again")
