"""The Space calls of one agent run: clients, the content cache, the journal, the budget.

The token lives here, inside the client objects, and nowhere in the executor's state:
tools hold a reference to the session, and the agent's code sees only
:class:`SpaceResult` values.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.cache import CallCache, Journal, call_key, fan_out
from tools.errors import AgentError, SpaceError, WorkspaceError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
SPLAT_SUFFIXES = (".ply", ".splat", ".ksplat", ".spz")


def param_attr(param: Any, name: str, default: Any) -> Any:
    """An attribute of a schema object, tolerant of the few spellings in use."""
    return getattr(param, name, default)


@dataclass(frozen=True)
class SpaceResult:
    """What one Space call produced; its ``repr`` shows the files, which is what matters."""

    tool: str
    files: tuple[str, ...]
    values: tuple[str, ...]
    cached: bool
    elapsed_s: float
    attempts: int

    @property
    def image(self) -> str | None:
        """The first image file, or None."""
        return next((f for f in self.files if f.lower().endswith(IMAGE_SUFFIXES)), None)

    @property
    def splat(self) -> str | None:
        """The first splat file, or None."""
        return next((f for f in self.files if f.lower().endswith(SPLAT_SUFFIXES)), None)

    def __repr__(self) -> str:
        how = "cached" if self.cached else f"{self.elapsed_s:.1f}s, {self.attempts} attempt(s)"
        values = f", values={list(self.values)!r}" if self.values else ""
        return f"SpaceResult({self.tool}: files={list(self.files)!r}{values}, {how})"

    __str__ = __repr__


def _short_values(outputs: Any) -> tuple[str, ...]:
    """Non-file outputs, shortened, for the model to read (HTML, paths, FileData skipped)."""
    items = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    shown: list[str] = []
    for item in items:
        if isinstance(item, (dict, list)) or item is None:
            continue
        text = " ".join(str(item).split())
        if text.startswith(("<", "/")) or ".staging-" in text:
            continue
        shown.append(text if len(text) <= 160 else text[:159] + "…")
    return tuple(shown)


Connector = Callable[..., Any]


class SpaceSession:
    """Connects to Spaces and makes cached, journaled, budgeted calls.

    Args:
        workspace: the run's folder (``cache/`` and ``journal.jsonl`` live there).
        run_id: tags this run's journal events.
        token: the Hugging Face token or None; handed to clients only.
        max_calls: uncached calls allowed in this session.
        max_workers: concurrency bound of :meth:`call_many` (per call of it).
        timeout: deadline of one call, seconds.
        progress: receives the clients' progress events.
        connector: ``SpaceClient.connect`` or a stand-in with the same signature.
    """

    def __init__(self, workspace: Path, *, run_id: str, token: str | None, max_calls: int,
                 max_workers: int = 6, timeout: float | None = 900.0,
                 progress: Callable[[Any], None] | None = None,
                 connector: Connector | None = None) -> None:
        self.workspace = workspace.resolve()
        self.run_id = run_id
        self._token = token
        self.max_calls = max_calls
        self.max_workers = max_workers
        self.timeout = timeout
        self.progress = progress
        self.cache = CallCache(self.workspace / "cache")
        self.journal = Journal(self.workspace / "journal.jsonl")
        self.clients: dict[str, Any] = {}
        self.calls_made = 0
        self.calls_cached = 0
        self._lock = threading.Lock()
        if connector is None:
            from tools.space_client import SpaceClient

            connector = SpaceClient.connect
        self._connect = connector

    def connect(self, space: str) -> Any:
        """The client for ``space``, connecting (discovery + /info) on first use."""
        if space not in self.clients:
            client = self._connect(space, token=self._token, progress=self._on_progress)
            self.clients[space] = client
            self.journal.append({"run_id": self.run_id, "kind": "discover", "space": space,
                                 "endpoints": list(client.endpoints)})
        return self.clients[space]

    def _on_progress(self, event: Any) -> None:
        if self.progress is not None:
            self.progress(event)

    def call(self, tool: str, space: str, endpoint: Any, arguments: Mapping[str, Any],
             file_params: set[str], *, identity: str | None = None) -> SpaceResult:
        """Make one call, or return the stored result of the same call.

        Args:
            tool: the calling tool's name (for the journal).
            space: the Space as configured (what the client connects to).
            endpoint: the schema ``Endpoint``.
            arguments: the call's arguments; None values are left out.
            file_params: which arguments are files (inside the workspace).
            identity: the stable name the cache keys the Space by (default ``space``).

        Raises:
            WorkspaceError: a file argument is outside the workspace.
            AgentError: the run's Space call budget is spent.
            SpaceError: the call failed (the client's typed error, with its hint).
        """
        args = {k: v for k, v in arguments.items() if v is not None}
        for name in file_params & set(args):
            args[name] = str(self.confine_input(args[name], name))
        key = call_key(identity or space, endpoint.name, args, file_params)
        stored = self.cache.lookup(key)
        if stored is not None:
            with self._lock:
                self.calls_cached += 1
            self._record(tool, space, endpoint.name, key, cached=True,
                         elapsed_s=stored.elapsed_s, attempts=0)
            return self._result(tool, stored.files, stored.outputs, True, 0.0, 0)
        with self._lock:
            if self.calls_made >= self.max_calls:
                raise AgentError(f"the run's budget of {self.max_calls} Space calls is spent",
                                 hint="finish with what you have, or raise max_space_calls")
            self.calls_made += 1
        client = self.connect(space)
        staging = self.cache.staging()
        start = time.monotonic()
        try:
            call_args = {k: (Path(v) if k in file_params else v) for k, v in args.items()}
            result = client.call(endpoint.name, call_args, out_dir=staging, timeout=self.timeout)
        except SpaceError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            self._record(tool, space, endpoint.name, key, cached=False,
                         elapsed_s=time.monotonic() - start, attempts=None, error=str(exc))
            raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        stored = self.cache.commit(key, staging, space=space, endpoint=endpoint.name,
                                   outputs=_jsonable(result.outputs), files=list(result.files),
                                   elapsed_s=result.elapsed_s, attempts=result.attempts)
        self._record(tool, space, endpoint.name, key, cached=False, elapsed_s=result.elapsed_s,
                     attempts=result.attempts)
        return self._result(tool, stored.files, stored.outputs, False, result.elapsed_s,
                            result.attempts)

    def call_many(self, tool: str, space: str, endpoint: Any,
                  argument_list: Sequence[Mapping[str, Any]], file_params: set[str], *,
                  identity: str | None = None) -> list[SpaceResult]:
        """Many calls to one endpoint, ``max_workers`` at a time, results in order."""
        return fan_out(lambda args: self.call(tool, space, endpoint, args, file_params,
                                              identity=identity),
                       list(argument_list), max_workers=self.max_workers)

    def confine_input(self, value: Any, name: str) -> Path:
        """A file argument as a path inside the workspace.

        Raises:
            WorkspaceError: the file is outside the workspace or missing.
        """
        path = Path(str(value))
        path = (self.workspace / path).resolve() if not path.is_absolute() else path.resolve()
        if not path.is_relative_to(self.workspace):
            raise WorkspaceError(f"file argument {name}={value!s} is outside the workspace "
                                 f"{self.workspace}", hint="pass a file the run produced")
        if not path.is_file():
            raise WorkspaceError(f"file argument {name}={value!s} does not exist",
                                 hint="pass the .image or .splat of an earlier SpaceResult")
        return path

    def _record(self, tool: str, space: str, endpoint: str, key: str, *, cached: bool,
                elapsed_s: float, attempts: int | None, error: str | None = None) -> None:
        event: dict[str, Any] = {"run_id": self.run_id, "kind": "call", "tool": tool,
                                 "space": space, "endpoint": endpoint, "key": key[:16],
                                 "cached": cached, "elapsed_s": round(elapsed_s, 3),
                                 "attempts": attempts}
        if error is not None:
            event["error"] = error
        self.journal.append(event)

    def _result(self, tool: str, files: Sequence[Path], outputs: Any, cached: bool,
                elapsed_s: float, attempts: int) -> SpaceResult:
        """A result whose file paths are relative to the workspace (short, portable)."""
        names = tuple(f.resolve().relative_to(self.workspace).as_posix() for f in files)
        return SpaceResult(tool, names, _short_values(outputs), cached, round(elapsed_s, 3),
                           attempts)

    def close(self) -> None:
        """Close every client."""
        for client in self.clients.values():
            close = getattr(client, "close", None)
            if close is not None:
                close()
        self.clients.clear()




def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)
