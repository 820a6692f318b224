"""The session's bounded re-calls: which failures are worth another call, corrupt outputs
never cached, a broken cache entry evicted, and one-line errors naming the Space."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from spacesmith.agent.calls.cache import call_key
from spacesmith.agent.calls.session import SpaceSession
from spacesmith.tools.errors import (
    AppError,
    BadOutputError,
    ParameterError,
    QuotaError,
    SpaceError,
    SpaceTimeoutError,
    TransientSpaceError,
)
from spacesmith.tools.splat.synthetic import write_test_ply

SPACE = "owner/splatter"
KEY = call_key(SPACE, "/generate", {"seed": 1}, set())


@dataclass
class Endpoint:
    name: str = "/generate"
    parameters: tuple[Any, ...] = ()


@dataclass
class Result:
    space: str
    outputs: list[Any]
    files: list[Path]
    elapsed_s: float = 0.01
    attempts: int = 1


def good_ply(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "splat.ply"
    write_test_ply(path, n=1500)
    return path


def cut_ply(out_dir: Path) -> Path:
    path = good_ply(out_dir)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


@dataclass
class FakeClient:
    """Plays a script: each call takes the next step (an exception, or a file maker)."""

    script: list[SpaceError | Callable[[Path], Path]]
    calls: int = 0
    endpoints: dict[str, Any] = field(default_factory=lambda: {"/generate": Endpoint()})

    def call(self, endpoint: str, arguments: Any, *, out_dir: Path,
             timeout: float | None, **watch: Any) -> Result:
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(step, SpaceError):
            raise step
        path = step(out_dir)
        return Result(SPACE, [str(path)], [path])


def session_for(tmp_path: Path, client: FakeClient, *, attempts: int = 3,
                timeout: float = 5.0) -> SpaceSession:
    return SpaceSession(tmp_path / "ws", run_id="t", token=None, max_calls=10,
                        timeout=timeout, call_attempts=attempts,
                        connector=lambda space, **kw: client)


def call(session: SpaceSession, seed: int = 1) -> Any:
    return session.call("splat", SPACE, Endpoint(), {"seed": seed}, set())


def app_error() -> AppError:
    return AppError("the app raised: boom", space=SPACE, endpoint="/generate")


@pytest.mark.parametrize("error", [
    AppError("the app raised: boom", space=SPACE, endpoint="/generate"),
    SpaceTimeoutError("no result within 2 s", space=SPACE, endpoint="/generate"),
    TransientSpaceError("HTTP 503", space=SPACE, endpoint="/generate"),
    QuotaError("ZeroGPU refused", space=SPACE, endpoint="/generate", retry_after_s=0.01),
])
def test_a_failure_worth_repeating_is_called_again(tmp_path: Path, error: SpaceError) -> None:
    client = FakeClient([error, good_ply])
    session = session_for(tmp_path, client)
    result = call(session)
    assert client.calls == 2 and session.recalls == 1
    assert result.splat and (session.workspace / result.splat).is_file()
    kinds = [e["kind"] for e in session.journal.read()]
    assert kinds.count("call_start") == 2 and "call_retry" in kinds


def test_a_corrupt_ply_is_never_cached_and_the_call_is_made_again(tmp_path: Path) -> None:
    client = FakeClient([cut_ply, good_ply])
    session = session_for(tmp_path, client)
    result = call(session)
    assert client.calls == 2
    retry = next(e for e in session.journal.read() if e["kind"] == "call_retry")
    assert "unreadable splat.ply" in retry["error"] and SPACE in retry["error"]
    from spacesmith.tools.splat.io import read_splat_file

    assert len(read_splat_file(session.workspace / str(result.splat)).positions) == 1500
    assert not [p for p in (session.workspace / "cache").iterdir()
                if p.name.startswith(".")]  # no staging folder left


def test_re_calls_are_bounded_and_the_error_says_so(tmp_path: Path) -> None:
    client = FakeClient([cut_ply])
    session = session_for(tmp_path, client, attempts=3)
    with pytest.raises(BadOutputError) as caught:
        call(session)
    assert client.calls == 3
    message = str(caught.value)
    assert "\n" not in message and f"Space '{SPACE}'" in message
    assert "made 3 times" in message
    assert session.cache.lookup(KEY) is None


@pytest.mark.parametrize("error", [
    ParameterError("no such parameter", space=SPACE),
    QuotaError("ZeroGPU refused: retry in 1:00:00", space=SPACE, retry_after_s=3600.0),
    QuotaError("ZeroGPU refused", space=SPACE),
])
def test_a_failure_not_worth_repeating_fails_at_once(tmp_path: Path, error: SpaceError) -> None:
    client = FakeClient([error, good_ply])
    session = session_for(tmp_path, client)
    with pytest.raises(type(error)) as caught:
        call(session)
    assert client.calls == 1 and session.recalls == 0
    assert str(caught.value).startswith(f"Space '{SPACE}'")


def test_a_broken_cache_entry_is_evicted_and_made_again(tmp_path: Path) -> None:
    client = FakeClient([good_ply])
    session = session_for(tmp_path, client)
    first = call(session)
    stored = session.workspace / str(first.splat)
    stored.write_bytes(stored.read_bytes()[:100])  # damaged on disk after it was stored
    again = call(session)
    assert client.calls == 2 and not again.cached
    assert session.cache.lookup(KEY) is not None


def test_a_finished_call_is_served_from_the_cache(tmp_path: Path) -> None:
    client = FakeClient([good_ply])
    session = session_for(tmp_path, client)
    call(session)
    assert call(session).cached and client.calls == 1


def test_a_torn_journal_line_is_skipped_and_ended(tmp_path: Path) -> None:
    from spacesmith.agent.calls.cache import Journal

    path = tmp_path / "journal.jsonl"
    path.write_text('{"kind": "call", "key": "a"}\n{"kind": "call_st', encoding="utf-8")
    journal = Journal(path)
    assert [e["key"] for e in journal.read()] == ["a"]
    journal.append({"kind": "call", "key": "b"})
    assert [e["key"] for e in journal.read()] == ["a", "b"]


def test_leftovers_of_a_killed_run_are_swept(tmp_path: Path) -> None:
    from spacesmith.agent.runs.workspace import Workspace

    root = tmp_path / "ws"
    (root / "cache" / ".staging-abc" / "files").mkdir(parents=True)
    (root / ".site-xyz").mkdir(parents=True)
    (root / "splats" / "web").mkdir(parents=True)
    (root / "splats" / "web" / ".louvre.spz.k2j3.tmp").write_bytes(b"half")
    (root / "gallery.json").write_text("{}", encoding="utf-8")
    Workspace(root)
    session_for(tmp_path, FakeClient([good_ply]))
    left = sorted(p.name for p in root.rglob("*") if p.name.startswith("."))
    assert left == [] and (root / "gallery.json").is_file()
