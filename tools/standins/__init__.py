"""Local stand-in Spaces: real Gradio apps on 127.0.0.1 serving agents.md beside them.

``start_standins()`` starts the image stand-in (ideogram4's interface) and the splat stand-in
(TripoSplat's interface), each on its own port, so everything runs offline against real
Gradio servers. Gradio is imported only when a stand-in starts.
"""

from __future__ import annotations

import os
from types import TracebackType

from spacesmith.tools.errors import SpacesmithError
from spacesmith.tools.standins.faults import ENV_VAR, Faults, parse_faults
from spacesmith.tools.standins.server import StandinServer

__all__ = ["Faults", "Standins", "parse_faults", "start_standins"]


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


def start_standins(
    *,
    faults: Faults | str | float | None = None,
    latency: float = 0.0,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Standins:
    """Start the image and the splat stand-in Spaces.

    Args:
        faults: a fault spec (``RATE[:KIND,...][@SEED]``, a rate or ``Faults``); ``None``
            reads ``SPACESMITH_FAULTS`` (unset: no faults). Each stand-in gets its own dice.
        latency: seconds added to every call.
        host: the interface to bind.
        port: the image stand-in's port (the splat one takes ``port + 1``); 0 picks free ones.

    Returns:
        The running stand-ins (a context manager; ``close()`` stops them).

    Raises:
        ValueError: the fault spec cannot be read.
        OSError: a port cannot be bound.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        from spacesmith.tools.standins.apps import build_image_app, build_splat_app
    except ModuleNotFoundError as exc:
        if exc.name != "gradio":
            raise
        raise SpacesmithError("the local stand-in Spaces need gradio, which is not installed",
                              hint="pip install 'spacesmith[local]', or name real Spaces") from exc
    from spacesmith.tools.standins.server import serve_blocks

    spec = faults if faults is not None else os.environ.get(ENV_VAR)
    base = parse_faults(spec)
    image_faults, splat_faults = base.fresh(), base.fresh()
    image = serve_blocks(build_image_app(image_faults), title="spacesmith/image-standin: "
                         "ideogram4 text-to-image stand-in", faults=image_faults,
                         latency=latency, host=host, port=port)
    try:
        splat = serve_blocks(build_splat_app(splat_faults), title="spacesmith/splat-standin: "
                             "TripoSplat image-to-3D Gaussian splat stand-in",
                             faults=splat_faults, latency=latency, host=host,
                             port=port + 1 if port else 0)
    except BaseException:
        image.close()
        raise
    return Standins(image, splat)
