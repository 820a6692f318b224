"""The Space call cache, the run journal, and the bounded fan-out.

A Space call is keyed by its content: the Space, the endpoint, the arguments, and the
SHA-256 of every input file. A finished call is stored as ``cache/<key>/`` holding
``call.json`` (outputs, timing, attempts) and the downloaded files, so a rerun, a chat
turn or a resumed run never repeats it. The journal (``journal.jsonl``) records every
call, cached or not, for the report.

Crash safety: a call is downloaded into ``cache/.staging-*``, its files and ``call.json``
are fsynced, and the folder is renamed into place (then the cache folder is fsynced), all
before the journal records the call as finished. A process killed at any moment leaves
either a complete entry or a staging folder, which the next run removes
(:meth:`CallCache.sweep`). A journal line cut short by a kill is skipped when read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from spacesmith.tools.errors import AgentError
from spacesmith.tools.redact import scrub

CACHE_VERSION = 1
KEY_CHARS = 24  # folder names: 96 bits of the SHA-256 are plenty for one workspace
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class StoredCall:
    """A finished Space call as kept in the cache."""

    key: str
    space: str
    endpoint: str
    outputs: Any
    files: tuple[Path, ...]
    elapsed_s: float
    attempts: int
    run_s: float | None = None  # the Space's working time (its queue wait left out)


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def call_key(space: str, endpoint: str, arguments: Mapping[str, Any], file_params: set[str]) -> str:
    """The content key of a call: file arguments count by their bytes, not their path.

    Args:
        space: a stable name of the Space (its id or base URL).
        endpoint: the endpoint name.
        arguments: the call's arguments.
        file_params: names of the arguments that are files.

    Returns:
        A 64-character hex key.
    """
    normal: dict[str, Any] = {}
    for name, value in sorted(arguments.items()):
        if name in file_params and value is not None and Path(str(value)).is_file():
            normal[name] = {"sha256": file_digest(Path(str(value)))}
        else:
            normal[name] = value
    blob = json.dumps(
        {"v": CACHE_VERSION, "space": space, "endpoint": endpoint, "args": normal},
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class CallCache:
    """Finished Space calls under ``root``, one folder per key, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def lookup(self, key: str) -> StoredCall | None:
        """The stored call for ``key``, or None (also when its files went missing or its
        record cannot be read: such an entry is evicted, so the call is made again)."""
        folder = self.root / key[:KEY_CHARS]
        meta_path = folder / "call.json"
        if not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            files = tuple(folder / "files" / str(name) for name in meta["files"])
            stored = StoredCall(
                key=key,
                space=str(meta["space"]),
                endpoint=str(meta["endpoint"]),
                outputs=meta["outputs"],
                files=files,
                elapsed_s=float(meta["elapsed_s"]),
                attempts=int(meta["attempts"]),
                run_s=float(meta["run_s"]) if meta.get("run_s") is not None else None,
            )
        except (OSError, ValueError, KeyError, TypeError):
            self.evict(key)
            return None
        if not all(f.is_file() for f in files):
            self.evict(key)
            return None
        return stored

    def evict(self, key: str) -> None:
        """Forget the stored call for ``key`` (a later call makes it again)."""
        folder = self.root / key[:KEY_CHARS]
        if not folder.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        doomed = Path(tempfile.mkdtemp(prefix=".evicted-", dir=self.root))
        with contextlib.suppress(OSError):  # OSError: another worker evicted it first
            os.replace(folder, doomed / "entry")  # one rename: the key is gone at once
        shutil.rmtree(doomed, ignore_errors=True)

    def sweep(self) -> int:
        """Remove what killed runs left behind (staging and evicted folders).

        Call it only when no other process works in this cache.

        Returns:
            How many leftovers were removed.
        """
        if not self.root.is_dir():
            return 0
        removed = 0
        for entry in self.root.iterdir():
            if entry.name.startswith((".staging-", ".evicted-")):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed

    def staging(self) -> Path:
        """A fresh folder to download a call's files into before :meth:`commit`."""
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))

    def commit(
        self,
        key: str,
        staging: Path,
        *,
        space: str,
        endpoint: str,
        outputs: Any,
        files: Sequence[Path],
        elapsed_s: float,
        attempts: int,
        run_s: float | None = None,
    ) -> StoredCall:
        """Move a finished call from ``staging`` into the cache, atomically.

        Args:
            key: the call's content key.
            staging: the folder from :meth:`staging` that holds the downloaded files.
            space: the Space name, for the record.
            endpoint: the endpoint name.
            outputs: the call's JSON outputs.
            files: the downloaded files (anywhere under ``staging``).
            elapsed_s: wall time of the call.
            attempts: how many tries it took.
            run_s: the time the Space worked on it (queue wait left out), when known.

        Returns:
            The stored call, its files inside the cache.
        """
        files_dir = staging / "files"
        files_dir.mkdir(exist_ok=True)
        names: list[str] = []
        for src in files:
            dst = files_dir / _unique_name(files_dir, src.name)
            if src.resolve() != dst.resolve():
                shutil.move(str(src), dst)
            names.append(dst.name)
        meta = {
            "space": space,
            "endpoint": endpoint,
            "outputs": outputs,
            "files": names,
            "elapsed_s": elapsed_s,
            "attempts": attempts,
            "run_s": run_s,
            "stored_at": time.time(),
        }
        (staging / "call.json").write_text(scrub(json.dumps(meta, default=str)),
                                           encoding="utf-8")
        for name in [*names, None]:
            _fsync_file(files_dir / name if name is not None else staging / "call.json")
        _fsync_dir(files_dir)
        _fsync_dir(staging)
        target = self.root / key[:KEY_CHARS]
        try:
            os.replace(staging, target)
        except OSError:  # another worker stored the same call first: keep theirs
            shutil.rmtree(staging, ignore_errors=True)
        _fsync_dir(self.root)
        stored = self.lookup(key)
        if stored is None:
            raise AgentError(f"the Space call cache at {target} is unreadable", hint="delete it")
        return stored


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unique_name(folder: Path, name: str) -> str:
    candidate, n = name, 1
    while (folder / candidate).exists():
        stem, dot, ext = name.partition(".")
        candidate = f"{stem}-{n}{dot}{ext}"
        n += 1
    return candidate


class Journal:
    """An append-only JSON-lines record of a workspace's Space calls and runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._tail_checked = False

    def append(self, event: Mapping[str, Any]) -> None:
        """Append one event as a single line (one ``write`` call, so lines never interleave)."""
        line = scrub(json.dumps({"ts": round(time.time(), 3), **event}, default=str)) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if not self._tail_checked:  # a killed run may have left half a line: end it
                self._tail_checked = True
                if _ends_mid_line(self.path):
                    line = "\n" + line
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)

    def read(self, *, run_id: str | None = None) -> list[dict[str, Any]]:
        """The journal's events, optionally only those of one run.

        A line that does not parse (the tail of a run killed mid-write) is skipped.
        """
        if not self.path.is_file():
            return []
        events: list[dict[str, Any]] = []
        for line in self.path.read_text("utf-8", errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and (run_id is None or event.get("run_id") == run_id):
                events.append(event)
        return events


def _ends_mid_line(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) != b"\n"
    except OSError:
        return False


class FanOutError(AgentError):
    """Some calls of a fan-out failed; the others finished (and are cached)."""

    def __init__(self, failures: Sequence[tuple[int, BaseException]], total: int) -> None:
        self.failures = list(failures)
        first = "; ".join(f"#{i}: {exc}" for i, exc in self.failures[:3])
        super().__init__(
            f"{len(self.failures)} of {total} calls failed ({first})",
            hint="call again with the same arguments: finished calls come from the cache",
        )


def fan_out(fn: Callable[[T], R], items: Sequence[T], *, max_workers: int) -> list[R]:
    """Run ``fn`` over ``items`` on at most ``max_workers`` threads, results in order.

    Every item runs to the end even when some fail, so finished work is kept.

    Args:
        fn: the function to call for each item.
        items: the inputs.
        max_workers: the concurrency bound (1 runs them one at a time).

    Returns:
        The results, in the order of ``items``.

    Raises:
        FanOutError: one or more calls raised; it lists them.
    """
    if not items:
        return []
    workers = max(1, min(max_workers, len(items)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fan-out") as pool:
        futures = [pool.submit(fn, item) for item in items]
    results: list[R] = []
    failures: list[tuple[int, BaseException]] = []
    for i, future in enumerate(futures):
        exc = future.exception()
        if exc is not None:
            failures.append((i, exc))
        else:
            results.append(future.result())
    if failures:
        if len(items) == 1:
            raise failures[0][1]
        raise FanOutError(failures, len(items))
    return results
