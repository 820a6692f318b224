"""The two stand-in Gradio apps, with the interfaces of the real Spaces they replace.

- ``image``: ideogram4's ``/generate(prompt, mode, upsampler, width, height, seed,
  randomize_seed) -> (image, seed, caption)``.
- ``splat``: TripoSplat's ``/generate(image, seed, steps, guidance_scale, num_gaussians,
  output_format) -> (preprocessed image, HTML, DownloadButton via gr.update, Markdown)``.

Both call :meth:`Faults.draw` inside the function for the in-app fault kinds.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import numpy.typing as npt

from spacesmith.tools.standins.draw import draw_subject, shape_for
from spacesmith.tools.standins.faults import Faults
from spacesmith.tools.standins.lift import (
    NoForegroundError,
    crop_to_foreground,
    lift,
    ply_bytes,
    splat_bytes,
)

MODES = ("Default · 20 steps", "Turbo · 12 steps", "Quality · 48 steps")
GAUSSIAN_COUNTS = ("32768", "65536", "131072", "262144")
FORMATS = ("ply", "splat")
KEEP_OUTPUTS = 8
HANG_CHECK_S = 0.1


def _in_app_fault(faults: Faults, point: str, blocks: Any = None,
                  request: gr.Request | None = None) -> str | None:
    """Apply the in-app fault kinds; return the kind when the caller must act on it."""
    kind = faults.draw(point)
    if kind == "error":
        raise gr.Error("Injected failure: the model crashed on this input.")
    if kind == "quota":
        raise gr.Error(faults.quota_message())
    if kind == "hang":
        _hang(faults, blocks, getattr(request, "session_hash", None))
        raise gr.Error("Injected hang ended.")
    if kind == "stuck":  # a function Gradio cannot stop: the worker is held until close
        faults.stop.wait(faults.hang_s if faults.hang_s != float("inf") else None)
        raise gr.Error("Injected stuck worker ended.")
    if kind == "slow":
        faults.stop.wait(faults.slow_s)
    return kind


def _hang(faults: Faults, blocks: Any, session_hash: str | None) -> None:
    """Hold the worker like a stuck Space does (heartbeats only) until the client gives up
    and disconnects, ``hang_s`` passes or the server closes. With one worker per endpoint,
    every call queued behind it waits too."""
    end = time.monotonic() + faults.hang_s
    while not faults.stop.wait(HANG_CHECK_S):
        if time.monotonic() >= end or not _still_wanted(blocks, session_hash):
            return


def _still_wanted(blocks: Any, session_hash: str | None) -> bool:
    """False once Gradio dropped the event: its client went away (``alive`` is cleared) or
    cancelled it (the event left the active jobs)."""
    queue = getattr(blocks, "_queue", None)
    if queue is None or session_hash is None:
        return True
    for job in list(getattr(queue, "active_jobs", None) or []):
        for event in list(job or []):
            if getattr(event, "session_hash", None) == session_hash:
                return bool(getattr(event, "alive", True))
    return False


def _work(faults: Faults, seconds: float) -> None:
    """The Space's own compute time (the latency profile), ended early only by a close."""
    if seconds > 0:
        faults.stop.wait(seconds)


def build_image_app(faults: Faults, *, latency: float = 0.0) -> gr.Blocks:
    """The ideogram4 stand-in: a deterministic silhouette of the prompt's subject on black;
    each call takes ``latency`` seconds more."""

    def generate(
        prompt: str, mode: str, upsampler: bool, width: float, height: float, seed: float,
        randomize_seed: bool, request: gr.Request,
    ) -> tuple[npt.NDArray[np.uint8], int, str]:
        """Generate an image of the prompt's subject, isolated on a black background.

        Args:
            prompt: what to draw; its subject decides the silhouette and colour.
            mode: speed/quality preset.
            upsampler: whether to enrich the prompt (ignored by the stand-in).
            width: image width in pixels.
            height: image height in pixels.
            seed: the seed; returned as used.
            randomize_seed: pick a random seed instead of ``seed``.
        """
        if not prompt or not prompt.strip():
            raise gr.Error("Please enter a prompt.")
        _in_app_fault(faults, "app", demo, request)
        _work(faults, latency)
        used_seed = random.randrange(2**31) if randomize_seed else int(seed)
        image = draw_subject(prompt, int(width), int(height))
        caption = f"{prompt.strip()} ({shape_for(prompt)}, {mode.split(' ')[0].lower()})"
        return image, used_seed, caption

    with gr.Blocks(title="ideogram4 stand-in") as demo:
        gr.Markdown("# ideogram4 (spacesmith stand-in)")
        prompt = gr.Textbox(label="Prompt")
        mode = gr.Dropdown(list(MODES), value=MODES[0], label="Mode")
        upsampler = gr.Checkbox(value=False, label="Prompt upsampler")
        width = gr.Slider(256, 2048, value=1024, step=64, label="Width")
        height = gr.Slider(256, 2048, value=1024, step=64, label="Height")
        seed = gr.Number(value=42, precision=0, label="Seed")
        randomize = gr.Checkbox(value=False, label="Randomize seed")
        image = gr.Image(label="Result", format="png")
        used = gr.Number(label="Seed used", precision=0)
        caption = gr.Textbox(label="Caption")
        gr.Button("Generate").click(
            generate, [prompt, mode, upsampler, width, height, seed, randomize],
            [image, used, caption], api_name="generate",
        )
    return demo  # type: ignore[no-any-return]


def build_splat_app(faults: Faults, work_dir: Path | None = None, *,
                    latency: float = 0.0) -> gr.Blocks:
    """The TripoSplat stand-in: the image's foreground lifted into a Y-down 3DGS relief;
    each call takes ``latency`` seconds more."""
    out_root = Path(work_dir or tempfile.mkdtemp(prefix="spacesmith-splat-"))
    kept: list[Path] = []

    def generate(
        image: npt.NDArray[np.uint8] | None, seed: float, steps: float, guidance_scale: float,
        num_gaussians: str, output_format: str, request: gr.Request,
    ) -> tuple[npt.NDArray[np.uint8], str, Any, str]:
        """Reconstruct a 3D Gaussian splat from a single image of an object.

        Args:
            image: the object, on a black or transparent background.
            seed: sampling seed.
            steps: diffusion steps (ignored by the stand-in).
            guidance_scale: guidance (ignored by the stand-in).
            num_gaussians: how many Gaussians the splat has.
            output_format: "ply" or "splat".
        """
        if image is None:
            raise gr.Error("Please upload an image.")
        started = time.perf_counter()
        kind = _in_app_fault(faults, "splat", demo, request)
        _work(faults, latency)
        count = int(num_gaussians)
        try:
            preview = crop_to_foreground(image)
            vertices = lift(image, count, int(seed))
        except NoForegroundError:
            raise gr.Error("No foreground found: give an object on a black background.") from None
        data = ply_bytes(vertices) if output_format == "ply" else splat_bytes(vertices)
        if kind == "corrupt":
            data = data[: len(data) // 3]
        folder = Path(tempfile.mkdtemp(dir=out_root))
        kept.append(folder)
        while len(kept) > KEEP_OUTPUTS:  # Gradio has copied older results into its cache
            shutil.rmtree(kept.pop(0), ignore_errors=True)
        path = folder / f"splat.{output_format}"
        path.write_bytes(data)
        html = (f"<div class='viewer'>Preview of {count:,} Gaussians is not rendered by "
                "the stand-in.</div>")
        info = (f"**{count:,} Gaussians** · {output_format} · {len(data) / 1e6:.1f} MB · "
                f"{time.perf_counter() - started:.2f} s")
        return preview, html, gr.update(value=str(path), interactive=True), info

    with gr.Blocks(title="TripoSplat stand-in") as demo:
        gr.Markdown("# TripoSplat (spacesmith stand-in)")
        image = gr.Image(label="Input image", image_mode="RGBA", type="numpy")
        seed = gr.Number(value=42, precision=0, label="Seed")
        steps = gr.Slider(1, 50, value=20, step=1, label="Steps")
        guidance = gr.Slider(1, 10, value=3.0, step=0.1, label="Guidance scale")
        count = gr.Dropdown(list(GAUSSIAN_COUNTS), value=GAUSSIAN_COUNTS[-1],
                            label="Number of Gaussians")
        fmt = gr.Dropdown(list(FORMATS), value="ply", label="Output format")
        preview = gr.Image(label="Preprocessed image", format="png")
        html = gr.HTML()
        download = gr.DownloadButton(label="Download splat", interactive=False)
        info = gr.Markdown()
        gr.Button("Generate").click(
            generate, [image, seed, steps, guidance, count, fmt],
            [preview, html, download, info], api_name="generate",
        )
    return demo  # type: ignore[no-any-return]
