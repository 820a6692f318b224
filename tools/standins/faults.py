"""Fault injection for the stand-in Spaces: a seeded, thread-safe dice per injection point.

A fault spec is ``RATE[:KIND,KIND...][@SEED]`` (also read from ``SPACESMITH_FAULTS``), e.g.
``0.2`` (every kind, 20 %), ``0.5:503,quota@7`` or ``1:hang``. Kinds and where they strike:

==========  =====================================  ==========================================
kind        injection point                        what the client sees
==========  =====================================  ==========================================
503         ``POST /gradio_api/call/...``          503 ``{"detail": "Queue is full..."}``
500         ``GET /gradio_api/call/<api>/<id>``    500 ``Internal Server Error`` (plain text)
truncated   ``GET /gradio_api/file=...``           half the body, then the connection closes
error       inside the app function                ``gr.Error`` -> an ``error`` event
quota       inside the app function                a ZeroGPU quota ``gr.Error`` ("retry in")
hang        inside the app function                heartbeats only, until the client leaves
slow        inside the app function                the answer comes ``slow_s`` late
corrupt     inside the splat app only              a PLY whose body is cut short
stuck       inside the app function                heartbeats only, and the worker stays held
                                                   after the client leaves (a sleeping
                                                   function Gradio cannot stop): every later
                                                   call waits in the queue; not in the dice
                                                   unless named
==========  =====================================  ==========================================

Each injection point has its own random stream (seeded from ``seed`` and the point's name), so
a seeded run injects the same faults for the same sequence of requests. ``rate`` is the chance,
at each point a request passes, that one of the kinds enabled for that point strikes.
``plan`` scripts the in-app point instead, call by call (``("ok", "hang")``: the second call
hangs); past its end the dice decide. A hang holds the Space's worker until the client gives
up and disconnects (or ``hang_s`` passes, or the server closes), as a stuck Space does.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field

KINDS = ("503", "500", "truncated", "error", "quota", "hang", "slow", "corrupt")
NAMED_ONLY = ("stuck",)  # known kinds the default dice leave out
POINTS: dict[str, tuple[str, ...]] = {
    "call": ("503",),
    "poll": ("500",),
    "file": ("truncated",),
    "app": ("error", "quota", "hang", "slow", "stuck"),
    "splat": ("error", "quota", "hang", "slow", "corrupt", "stuck"),
}
ENV_VAR = "SPACESMITH_FAULTS"
QUOTA_MESSAGE = (
    "You have exceeded your GPU quota (60s requested vs. 41s left). "
    '<a href="https://huggingface.co/settings/billing">Upgrade to PRO</a> to get more, '
    "or retry in {wait}"
)


@dataclass
class Faults:
    """What to inject and how often; shared by every request to one stand-in.

    Args:
        rate: chance in [0, 1] that a fault strikes at each injection point.
        kinds: the enabled kinds (default: all of ``KINDS``).
        seed: makes the dice repeatable; ``None`` for a fresh random seed.
        limit: stop injecting after this many faults (``None``: never stop).
        hang_s: how long a hang lasts at most (default: until the client disconnects).
        slow_s: how late a slow answer comes.
        quota_wait_s: the wait a quota error asks for ("retry in H:MM:SS").
        plan: the in-app outcome of the first calls, in order (a kind, or "ok").
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = KINDS
    seed: int | None = None
    limit: int | None = None
    hang_s: float = math.inf
    slow_s: float = 2.0
    quota_wait_s: int = 1
    plan: tuple[str, ...] = ()
    injected: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _streams: dict[str, random.Random] = field(default_factory=dict, repr=False)
    _planned: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        unknown = sorted((set(self.kinds) | set(self.plan)) - set(KINDS) - set(NAMED_ONLY)
                         - {"ok"})
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: "
                             f"{', '.join(KINDS + NAMED_ONLY)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate {self.rate} is not between 0 and 1")

    def draw(self, point: str) -> str | None:
        """Roll the dice for one request passing ``point``; return the kind to inject."""
        if self.plan and point in ("app", "splat"):
            with self._lock:
                if self._planned < len(self.plan):
                    kind = self.plan[self._planned]
                    self._planned += 1
                    if kind == "ok":
                        return None
                    self.injected.append(kind)
                    return kind
        candidates = [k for k in POINTS[point] if k in self.kinds]
        if not candidates or self.rate <= 0.0:
            return None
        with self._lock:
            if self.limit is not None and len(self.injected) >= self.limit:
                return None
            rng = self._streams.get(point)
            if rng is None:
                base = self.seed if self.seed is not None else random.randrange(2**32)
                rng = self._streams[point] = random.Random(f"{base}:{point}")
            if rng.random() >= self.rate:
                return None
            kind = rng.choice(candidates)
            self.injected.append(kind)
            return kind

    def fresh(self) -> Faults:
        """The same settings with new dice, counters and stop switch (one per stand-in)."""
        return Faults(rate=self.rate, kinds=self.kinds, seed=self.seed, limit=self.limit,
                      hang_s=self.hang_s, slow_s=self.slow_s, quota_wait_s=self.quota_wait_s,
                      plan=self.plan)

    def quota_message(self) -> str:
        """The ZeroGPU-style quota error text, asking for ``quota_wait_s``."""
        s = int(self.quota_wait_s)
        return QUOTA_MESSAGE.format(wait=f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}")


def parse_faults(spec: str | float | Faults | None) -> Faults:
    """Turn a fault spec (``RATE[:KIND,...][@SEED]``, a rate, or ``Faults``) into ``Faults``.

    Args:
        spec: the spec; ``None`` or ``""`` means no faults.

    Returns:
        The fault settings.

    Raises:
        ValueError: the spec cannot be read; the message shows the expected form.
    """
    if isinstance(spec, Faults):
        return spec
    if spec is None or spec == "":
        return Faults()
    if isinstance(spec, (int, float)):
        return Faults(rate=float(spec))
    text = spec.strip()
    seed: int | None = None
    kinds: tuple[str, ...] = KINDS
    try:
        if "@" in text:
            text, seed_text = text.rsplit("@", 1)
            seed = int(seed_text)
        if ":" in text:
            text, kinds_text = text.split(":", 1)
            kinds = tuple(k.strip() for k in kinds_text.split(",") if k.strip())
        return Faults(rate=float(text), kinds=kinds, seed=seed)
    except ValueError as exc:
        raise ValueError(
            f"bad fault spec {spec!r} ({exc}); expected RATE[:KIND,...][@SEED], "
            f"e.g. '0.2:503,quota@1'; kinds: {', '.join(KINDS + NAMED_ONLY)}"
        ) from exc
