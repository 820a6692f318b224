"""smolagents Tools over Spaces: one per discovered endpoint, ``call_many``, ``discover_space``.

The tools are thin: :class:`spacesmith.agent.calls.session.SpaceSession` does the calling, caching
and journaling. Tools print well: a call returns a
:class:`spacesmith.agent.calls.session.SpaceResult`
whose ``repr`` lists the downloaded files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from smolagents import Tool

from spacesmith.agent.calls.pool import ChainResult, RolePool, run_batch
from spacesmith.agent.calls.session import SpaceResult, SpaceSession
from spacesmith.tools.errors import AgentError, ParameterError
from spacesmith.tools.text import slugify

if TYPE_CHECKING:
    from spacesmith.agent.calls.port import SpaceCaller
    from spacesmith.tools.spaces.schema import Endpoint, Parameter

_TYPES = {"string": "string", "str": "string", "number": "number", "float": "number",
          "integer": "integer", "int": "integer", "boolean": "boolean", "bool": "boolean"}


def tool_name(space: str, endpoint: str) -> str:
    """A Python identifier from a Space and an endpoint: ``VAST-AI/TripoSplat`` +
    ``/generate`` → ``triposplat_generate``."""
    base = space.rstrip("/").split("/")[-1]
    base = re.sub(r"^(?:https?:)?", "", base).split(":")[0]
    name = f"{slugify(base)}_{slugify(endpoint.strip('/'))}".replace("-", "_")
    return name if name[0].isalpha() else f"space_{name}"


Inputs = dict[str, dict[str, Any]]


class SpaceEndpointTool(Tool):  # type: ignore[misc]
    """One endpoint of one Space as a tool; inputs come from the Space's ``/info``."""

    waits_on_io = True  # time in it is not agent code's (executor wall clock)

    skip_forward_signature_validation = True
    output_type = "object"

    def __init__(self, session: SpaceSession, space: str, endpoint: Endpoint, name: str,
                 identity: str | None = None) -> None:
        self.session = session
        self.space = space
        self.identity = identity or space
        self.endpoint = endpoint
        self.name = name
        params = list(endpoint.parameters)
        self.file_params = {p.name for p in params if p.is_file}
        summary = (endpoint.description or "").strip().split("\n")[0][:200]
        summary = summary.rstrip(". ")
        self.description = (
            f"Space {space} endpoint {endpoint.name}: {summary or 'no description'}. "
            "Returns a SpaceResult (.files, .image, .splat, .values)."
        )
        self.inputs = {p.name: _input_schema(p) for p in params}
        super().__init__()

    def forward(self, **kwargs: Any) -> SpaceResult:
        """Call the endpoint (or return the cached result of the same call)."""
        return self.session.call(self.name, self.space, self.endpoint, kwargs, self.file_params,
                                 identity=self.identity)


def _input_schema(param: Parameter) -> dict[str, Any]:
    if param.is_file:
        kind = "string"
        text = "path of a local file in the workspace"
    else:
        kind = _TYPES.get(str(param.type).lower(), "any")
        text = param.label or ""
    if param.enum:
        text += f" one of {list(param.enum)!r}"
    schema: dict[str, Any] = {"type": kind, "description": text.strip() or param.name}
    if not param.required:
        schema["nullable"] = True
        default = param.default
        if default is not None:
            schema["description"] += f" (default {default!r})"
    return schema


class RoleBinding:
    """A role ("image", "splat") bound to one endpoint tool and its main parameter."""

    def __init__(self, role: str, tool: SpaceEndpointTool, main_param: str,
                 defaults: Mapping[str, Any]) -> None:
        self.role = role
        self.tool = tool
        self.main_param = main_param
        self.defaults = dict(defaults)

    def arguments(self, call: Mapping[str, Any]) -> dict[str, Any]:
        """Translate a role call (``{"prompt": …}`` or ``{"image": …}``) to endpoint arguments."""
        args = dict(self.defaults)
        for key, value in call.items():
            args[self.main_param if key == self.role_key else key] = value
        return args

    @property
    def role_key(self) -> str:
        return "prompt" if self.role == "image" else "image"


class CallManyTool(Tool):  # type: ignore[misc]
    waits_on_io = True  # time in it is not agent code's (executor wall clock)
    name = "call_many"
    description = (
        "Run many calls of one Space tool concurrently (bounded) and return their SpaceResults "
        "in order. `tool` is a role (\"image\": takes {\"prompt\"}, \"splat\": takes {\"image\"}) "
        "or a tool name; `calls` is a list of argument dicts. Finished calls are cached."
    )
    inputs: ClassVar[Inputs] = {
        "tool": {"type": "string", "description": "a role ('image', 'splat') or a tool name"},
        "calls": {"type": "array", "description": "one dict of arguments per call"},
    }
    output_type = "array"
    skip_forward_signature_validation = True

    def __init__(self, session: SpaceSession, roles: dict[str, RoleBinding],
                 tools: Callable[[], Mapping[str, Tool]],
                 pools: Mapping[str, RolePool] | None = None) -> None:
        self.session = session
        self.roles = roles
        self.tools = tools
        self.pools = dict(pools or {})
        super().__init__()

    def forward(self, tool: str, calls: Sequence[Mapping[str, Any]]) -> list[SpaceResult]:
        """Run the calls; raise after all finished if any failed (the others are cached)."""
        if not isinstance(calls, (list, tuple)) or not all(isinstance(c, Mapping) for c in calls):
            raise ParameterError("calls must be a list of dicts of arguments", space=tool,
                                 hint="e.g. call_many('image', [{'prompt': 'a temple'}])")
        pool = self.pools.get(tool)
        if pool is not None:  # a role: every Space named for it shares the calls
            done = run_batch([pool], [dict(c) for c in calls],
                             max_workers=self.session.max_workers,
                             progress=self.session.progress)
            return [steps[0] for steps in done]
        binding = self.roles.get(tool)
        if binding is not None:
            target: SpaceEndpointTool = binding.tool
            argument_list = [binding.arguments(c) for c in calls]
        else:
            found = self.tools().get(tool)
            if not isinstance(found, SpaceEndpointTool):
                known = sorted([*self.roles, *(n for n, t in self.tools().items()
                                               if isinstance(t, SpaceEndpointTool))])
                raise AgentError(f"call_many: no Space tool or role {tool!r}",
                                 hint=f"use one of: {', '.join(known)}")
            target = found
            argument_list = [dict(c) for c in calls]
        return self.session.call_many(target.name, target.space, target.endpoint, argument_list,
                                      target.file_params, identity=target.identity)


class ChainTool(Tool):  # type: ignore[misc]
    waits_on_io = True  # time in it is not agent code's (executor wall clock)
    name = "chain"
    description = (
        "Images and splats, pipelined: each call goes to the first role's Space and each result "
        "on to the next role's as soon as it is ready. `calls`: the first role's argument dicts "
        "({\"prompt\": ...}); `roles` defaults to [\"image\", \"splat\"]. Returns one "
        "ChainResult (.image, .splat) per call, in order; finished calls are cached."
    )
    inputs: ClassVar[Inputs] = {
        "calls": {"type": "array", "description": "one dict of arguments per item"},
        "roles": {"type": "array", "nullable": True,
                  "description": "the roles in order (default [\"image\", \"splat\"])"},
    }
    output_type = "array"
    skip_forward_signature_validation = True

    def __init__(self, session: SpaceSession, pools: Mapping[str, RolePool]) -> None:
        self.session = session
        self.pools = dict(pools)
        super().__init__()

    def forward(self, calls: Sequence[Mapping[str, Any]],
                roles: Sequence[str] | None = None) -> list[ChainResult]:
        """Run every item through the roles; raise after all finished if any failed."""
        if not isinstance(calls, (list, tuple)) or not all(isinstance(c, Mapping) for c in calls):
            raise ParameterError("calls must be a list of dicts of arguments", space="chain",
                                 hint="e.g. chain([{'prompt': 'a temple, on black'}])")
        order = list(roles) if roles else ["image", "splat"]
        unknown = [r for r in order if r not in self.pools]
        if unknown or len(set(order)) != len(order):
            raise AgentError(f"chain: roles must be distinct, from {sorted(self.pools)}; "
                             f"got {order}", hint="e.g. chain(calls, roles=['image', 'splat'])")
        done = run_batch([self.pools[r] for r in order], [dict(c) for c in calls],
                         max_workers=self.session.max_workers, progress=self.session.progress)
        return [ChainResult(tuple(steps)) for steps in done]


class DiscoverSpaceTool(Tool):  # type: ignore[misc]
    waits_on_io = True  # time in it is not agent code's (executor wall clock)
    name = "discover_space"
    description = (
        "Add a Space (Hub id 'owner/name', agents.md URL or base URL) during the run: each of "
        "its endpoints becomes a tool. Returns the new tools' names and inputs."
    )
    inputs: ClassVar[Inputs] = {"space": {"type": "string", "description": "the Space to add"}}
    output_type = "string"
    skip_forward_signature_validation = True

    def __init__(self, add: Callable[[str], list[SpaceEndpointTool]]) -> None:
        self.add = add
        super().__init__()

    def forward(self, space: str) -> str:
        """Discover the Space and register its endpoint tools with the running agent."""
        tools = self.add(space)
        lines = [f"{t.name}({', '.join(t.inputs)}): {t.description}" for t in tools]
        return "New tools:\n" + "\n".join(lines)


def space_label(space: str, client: SpaceCaller) -> str:
    """A short name for a Space: its Hub id, else the ``owner/name`` its agents.md title
    starts with, else the string the user gave."""
    spec = client.spec
    if spec.space_id:
        return spec.space_id
    title = spec.title or ""
    head = title.split(":")[0].strip()
    if re.fullmatch(r"[\w.-]+/[\w.-]+", head):
        return head
    return space


def space_identity(space: str, client: SpaceCaller) -> str:
    """What the call cache keys a Space by: its Hub id; for a local Space (loopback host) its
    label without the port, which changes between runs; otherwise the URL as given."""
    spec = client.spec
    if spec.space_id:
        return spec.space_id
    host = spec.host
    if host.split(":")[0] in ("127.0.0.1", "localhost", "::1", "[::1]"):
        return f"local:{space_label(space, client)}"
    return space


def endpoint_tools(session: SpaceSession, space: str, client: SpaceCaller,
                   taken: Mapping[str, Any] | None = None,
                   reserved: frozenset[str] = frozenset()) -> list[SpaceEndpointTool]:
    """One tool per endpoint of a connected Space.

    A tool never replaces another: a name in ``taken`` (the tools so far) or ``reserved``
    (``final_answer``, the local tools, Python's builtins) gets a suffix (``_2``, ``_3``…),
    unless ``taken`` holds that very endpoint of that very Space already (then it is kept).
    """
    endpoints = client.endpoints
    label = space_label(space, client)
    identity = space_identity(space, client)
    existing = dict(taken or {})
    tools: list[SpaceEndpointTool] = []
    for name, ep in endpoints.items():
        base = tool_name(label, name)
        unique, n = base, 1
        while unique in reserved or unique in existing:
            found = existing.get(unique)
            if (isinstance(found, SpaceEndpointTool) and found.identity == identity
                    and found.endpoint.name == ep.name):
                break
            n += 1
            unique = f"{base}_{n}"
        tool = SpaceEndpointTool(session, space, ep, unique, identity)
        existing[unique] = tool
        tools.append(tool)
    return tools
