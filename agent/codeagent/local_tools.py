"""smolagents Tools over the local toolkit: splats, the gallery site, deploy, files, images.

Each tool is a thin adapter over a ``tools/`` function, confined to the run's workspace,
returning a value whose ``repr`` tells the model what happened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from smolagents import Tool

from spacesmith.agent.runs.workspace import Workspace
from spacesmith.tools.errors import AgentError, SiteError, WorkspaceError
from spacesmith.tools.text import slugify

WEB_FORMAT = ".spz"


Inputs = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class FixedSplat:
    """A web-ready splat: upright, pruned, framed, compressed."""

    path: str
    camera: dict[str, Any]
    count: int
    bytes: int
    height: float

    def __repr__(self) -> str:
        return (f"FixedSplat({self.path}, {self.count} splats, {self.bytes // 1024} KiB, "
                f"height {self.height:.2f})")

    __str__ = __repr__


@dataclass(frozen=True)
class SiteInfo:
    """A built site."""

    folder: str
    items: tuple[str, ...]
    total_bytes: int

    def __repr__(self) -> str:
        return (f"SiteInfo({self.folder}: {len(self.items)} items {list(self.items)!r}, "
                f"{self.total_bytes // 1024} KiB)")

    __str__ = __repr__


class _Tool(Tool):  # type: ignore[misc]
    """Our tools validate inputs themselves; the forward signatures match ``inputs``."""

    skip_forward_signature_validation = True


class FixSplatTool(_Tool):
    name = "fix_splat"
    description = ("Make a splat file web-ready: flip Y-down to Y-up, prune faint splats, frame "
                   "it (centre on the origin, base on the ground), compress to .spz in "
                   "splats/web/. Returns FixedSplat(.path, .camera, .count, .height).")
    inputs: ClassVar[Inputs] = {
        "path": {"type": "string", "description": "the splat file (.ply/.splat) to fix"},
        "name": {"type": "string", "description": "the subject's name (names the file)"},
        "flip_y": {"type": "boolean", "nullable": True,
                   "description": "turn Y-down into Y-up (default True: Spaces output Y-down)"},
        "max_splats": {"type": "integer", "nullable": True,
                       "description": "keep at most this many splats (default: all)"},
    }
    output_type = "object"

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        super().__init__()

    def forward(self, path: str, name: str, flip_y: bool | None = True,
                max_splats: int | None = None) -> FixedSplat:
        from spacesmith.tools.splat.convert import convert

        if not path:
            raise AgentError("fix_splat got no path", hint="pass the .splat of a SpaceResult")
        src = self.workspace.resolve(path)
        # the source's path in the cache is part of the name: two subjects with one slug
        # ("Panthéon" of Paris, "Pantheon" of Rome) never overwrite each other's web splat
        tag = hashlib.sha256(self.workspace.relative(src).encode()).hexdigest()[:8]
        dst = self.workspace.web_dir / f"{slugify(name)}-{tag}{WEB_FORMAT}"
        result = convert(src, dst, flip_y=True if flip_y is None else bool(flip_y), frame=True,
                         prune_alpha=0.02, max_splats=max_splats)
        stats = result.stats
        return FixedSplat(
            path=self.workspace.relative(dst),
            camera=result.camera.to_dict(),
            count=int(stats.count),
            bytes=int(result.out_bytes),
            height=float(stats.bounds_max[1] - stats.bounds_min[1]),
        )




class InspectSplatTool(_Tool):
    name = "inspect_splat"
    description = ("Statistics of a splat file: count, bounds, extent, opacity and colour "
                   "summary, and which way is up. Use it to judge a reconstruction.")
    inputs: ClassVar[Inputs] = {"path": {"type": "string", "description": "the splat file"}}
    output_type = "string"

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        super().__init__()

    def forward(self, path: str) -> str:
        from spacesmith.tools.splat.io import read_splat_file
        from spacesmith.tools.splat.stats import compute_stats, verdict

        found = compute_stats(read_splat_file(self.workspace.resolve(path)))
        judged = verdict(found)
        problems = "; ".join(judged.problems) or "none"
        return f"{found}\nverdict: {'ok' if judged.ok else 'poor'}; problems: {problems}"


class BuildSiteTool(_Tool):
    waits_on_io = True  # npm, Chromium, the Hub: not agent code's time
    name = "build_site"
    description = ("Write gallery.json and build the static site into site/. `gallery` is "
                   "{title, viewer: {background, transition_s}, items: [{name, splat, image, "
                   "camera, zoom}]}. Returns SiteInfo(.folder, .items).")
    inputs: ClassVar[Inputs] = {"gallery":
        {"type": "object", "description": "the gallery (see description)"},
    }
    output_type = "object"

    def __init__(self, workspace: Workspace, npm: str | None = "npm") -> None:
        self.workspace = workspace
        self.npm = npm
        super().__init__()

    def forward(self, gallery: dict[str, Any]) -> SiteInfo:
        from spacesmith.tools.site.gallery import gallery_from_dict
        from spacesmith.tools.site.render import build_site

        data = _portable(gallery, self.workspace)
        parsed = gallery_from_dict(data, base_dir=self.workspace.root)
        self.workspace.write_text("gallery.json", json.dumps(data, indent=2, ensure_ascii=False))
        result = build_site(parsed, self.workspace.site_dir, npm=self.npm)
        info = SiteInfo(self.workspace.relative(result.out_dir),
                        tuple(item.name for item in parsed.items), result.total_bytes)
        return info


def _portable(gallery: Any, workspace: Workspace) -> dict[str, Any]:
    """The gallery with workspace paths made relative and cameras as plain dicts."""
    if not isinstance(gallery, dict):
        raise AgentError(f"build_site needs a dict, got {type(gallery).__name__}",
                         hint="pass {'title': ..., 'items': [...]}")
    data = json.loads(json.dumps(gallery, default=_plain))
    for item in data.get("items", []) if isinstance(data.get("items"), list) else []:
        if not isinstance(item, dict):
            continue
        for key in ("splat", "image"):
            if item.get(key):
                item[key] = workspace.relative(workspace.resolve(item[key]))
            elif key in item:
                del item[key]
    return dict(data)


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


class ReadGalleryTool(_Tool):
    name = "read_gallery"
    description = "The current gallery (the dict build_site last got), to edit and rebuild."
    inputs: ClassVar[Inputs] = {}
    output_type = "object"

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        super().__init__()

    def forward(self) -> dict[str, Any]:
        path = self.workspace.gallery_json
        if not path.is_file():
            raise AgentError("there is no gallery yet", hint="build one with build_site first")
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return data


class PreviewSiteTool(_Tool):
    waits_on_io = True  # npm, Chromium, the Hub: not agent code's time
    name = "preview_site"
    description = ("Render the built site in a headless browser and return the screenshot's "
                   "path (pass it to look_at).")
    inputs: ClassVar[Inputs] = {}
    output_type = "string"

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        super().__init__()

    def forward(self) -> str:
        from spacesmith.agent.runs.screenshot import screenshot_site

        out = self.workspace.root / "site-preview.png"
        screenshot_site(self.workspace.site_dir, out)
        return self.workspace.relative(out)


class DeploySiteTool(_Tool):
    waits_on_io = True  # npm, Chromium, the Hub: not agent code's time
    name = "deploy_site"
    description = "Push site/ to a static Hugging Face Space OWNER/NAME; returns its URL."
    inputs: ClassVar[Inputs] = {"space_id":
        {"type": "string", "description": "OWNER/NAME of the Space"},
    }
    output_type = "string"

    def __init__(self, workspace: Workspace, deployer: Callable[[Path, str], str]) -> None:
        self.workspace = workspace
        self._deploy = deployer  # holds the token in its closure, never in executor state
        super().__init__()

    def forward(self, space_id: str) -> str:
        if not (self.workspace.site_dir / "index.html").is_file():
            raise SiteError("the site is not built yet", hint="call build_site first")
        return self._deploy(self.workspace.site_dir, space_id)


MAX_WRITE_BYTES = 5 << 20  # one write_file
MAX_WRITTEN_BYTES = 50 << 20  # all write_file calls of a run
# what the tools own: a page written by hand is no gallery, a hand-made journal no record
OWNED = ("site", "cache", "splats", ".undo", "gallery.json", "journal.jsonl", "report.md",
         "report.json", "session.json", "chat_history.txt")


class WriteFileTool(_Tool):
    name = "write_file"
    description = ("Write text to a file inside the workspace (the only way to write files; "
                   "notes and data of your own, not site/, cache/, splats/ or gallery.json, "
                   "which build_site and the other tools write).")
    inputs: ClassVar[Inputs] = {
        "path": {"type": "string", "description": "a path relative to the workspace"},
        "content": {"type": "string", "description": "the text to write"},
    }
    output_type = "string"

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.written = 0
        super().__init__()

    def forward(self, path: str, content: str) -> str:
        data = str(content).encode("utf-8", "replace")
        target = self.workspace.resolve(path)
        top = self.workspace.relative(target).split("/")[0]
        if top in OWNED:
            raise WorkspaceError(f"write_file may not write {top!r}: the tools own it",
                                 hint="change the gallery with build_site(...)")
        if len(data) > MAX_WRITE_BYTES or self.written + len(data) > MAX_WRITTEN_BYTES:
            raise WorkspaceError(
                f"write_file is capped at {MAX_WRITE_BYTES >> 20} MiB a file and "
                f"{MAX_WRITTEN_BYTES >> 20} MiB a run ({self.written >> 20} MiB written so far)",
                hint="write less")
        self.workspace.write_bytes(target, data)
        self.written += len(data)
        return f"wrote {self.workspace.relative(target)} ({len(str(content))} chars)"


@dataclass
class GoalStatus:
    """Whether the agent said it cannot reach the goal (read by the harness, per run)."""

    gave_up: str | None = None


class GiveUpTool(_Tool):
    name = "give_up"
    description = ("Say the goal cannot be reached, and why; then call final_answer with the "
                   "same reason. The run then ends as not reached.")
    inputs: ClassVar[Inputs] = {"reason": {"type": "string", "description": "why, in one line"}}
    output_type = "string"

    def __init__(self, status: GoalStatus) -> None:
        self.status = status
        super().__init__()

    def forward(self, reason: str) -> str:
        self.status.gave_up = str(reason)[:500] or "no reason given"
        return "noted: the goal is not reached; now call final_answer(reason)"


MAX_LOOKS = 4  # pictures attached to one step at most (the latest)


class LookAtTool(_Tool):
    name = "look_at"
    description = ("Attach an image (a generated picture, a screenshot) to your next step so "
                   f"you can see it. Only the latest {MAX_LOOKS} images are kept.")
    inputs: ClassVar[Inputs] = {"path":
        {"type": "string", "description": "an image file in the workspace"},
    }
    output_type = "string"

    def __init__(self, workspace: Workspace, pending: list[Any]) -> None:
        self.workspace = workspace
        self.pending = pending
        super().__init__()

    def forward(self, path: str) -> str:
        from PIL import Image

        full = self.workspace.resolve(path)
        with Image.open(full) as image:
            picture = image.convert("RGB")
        picture.thumbnail((768, 768))
        self.pending.append(picture)
        del self.pending[:-MAX_LOOKS]  # a loop of look_at holds a few pictures, not thousands
        return f"{self.workspace.relative(full)} will be shown to you at the next step"


def attach_images(pending: list[Any]) -> Callable[..., None]:
    """A step callback: attach pending look_at images, and drop images of older steps."""

    def callback(memory_step: Any, agent: Any = None) -> None:
        if agent is not None:
            for step in agent.memory.steps:
                if step is not memory_step and getattr(step, "observations_images", None):
                    step.observations_images = None
        if pending and hasattr(memory_step, "observations_images"):
            memory_step.observations_images = list(pending)
            pending.clear()

    return callback
