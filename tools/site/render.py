"""Gallery → a self-contained static folder, ready to be pushed as a static Space.

The folder holds ``index.html`` (rendered from ``site_template/index.html.j2`` with
autoescape and ``StrictUndefined``), ``viewer.js`` + ``style.css``, the pinned three.js and
Spark modules under ``vendor/``, the splats under ``splats/``, the images under
``images/`` and the Space card ``README.md``.  The gallery data reaches the page only as
JSON inside ``<script type="application/json">`` with ``<``, ``>`` and ``&`` escaped, and
the viewer puts titles on screen with ``textContent``: a title is always text, never markup.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from spacesmith.tools.errors import SiteError
from spacesmith.tools.site.gallery import Gallery
from spacesmith.tools.site.vendor import (
    LOCAL_IMPORTS,
    copy_vendor,
    ensure_node_modules,
    read_pins,
    template_dir,
)
from spacesmith.tools.text import slugify

STATIC_FILES = ("viewer.js", "style.css")
SHORT_DESCRIPTION_MAX = 60  # the Hub rejects longer card descriptions


@dataclass(frozen=True)
class SiteResult:
    """What :func:`build_site` wrote: the folder, its files (relative, sorted) and their size."""

    out_dir: Path
    files: tuple[str, ...]
    total_bytes: int
    used_cdn: bool


def build_site(gallery: Gallery, out_dir: str | Path, *, npm: str | None = "npm") -> SiteResult:
    """Render a gallery into a static site folder (replacing a previous build there).

    Args:
        gallery: the gallery to show.
        out_dir: the folder to write; it must be empty, absent or a previous site build.
        npm: the npm executable used to install the pinned viewer packages into the cache
            on first use; None never runs npm (the cache is still used when populated).

    Returns:
        The folder, the files written and their total size; ``used_cdn`` is True when the
        viewer's JS could not be vendored and the page loads it from a CDN (a warning says so).

    Raises:
        SiteError: the folder holds something else, or a file cannot be written.
    """
    out = Path(out_dir).resolve()
    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        used_cdn = _build_into(gallery, work, npm)
        _swap_in(work, out)
    except OSError as exc:
        raise SiteError(f"cannot write the site to {out}: {exc}") from exc
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    return SiteResult(
        out_dir=out,
        files=tuple(p.relative_to(out).as_posix() for p in files),
        total_bytes=sum(p.stat().st_size for p in files),
        used_cdn=used_cdn,
    )


def _build_into(gallery: Gallery, work: Path, npm: str | None) -> bool:
    template = template_dir()
    node_modules = ensure_node_modules(npm, template)
    if node_modules is not None:
        copy_vendor(node_modules, work)
        imports = dict(LOCAL_IMPORTS)
    else:
        imports = read_pins(template).cdn_imports()
        warnings.warn(
            "npm is not available: the site loads three.js and Spark from cdn.jsdelivr.net "
            "(pinned versions) instead of bundling them; install npm for a self-contained site",
            stacklevel=3,
        )
    for name in STATIC_FILES:
        shutil.copyfile(template / name, work / name)
    data = _copy_media(gallery, work)
    page = render_index(gallery, data, imports)
    (work / "index.html").write_text(page, encoding="utf-8")
    (work / "README.md").write_text(space_card(gallery), encoding="utf-8")
    return node_modules is None


def _copy_media(gallery: Gallery, work: Path) -> dict[str, Any]:
    """Copy splats and images under stable names; return the data the viewer reads."""
    items = []
    used: set[str] = set()
    for index, item in enumerate(gallery.items, start=1):
        stem = f"{index:02d}-{slugify(item.name, max_len=40)}"
        while stem in used:
            stem += "-x"
        used.add(stem)
        splat_rel = f"splats/{stem}{item.splat.suffix.lower()}"
        _copy(item.splat, work / splat_rel)
        image_rel = None
        if item.image is not None:
            image_rel = f"images/{stem}{item.image.suffix.lower()}"
            _copy(item.image, work / image_rel)
        items.append({
            "name": item.name,
            "caption": item.caption,
            "splat": splat_rel,
            "image": image_rel,
            "bytes": item.splat.stat().st_size,
            "camera": item.view_camera().to_dict(),
        })
    return {
        "title": gallery.title,
        "description": gallery.description,
        "viewer": gallery.viewer.to_dict(),
        "items": items,
    }


def script_json(value: object) -> Markup:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>``, ``&``, U+2028/9.

    The escapes are JSON string escapes, so ``JSON.parse`` gives back the exact text.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return Markup(text)


def render_index(gallery: Gallery, data: dict[str, Any], imports: dict[str, str]) -> str:
    """Render ``index.html`` from the template (autoescape, StrictUndefined)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    try:
        template = env.get_template("index.html.j2")
        first = gallery.items[0]
        return template.render(
            title=gallery.title,
            description=gallery.description or gallery.title,
            background=gallery.viewer.background,
            first_name=first.name,
            first_caption=first.caption,
            importmap_json=script_json({"imports": imports}),
            gallery_json=script_json(data),
        )
    except jinja2.TemplateError as exc:
        raise SiteError(f"cannot render the site template: {exc}") from exc


def space_card(gallery: Gallery) -> str:
    """The Space's ``README.md``: YAML front matter for a static Space, then a short text.

    Strings are written as JSON strings, which YAML reads as double-quoted scalars, so a
    title with a colon or a quote cannot break the front matter.  Spark needs no
    SharedArrayBuffer, so no COOP/COEP ``custom_headers`` are set.
    """
    short = " ".join(gallery.description.split()) or \
        f"{len(gallery.items)} Gaussian-splat monuments in 3D"
    if len(short) > SHORT_DESCRIPTION_MAX:
        short = short[: SHORT_DESCRIPTION_MAX - 1].rstrip() + "…"
    lines = [
        "---",
        f"title: {_yaml_str(gallery.title)}",
        f"emoji: {_yaml_str(gallery.emoji)}",
        f"colorFrom: {gallery.color_from}",
        f"colorTo: {gallery.color_to}",
        "sdk: static",
        "app_file: index.html",
        "pinned: false",
        f"short_description: {_yaml_str(short)}",
        "tags:",
        "  - gaussian-splatting",
        "  - 3d",
        "---",
        "",
        f"# {_md(gallery.title)}",
        "",
    ]
    if gallery.description:
        lines += [_md(gallery.description), ""]
    lines += [f"- **{_md(item.name)}**" + (f": {_md(item.caption)}" if item.caption else "")
              for item in gallery.items]
    lines += ["", "A Gaussian-splat gallery built with spacesmith "
              "(three.js + Spark). Drag to orbit; scroll, swipe or use the arrow keys to travel.",
              ""]
    return "\n".join(lines)


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _md(text: str) -> str:
    """Plain text for Markdown: one line, HTML-significant characters escaped."""
    one_line = " ".join(text.split())
    return one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def _check_replaceable(out: Path) -> None:
    if out.is_file():
        raise SiteError(f"{out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "index.html").is_file():
        raise SiteError(f"{out} is not empty and is not a previous site build",
                        hint="choose an empty or new folder with -o")


def _swap_in(work: Path, out: Path) -> None:
    """Replace ``out`` with ``work`` so that a reader never sees a half-built site."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}-old-{work.name[-8:]}")
        out.rename(old)
    work.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
