"""The MCP tools: name, a description written for a model, a JSON schema, and the runner.

Schemas are closed (``additionalProperties: false``): a misspelt argument is an error, not
silently ignored. Every path is relative to the workspace the server serves; results are
JSON (text and ``structuredContent``), with images attached as MCP image content.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from spacesmith.tools.errors import InputError

if TYPE_CHECKING:
    from spacesmith.agent.mcp.local import LocalTools
    from spacesmith.agent.mcp.progress import Call
    from spacesmith.agent.mcp.spaces import SpaceTools

MAX_IMAGES = 8
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class Reply:
    """A tool's result: JSON data, and image files to show the client."""

    data: dict[str, Any]
    images: tuple[Path, ...] = ()


class Box(Protocol):
    """What the runners need: the Space tools (ready once the Spaces are) and local tools."""

    local: LocalTools

    def spaces(self) -> SpaceTools: ...

    def path(self, relative: str) -> Path: ...


Runner = Callable[[Box, "Call", Mapping[str, Any]], Reply]


@dataclass(frozen=True)
class ToolSpec:
    """One MCP tool."""

    name: str
    title: str
    description: str
    schema: dict[str, Any]
    run: Runner
    read_only: bool = False


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


PATH = {"type": "string", "minLength": 1, "maxLength": 1000,
        "description": "a path relative to the workspace"}
SPACE = {"type": "string", "minLength": 1, "maxLength": 500,
         "description": "a Hub id ('owner/name'), an https *.hf.space URL, or a Space the user "
                        "named; in call_space also the role 'image' or 'splat'"}
GALLERY = {
    "type": "object",
    "description": "{title, description?, viewer?: {background, transition_s, "
                   "auto_rotate_speed, idle_s}, items: [{name, splat, image?, caption?, "
                   "camera?, zoom?}], order?}; splat/image are workspace paths",
    "properties": {"title": {"type": "string"}, "items": {"type": "array",
                                                          "items": {"type": "object"}}},
    "required": ["title", "items"],
}


def _images(files: list[str], box: Box) -> tuple[Path, ...]:
    found = [box.path(f) for f in files if f.lower().endswith(IMAGE_SUFFIXES)]
    return tuple(found[:MAX_IMAGES])


def _discover(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    return Reply(box.spaces().discover(str(a["space"])))


def _call_space(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    if "calls" in a and "arguments" in a:
        raise InputError("give either arguments (one call) or calls (several), not both",
                         hint="put each call's arguments in the calls list")
    argument_list = list(a["calls"]) if "calls" in a else [dict(a.get("arguments") or {})]
    if not argument_list:
        raise InputError("calls is empty", hint="give at least one dict of arguments")
    results = box.spaces().call(call, str(a["space"]), a.get("endpoint"), argument_list)
    files = [f for r in results for f in r["files"]]
    cached = all(r["cached"] for r in results)
    return Reply({"results": results, "cached": cached}, _images(files, box))


def _generate(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    data = box.spaces().chain(call, list(a["subjects"]), prompt_template=a.get("prompt_template"),
                              fix=bool(a.get("fix", True)))
    images = [str(item["image"]) for item in data["items"] if item.get("image")]
    return Reply(data, _images(images, box) if a.get("show_images", True) else ())


def _inspect(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    return Reply(box.local.inspect_splat(str(a["path"])))


def _fix(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    options = {k: a[k] for k in ("name", "output", "flip_y", "frame", "prune_alpha",
                                 "max_splats", "rotate", "sh_degree", "level") if k in a}
    return Reply(box.local.fix_splat(str(a["path"]), **options))


def _read_gallery(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    return Reply(box.local.read_gallery())


def _write_gallery(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    return Reply(box.local.write_gallery(dict(a["gallery"])))


def _build_site(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    gallery = a.get("gallery")
    return Reply(box.local.build_site(dict(gallery) if gallery is not None else None))


def _preview(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    data, shots = box.local.preview_site(screenshot=bool(a.get("screenshot", False)))
    return Reply(data, tuple(shots))


def _deploy(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    return Reply(box.local.deploy_site(space_id=a.get("space_id"),
                                       private=bool(a.get("private", False)),
                                       dry_run=bool(a.get("dry_run", False))))


def _list(box: Box, call: Call, a: Mapping[str, Any]) -> Reply:
    return Reply(box.local.list_workspace())


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "generate_splats", "Images, then 3D splats, for a list of subjects",
        "For each subject: generate an image with the image Space, reconstruct a 3D Gaussian "
        "splat from it with the splat Space, and (fix=true) make it web-ready (upright, "
        "pruned, framed, .spz in splats/web/). Subjects run in parallel; every finished "
        "Space call is cached, so calling again with the same subjects costs nothing. "
        "Returns items (paths, camera, cached flags), gallery_items ready for build_site, "
        "and cached=true when no Space call had to be made. Long: reports progress.",
        _obj({"subjects": {"type": "array", "minItems": 1, "maxItems": 24,
                           "items": {"type": "string", "minLength": 1, "maxLength": 200},
                           "description": "what to make, e.g. [\"Panthéon\", \"Louvre\"]"},
              "prompt_template": {"type": "string",
                                  "description": "the image prompt, with {subject} where the "
                                                 "name goes (default: an isolated monument "
                                                 "on a plain background)"},
              "fix": {"type": "boolean", "default": True,
                      "description": "also make each splat web-ready (default true)"},
              "show_images": {"type": "boolean", "default": True,
                              "description": "attach the generated images (default true)"}},
             ("subjects",)),
        _generate),
    ToolSpec(
        "call_space", "Call one Space endpoint",
        "Call an endpoint of a Space, once (arguments) or several times concurrently "
        "(calls). space may be the role 'image' (arguments {prompt}) or 'splat' (arguments "
        "{image}) for the configured Spaces. File inputs are workspace paths; outputs are "
        "downloaded into the workspace. Cached by content: a repeated call returns at once "
        "with cached=true. Retries busy Spaces and waits in their queue. Run discover_space "
        "first to see a Space's endpoints.",
        _obj({"space": SPACE,
              "endpoint": {"type": "string", "description": "e.g. '/generate' (optional "
                                                            "for a role)"},
              "arguments": {"type": "object", "description": "the endpoint's arguments by "
                                                             "name"},
              "calls": {"type": "array", "minItems": 1, "maxItems": 32,
                        "items": {"type": "object"},
                        "description": "several argument objects, run concurrently"}},
             ("space",)),
        _call_space),
    ToolSpec(
        "discover_space", "List a Space's endpoints",
        "Read a Space's agents.md / API schema: its endpoints, their parameters (name, "
        "type, required, default, choices) and which role (image, splat) it can play. "
        "Allowed: Hub ids, https *.hf.space URLs and the Spaces the user named.",
        _obj({"space": SPACE}, ("space",)), _discover, read_only=True),
    ToolSpec(
        "inspect_splat", "Statistics of a splat file",
        "Count, bounds, extent, opacity summary and a verdict (ok / problems such as "
        "'upside down' or 'too few splats') for a .ply/.splat/.ksplat/.spz in the workspace.",
        _obj({"path": PATH}, ("path",)), _inspect, read_only=True),
    ToolSpec(
        "fix_splat", "Make a splat web-ready",
        "Turn Y-down to Y-up (flip_y), rotate, prune faint splats, frame (centre, base on "
        "the ground, camera) and write it; the format follows output's extension (default "
        "splats/web/NAME.spz). Returns the path, the camera for the gallery and the count.",
        _obj({"path": PATH,
              "name": {"type": "string", "description": "names the output file"},
              "output": {"type": "string", "description": "output path (.spz, .ksplat, "
                                                          ".splat, .ply)"},
              "flip_y": {"type": "boolean", "default": True,
                         "description": "turn Y-down into Y-up (Spaces output Y-down)"},
              "frame": {"type": "boolean", "default": True},
              "prune_alpha": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.02,
                              "description": "drop splats fainter than this (0: keep all)"},
              "max_splats": {"type": "integer", "minimum": 1},
              "rotate": {"type": "array", "items": {"type": "number"}, "minItems": 3,
                         "maxItems": 3, "description": "degrees about x, y, z"},
              "sh_degree": {"type": "integer", "minimum": 0, "maximum": 3},
              "level": {"type": "integer", "minimum": 0, "maximum": 2,
                        "description": ".ksplat compression level"}},
             ("path",)),
        _fix),
    ToolSpec(
        "read_gallery", "Read gallery.json",
        "The workspace's gallery (title, viewer settings, items), to edit and write back.",
        _obj({}), _read_gallery, read_only=True),
    ToolSpec(
        "write_gallery", "Write gallery.json",
        "Check a gallery (every path inside the workspace, every splat readable, known "
        "keys only) and save it as gallery.json.",
        _obj({"gallery": GALLERY}, ("gallery",)), _write_gallery),
    ToolSpec(
        "build_site", "Build the static gallery site",
        "Build site/ (index.html, viewer, splats, Space card) from gallery (saved as "
        "gallery.json first) or from the saved gallery.json.",
        _obj({"gallery": GALLERY}), _build_site),
    ToolSpec(
        "preview_site", "Serve the site locally",
        "Serve site/ on a local http://127.0.0.1 URL to open in a browser (kept running; "
        "the page reloads itself after build_site). screenshot=true also renders it in "
        "headless Chromium and attaches the picture.",
        _obj({"screenshot": {"type": "boolean", "default": False}}), _preview),
    ToolSpec(
        "deploy_site", "Deploy the site to the user's Space",
        "Push site/ to the static Hugging Face Space the user named when starting the "
        "server (--deploy); no other Space. dry_run=true lists the files only.",
        _obj({"space_id": {"type": "string", "description": "must be the named Space"},
              "private": {"type": "boolean", "default": False},
              "dry_run": {"type": "boolean", "default": False}}),
        _deploy),
    ToolSpec(
        "list_workspace", "List the workspace",
        "What the workspace holds: gallery.json, the site, web splats, generated images "
        "and splats (paths to pass to the other tools).",
        _obj({}), _list, read_only=True),
)

BY_NAME: dict[str, ToolSpec] = {spec.name: spec for spec in TOOLS}
