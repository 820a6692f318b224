"""Moving files to and from a Space: input values as FileData, capped streaming downloads.

Downloads stream into a temporary sibling (:func:`spacesmith.tools.files.atomic_output`) that
is renamed into place only when complete, so a failed or truncated download never leaves a
partial file under the real name.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from spacesmith.tools.errors import DownloadError, TransientSpaceError
from spacesmith.tools.files import atomic_output
from spacesmith.tools.spaces.filedata import FILEDATA, is_filedata
from spacesmith.tools.spaces.http_errors import raise_for_status, transport_error


def is_remote(value: object) -> bool:
    """Whether a file input is a URL (passed on as is) rather than a local path."""
    return isinstance(value, str) and value.startswith(("http://", "https://", "data:"))


def remote_filedata(value: Any) -> Any:
    """A URL or FileData input, as the FileData the Space expects."""
    if is_filedata(value) or not isinstance(value, str):
        return value
    name = urlsplit(value).path.rsplit("/", 1)[-1] if value.startswith("http") else "file"
    return {"path": value, "url": value, "meta": {"_type": FILEDATA}, "orig_name": name or "file"}


def download(
    http: httpx.Client,
    url: str,
    target: Path,
    *,
    headers: dict[str, str],
    cap: int,
    timeout: float,
    space: str,
    endpoint: str | None,
    deadline_passed: Any,
) -> None:
    """Stream ``url`` into ``target`` (``data:`` URLs are decoded in place).

    Args:
        http: the Space's client.
        url: where to fetch from (on the Space's own host).
        target: the final path.
        headers: the request headers (the token, when allowed).
        cap: the largest size accepted, in bytes.
        timeout: the per-request timeout in seconds.
        space: the Space, for messages.
        endpoint: the endpoint, for messages.
        deadline_passed: a callable telling whether the caller's deadline has passed.

    Raises:
        DownloadError: a 4xx answer, or a file over ``cap``.
        TransientSpaceError: a 5xx, a broken connection or a truncated body (worth retrying).
        SpaceTimeoutError: the connection failed after the deadline.
    """
    if url.startswith("data:"):
        data = _decode_data_url(url, cap, space=space, endpoint=endpoint)
        with atomic_output(target) as fh:
            fh.write(data)
        return
    try:
        # httpx drops the Authorization header when a redirect leaves the origin.
        with http.stream("GET", url, headers=headers, timeout=timeout,
                         follow_redirects=True) as resp:
            if resp.status_code != 200:
                resp.read()
                raise_for_status(resp, space=space, endpoint=endpoint, what="download")
                raise DownloadError(f"GET {url} answered HTTP {resp.status_code}, not 200",
                                    space=space, endpoint=endpoint)
            declared = resp.headers.get("content-length", "")
            expected = int(declared) if declared.isdigit() else None
            received = 0
            with atomic_output(target) as fh:
                for chunk in resp.iter_bytes(1 << 20):
                    received += len(chunk)
                    if max(received, expected or 0) > cap:
                        raise DownloadError(
                            f"{target.name} is over the {cap:,}-byte cap "
                            f"({max(received, expected or 0):,} bytes)", space=space,
                            endpoint=endpoint,
                            hint="raise max_download_bytes if the file is legitimately large")
                    fh.write(chunk)
                if expected is not None and received != expected:
                    raise TransientSpaceError(
                        f"{target.name} was truncated ({received:,} of {expected:,} bytes)",
                        space=space, endpoint=endpoint)
    except httpx.HTTPError as exc:
        raise transport_error(exc, space=space, endpoint=endpoint, what="download",
                              deadline_passed=bool(deadline_passed())) from exc


def _decode_data_url(url: str, cap: int, *, space: str, endpoint: str | None) -> bytes:
    """The bytes of a base64 ``data:`` URL, within ``cap``."""
    head, comma, payload = url.partition(",")
    if not comma or not head.endswith(";base64"):
        raise DownloadError("a data: URL output is not base64 data", space=space,
                            endpoint=endpoint)
    if len(payload) * 3 // 4 > cap:
        raise DownloadError(f"a data: URL output is over the {cap:,}-byte cap", space=space,
                            endpoint=endpoint,
                            hint="raise max_download_bytes if the file is legitimately large")
    try:
        return base64.b64decode(payload, validate=True)
    except ValueError as exc:  # binascii.Error
        raise DownloadError(f"a data: URL output is not valid base64 ({exc})", space=space,
                            endpoint=endpoint) from exc
