"""The seam between a run's Space calls and the Space client: what the agent side needs.

:class:`spacesmith.tools.spaces.client.SpaceClient` satisfies it; tests pass stand-ins with
the same shape. Nothing on the agent side reaches past it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the client pulls in httpx: the CLI's cold start must not pay for it
    from spacesmith.tools.spaces.agents_md import SpaceSpec
    from spacesmith.tools.spaces.client import CallResult, ProgressEvent
    from spacesmith.tools.spaces.schema import Endpoint
    from spacesmith.tools.spaces.stall import StallPolicy

Progress = Callable[["ProgressEvent"], None]


class SpaceCaller(Protocol):
    """A connected Space: its description, endpoints, calls, and a close."""

    @property
    def spec(self) -> SpaceSpec: ...

    @property
    def endpoints(self) -> Mapping[str, Endpoint]: ...

    def call(self, endpoint: str, arguments: Mapping[str, Any], *, out_dir: Path,
             timeout: float | None = None, stall: StallPolicy | None = None,
             expected_s: float | None = None, label: str | None = None) -> CallResult: ...

    def close(self) -> None: ...


class Connector(Protocol):
    """Connects to a Space (discovery + /info): ``SpaceClient.connect`` or a stand-in."""

    def __call__(self, space: str, *, token: str | None,
                 progress: Progress | None) -> SpaceCaller: ...
