"""The local side of the MCP server: splats, the gallery, the site, its preview, deploy.

Thin adapters over ``spacesmith.tools``: every path a client gives is resolved inside the
workspace (:class:`~spacesmith.agent.runs.workspace.Workspace`), every path returned is
relative to it, and deploy goes only to the Space the user named on the command line.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spacesmith.agent.runs.workspace import Workspace
from spacesmith.tools.errors import DeployError, GalleryError, SiteError, SplatError
from spacesmith.tools.text import slugify

SPLAT_SUFFIXES = (".ply", ".splat", ".ksplat", ".spz")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
WEB_FORMAT = ".spz"


class LocalTools:
    """Splat, gallery, site, preview and deploy tools over one workspace.

    Args:
        workspace: the served workspace.
        deploy_space: the only Space ``deploy_site`` may push to (None: deploy is off).
        token: the Hugging Face token, handed to the deploy call only.
        npm: the npm executable for the site build (None: never run npm).
        hub_endpoint: the Hub URL deploy pushes to.
    """

    def __init__(self, workspace: Workspace, *, deploy_space: str | None, token: str | None,
                 npm: str | None, hub_endpoint: str) -> None:
        self.workspace = workspace
        self.deploy_space = deploy_space
        self._token = token
        self.npm = npm
        self.hub_endpoint = hub_endpoint
        self._preview: Any = None
        self._lock = threading.Lock()
        # one writer of gallery.json and site/ at a time (clients may send calls at once)
        self._site_lock = threading.RLock()

    def close(self) -> None:
        """Stop the preview server."""
        with self._lock:
            if self._preview is not None:
                self._preview.close()
                self._preview = None

    # --- splats ---------------------------------------------------------------------

    def inspect_splat(self, path: str) -> dict[str, Any]:
        """Statistics of a splat file and the verdict on it."""
        from spacesmith.tools.splat.io import read_splat_file
        from spacesmith.tools.splat.stats import compute_stats, verdict

        full = self._existing(path, SPLAT_SUFFIXES, "splat")
        stats = compute_stats(read_splat_file(full))
        return {"path": self.workspace.relative(full), "bytes": full.stat().st_size,
                "stats": stats.to_dict(), "verdict": verdict(stats).to_dict()}

    def fix_splat(self, path: str, *, name: str | None = None, output: str | None = None,
                  flip_y: bool = True, frame: bool = True, prune_alpha: float | None = 0.02,
                  max_splats: int | None = None, rotate: Sequence[float] | None = None,
                  sh_degree: int | None = None, level: int = 1) -> dict[str, Any]:
        """Read → flip/rotate → prune → frame → write (format from the output's extension)."""
        from spacesmith.tools.splat.convert import convert

        src = self._existing(path, SPLAT_SUFFIXES, "splat")
        if output:
            dst = self.workspace.resolve(output)
            if dst.is_relative_to(self.workspace.root / "cache"):
                raise SplatError("output is inside cache/, which holds the Space calls' results",
                                 hint="write elsewhere, e.g. splats/web/NAME.spz")
            if dst.suffix.lower() not in SPLAT_SUFFIXES:
                raise SplatError(f"output {output!r} has no splat extension",
                                 hint="end it with .spz, .ksplat, .splat or .ply")
        else:
            stem = slugify(name or src.stem) or "splat"
            dst = self.workspace.web_dir / f"{stem}{WEB_FORMAT}"
        if dst == src:
            raise SplatError("output is the input file",
                             hint="write to another path (the default is splats/web/NAME.spz)")
        dst.parent.mkdir(parents=True, exist_ok=True)
        turn = (float(rotate[0]), float(rotate[1]), float(rotate[2])) if rotate else None
        result = convert(src, dst, flip_y=flip_y, rotate=turn, frame=frame,
                         prune_alpha=prune_alpha or None, max_splats=max_splats,
                         sh_degree=sh_degree, level=level)
        stats = result.stats
        return {"path": self.workspace.relative(dst), "camera": result.camera.to_dict(),
                "count": int(stats.count), "bytes": int(result.out_bytes),
                "height": round(float(stats.bounds_max[1] - stats.bounds_min[1]), 4),
                "in_count": int(result.in_count), "dropped": dict(result.dropped)}

    # --- gallery and site -------------------------------------------------------------

    def read_gallery(self) -> dict[str, Any]:
        """The workspace's gallery.json."""
        path = self.workspace.gallery_json
        if not path.is_file():
            raise GalleryError("there is no gallery.json yet",
                               hint="write one with write_gallery, or pass it to build_site")
        try:
            data = json.loads(path.read_text("utf-8"))
        except ValueError as exc:
            raise GalleryError(f"gallery.json is not JSON: {exc}") from exc
        return {"path": "gallery.json", "gallery": data}

    def write_gallery(self, gallery: dict[str, Any]) -> dict[str, Any]:
        """Check a gallery (paths inside the workspace, every splat readable) and save it."""
        from spacesmith.tools.site.gallery import gallery_from_dict

        data = self._portable(gallery)
        parsed = gallery_from_dict(data, base_dir=self.workspace.root)
        with self._site_lock:
            self.workspace.write_text("gallery.json",
                                      json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return {"path": "gallery.json", "title": parsed.title,
                "items": [item.name for item in parsed.items]}

    def build_site(self, gallery: dict[str, Any] | None = None) -> dict[str, Any]:
        """Build site/ from ``gallery`` (saved first) or from the saved gallery.json."""
        from spacesmith.tools.site.gallery import load_gallery
        from spacesmith.tools.site.render import build_site

        with self._site_lock:
            if gallery is not None:
                self.write_gallery(gallery)
            elif not self.workspace.gallery_json.is_file():
                raise GalleryError("there is no gallery.json yet",
                                   hint="pass gallery to build_site, or call write_gallery "
                                        "first")
            parsed = load_gallery(self.workspace.gallery_json)
            result = build_site(parsed, self.workspace.site_dir, npm=self.npm)
        missing = [f for f in ("index.html", "README.md") if f not in result.files]
        if missing:
            raise SiteError(f"the built site lacks {', '.join(missing)}")
        out: dict[str, Any] = {
            "folder": self.workspace.relative(result.out_dir),
            "index": self.workspace.relative(result.out_dir / "index.html"),
            "items": [item.name for item in parsed.items], "files": len(result.files),
            "total_bytes": result.total_bytes, "used_cdn": result.used_cdn,
        }
        with self._lock:
            if self._preview is not None:
                out["preview_url"] = self._preview.url
        return out

    def preview_site(self, *, screenshot: bool = False) -> tuple[dict[str, Any], list[Path]]:
        """A local URL serving site/ (kept running; the page reloads itself after a
        rebuild), and optionally a screenshot of it in headless Chromium."""
        from spacesmith.tools.site.preview import serve

        site = self.workspace.site_dir
        if not (site / "index.html").is_file():
            raise SiteError("the site is not built yet", hint="call build_site first")
        with self._lock:
            if self._preview is None:
                self._preview = serve(site, live=True)
            url = str(self._preview.url)
        out: dict[str, Any] = {"url": url, "folder": self.workspace.relative(site)}
        if not screenshot:
            return out, []
        from spacesmith.agent.runs.screenshot import screenshot_site

        shot = screenshot_site(site, self.workspace.root / "site-preview.png")
        out["screenshot"] = self.workspace.relative(shot)
        return out, [shot]

    def deploy_site(self, *, space_id: str | None = None, private: bool = False,
                    dry_run: bool = False) -> dict[str, Any]:
        """Push site/ to the Space named on the command line, and to no other."""
        from spacesmith.tools.hub.deploy import deploy

        target = self.deploy_space
        if target is None:
            raise DeployError("this server was started without a Space to deploy to",
                              hint="restart 'spacesmith mcp' with --deploy OWNER/NAME")
        if space_id not in (None, "", target):
            raise DeployError(f"this server deploys only to {target} (named with --deploy), "
                              f"not {space_id}",
                              hint="leave space_id out, or restart with --deploy naming it")
        site = self.workspace.site_dir
        if not (site / "index.html").is_file():
            raise SiteError("the site is not built yet", hint="call build_site first")
        with self._site_lock:
            result = deploy(site, target, token=self._token, private=private,
                            dry_run=dry_run, endpoint=self.hub_endpoint)
        return {"space": target, "url": result.url, "files": len(result.files),
                "committed": result.committed, "dry_run": dry_run}

    def list_workspace(self) -> dict[str, Any]:
        """What the workspace holds: gallery, site, web splats, Space outputs."""
        root = self.workspace.root
        outputs = sorted(p for p in (root / "cache").glob("*/files/*") if p.is_file())
        web = sorted(p for p in self.workspace.web_dir.glob("*")
                     if p.is_file() and not p.name.startswith("."))
        return {
            "root": str(root),
            "gallery": self.workspace.gallery_json.is_file(),
            "site": (self.workspace.site_dir / "index.html").is_file(),
            "web_splats": [self.workspace.relative(p) for p in web],
            "images": [self.workspace.relative(p) for p in outputs
                       if p.suffix.lower() in IMAGE_SUFFIXES][:200],
            "splats": [self.workspace.relative(p) for p in outputs
                       if p.suffix.lower() in SPLAT_SUFFIXES][:200],
        }

    # --- helpers ----------------------------------------------------------------------

    def _existing(self, path: str, suffixes: tuple[str, ...], kind: str) -> Path:
        full = self.workspace.resolve(path)
        if not full.is_file():
            raise SplatError(f"no {kind} file {path!r} in the workspace",
                             hint="pass a path from an earlier result (see list_workspace)")
        if full.suffix.lower() not in suffixes:
            raise SplatError(f"{path!r} is not a {kind} file",
                             hint=f"give a {', '.join(suffixes)} file")
        return full

    def _portable(self, gallery: Any) -> dict[str, Any]:
        """The gallery with its file paths checked inside the workspace and made relative."""
        if not isinstance(gallery, dict):
            raise GalleryError(f"the gallery must be an object, not {type(gallery).__name__}",
                               hint='pass {"title": ..., "items": [...]}')
        data: dict[str, Any] = json.loads(json.dumps(gallery))
        items = data.get("items")
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            for key in ("splat", "image"):
                value = item.get(key)
                if isinstance(value, str) and value:
                    item[key] = self.workspace.relative(self.workspace.resolve(value))
                elif key in item and not value:
                    del item[key]
        return data
