"""Gradio's FileData and ``gr.update`` wrappers, in a Space's outputs.

Outputs are JSON: a FileData is a dict whose ``meta._type`` is ``gradio.FileData`` (older
servers: a dict with ``path`` and ``url``/``orig_name``), possibly wrapped in
``{"__type__": "update", "value": …}`` and nested in lists (galleries) or dicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

FILEDATA = "gradio.FileData"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 100


def is_filedata(value: Any) -> bool:
    """Whether a JSON value is a FileData dict."""
    if not isinstance(value, dict) or not isinstance(value.get("path"), str):
        return False
    meta = value.get("meta")
    if isinstance(meta, dict):
        return meta.get("_type") == FILEDATA
    return "url" in value or "orig_name" in value


def unwrap_updates(value: Any) -> Any:
    """Replace every ``gr.update`` wrapper by the value it carries (``None`` if none)."""
    if isinstance(value, dict):
        if value.get("__type__") == "update":
            return unwrap_updates(value.get("value"))
        return {k: unwrap_updates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_updates(v) for v in value]
    return value


def find_files(value: Any) -> list[dict[str, Any]]:
    """Every FileData in a JSON value, depth first, in order."""
    if is_filedata(value):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in find_files(v)]
    if isinstance(value, list):
        return [f for v in value for f in find_files(v)]
    return []


def replace_files(value: Any, replace: Callable[[dict[str, Any]], Any]) -> Any:
    """A copy of a JSON value with each FileData replaced by ``replace(filedata)``."""
    if is_filedata(value):
        return replace(value)
    if isinstance(value, dict):
        return {k: replace_files(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_files(v, replace) for v in value]
    return value


def filedata(server_path: str, orig_name: str) -> dict[str, Any]:
    """The FileData to pass for a file uploaded to ``server_path``."""
    return {"path": server_path, "meta": {"_type": FILEDATA}, "orig_name": orig_name}


def safe_name(name: str, taken: set[str]) -> str:
    """A file name safe to write anywhere: no directories, no odd characters, not in
    ``taken`` (a ``-2``, ``-3``… suffix is added), at most 100 characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = _UNSAFE.sub("_", base).strip("._") or "file"
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = suffix[:16]
    stem = stem[: MAX_NAME - len(suffix) - 4] or "file"
    candidate = f"{stem}.{suffix}" if suffix else stem
    number = 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem}-{number}.{suffix}" if suffix else f"{stem}-{number}"
    taken.add(candidate.lower())
    return candidate
