"""What every way of running the agent shares: choosing Spaces (the stand-ins when offline),
the model, the harness, and the contact sheet printed at the end of a build."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from spacesmith.agent.codeagent.harness import Harness, build_harness
from spacesmith.agent.codeagent.models import choose_model
from spacesmith.agent.runs.settings import Settings, from_environment
from spacesmith.tools.errors import AgentError

DEFAULT_IMAGE_SPACE = "ideogram-ai/ideogram4"
DEFAULT_SPLAT_SPACE = "VAST-AI/TripoSplat"


def hub_reachable(timeout: float = 3.0) -> bool:
    """True when the Hub answers within ``timeout`` seconds."""
    import httpx

    from spacesmith.tools.hub.auth import hub_endpoint

    try:
        httpx.get(f"{hub_endpoint()}/api/spaces/{DEFAULT_SPLAT_SPACE}", timeout=timeout)
    except httpx.HTTPError:
        return False
    return True


@contextlib.contextmanager
def hub_offline(offline: bool) -> Iterator[None]:
    """For an offline run, huggingface_hub's telemetry off (``HF_HUB_DISABLE_TELEMETRY``):
    otherwise its first request fetches an "agent harnesses" registry from huggingface.co to
    name the calling agent in its user-agent. Restored after, so one process can run
    offline and online runs in turn. ``HF_HUB_OFFLINE`` is not the switch here: it makes
    ``InferenceClient`` refuse every URL, a local model server's included."""
    if not offline:
        yield
        return
    import os

    from huggingface_hub import constants

    name = "HF_HUB_DISABLE_TELEMETRY"
    saved_env, saved = os.environ.get(name), constants.HF_HUB_DISABLE_TELEMETRY
    os.environ[name] = "1"
    constants.HF_HUB_DISABLE_TELEMETRY = True
    try:
        yield
    finally:
        constants.HF_HUB_DISABLE_TELEMETRY = saved
        if saved_env is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved_env


@contextlib.contextmanager
def spaces_for(settings: Settings, *, latency: float = 0.0,
               faults: Any = None) -> Iterator[tuple[Settings, str]]:
    """Settings with both Spaces named, starting the local stand-ins when needed.

    The stand-ins start with ``--offline``, or when no Space was named and the Hub cannot
    be reached. Yields the settings and one line saying which Spaces are used.
    """
    named = settings.image_space or settings.splat_space
    if settings.offline or (not named and not hub_reachable()):
        from spacesmith.tools.standins import start_standins

        with hub_offline(settings.offline), start_standins(latency=latency,
                                                           faults=faults) as standins:
            why = "--offline" if settings.offline else "the Hub is not reachable"
            yield (settings.with_(image_space=settings.image_space or standins.image_url,
                                  splat_space=settings.splat_space or standins.splat_url),
                   f"local stand-in Spaces ({why}): {standins.image_url}, {standins.splat_url}")
        return
    if named and not (settings.image_space and settings.splat_space):
        role, default, other = (("image", DEFAULT_IMAGE_SPACE, "splat")
                                if not settings.image_space
                                else ("splat", DEFAULT_SPLAT_SPACE, "image"))
        if not hub_reachable():
            raise AgentError(
                f"only the {other} Space was named; the {role} role fell back to the default "
                f"{default} on the Hub, which cannot be reached",
                hint=f"name a {role} Space (--{role}-space or [spaces] {role}), or use "
                     "--offline for a local stand-in")
    resolved = settings.with_(image_space=settings.image_space or DEFAULT_IMAGE_SPACE,
                              splat_space=settings.splat_space or DEFAULT_SPLAT_SPACE)
    yield resolved, ("Spaces: " + ", ".join(resolved.spaces("image"))
                     + "; " + ", ".join(resolved.spaces("splat")))


def open_harness(settings: Settings, *, progress: Callable[[Any], None] | None = None,
                 step_callbacks: Sequence[Callable[..., None]] = (),
                 max_workers: int = 6, deployer: Any = None,
                 on_text: Callable[[str], None] | None = None) -> Harness:
    """Fill settings from the environment, choose the model and build the harness.

    ``on_text`` receives the model's answer as it streams in (a terminal display)."""
    settings = from_environment(settings)
    choice = choose_model(settings, on_text=on_text)
    return build_harness(settings, model=choice.model, model_label=choice.label,
                         progress=progress, step_callbacks=step_callbacks,
                         max_workers=max_workers, deployer=deployer)


# Fonts with Latin-1 and Latin Extended glyphs ("Panthéon", "Sacré-Cœur"); Pillow finds a bare
# file name in the system font folders. Its built-in default lacks many accented letters.
LABEL_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf",
               "Arial.ttf")


def _label_font(size: int = 15) -> Any:
    from PIL import ImageFont

    for name in LABEL_FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def contact_sheet(workspace: Path, out: Path | None = None, *, thumb: int = 256) -> Path | None:
    """A grid of the gallery's source images with their names, as one PNG.

    Returns:
        The PNG's path, or None when the gallery has no images.
    """
    import json

    from PIL import Image, ImageDraw

    gallery_path = workspace / "gallery.json"
    if not gallery_path.is_file():
        return None
    items = json.loads(gallery_path.read_text("utf-8")).get("items", [])
    tiles = [(str(it.get("name", "")), workspace / str(it["image"]))
             for it in items if it.get("image") and (workspace / str(it["image"])).is_file()]
    if not tiles:
        return None
    cols = min(3, len(tiles))
    rows = (len(tiles) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * thumb, rows * (thumb + 24)), "black")
    draw = ImageDraw.Draw(sheet)
    font = _label_font()
    for i, (name, path) in enumerate(tiles):
        x, y = (i % cols) * thumb, (i // cols) * (thumb + 24)
        with Image.open(path) as image:
            picture = image.convert("RGB")
        picture.thumbnail((thumb, thumb))
        sheet.paste(picture, (x + (thumb - picture.width) // 2, y))
        draw.text((x + 6, y + thumb + 3), name[:40], fill="white", font=font)
    target = out or workspace / "contact-sheet.png"
    import io

    from spacesmith.agent.runs.workspace import atomic_write

    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    atomic_write(target, buffer.getvalue())
    return target
