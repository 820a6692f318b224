"""The Space calls of one agent run: clients, the content cache, the journal, the budget.

The token lives here, inside the client objects, and nowhere in the executor's state:
tools hold a reference to the session, and the agent's code sees only
:class:`SpaceResult` values.
"""

from __future__ import annotations

import functools
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spacesmith.agent.calls.cache import CallCache, Journal, StoredCall, call_key, fan_out
from spacesmith.agent.calls.outputs import IMAGE_SUFFIXES, check_file, check_outputs
from spacesmith.agent.calls.port import Connector, Progress, SpaceCaller
from spacesmith.tools.errors import (
    AgentError,
    SpaceError,
    SpaceStalledError,
    WorkspaceError,
)
from spacesmith.tools.spaces.retry import recall_wait
from spacesmith.tools.splat import SPLAT_SUFFIXES

if TYPE_CHECKING:
    from spacesmith.tools.spaces.client import CallResult, ProgressEvent
    from spacesmith.tools.spaces.schema import Endpoint
    from spacesmith.tools.spaces.stall import StallPolicy



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


class SpaceSession:
    """Connects to Spaces and makes cached, journaled, budgeted calls.

    Args:
        workspace: the run's folder (``cache/`` and ``journal.jsonl`` live there).
        run_id: tags this run's journal events.
        token: the Hugging Face token or None; handed to clients only.
        max_calls: uncached calls allowed in this session.
        max_workers: concurrency bound of :meth:`call_many` (per call of it).
        timeout: deadline of one call attempt, seconds (the client's retries included).
        call_attempts: how many times one call is made when it fails in a way worth
            repeating (see :func:`spacesmith.tools.spaces.retry.recall_wait`); each try
            downloads into a fresh staging
            folder, and only a checked result enters the cache.
        retry_backoff_s: the client's first wait before retrying a transport fault.
        progress: receives the clients' progress events.
        connector: ``SpaceClient.connect`` or a stand-in with the same signature.
        stall: when a call with no progress is given up (see
            :mod:`spacesmith.tools.spaces.stall`); ``None`` leaves only ``timeout``.
    """

    def __init__(self, workspace: Path, *, run_id: str, token: str | None, max_calls: int,
                 max_workers: int = 6, timeout: float | None = 900.0, call_attempts: int = 3,
                 retry_backoff_s: float | None = None,
                 progress: Progress | None = None,
                 connector: Connector | None = None,
                 stall: StallPolicy | None = None) -> None:
        self.workspace = workspace.resolve()
        self.run_id = run_id
        self._token = token
        self.max_calls = max_calls
        self.max_workers = max_workers
        self.timeout = timeout
        self.call_attempts = max(1, call_attempts)
        self.progress = progress
        self.cache = CallCache(self.workspace / "cache")
        self.cache.sweep()
        self.journal = Journal(self.workspace / "journal.jsonl")
        self.clients: dict[str, SpaceCaller] = {}
        self.calls_made = 0
        self.calls_cached = 0
        self.recalls = 0
        self.stall = stall
        self._durations: dict[tuple[str, str], list[float]] = {}
        self._aside: dict[str, str] = {}
        self._probation: dict[str, threading.Event] = {}
        self._abandon: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        if connector is None:
            from spacesmith.tools.spaces.client import SpaceClient
            from spacesmith.tools.spaces.retry import RetryPolicy

            connector = SpaceClient.connect
            if retry_backoff_s is not None:
                connector = functools.partial(
                    SpaceClient.connect,
                    retry=RetryPolicy(base_s=retry_backoff_s, max_s=max(30.0 * retry_backoff_s,
                                                                         retry_backoff_s)))
        self._connect = connector

    def connect(self, space: str) -> SpaceCaller:
        """The client for ``space``, connecting (discovery + /info) on first use."""
        if space not in self.clients:
            client = self._connect(space, token=self._token, progress=self._on_progress)
            self.clients[space] = client
            self.journal.append({"run_id": self.run_id, "kind": "discover", "space": space,
                                 "endpoints": list(client.endpoints)})
        return self.clients[space]

    def _on_progress(self, event: ProgressEvent) -> None:
        if self.progress is not None:
            self.progress(event)

    # --- Spaces set aside, expected durations ----------------------------------------------

    def set_aside(self, space: str, reason: str) -> None:
        """Use ``space`` no more in this run (it hung, or kept failing); ``reason`` says why."""
        with self._lock:
            if space in self._aside:
                return
            self._aside[space] = reason
        self._abandon_switch(space).set()  # its calls still under way end now
        self.journal.append({"run_id": self.run_id, "kind": "set_aside", "space": space,
                             "reason": reason})

    def probation(self, space: str) -> threading.Event:
        """The switch that puts ``space`` on probation (see ``StallPolicy``): set by whoever
        decides where calls go (the role pool) when the Space hung and no other can take its
        calls, cleared when it finishes a call."""
        with self._lock:
            return self._probation.setdefault(space, threading.Event())

    def _abandon_switch(self, space: str) -> threading.Event:
        with self._lock:
            return self._abandon.setdefault(space, threading.Event())

    def aside_reason(self, space: str) -> str | None:
        """Why ``space`` was set aside in this run, or None when it is in use."""
        return self._aside.get(space)

    def expected_s(self, identity: str, endpoint: str) -> float | None:
        """The longest a finished call to this endpoint took in this run (cached ones
        included), or None before the first."""
        seen = self._durations.get((identity, endpoint))
        return max(seen) if seen else None

    def _saw(self, identity: str, endpoint: str, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._durations.setdefault((identity, endpoint), []).append(seconds)

    # --- calls ------------------------------------------------------------------------

    def lookup(self, tool: str, space: str, endpoint: Endpoint, arguments: Mapping[str, Any],
               file_params: set[str], *, identity: str | None = None) -> SpaceResult | None:
        """The stored result of this call, or None (a broken stored file is evicted)."""
        args = self._arguments(arguments, file_params)
        key = call_key(identity or space, endpoint.name, args, file_params)
        return self._cached(tool, space, endpoint, key, identity or space)

    def _arguments(self, arguments: Mapping[str, Any], file_params: set[str]) -> dict[str, Any]:
        args = {k: v for k, v in arguments.items() if v is not None}
        for name in file_params & set(args):
            args[name] = str(self.confine_input(args[name], name))
        return args

    def _cached(self, tool: str, space: str, endpoint: Endpoint, key: str,
                identity: str) -> SpaceResult | None:
        stored = self.cache.lookup(key)
        if stored is not None and _unusable(stored.files):
            self.cache.evict(key)  # a broken file must not be served for ever: call again
            stored = None
        if stored is None:
            return None
        with self._lock:
            self.calls_cached += 1
        if stored.run_s is not None:  # the working time: a queue wait says nothing of it
            self._saw(identity, endpoint.name, stored.run_s)
        self._record(tool, space, endpoint.name, key, cached=True,
                     elapsed_s=stored.elapsed_s, attempts=0)
        return self._result(tool, stored.files, stored.outputs, True, 0.0, 0)

    def call(self, tool: str, space: str, endpoint: Endpoint, arguments: Mapping[str, Any],
             file_params: set[str], *, identity: str | None = None, label: str | None = None,
             attempts: int | None = None) -> SpaceResult:
        """Make one call, or return the stored result of the same call.

        Args:
            tool: the calling tool's name (for the journal).
            space: the Space as configured (what the client connects to).
            endpoint: the schema ``Endpoint``.
            arguments: the call's arguments; None values are left out.
            file_params: which arguments are files (inside the workspace).
            identity: the stable name the cache keys the Space by (default ``space``).
            label: names the call in progress lines (``"splat 3/6"``).
            attempts: how many times to make it (default ``call_attempts``); a call that
                hung is never made again here (the caller decides where it goes).

        Raises:
            WorkspaceError: a file argument is outside the workspace.
            AgentError: the run's Space call budget is spent.
            SpaceStalledError: the Space was set aside earlier in the run, or hung now.
            SpaceError: the call failed (the client's typed error, with its hint).
        """
        args = self._arguments(arguments, file_params)
        ident = identity or space
        key = call_key(ident, endpoint.name, args, file_params)
        hit = self._cached(tool, space, endpoint, key, ident)
        if hit is not None:
            return hit
        reason = self.aside_reason(space)
        if reason is not None:
            raise SpaceStalledError(f"set aside earlier in this run: {reason}", space=space,
                                    endpoint=endpoint.name)
        with self._lock:
            if self.calls_made >= self.max_calls:
                raise AgentError(f"the run's budget of {self.max_calls} Space calls is spent",
                                 hint="finish with what you have, or raise max_space_calls")
            self.calls_made += 1
        client = self.connect(space)
        call_args = {k: (Path(v) if k in file_params else v) for k, v in args.items()}
        start = time.monotonic()
        tries = self.call_attempts if attempts is None else max(1, attempts)
        watch = (ident, label, space)
        stall = (self.stall.watching(self.probation(space), self._abandon_switch(space))
                 if self.stall is not None else None)
        attempts = 0
        for recall in range(1, tries + 1):
            try:
                result, stored = self._attempt(client, tool, endpoint.name, key, call_args,
                                               recall, watch, stall)
            except SpaceError as exc:
                attempts += 1
                wait = recall_wait(exc, self.timeout)
                if recall >= tries or wait is None:
                    if recall > 1:
                        _note_tries(exc, recall)
                    self._record(tool, space, endpoint.name, key, cached=False,
                                 elapsed_s=time.monotonic() - start, attempts=attempts,
                                 error=str(exc), recalls=recall - 1)
                    raise
                self.journal.append({"run_id": self.run_id, "kind": "call_retry",
                                     "tool": tool, "key": key[:16], "attempt": recall,
                                     "error": str(exc), "wait_s": round(wait, 3)})
                with self._lock:
                    self.recalls += 1
                self._on_progress(_retrying_event(exc, endpoint.name, recall, wait))
                if wait > 0:
                    time.sleep(wait)
                continue
            attempts += result.attempts
            # the time the Space spent on it, not the wait in its queue (a call queued behind
            # a hang must not stretch the stall budget of every later call)
            run_s = getattr(result, "run_s", None)
            self._saw(ident, endpoint.name, run_s if run_s else result.elapsed_s)
            # the files are durably in the cache: only now is the call recorded finished
            self._record(tool, space, endpoint.name, key, cached=False,
                         elapsed_s=result.elapsed_s, attempts=attempts, recalls=recall - 1)
            return self._result(tool, stored.files, stored.outputs, False, result.elapsed_s,
                                attempts)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _attempt(self, client: SpaceCaller, tool: str, endpoint: str, key: str,
                 call_args: Mapping[str, Any], recall: int,
                 watch: tuple[str, str | None, str] = ("", None, ""),
                 stall: StallPolicy | None = None) -> tuple[CallResult, StoredCall]:
        """One call of the Space into a staging folder, checked, then committed to the cache.

        Raises:
            SpaceError: the client's error, or BadOutputError for an unreadable file.
        """
        staging = self.cache.staging()
        self.journal.append({"run_id": self.run_id, "kind": "call_start", "tool": tool,
                             "space": watch[2], "key": key[:16], "attempt": recall})
        identity, label, _ = watch
        try:
            result = client.call(endpoint, call_args, out_dir=staging, timeout=self.timeout,
                                 stall=stall, expected_s=self.expected_s(identity, endpoint),
                                 label=label)
            check_outputs(list(result.files), space=str(result.space), endpoint=endpoint)
            stored = self.cache.commit(key, staging, space=str(result.space),
                                       endpoint=endpoint, outputs=_jsonable(result.outputs),
                                       files=list(result.files), elapsed_s=result.elapsed_s,
                                       attempts=result.attempts,
                                       run_s=getattr(result, "run_s", None))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return result, stored

    def call_many(self, tool: str, space: str, endpoint: Endpoint,
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
                elapsed_s: float, attempts: int | None, error: str | None = None,
                recalls: int = 0) -> None:
        event: dict[str, Any] = {"run_id": self.run_id, "kind": "call", "tool": tool,
                                 "space": space, "endpoint": endpoint, "key": key[:16],
                                 "cached": cached, "elapsed_s": round(elapsed_s, 3),
                                 "attempts": attempts}
        if recalls:
            event["recalls"] = recalls
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
            client.close()
        self.clients.clear()




def worth_repeating(exc: SpaceError) -> bool:
    """True when the failure may pass on another try (see
    :func:`spacesmith.tools.spaces.retry.recall_wait`)."""
    return recall_wait(exc, None) is not None


def _note_tries(exc: SpaceError, tries: int) -> None:
    """Say in the error's one line how often the call was made."""
    exc.message = f"{exc.message} (made {tries} times, failed every time)"
    exc.args = (exc.message,)


def _unusable(files: Sequence[Path]) -> bool:
    return any(check_file(f) is not None for f in files)


def _retrying_event(exc: SpaceError, endpoint: str, attempt: int,
                    wait_s: float) -> ProgressEvent:
    from spacesmith.tools.spaces.client import ProgressEvent

    return ProgressEvent(exc.space, endpoint, "retrying",
                         f"call {attempt} failed: {exc.message}; calling again", wait_s)


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
