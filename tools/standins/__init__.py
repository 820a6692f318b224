"""Local stand-in Spaces: real Gradio apps on 127.0.0.1 serving agents.md beside them.

``start_standins()`` starts the image stand-in (ideogram4's interface) and the splat stand-in
(TripoSplat's interface), each on its own port, so everything runs offline against real
Gradio servers. Gradio is imported only when a stand-in starts.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from types import TracebackType

from spacesmith.tools.errors import SpacesmithError
from spacesmith.tools.standins.faults import ENV_VAR, Faults, parse_faults
from spacesmith.tools.standins.server import StandinServer

__all__ = ["Faults", "StandinServer", "Standins", "parse_faults", "parse_latency",
           "start_standin", "start_standins"]


class Standins:
    """The running stand-ins; a context manager. ``image_url``/``splat_url`` are base URLs."""

    def __init__(self, image: StandinServer, splat: StandinServer) -> None:
        self.image = image
        self.splat = splat
        self.image_url = image.url
        self.splat_url = splat.url

    @property
    def agents_md_urls(self) -> dict[str, str]:
        """Each stand-in's agents.md URL, by name."""
        return {"image": self.image.agents_md_url, "splat": self.splat.agents_md_url}

    def close(self) -> None:
        """Stop both servers."""
        self.image.close()
        self.splat.close()

    def __enter__(self) -> Standins:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


ROLES = ("image", "splat")
TITLES = {"image": "spacesmith/image-standin: ideogram4 text-to-image stand-in",
          "splat": "spacesmith/splat-standin: TripoSplat image-to-3D Gaussian splat stand-in"}
Latency = float | str | Mapping[str, float]


def parse_latency(spec: Latency | None) -> dict[str, float]:
    """Seconds each stand-in's calls take, by role, from ``image=3,splat=6``, a bare number
    (both roles) or a mapping.

    Raises:
        ValueError: the spec cannot be read; the message shows the expected form.
    """
    out = dict.fromkeys(ROLES, 0.0)
    if spec is None or spec == "":
        return out
    try:
        if isinstance(spec, Mapping):
            items = [(str(k), float(v)) for k, v in spec.items()]
        elif isinstance(spec, (int, float)) or "=" not in spec:
            items = [(role, float(spec)) for role in ROLES]
        else:
            pairs = [part.split("=", 1) for part in spec.split(",") if part.strip()]
            items = [(k.strip(), float(v)) for k, v in pairs]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad latency {spec!r}: give seconds, e.g. 2 or image=3,splat=6") from exc
    for role, seconds in items:
        if role not in ROLES:
            raise ValueError(f"bad latency {spec!r}: unknown role {role!r} (image, splat)")
        if not 0.0 <= seconds < math.inf:
            raise ValueError(f"bad latency {spec!r}: seconds must be 0 or more")
        out[role] = seconds
    return out


def start_standin(
    role: str,
    *,
    faults: Faults | str | float | None = None,
    latency: float = 0.0,
    concurrency: int = 1,
    host: str = "127.0.0.1",
    port: int = 0,
) -> StandinServer:
    """Start one stand-in Space: ``"image"`` (ideogram4's interface) or ``"splat"``
    (TripoSplat's). Like a real Space, it runs ``concurrency`` events at a time per endpoint
    (gradio's default: one); the rest wait in its queue, which reports their positions.

    Args:
        role: ``"image"`` or ``"splat"``.
        faults: a fault spec or ``Faults`` (this object is used as is); ``None``: none.
        latency: seconds each call takes on top of the real work.
        concurrency: events run at once.
        host: the interface to bind.
        port: the port; 0 picks a free one.

    Returns:
        The running server (a context manager; ``close()`` stops it).

    Raises:
        ValueError: an unknown role, a bad fault spec or concurrency.
        OSError: the port cannot be bound.
    """
    if role not in ROLES:
        raise ValueError(f"unknown stand-in role {role!r}; known: {', '.join(ROLES)}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be 1 or more, got {concurrency}")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        from spacesmith.tools.standins.apps import build_image_app, build_splat_app
    except ModuleNotFoundError as exc:
        if exc.name != "gradio":
            raise
        raise SpacesmithError("the local stand-in Spaces need gradio, which is not installed",
                              hint="pip install 'spacesmith[local]', or name real Spaces") from exc
    from spacesmith.tools.standins.server import serve_blocks

    dice = parse_faults(faults)
    blocks = (build_image_app(dice, latency=latency) if role == "image"
              else build_splat_app(dice, latency=latency))
    return serve_blocks(blocks, title=TITLES[role], faults=dice, host=host, port=port,
                        concurrency=concurrency)


def start_standins(
    *,
    faults: Faults | str | float | None = None,
    latency: Latency = 0.0,
    concurrency: int = 1,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Standins:
    """Start the image and the splat stand-in Spaces.

    Args:
        faults: a fault spec (``RATE[:KIND,...][@SEED]``, a rate or ``Faults``); ``None``
            reads ``SPACESMITH_FAULTS`` (unset: no faults). Each stand-in gets its own dice.
        latency: seconds each call takes: one number for both, ``"image=3,splat=6"`` or a
            mapping by role.
        concurrency: events each stand-in runs at once (default 1, like a real Space).
        host: the interface to bind.
        port: the image stand-in's port (the splat one takes ``port + 1``); 0 picks free ones.

    Returns:
        The running stand-ins (a context manager; ``close()`` stops them).

    Raises:
        ValueError: the fault spec, latency or concurrency cannot be used.
        OSError: a port cannot be bound.
    """
    spec = faults if faults is not None else os.environ.get(ENV_VAR)
    base = parse_faults(spec)
    seconds = parse_latency(latency)
    image = start_standin("image", faults=base.fresh(), latency=seconds["image"],
                          concurrency=concurrency, host=host, port=port)
    try:
        splat = start_standin("splat", faults=base.fresh(), latency=seconds["splat"],
                              concurrency=concurrency, host=host, port=port + 1 if port else 0)
    except BaseException:
        image.close()
        raise
    return Standins(image, splat)
