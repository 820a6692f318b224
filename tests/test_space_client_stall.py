"""Stall detection against a real Gradio stand-in that runs one event at a time.

An honest queue (its positions moving) is never cut, however long the wait; a call that
only gets heartbeats is given up after its stall budget, long before its deadline, and
giving up frees the Space's worker (the stand-in's hang ends when the client disconnects).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from spacesmith.tools.errors import SpaceStalledError
from spacesmith.tools.spaces.client import ProgressEvent, SpaceClient
from spacesmith.tools.spaces.stall import StallPolicy
from spacesmith.tools.standins import Faults, StandinServer, start_standin

PROMPT = {"prompt": "Panthéon", "width": 256, "height": 256}


@pytest.fixture
def one_at_a_time(request: pytest.FixtureRequest) -> Iterator[StandinServer]:
    faults, latency = request.param
    server = start_standin("image", faults=faults, latency=latency)
    yield server
    server.close()


@pytest.mark.parametrize("one_at_a_time", [(Faults(), 0.4)], indirect=True)
def test_a_queued_call_whose_position_moves_is_not_cut(tmp_path: Path,
                                                       one_at_a_time: StandinServer) -> None:
    events: list[ProgressEvent] = []
    policy = StallPolicy(floor_s=1.5, factor=1.0)
    with SpaceClient.connect(one_at_a_time.url, token="", progress=events.append) as client:
        def call(i: int) -> Any:
            return client.call("/generate", PROMPT, out_dir=tmp_path / str(i), timeout=60,
                               stall=policy, label=f"image {i + 1}/6")

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(call, range(6)))
    assert all(r.files for r in results)
    # the last call waited far longer than the stall budget, and was not cut
    slowest = max(results, key=lambda r: r.elapsed_s)
    assert slowest.elapsed_s > policy.floor_s
    # the time the Space worked on it leaves the queue wait out (it feeds later budgets)
    assert slowest.run_s is not None and slowest.run_s < slowest.elapsed_s / 2
    ranks = [int(e.detail.split("#")[1].split()[0].rstrip(",")) for e in events
             if e.stage == "queued" and e.detail.startswith("queued #")]
    assert max(ranks) >= 3 and 1 in ranks, ranks  # calls waited, and saw the queue move
    assert not [e for e in events if e.stage == "failed"]


@pytest.mark.parametrize("one_at_a_time", [(Faults(rate=1.0, kinds=("hang",), limit=1), 0.0),
                                           (Faults(plan=("stuck",)), 0.0)],
                         ids=["hang", "stuck"], indirect=True)
def test_a_call_getting_only_heartbeats_is_given_up_and_frees_the_worker(
        tmp_path: Path, one_at_a_time: StandinServer) -> None:
    """The hang ends when the client leaves; a stuck function does not, and only the cancel
    the client sends (``POST …/cancel``) frees the Space's one worker for the next call."""
    policy = StallPolicy(floor_s=1.0, factor=1.0)
    with SpaceClient.connect(one_at_a_time.url, token="") as client:
        with pytest.raises(SpaceStalledError) as caught:
            client.call("/generate", PROMPT, out_dir=tmp_path / "a", timeout=600, stall=policy)
        assert "no progress for" in caught.value.message
        assert f"Space '{one_at_a_time.url}'" in str(caught.value)
        # the worker is free again: it takes the next call
        result = client.call("/generate", PROMPT, out_dir=tmp_path / "b", timeout=60,
                             stall=policy)
    assert result.files and len(one_at_a_time.faults.injected) == 1


@pytest.mark.parametrize("one_at_a_time", [(Faults(rate=1.0, kinds=("500",), limit=2,
                                                  plan=("stuck",)), 0.0)],
                         ids=["stuck-then-stream-500"], indirect=True)
def test_an_event_whose_stream_breaks_is_cancelled(
        tmp_path: Path, one_at_a_time: StandinServer) -> None:
    """The event is stuck on the Space's one worker when its result stream answers 500. The
    client gives the event up and cancels it on the Space, so the next call (a retry is a new
    event) runs instead of waiting behind it for good."""
    import time

    from spacesmith.tools.errors import TransientSpaceError
    from spacesmith.tools.spaces.retry import Deadline

    with SpaceClient.connect(one_at_a_time.url, token="") as client:
        event_id = client.submit("/generate", PROMPT)
        deadline = Deadline(30.0)  # until the event holds the worker (a state, not a time)
        while one_at_a_time.faults.injected != ["stuck"] and not deadline.expired:
            time.sleep(0.05)
        assert one_at_a_time.faults.injected == ["stuck"]
        with pytest.raises(TransientSpaceError):
            client.poll("/generate", event_id, deadline=Deadline(30.0))
        result = client.call("/generate", PROMPT, out_dir=tmp_path, timeout=60,
                             stall=StallPolicy(floor_s=5.0, factor=1.0))
    assert result.files and one_at_a_time.faults.injected == ["stuck", "500"]
