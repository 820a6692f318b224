"""The Space side of the MCP server: which Spaces may be called, cached calls, the chain.

Everything goes through one :class:`~spacesmith.agent.calls.session.SpaceSession`, the same
machinery as the agent's tools: content-addressed cache in the workspace, journal, bounded
re-calls, queue-aware client with retries, a budget of uncached calls. The token lives in
the session's clients only; results carry workspace paths, never the token.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from spacesmith.agent.calls.cache import fan_out
from spacesmith.agent.calls.roles import match_role
from spacesmith.agent.calls.session import SpaceResult, SpaceSession
from spacesmith.agent.mcp.progress import Call, bound, current
from spacesmith.agent.runs.workspace import Workspace
from spacesmith.tools.errors import (
    AgentError,
    ForeignHostError,
    InputError,
    ParameterError,
    SpacesmithError,
)
from spacesmith.tools.text import slugify

if TYPE_CHECKING:
    from spacesmith.agent.calls.port import Connector, SpaceCaller
    from spacesmith.tools.spaces.client import ProgressEvent
    from spacesmith.tools.spaces.schema import Endpoint

ROLE_KEYS = {"image": "prompt", "splat": "image"}
WEB_FORMAT = ".spz"
MAX_SUBJECTS = 24


def space_allowed(space: str, named: Iterable[str]) -> bool:
    """Whether a tool call may reach ``space``: the agent's policy.

    Allowed: a Hub id (or its ``huggingface.co/spaces/…`` URL), an https ``*.hf.space``
    URL, and the Spaces the user named when the server started (or any URL on their
    origins). Never an arbitrary URL a model composed.

    Raises:
        DiscoveryError: ``space`` is neither a Hub id nor an http(s) URL.
    """
    from spacesmith.tools.spaces.discovery import resolve

    text = space.strip()
    named = [n.strip() for n in named if n]
    if text in named:
        return True
    if resolve(text).space_id:
        return True
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host.endswith(".hf.space") and parts.port in (None, 443):
        return True
    return any(_origin(text) == _origin(n) for n in named if "://" in n)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


@dataclass(frozen=True)
class Role:
    """A role ("image", "splat") bound to one endpoint of one Space."""

    role: str
    space: str
    endpoint: Endpoint
    main_param: str
    defaults: Mapping[str, Any]
    identity: str

    def arguments(self, call: Mapping[str, Any]) -> dict[str, Any]:
        """A role call's arguments (``prompt``/``image``) as the endpoint's own."""
        args = dict(self.defaults)
        for key, value in call.items():
            args[self.main_param if key == ROLE_KEYS[self.role] else key] = value
        return args


def result_dict(result: SpaceResult) -> dict[str, Any]:
    """A Space call's result as JSON for the client (workspace paths only)."""
    return {"files": list(result.files), "values": list(result.values),
            "cached": result.cached, "elapsed_s": result.elapsed_s,
            "attempts": result.attempts}


class SpaceTools:
    """Discovery, calls and the image → splat chain over one workspace.

    Args:
        workspace: the served workspace.
        token: the Hugging Face token or None; given to the Space clients only.
        named: the Spaces the user named (flags, or the local stand-ins).
        roles: the image and splat Spaces (``{"image": …, "splat": …}``).
        max_calls: uncached Space calls allowed while the server runs.
        max_workers: how many Space calls run at once.
        timeout: deadline of one call attempt, seconds.
        call_attempts: how often a failed call is made before giving up.
        num_gaussians: splat size asked of the splat Space.
        connector: ``SpaceClient.connect`` or a stand-in (tests).
    """

    def __init__(self, workspace: Workspace, *, token: str | None, named: Sequence[str],
                 roles: Mapping[str, str], max_calls: int, max_workers: int, timeout: float,
                 call_attempts: int, num_gaussians: str,
                 connector: Connector | None = None) -> None:
        self.workspace = workspace
        self.named = tuple(named)
        self.role_spaces = dict(roles)
        self.num_gaussians = num_gaussians
        self.max_workers = max(1, max_workers)
        self.session = SpaceSession(workspace.root, run_id=f"mcp-{uuid.uuid4().hex[:8]}",
                                    token=token, max_calls=max_calls,
                                    max_workers=self.max_workers, timeout=timeout,
                                    call_attempts=call_attempts, progress=_on_space_event,
                                    connector=connector)
        self._lock = threading.Lock()
        self._roles: dict[str, Role] = {}

    def close(self) -> None:
        """Close the Space clients."""
        self.session.close()

    # --- Spaces and roles -----------------------------------------------------------

    def connect(self, space: str) -> SpaceCaller:
        """The client for an allowed Space (discovered once, then kept).

        Raises:
            ForeignHostError: the Space is outside the policy.
            SpaceError: discovery failed.
        """
        space = space.strip()
        if space not in self.session.clients and not space_allowed(space, self.named):
            raise ForeignHostError(
                "is not a Hub id, an https *.hf.space URL or a Space named when the server "
                "started", space=space,
                hint="use a Hub id like 'VAST-AI/TripoSplat', or restart 'spacesmith mcp' "
                     "with --image-space/--splat-space naming it")
        with self._lock:
            return self.session.connect(space)

    def role(self, role: str) -> Role:
        """The endpoint that plays ``role`` ("image" or "splat")."""
        with self._lock:
            found = self._roles.get(role)
        if found is not None:
            return found
        from spacesmith.agent.codeagent.space_tools import space_identity

        space = self.role_spaces[role]
        client = self.connect(space)
        match = match_role(client.endpoints, role, num_gaussians=self.num_gaussians)
        found = Role(role, space, client.endpoints[match.endpoint], match.main_param,
                     dict(match.defaults), space_identity(space, client))
        with self._lock:
            self._roles[role] = found
        return found

    def discover(self, space: str) -> dict[str, Any]:
        """A Space's endpoints and parameters, and which roles it can play (``space`` may
        be a role name: the configured Space of that role)."""
        from spacesmith.agent.codeagent.space_tools import space_label

        space = self.role_spaces.get(space.strip(), space)
        client = self.connect(space)
        endpoints = [_endpoint_dict(ep) for ep in client.endpoints.values()]
        plays = {}
        for role in ROLE_KEYS:
            try:
                plays[role] = match_role(client.endpoints, role).endpoint
            except AgentError:
                continue
        return {"space": space, "label": space_label(space, client), "endpoints": endpoints,
                "roles": plays}

    # --- calls ----------------------------------------------------------------------

    def call(self, call: Call, space: str, endpoint: str | None,
             argument_list: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Make calls of one endpoint (concurrently, bounded), cached by content.

        ``space`` may be a role name ("image", "splat"): then the role's Space and endpoint
        are used, and its main input may be given as ``prompt`` / ``image``.
        """
        from spacesmith.agent.codeagent.space_tools import space_identity

        if space in ROLE_KEYS:
            role = self.role(space)
            if endpoint not in (None, "", role.endpoint.name, role.endpoint.name.lstrip("/")):
                raise ParameterError(f"the {space} role is endpoint {role.endpoint.name}, "
                                     f"not {endpoint}", space=role.space,
                                     hint="leave endpoint out when space is a role")
            target, ep, identity = role.space, role.endpoint, role.identity
            argument_list = [role.arguments(a) for a in argument_list]
        else:
            client = self.connect(space)
            ep = _pick_endpoint(space, client.endpoints, endpoint)
            target, identity = space.strip(), space_identity(space.strip(), client)
        file_params = {p.name for p in ep.parameters if p.is_file}
        call.total = float(len(argument_list))
        tool = f"mcp:{ep.name}"

        def one(args: Mapping[str, Any]) -> dict[str, Any]:
            with bound(call):
                call.check()
                result = self.session.call(tool, target, ep, args, file_params,
                                           identity=identity)
                call.advance(f"{ep.name}: {len(result.files)} file(s)"
                             + (" (cached)" if result.cached else ""))
                return result_dict(result)

        return fan_out(one, list(argument_list), max_workers=self.max_workers)

    def chain(self, call: Call, subjects: Sequence[str], *, prompt_template: str | None,
              fix: bool) -> dict[str, Any]:
        """For each subject an image, then a splat from it (then a web-ready splat).

        Subjects run side by side (bounded), each one's steps in order, so a splat starts
        as soon as its own image is there. A subject that fails does not stop the others.
        """
        names = _check_subjects(subjects)
        prompts = [_prompt(s, prompt_template) for s in names]
        image, splat = self.role("image"), self.role("splat")
        steps = 3 if fix else 2
        call.total = float(steps * len(names))

        def pipeline(index: int) -> dict[str, Any]:
            name = names[index]
            with bound(call):
                try:
                    call.check()
                    return self._one_subject(call, name, prompts[index], image, splat, fix)
                except SpacesmithError as exc:
                    if isinstance(exc, InputError) or call.cancelled.is_set():
                        raise
                    return {"name": name, "error": str(exc)}

        items = fan_out(pipeline, list(range(len(names))), max_workers=self.max_workers)
        failed = [item for item in items if "error" in item]
        if failed and len(failed) == len(items):
            raise AgentError(f"every subject failed; first: {failed[0]['error']}",
                             hint="call again: finished Space calls come from the cache")
        done = [item for item in items if "error" not in item]
        gallery_items = [{k: item[k] for k in ("name", "splat", "image", "camera")
                          if k in item} for item in done]
        flags = [flag for item in done for flag in item["cached"].values()]
        out: dict[str, Any] = {"items": items, "gallery_items": gallery_items,
                               "cached": bool(flags) and all(flags),
                               "space_calls": {"made": flags.count(False),
                                               "cached": flags.count(True)}}
        if failed:
            out["note"] = (f"{len(failed)} of {len(items)} subjects failed; call again with "
                           "the same subjects: finished calls come from the cache")
        return out

    def _one_subject(self, call: Call, name: str, prompt: str, image: Role, splat: Role,
                     fix: bool) -> dict[str, Any]:
        session = self.session
        img = session.call("mcp:chain-image", image.space, image.endpoint,
                           image.arguments({"prompt": prompt}),
                           {p.name for p in image.endpoint.parameters if p.is_file},
                           identity=image.identity)
        if img.image is None:
            raise AgentError(f"the image Space returned no image for {name!r}",
                             hint="check the image Space with discover_space")
        call.advance(f"{name}: image" + (" (cached)" if img.cached else ""))
        rec = session.call("mcp:chain-splat", splat.space, splat.endpoint,
                           splat.arguments({"image": img.image}),
                           {p.name for p in splat.endpoint.parameters if p.is_file},
                           identity=splat.identity)
        if rec.splat is None:
            raise AgentError(f"the splat Space returned no splat for {name!r}",
                             hint="check the splat Space with discover_space")
        call.advance(f"{name}: splat" + (" (cached)" if rec.cached else ""))
        item: dict[str, Any] = {"name": name, "image": img.image, "raw_splat": rec.splat,
                                "cached": {"image": img.cached, "splat": rec.cached}}
        if not fix:
            item["splat"] = rec.splat
            return item
        dst = self.workspace.web_dir / f"{slugify(name)}{WEB_FORMAT}"
        item.update(self._web_splat(self.workspace.resolve(rec.splat), dst))
        call.advance(f"{name}: web splat {item['splat']}")
        return item

    def _web_splat(self, src: Path, dst: Path) -> dict[str, Any]:
        """Flip, frame, prune and compress ``src`` into ``dst``, unless ``dst`` already is
        exactly that (a record beside it names the source version and the output's)."""
        from spacesmith.tools.splat.convert import convert

        record = dst.with_name(f".{dst.name}.fix.json")
        source = {"src": self.workspace.relative(src), "size": src.stat().st_size,
                  "mtime_ns": src.stat().st_mtime_ns, "fix": "flip_y frame prune_alpha=0.02"}
        try:
            kept = json.loads(record.read_text("utf-8"))
            if (kept["source"] == source and dst.stat().st_size == kept["bytes"]
                    and dst.stat().st_mtime_ns == kept["mtime_ns"]):
                return {**kept["result"], "fix_cached": True}
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no record, or a stale or broken one: convert
        fixed = convert(src, dst, flip_y=True, frame=True, prune_alpha=0.02)
        result = {"splat": self.workspace.relative(dst), "camera": fixed.camera.to_dict(),
                  "count": int(fixed.stats.count), "bytes": int(fixed.out_bytes)}
        self.workspace.write_text(record, json.dumps({
            "source": source, "bytes": dst.stat().st_size, "mtime_ns": dst.stat().st_mtime_ns,
            "result": result}))
        return {**result, "fix_cached": False}


def _on_space_event(event: ProgressEvent) -> None:
    """The session's progress hook: route a Space event to the call this thread works for.

    Raising here (the client cancelled) ends the Space call at its next event.
    """
    call = current()
    if call is None or (call.cancelled.is_set() and event.stage in ("done", "failed")):
        return  # a finished call is let through: the session caches it
    where = f"{event.endpoint or ''}".strip() or "Space"
    detail = f": {event.detail}" if event.detail else ""
    wait = f" (waiting {event.wait_s:.0f} s)" if event.wait_s else ""
    call.note(f"{where} {event.stage}{detail}{wait}")


def _pick_endpoint(space: str, endpoints: Mapping[str, Endpoint],
                   name: str | None) -> Endpoint:
    if not name:
        if len(endpoints) == 1:
            return next(iter(endpoints.values()))
        raise ParameterError("name the endpoint to call", space=space,
                             hint=f"one of: {', '.join(endpoints) or 'none'}")
    key = name if name.startswith("/") else f"/{name}"
    if key not in endpoints:
        raise ParameterError(f"has no endpoint {name}", space=space,
                             hint=f"one of: {', '.join(endpoints) or 'none'}")
    return endpoints[key]


def _endpoint_dict(ep: Endpoint) -> dict[str, Any]:
    params = []
    for p in ep.parameters:
        entry: dict[str, Any] = {"name": p.name, "type": "file" if p.is_file else p.type,
                                 "required": p.required}
        if not p.required and p.default is not None:
            entry["default"] = p.default
        if p.enum:
            entry["enum"] = list(p.enum)
        if p.label and p.label != p.name:
            entry["label"] = p.label
        params.append(entry)
    returns = [{"label": r.label, "type": "file" if r.is_file else r.type,
                "component": r.component} for r in ep.returns]
    return {"name": ep.name, "description": (ep.description or "").strip()[:300],
            "parameters": params, "returns": returns}


def _check_subjects(subjects: Sequence[str]) -> list[str]:
    names = [" ".join(str(s).split()) for s in subjects]
    if not names or any(not n for n in names):
        raise InputError("subjects must be a non-empty list of non-empty names",
                         hint='e.g. ["Panthéon", "Arc de Triomphe"]')
    if len(names) > MAX_SUBJECTS:
        raise InputError(f"{len(names)} subjects is more than {MAX_SUBJECTS} in one call",
                         hint="split them over several calls")
    slugs: dict[str, str] = {}
    for name in names:
        slug = slugify(name)
        if slug in slugs:
            raise InputError(f"subjects {slugs[slug]!r} and {name!r} would share the file "
                             f"name {slug!r}", hint="give each subject a distinct name")
        slugs[slug] = name
    return names


_FIELD = re.compile(r"\{subject\}")


def _prompt(subject: str, template: str | None) -> str:
    if template is None:
        from spacesmith.agent.codeagent.prompting import render

        return render("image_prompt", subject=subject)
    if not _FIELD.search(template):
        raise InputError("prompt_template must contain {subject}",
                         hint='e.g. "{subject}, isolated on a black background"')
    return template.replace("{subject}", subject)

