"""The channel between the run and the agent-code process: length-prefixed JSON, size-capped.

Nothing crossing it is ever unpickled: a message is a 4-byte big-endian length and that many
bytes of UTF-8 JSON. Values the tools return become plain JSON; an object (a ``SpaceResult``,
a ``FixedSplat``) becomes a *record* ``{"$r": kind, "a": {attribute: value}, "s": repr}``,
which the child shows to agent code as a read-only :class:`Record` with the same attributes
and ``repr``. A dict that itself has a ``"$r"`` key travels as ``{"$d": dict}``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import select
import socket
import struct
import time
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

HEADER = struct.Struct(">I")
MAX_DEPTH = 40
MAX_TEXT = 4000


class ChannelError(Exception):
    """The other side broke the protocol, closed the channel or sent too much."""


def dumps(message: Mapping[str, Any]) -> bytes:
    """One framed message."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=True).encode("utf-8", "surrogatepass")
    return HEADER.pack(len(body)) + body


def send(sock: socket.socket, message: Mapping[str, Any]) -> None:
    """Send one message (blocking)."""
    sock.sendall(dumps(message))


def parse(body: bytes) -> dict[str, Any]:
    """A message body as a dict, or :class:`ChannelError`."""
    try:
        found = json.loads(body.decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError) as exc:
        raise ChannelError(f"unreadable message: {type(exc).__name__}") from exc
    if not isinstance(found, dict) or not isinstance(found.get("t"), str):
        raise ChannelError("a message must be an object with a type 't'")
    return found


def recv_blocking(sock: socket.socket, limit: int) -> dict[str, Any]:
    """Receive one message, waiting as long as it takes (the child's side)."""
    header = _read_exact(sock, HEADER.size)
    (size,) = HEADER.unpack(header)
    if size > limit:
        raise ChannelError(f"a message of {size} bytes is over the {limit}-byte cap")
    return parse(_read_exact(sock, size))


def _read_exact(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ChannelError("the channel was closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class Reader:
    """Reads messages without ever blocking past a deadline (the parent's side).

    Args:
        sock: the parent's end of the channel.
        limit: the largest message accepted, in bytes.
    """

    def __init__(self, sock: socket.socket, limit: int) -> None:
        self.sock = sock
        self.limit = limit
        self.buffer = bytearray()

    def poll(self, timeout: float) -> dict[str, Any] | None:
        """A complete message, or None when none arrived within ``timeout`` seconds.

        Raises:
            ChannelError: the child closed the channel, or sent an oversized or bad message.
        """
        end = time.monotonic() + max(timeout, 0.0)
        while True:
            message = self._take()
            if message is not None:
                return message
            left = end - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                return None
            try:
                chunk = self.sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:
                raise ChannelError(f"the channel failed: {exc}") from exc
            if not chunk:
                raise ChannelError("the channel was closed")
            self.buffer += chunk

    def _take(self) -> dict[str, Any] | None:
        if len(self.buffer) < HEADER.size:
            return None
        (size,) = HEADER.unpack(self.buffer[:HEADER.size])
        if size > self.limit:
            raise ChannelError(f"a message of {size:,} bytes is over the {self.limit:,}-byte cap")
        if len(self.buffer) < HEADER.size + size:
            return None
        body = bytes(self.buffer[HEADER.size:HEADER.size + size])
        del self.buffer[:HEADER.size + size]
        return parse(body)


# --- values ---------------------------------------------------------------------------------


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more chars)"


def _safe_repr(value: Any) -> str:
    try:
        return _clip(repr(value))
    except Exception as exc:  # a hostile or broken __repr__
        return f"<{type(value).__name__}: repr failed ({type(exc).__name__})>"


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as wire JSON (see the module docstring); objects become records."""
    if depth > MAX_DEPTH:
        raise ValueError("the value nests too deeply to be sent")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= 256 else {"$r": "int", "a": {}, "s": _clip(
            str(value) if value.bit_length() < 13000 else "<int too large to show>")}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$r": "float", "a": {}, "s": repr(value)}
    if isinstance(value, (list, tuple)):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        out = {str(k): encode(v, depth + 1) for k, v in value.items()}
        return {"$d": out} if "$r" in out or "$d" in out else out
    if isinstance(value, PurePath):
        return str(value)
    return _record(value, depth)


def _record(value: Any, depth: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    kind = type(value).__name__
    if isinstance(value, Record):
        attrs = {k: encode(v, depth + 1) for k, v in value.attributes.items()}
        return {"$r": value.kind, "a": attrs, "s": value.text}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if not f.name.startswith("_"):
                attrs[f.name] = encode(getattr(value, f.name), depth + 1)
        for name in dir(type(value)):
            if not name.startswith("_") and isinstance(getattr(type(value), name), property):
                try:
                    attrs[name] = encode(getattr(value, name), depth + 1)
                except Exception:  # a property that fails is left out
                    continue
    return {"$r": kind, "a": attrs, "s": _safe_repr(value)}


class Record:
    """A read-only object rebuilt from a record: its attributes and its ``repr``."""

    __slots__ = ("attributes", "kind", "text")

    def __init__(self, kind: str, attributes: dict[str, Any], text: str) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "attributes", attributes)
        object.__setattr__(self, "text", text)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.attributes[name]
        except KeyError:
            raise AttributeError(f"{self.kind} has no attribute {name!r}; it has: "
                                 f"{', '.join(self.attributes) or 'none'}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self.kind} is read-only")

    def __repr__(self) -> str:
        return str(self.text)

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Record) and other.kind == self.kind
                and other.attributes == self.attributes)

    def __hash__(self) -> int:
        return hash((self.kind, self.text))

    def to_dict(self) -> dict[str, Any]:
        """The attributes as a plain dict."""
        return dict(self.attributes)


def decode(value: Any, *, records: bool = True, depth: int = 0) -> Any:
    """Wire JSON back to values: records become :class:`Record` objects (``records=True``,
    the child) or plain dicts of their attributes (the parent, for tool arguments)."""
    if depth > MAX_DEPTH + 2:
        raise ValueError("the value nests too deeply")
    if isinstance(value, list):
        return [decode(v, records=records, depth=depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    if "$d" in value and len(value) == 1 and isinstance(value["$d"], dict):
        return {str(k): decode(v, records=records, depth=depth + 1)
                for k, v in value["$d"].items()}
    if "$r" in value:
        found = value.get("a")
        attrs: dict[str, Any] = found if isinstance(found, dict) else {}
        decoded = {str(k): decode(v, records=records, depth=depth + 1) for k, v in attrs.items()}
        text = str(value.get("s", ""))[:MAX_TEXT * 2]
        if records:
            return Record(str(value["$r"])[:100], decoded, text)
        return decoded if decoded else text
    return {str(k): decode(v, records=records, depth=depth + 1) for k, v in value.items()}
