"""The Space call cache, the journal and the bounded fan-out."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from spacesmith.agent.calls.cache import CallCache, FanOutError, Journal, call_key, fan_out


def test_key_counts_file_arguments_by_content(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    c.write_bytes(b"other")
    key = call_key("s", "/generate", {"image": str(a), "seed": 1}, {"image"})
    assert key == call_key("s", "/generate", {"seed": 1, "image": str(b)}, {"image"})
    assert key != call_key("s", "/generate", {"image": str(c), "seed": 1}, {"image"})
    assert key != call_key("s", "/generate", {"image": str(a), "seed": 2}, {"image"})
    assert key != call_key("t", "/generate", {"image": str(a), "seed": 1}, {"image"})


def test_commit_then_lookup_round_trip(tmp_path: Path) -> None:
    cache = CallCache(tmp_path / "cache")
    assert cache.lookup("k" * 64) is None
    staging = cache.staging()
    (staging / "out.ply").write_bytes(b"ply")
    stored = cache.commit("k" * 64, staging, space="s", endpoint="/generate",
                          outputs=[{"path": "x"}, "caption"], files=[staging / "out.ply"],
                          elapsed_s=1.5, attempts=2)
    again = cache.lookup("k" * 64)
    assert again == stored
    assert again.files[0].read_bytes() == b"ply"
    assert again.files[0].is_relative_to(tmp_path / "cache")
    assert not staging.exists()
    again.files[0].unlink()
    assert cache.lookup("k" * 64) is None  # a damaged entry is a miss, never a broken hit


def test_journal_appends_and_filters(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append({"run_id": "a", "kind": "call"})
    journal.append({"run_id": "b", "kind": "call"})
    assert [e["run_id"] for e in journal.read()] == ["a", "b"]
    assert len(journal.read(run_id="a")) == 1


def test_fan_out_keeps_order_and_bounds_concurrency() -> None:
    lock, active, peak = threading.Lock(), [0], [0]
    gate = threading.Barrier(3, timeout=10)

    def work(i: int) -> int:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        if i < 3:
            gate.wait()  # the first three must be in flight together
        with lock:
            active[0] -= 1
        return i * i

    assert fan_out(work, list(range(8)), max_workers=3) == [i * i for i in range(8)]
    assert peak[0] == 3


def test_fan_out_runs_everything_then_reports_failures() -> None:
    done: list[int] = []

    def work(i: int) -> int:
        if i == 1:
            raise ValueError("bad one")
        done.append(i)
        return i

    with pytest.raises(FanOutError, match="1 of 3 calls failed") as info:
        fan_out(work, [0, 1, 2], max_workers=2)
    assert sorted(done) == [0, 2]
    assert "cache" in str(info.value)
    with pytest.raises(ValueError, match="bad one"):
        fan_out(work, [1], max_workers=2)  # a single call raises its own error
