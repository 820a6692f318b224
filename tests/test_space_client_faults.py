"""Retries against stand-ins with injected faults: 503, 500 on poll, quota, truncation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spacesmith.tools.errors import DownloadError, QuotaError, TransientSpaceError
from spacesmith.tools.spaces.client import ProgressEvent, SpaceClient
from spacesmith.tools.spaces.retry import Deadline, RetryPolicy, with_retries
from spacesmith.tools.standins.faults import Faults

FAST = RetryPolicy(attempts=3, base_s=0.05, max_s=0.2, seed=1)
PROMPT = {"prompt": "a small dome", "width": 256, "height": 256}


@pytest.fixture
def image_space(serve: Any) -> Any:
    """Start an image stand-in with the given faults: ``image_space(Faults(...))``."""
    from spacesmith.tools.standins.apps import build_image_app

    def start(faults: Faults) -> Any:
        return serve(build_image_app(faults), faults=faults)
    return start


@pytest.mark.parametrize("kind", ["503", "500"])
def test_transient_failure_then_success(image_space: Any, tmp_path: Path, kind: str) -> None:
    faults = Faults(rate=1.0, kinds=(kind,), seed=0, limit=1)
    server = image_space(faults)
    events: list[ProgressEvent] = []
    with SpaceClient.connect(server.url, token="", retry=FAST, progress=events.append) as c:
        result = c.call("/generate", PROMPT, out_dir=tmp_path)
    assert faults.injected == [kind]
    assert result.attempts == 2 and len(result.files) == 1
    retry = next(e for e in events if e.stage == "retrying")
    assert retry.wait_s is not None and 0 < retry.wait_s <= 0.2
    assert f"HTTP {kind}" in retry.detail


def test_persistent_503_gives_up_after_the_policy(image_space: Any, tmp_path: Path) -> None:
    server = image_space(Faults(rate=1.0, kinds=("503",), seed=0))
    with SpaceClient.connect(server.url, token="", retry=FAST) as client, \
            pytest.raises(TransientSpaceError) as info:
        client.call("/generate", PROMPT, out_dir=tmp_path)
    assert "Queue is full" in str(info.value)
    assert server.faults.injected == ["503"] * FAST.attempts


def test_quota_error_is_retried_when_the_wait_fits(image_space: Any, tmp_path: Path) -> None:
    faults = Faults(rate=1.0, kinds=("quota",), seed=0, limit=1, quota_wait_s=1)
    server = image_space(faults)
    events: list[ProgressEvent] = []
    with SpaceClient.connect(server.url, token="", retry=FAST, progress=events.append) as c:
        result = c.call("/generate", PROMPT, out_dir=tmp_path, timeout=30)
    assert result.attempts == 2
    waits = [e.wait_s for e in events if e.stage == "retrying"]
    assert len(waits) == 1 and waits[0] is not None and 1.0 <= waits[0] < 1.1


def test_quota_error_that_does_not_fit_is_raised(image_space: Any, tmp_path: Path) -> None:
    server = image_space(Faults(rate=1.0, kinds=("quota",), seed=0, quota_wait_s=3725))
    with SpaceClient.connect(server.url, token="", retry=FAST) as client, \
            pytest.raises(QuotaError) as info:
        client.call("/generate", PROMPT, out_dir=tmp_path, timeout=60)
    assert info.value.retry_after_s == 3725.0  # 1:02:05
    assert server.faults.injected == ["quota"]


def test_truncated_download_is_retried(image_space: Any, tmp_path: Path) -> None:
    faults = Faults(rate=1.0, kinds=("truncated",), seed=0, limit=1)
    server = image_space(faults)
    with SpaceClient.connect(server.url, token="", retry=FAST) as client:
        result = client.call("/generate", PROMPT, out_dir=tmp_path)
    from PIL import Image

    assert faults.injected == ["truncated"]
    Image.open(result.files[0]).load()  # complete, decodable
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.png"]


def test_always_truncated_download_is_a_download_error(image_space: Any, tmp_path: Path) -> None:
    server = image_space(Faults(rate=1.0, kinds=("truncated",), seed=0))
    with SpaceClient.connect(server.url, token="", retry=FAST) as client, \
            pytest.raises(DownloadError) as info:
        client.call("/generate", PROMPT, out_dir=tmp_path)
    assert "image.png" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_backoff_grows_and_honours_retry_after() -> None:
    policy = RetryPolicy(attempts=5, base_s=1.0, max_s=5.0, jitter=0.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.delay(1, retry_after_s=3.0) == 3.0
    jittered = RetryPolicy(base_s=1.0, jitter=0.5, seed=3)
    assert all(0.5 <= jittered.delay(1) <= 1.5 for _ in range(50))


def test_no_wait_past_the_deadline() -> None:
    calls: list[int] = []

    def fail() -> None:
        calls.append(1)
        raise TransientSpaceError("busy", space="s")

    with pytest.raises(TransientSpaceError):
        with_retries(fail, policy=RetryPolicy(attempts=10, base_s=5.0), deadline=Deadline(1.0))
    assert calls == [1]


def test_fault_dice_are_repeatable() -> None:
    def run() -> list[str | None]:
        faults = Faults(rate=0.5, seed=42)
        return [faults.draw("app") for _ in range(40)]

    first = run()
    assert first == run() and {None} < set(first)
