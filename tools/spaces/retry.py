"""Bounded retries: exponential backoff with jitter, capped in count and by a deadline."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from spacesmith.tools.errors import (
    AppError,
    BadOutputError,
    DownloadError,
    QuotaError,
    SpaceError,
    SpaceStalledError,
    SpaceTimeoutError,
    TransientSpaceError,
)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure.

    Attributes:
        attempts: the most tries in all (1 = never retry).
        base_s: the first wait; each further wait doubles, up to ``max_s``.
        max_s: the longest single wait.
        jitter: the wait is multiplied by a random factor in [1 - jitter, 1 + jitter].
        seed: seeds the jitter, for repeatable tests; ``None`` for a random one.
    """

    attempts: int = 4
    base_s: float = 1.0
    max_s: float = 30.0
    jitter: float = 0.25
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rng", random.Random(self.seed))

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        """The wait after failed attempt number ``attempt`` (1-based).

        A server's ``Retry-After`` (``retry_after_s``) is honoured up to ``max_s``.
        """
        wait = min(self.max_s, self.base_s * 2 ** (attempt - 1))
        wait *= 1.0 + self.jitter * (2.0 * self._rng.random() - 1.0)
        if retry_after_s is not None:
            wait = max(wait, min(retry_after_s, self.max_s))
        return max(0.0, float(wait))


class Deadline:
    """An overall time limit, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def fits(self, wait_s: float) -> bool:
        """Whether waiting ``wait_s`` still leaves time to try again."""
        return wait_s < self.remaining()


def with_retries(
    attempt: Callable[[], T],
    *,
    policy: RetryPolicy,
    deadline: Deadline,
    on_retry: Callable[[SpaceError, int, float], None] | None = None,
) -> tuple[T, int]:
    """Run ``attempt`` until it succeeds or fails for good.

    Retried: :class:`TransientSpaceError` (backoff with jitter, honouring Retry-After) and
    a :class:`QuotaError` that says when to retry, if that wait fits the deadline. Anything
    else is raised at once.

    Args:
        attempt: one try.
        policy: how many tries and how long to wait between them.
        deadline: no wait is started that would end past it.
        on_retry: told (error, attempt number, wait in s) before each wait.

    Returns:
        The result and the number of tries it took.

    Raises:
        TransientSpaceError: the last failure, once tries or time are used up.
        QuotaError: the quota wait is unknown or does not fit the deadline.
        SpaceTimeoutError: the deadline passed during the attempts.
    """
    tries = 0
    while True:
        tries += 1
        try:
            return attempt(), tries
        except TransientSpaceError as exc:
            error: SpaceError = exc
            wait = policy.delay(tries, exc.retry_after_s)
        except QuotaError as exc:
            if exc.retry_after_s is None:
                raise
            error, wait = exc, exc.retry_after_s + policy.delay(1) * 0.1
        if tries >= policy.attempts or not deadline.fits(wait):
            if deadline.expired and isinstance(error, TransientSpaceError):
                raise SpaceTimeoutError(
                    f"gave up after {tries} tries in {deadline.seconds:g} s: {error.message}",
                    space=error.space, endpoint=error.endpoint) from error
            raise error
        if on_retry is not None:
            on_retry(error, tries, wait)
        time.sleep(wait)


RECALLED = (AppError, BadOutputError, DownloadError, SpaceTimeoutError, TransientSpaceError)


def recall_wait(exc: SpaceError, timeout: float | None) -> float | None:
    """How long to wait before making a whole call again after ``exc``, or None: do not.

    The other half of the one retry policy: :func:`with_retries` repeats transport faults
    inside one call; this says which failed calls are worth making again (by the caller).

    Worth another call: an error event, a hang or a deadline, a Space still busy after the
    client's own retries, a failed download, an unreadable file; a quota error only when
    the Space says when, and that wait fits one call's deadline. Never: wrong arguments, a
    refused upload, a Space that cannot be discovered or is paused.
    """
    if isinstance(exc, SpaceStalledError):
        return None  # the Space is stuck: where the call goes next is the caller's choice
    if isinstance(exc, QuotaError):
        wait = exc.retry_after_s
        limit = float("inf") if timeout is None else timeout
        return wait if wait is not None and wait <= limit else None
    if isinstance(exc, TransientSpaceError):
        return min(exc.retry_after_s or 0.0, 30.0)
    return 0.0 if isinstance(exc, RECALLED) else None
