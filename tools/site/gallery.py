"""Gallery data: what a splat gallery shows, and its hand-written JSON form.

The JSON form is a documented interface (users write it by hand, the agent writes it too)::

    {
      "title": "Monuments de Paris",            # required
      "description": "Six monuments as splats",  # optional, the Space card's short text
      "emoji": "🏛️", "color_from": "blue", "color_to": "indigo",   # optional, Space card
      "viewer": {                                 # optional, every key optional
        "background": "#0b0d12",                  # CSS hex colour behind the splats
        "transition_s": 1.6,                      # camera flight + fade between items
        "auto_rotate_speed": 0.6,                 # idle orbit speed (0 turns it off)
        "idle_s": 4.0                             # seconds without input before auto-rotate
      },
      "order": ["Louvre", "Eiffel Tower"],        # optional: item names, in showing order
      "items": [                                  # required, at least one
        {"name": "Eiffel Tower",                  # required, unique; the overlay title
         "caption": "Iron lattice, 1889",         # optional
         "splat": "splats/eiffel.ply",            # required; relative to the JSON file
         "image": "images/eiffel.png",            # optional source image
         "camera": {"position": [0, 0, 3], "target": [0, 0, 0], "fov": 50},  # optional
         "zoom": 1.3}                             # optional camera distance scale (> 1 = farther)
      ]
    }

When an item has no camera, it is computed by the splat toolkit's framing from the file
as it is (the file is never modified).  Any splat format the toolkit reads is accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from spacesmith.tools.errors import GalleryError, SpacesmithError
from spacesmith.tools.splat import SPLAT_SUFFIXES
from spacesmith.tools.splat.model import Camera

CARD_COLOURS = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class ViewerSettings:
    """Tunables of the viewer; the defaults suit a dark gallery on desktop and phone."""

    background: str = "#0b0d12"
    transition_s: float = 1.6
    auto_rotate_speed: float = 0.6
    idle_s: float = 4.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "background": self.background,
            "transition_s": self.transition_s,
            "auto_rotate_speed": self.auto_rotate_speed,
            "idle_s": self.idle_s,
        }


@dataclass(frozen=True)
class GalleryItem:
    """One monument: its title, caption, splat file and the camera to show it from."""

    name: str
    splat: Path
    camera: Camera
    caption: str = ""
    image: Path | None = None
    zoom: float = 1.0

    def view_camera(self) -> Camera:
        """The camera with ``zoom`` applied (distance to the target scaled)."""
        if self.zoom == 1.0:
            return self.camera
        (px, py, pz), (tx, ty, tz) = self.camera.position, self.camera.target
        x, y, z = (tx + (px - tx) * self.zoom, ty + (py - ty) * self.zoom,
                   tz + (pz - tz) * self.zoom)
        far = max(self.camera.far, self.camera.far * self.zoom)
        return replace(self.camera, position=(x, y, z), far=far)


@dataclass(frozen=True)
class Gallery:
    """A titled, ordered list of items plus the viewer and Space card settings."""

    title: str
    items: tuple[GalleryItem, ...]
    description: str = ""
    emoji: str = "🏛️"
    color_from: str = "blue"
    color_to: str = "indigo"
    viewer: ViewerSettings = field(default_factory=ViewerSettings)

    def to_dict(self, *, relative_to: Path | None = None) -> dict[str, Any]:
        """The JSON form; paths are made relative to ``relative_to`` when they can be."""

        def rel(path: Path) -> str:
            if relative_to is not None:
                try:
                    return path.resolve().relative_to(relative_to.resolve()).as_posix()
                except ValueError:
                    pass
            return path.as_posix()

        items: list[dict[str, Any]] = []
        for item in self.items:
            entry: dict[str, Any] = {"name": item.name, "caption": item.caption,
                                     "splat": rel(item.splat)}
            if item.image is not None:
                entry["image"] = rel(item.image)
            entry["camera"] = item.camera.to_dict()
            entry["zoom"] = item.zoom
            items.append(entry)
        return {
            "title": self.title,
            "description": self.description,
            "emoji": self.emoji,
            "color_from": self.color_from,
            "color_to": self.color_to,
            "viewer": self.viewer.to_dict(),
            "items": items,
        }

    def to_json(self, *, relative_to: Path | None = None) -> str:
        """The JSON text that :func:`load_gallery` reads back into an equal Gallery."""
        return json.dumps(self.to_dict(relative_to=relative_to), indent=2, ensure_ascii=False)


def load_gallery(path: str | Path) -> Gallery:
    """Read a gallery JSON file; splat and image paths are relative to the file.

    Args:
        path: the gallery JSON file.

    Returns:
        The gallery, with absolute paths and a camera for every item.

    Raises:
        GalleryError: the file is missing, not JSON, or a key is missing or wrong
            (the message names the key, e.g. ``items[2].splat``).
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise GalleryError(f"cannot read gallery file {source}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise GalleryError(f"{source} is not UTF-8 text (byte {exc.start}): "
                           "is it a JSON file?") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GalleryError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise GalleryError(f"{source} nests JSON too deeply to be a gallery") from exc
    return gallery_from_dict(data, base_dir=source.resolve().parent)


def gallery_from_dict(data: object, *, base_dir: Path) -> Gallery:
    """Validate the JSON form (already parsed) into a :class:`Gallery`.

    Args:
        data: the parsed JSON value.
        base_dir: the directory relative paths are resolved against.

    Returns:
        The gallery.

    Raises:
        GalleryError: a key is missing or has the wrong type or value.
    """
    top = _mapping(data, "gallery")
    _no_unknown(top, "gallery", {"title", "description", "emoji", "color_from", "color_to",
                                 "viewer", "order", "items"})
    raw_items = top.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise GalleryError("key 'items' must be a non-empty list of items")
    items = [_item(raw, f"items[{i}]", base_dir) for i, raw in enumerate(raw_items)]
    names = [item.name for item in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise GalleryError(f"key 'items' has duplicate names: {', '.join(duplicates)}")
    if "order" in top:
        items = _reorder(items, top["order"])
    colours = {}
    for key, default in (("color_from", "blue"), ("color_to", "indigo")):
        value = _str(top, key, "gallery", default)
        if value not in CARD_COLOURS:
            raise GalleryError(f"key '{key}' must be one of {', '.join(CARD_COLOURS)}; "
                               f"got {value!r}")
        colours[key] = value
    return Gallery(
        title=_str(top, "title", "gallery", None, nonempty=True),
        items=tuple(items),
        description=_str(top, "description", "gallery", ""),
        emoji=_str(top, "emoji", "gallery", "🏛️", nonempty=True),
        viewer=_viewer(top.get("viewer", {})),
        **colours,
    )


def _viewer(raw: object) -> ViewerSettings:
    data = _mapping(raw, "viewer")
    _no_unknown(data, "viewer", {"background", "transition_s", "auto_rotate_speed", "idle_s"})
    defaults = ViewerSettings()
    background = _str(data, "background", "viewer", defaults.background)
    if not _HEX.match(background):
        raise GalleryError(f"key 'viewer.background' must be a hex colour like #0b0d12; "
                           f"got {background!r}")
    return ViewerSettings(
        background=background,
        transition_s=_num(data, "transition_s", "viewer", defaults.transition_s, 0.0, 10.0),
        auto_rotate_speed=_num(data, "auto_rotate_speed", "viewer", defaults.auto_rotate_speed,
                               0.0, 30.0),
        idle_s=_num(data, "idle_s", "viewer", defaults.idle_s, 0.0, 600.0),
    )


def _item(raw: object, where: str, base_dir: Path) -> GalleryItem:
    data = _mapping(raw, where)
    _no_unknown(data, where, {"name", "caption", "splat", "image", "camera", "zoom"})
    splat = _file(data, "splat", where, base_dir)
    if splat.suffix.lower() not in SPLAT_SUFFIXES:
        raise GalleryError(f"key '{where}.splat' must be a {', '.join(SPLAT_SUFFIXES)} file; "
                           f"got {splat.name!r}")
    image = _file(data, "image", where, base_dir) if data.get("image") is not None else None
    raw_camera = data.get("camera")
    if raw_camera is None:
        camera = _frame_file(splat, where)
    else:
        try:
            camera = Camera.from_dict(dict(_mapping(raw_camera, f"{where}.camera")))
        except SpacesmithError as exc:
            raise GalleryError(f"key {where}.{exc.message}") from exc
    return GalleryItem(
        name=_str(data, "name", where, None, nonempty=True),
        caption=_str(data, "caption", where, ""),
        splat=splat,
        image=image,
        camera=camera,
        zoom=_num(data, "zoom", where, 1.0, 0.05, 20.0),
    )


def _frame_file(splat: Path, where: str) -> Camera:
    """The splat toolkit's framing camera for the file as it is (imported lazily)."""
    try:
        from spacesmith.tools.splat.frame import camera_for, robust_extent
        from spacesmith.tools.splat.io import read_splat_file
    except ImportError as exc:  # the toolkit is optional at import time only
        raise GalleryError(f"key '{where}.camera' is missing and the splat toolkit cannot "
                           f"frame {splat.name}: {exc}", hint="give a camera in the JSON") from exc
    try:
        # frame() would move the splat; the site ships the file unchanged, so only its
        # robust extent is measured and the camera placed for the splat where it is
        camera = camera_for(robust_extent(read_splat_file(splat)))
        if not isinstance(camera, Camera):
            raise GalleryError(f"key '{where}.camera': framing {splat.name} gave no camera")
    except SpacesmithError as exc:
        raise GalleryError(f"key '{where}.splat': {exc.message}") from exc
    return camera


def _reorder(items: list[GalleryItem], order: object) -> list[GalleryItem]:
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        raise GalleryError("key 'order' must be a list of item names")
    by_name = {item.name: item for item in items}
    unknown = [n for n in order if n not in by_name]
    if unknown:
        raise GalleryError(f"key 'order' names unknown items: {', '.join(unknown)}; "
                           f"items are: {', '.join(by_name)}")
    if len(set(order)) != len(order):
        raise GalleryError("key 'order' names an item twice")
    rest = [item for item in items if item.name not in set(order)]
    return [by_name[n] for n in order] + rest


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise GalleryError(f"key '{where}' must be a JSON object, got {type(value).__name__}")
    return value


def _no_unknown(data: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        prefix = "" if where == "gallery" else f"{where}."
        raise GalleryError(f"unknown key '{prefix}{unknown[0]}'; allowed: "
                           f"{', '.join(sorted(allowed))}")


def _key(where: str, key: str) -> str:
    return key if where == "gallery" else f"{where}.{key}"


def _str(data: Mapping[str, Any], key: str, where: str, default: str | None, *,
         nonempty: bool = False) -> str:
    if key not in data:
        if default is None:
            raise GalleryError(f"key '{_key(where, key)}' is missing")
        return default
    value = data[key]
    if not isinstance(value, str) or (nonempty and not value.strip()):
        kind = "a non-empty string" if nonempty else "a string"
        raise GalleryError(f"key '{_key(where, key)}' must be {kind}")
    return value


def _num(data: Mapping[str, Any], key: str, where: str, default: float, low: float,
         high: float) -> float:
    value = data.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise GalleryError(f"key '{_key(where, key)}' must be a number from {low:g} to {high:g}; "
                           f"got {value!r}")
    return float(value)


def _file(data: Mapping[str, Any], key: str, where: str, base_dir: Path) -> Path:
    value = _str(data, key, where, None, nonempty=True)
    path = (base_dir / value).resolve()
    if not path.is_file():
        raise GalleryError(f"key '{where}.{key}': file not found: {path}")
    return path
