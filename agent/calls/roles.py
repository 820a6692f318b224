"""Match a Space's endpoints to a role from its ``/info``, so any interface works.

- ``image``: the endpoint that takes a text prompt and returns an image;
- ``splat``: the endpoint that takes an image file and returns a (3D) file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spacesmith.tools.errors import AgentError

if TYPE_CHECKING:
    from spacesmith.tools.spaces.schema import Endpoint

ROLES = ("image", "splat")


@dataclass(frozen=True)
class RoleMatch:
    """The endpoint that plays a role, its main parameter, and defaults for the call."""

    endpoint: str
    main_param: str
    defaults: Mapping[str, Any]


def _returns(endpoint: Endpoint) -> list[str]:
    return [f"{r.component} {r.type} {r.python_type} {r.label} {r.is_file}".lower()
            for r in endpoint.returns]


def _score_image(endpoint: Endpoint) -> tuple[int, str] | None:
    returns = _returns(endpoint)
    if not any("image" in r for r in returns):
        return None
    best: tuple[int, str] | None = None
    for p in endpoint.parameters:
        if p.is_file or "str" not in p.type.lower():
            continue
        name = p.name.lower()
        score = 3 if "prompt" in name else 2 if "text" in name else 1
        if best is None or score > best[0]:
            best = (score, p.name)
    return best


_NOT_3D = ("image", "gallery", "video", "audio", "annotatedimage")
_3D = ("model3d", "downloadbutton", "file")


def _three_d_returns(endpoint: Endpoint) -> list[str]:
    """Components of the returns that can carry a splat: files that are not pictures."""
    found = []
    for r in endpoint.returns:
        component = r.component.lower()
        if component in _NOT_3D:
            continue
        if r.is_file or component in _3D:
            found.append(component)
    return found


def _score_splat(endpoint: Endpoint) -> tuple[int, str] | None:
    three_d = _three_d_returns(endpoint)
    if not three_d:
        return None
    best: tuple[int, str] | None = None
    for p in endpoint.parameters:
        if not p.is_file:
            continue
        score = 2 + (2 if "image" in p.name.lower() else 0)
        score += 1 if any(c in ("model3d", "downloadbutton") for c in three_d) else 0
        if best is None or score > best[0]:
            best = (score, p.name)
    return best


def match_role(endpoints: Mapping[str, Endpoint], role: str, *,
               num_gaussians: str | None = None) -> RoleMatch:
    """The endpoint of a Space that plays ``role``.

    Args:
        endpoints: the Space's endpoints by name (from ``SpaceClient.endpoints``).
        role: ``"image"`` or ``"splat"``.
        num_gaussians: the splat size to ask for when the endpoint has such a parameter.

    Returns:
        The match.

    Raises:
        AgentError: no endpoint fits; the message lists what the Space has.
    """
    scorer = _score_image if role == "image" else _score_splat
    scored = [(s, name) for name, ep in endpoints.items() if (s := scorer(ep)) is not None]
    if not scored:
        wanted = ("takes a text prompt and returns an image" if role == "image"
                  else "takes an image file and returns a 3D file")
        raise AgentError(f"no endpoint {wanted}; the Space has {', '.join(endpoints) or 'none'}",
                         hint=f"name another Space for the {role} role")
    (_score, param), name = max(scored, key=lambda item: item[0][0])
    return RoleMatch(name, param, _defaults(endpoints[name], role, num_gaussians))


def _defaults(endpoint: Endpoint, role: str, num_gaussians: str | None) -> dict[str, Any]:
    """Splat size and a PLY output when the endpoint offers them (smaller, widely read)."""
    if role != "splat":
        return {}
    out: dict[str, Any] = {}
    for p in endpoint.parameters:
        enum = [str(v) for v in (p.enum or ())]
        if p.name == "num_gaussians" and num_gaussians and (not enum or num_gaussians in enum):
            out[p.name] = num_gaussians
        if p.name == "output_format" and "ply" in enum:
            out[p.name] = "ply"
    return out
