# ruff: noqa: E501  (the agents.md text keeps its one long line, as the Hub serves it)
"""Outside Spaces for issue 11's acceptance scenarios, written independently of the
project's stand-ins (nothing here imports ``spacesmith``).

Each Space is a plain ``gr.Blocks`` at gradio's default queue (one event at a time),
mounted in a FastAPI app that serves ``/agents.md`` (the newer generation of the Hub's
text) with URLs on its own host. Run one per process so a stuck worker dies with it:

    python tests/outside_spaces.py image --port 7901 [--latency 1]
    python tests/outside_spaces.py splat --port 7902 --variant stuck-sync

Variants (the splat Space; ``image`` takes ``ok``, ``stuck-sync``, ``error`` too):
  ok             sleeps ``--latency`` s (heartbeats only), then answers
  stuck-sync     ``time.sleep(10**6)`` in a sync function: the worker is never freed
  stuck-async    ``await asyncio.sleep(10**6)`` in an async function
  stuck-gen      a generator that yields once, then never again
  hang-2nd       answers, except its 2nd call, which sleeps for ever (sync)
  progress       ``gr.Progress`` every ``--tick`` s for ``--latency`` s, then answers
  error          ``raise gr.Error("GPU task aborted")`` on every call (ZeroGPU's text)
  error-plain    ``raise gr.Error("CUDA out of memory")`` on every call
  wrong-api      serves a text-to-text ``/predict`` instead (not a splat Space)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

AGENTS_MD = """To use this application ({title}):
API schema: GET {base}/gradio_api/info
Call endpoint: POST {base}/gradio_api/call/v2/{{endpoint}} {{"param_name": value, ...}}
Poll result: GET {base}/gradio_api/call/{{endpoint}}/{{event_id}}
File inputs: POST {base}/gradio_api/upload -F "files=@file.ext", use as: {{"path": "<returned-path>", "meta": {{"_type": "gradio.FileData"}}, "orig_name": "file.ext"}}
Auth: Bearer $HF_TOKEN (https://huggingface.co/settings/tokens)
"""

PLY_FIELDS = (["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity"]
              + [f"scale_{i}" for i in range(3)] + [f"rot_{i}" for i in range(4)])


def gaussian_ply(count: int, seed: int) -> bytes:
    """A binary little-endian 3DGS PLY (SH0): a coloured ellipsoid shell, Y-down."""
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=(count, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    pos = direction * np.array([0.6, 1.0, 0.6]) * rng.uniform(0.8, 1.0, size=(count, 1))
    pos[:, 1] *= -1.0
    data = np.zeros((count, len(PLY_FIELDS)), dtype="<f4")
    data[:, 0:3] = pos
    data[:, 6:9] = rng.uniform(-1.0, 1.5, size=(count, 3))
    data[:, 9] = 2.0
    data[:, 10:13] = np.log(0.02)
    data[:, 13] = 1.0
    header = f"ply\nformat binary_little_endian 1.0\nelement vertex {count}\n"
    header += "".join(f"property float {name}\n" for name in PLY_FIELDS) + "end_header\n"
    return header.encode() + data.tobytes()


def disk_image(prompt: str, width: int, height: int) -> np.ndarray:
    """An object on black: a disk whose colour follows the prompt."""
    h = abs(hash(prompt)) % 200
    yy, xx = np.mgrid[0:height, 0:width]
    inside = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(width, height) / 3) ** 2
    img = np.zeros((height, width, 3), dtype=np.uint8)
    img[inside] = (55 + h, 255 - h, 120)
    return img


def build_image(variant: str, latency: float):
    import gradio as gr

    def generate(prompt, mode, upsampler, width, height, seed, randomize_seed):
        """Generate an image from a text prompt.

        Args:
            prompt: the text to draw.
            mode: speed/quality preset.
            upsampler: enrich the prompt.
            width: width in pixels.
            height: height in pixels.
            seed: the seed.
            randomize_seed: pick a random seed.
        """
        if variant == "error":
            raise gr.Error("CUDA out of memory (outside test Space)")
        if variant == "stuck-sync":
            time.sleep(10**6)
        time.sleep(latency)
        w, h = int(width) // 4, int(height) // 4
        return disk_image(prompt, w, h), int(seed), f"{prompt} ({mode})"

    with gr.Blocks(title="ideogram4 (outside)") as demo:
        prompt = gr.Textbox(label="Prompt")
        mode = gr.Dropdown(["Default · 20 steps", "Turbo · 12 steps", "Quality · 48 steps"],
                           value="Default · 20 steps", label="Mode")
        upsampler = gr.Checkbox(value=True, label="Magic prompt")
        width = gr.Slider(512, 2048, value=1024, step=64, label="Width")
        height = gr.Slider(512, 2048, value=1024, step=64, label="Height")
        seed = gr.Slider(0, 2**31 - 1, value=0, step=1, label="Seed")
        rnd = gr.Checkbox(value=True, label="Randomize seed")
        out = gr.Image(label="Image")
        used = gr.Number(label="Seed")
        cap = gr.Textbox(label="Caption")
        gr.Button("Go").click(generate, [prompt, mode, upsampler, width, height, seed, rnd],
                              [out, used, cap], api_name="generate")
    return demo


def build_splat(variant: str, latency: float, tick: float):
    import gradio as gr

    out_dir = Path(tempfile.mkdtemp(prefix="outside-splat-"))
    counter = itertools.count(1)
    lock = threading.Lock()

    def finish(image, seed, num_gaussians, output_format):
        path = out_dir / f"{next(counter)}-{os.getpid()}" / f"splat.{output_format}"
        path.parent.mkdir(parents=True)
        path.write_bytes(gaussian_ply(min(int(num_gaussians), 4096), int(seed)))
        info = f"**{num_gaussians} Gaussians** · {output_format}"
        return image, "<div>viewer</div>", gr.update(value=str(path), visible=True), info

    doc = """Reconstruct 3D Gaussians from one image.

        Args:
            image: the object.
            seed: the seed.
            steps: sampling steps.
            guidance_scale: guidance.
            num_gaussians: how many Gaussians.
            output_format: ply or splat.
        """

    if variant == "stuck-async":
        async def generate(image, seed, steps, guidance_scale, num_gaussians, output_format):
            await asyncio.sleep(10**6)
            return finish(image, seed, num_gaussians, output_format)
    elif variant == "stuck-gen":
        def generate(image, seed, steps, guidance_scale, num_gaussians, output_format):
            yield image, "<div>starting</div>", gr.update(), "starting"
            time.sleep(10**6)
            yield finish(image, seed, num_gaussians, output_format)
    elif variant == "progress":
        def generate(image, seed, steps, guidance_scale, num_gaussians, output_format,
                     progress=gr.Progress()):  # noqa: B008 (gradio's own idiom)
            n = max(1, int(latency / tick))
            for i in range(n):
                progress((i, n), desc="Denoising")
                time.sleep(tick)
            return finish(image, seed, num_gaussians, output_format)
    else:
        calls = {"n": 0}

        def generate(image, seed, steps, guidance_scale, num_gaussians, output_format):
            with lock:
                calls["n"] += 1
                n = calls["n"]
            if variant == "error":  # a real ZeroGPU failure text
                raise gr.Error("GPU task aborted (outside test Space)")
            if variant == "error-plain":
                raise gr.Error("CUDA out of memory (outside test Space)")
            if variant == "stuck-sync" or (variant == "hang-2nd" and n == 2):
                time.sleep(10**6)
            time.sleep(latency)
            return finish(image, seed, num_gaussians, output_format)
    generate.__doc__ = doc

    with gr.Blocks(title="TripoSplat (outside)") as demo:
        image = gr.Image(label="Input Image", image_mode="RGBA", type="pil")
        seed = gr.Number(value=42, label="Seed", precision=0)
        steps = gr.Slider(1, 50, value=20, step=1, label="Steps")
        guidance = gr.Slider(1, 10, value=3.0, step=0.1, label="Guidance Scale")
        count = gr.Dropdown(["32768", "65536", "131072", "262144"], value="262144",
                            label="Number of Gaussians")
        fmt = gr.Radio(["ply", "splat"], value="ply", label="Output Format")
        pre = gr.Image(label="Preprocessed")
        html = gr.HTML()
        dl = gr.DownloadButton("Download", visible=False)
        md = gr.Markdown()
        gr.Button("Generate").click(generate, [image, seed, steps, guidance, count, fmt],
                                    [pre, html, dl, md], api_name="generate")
    return demo


def build_wrong():
    import gradio as gr

    def predict(text):
        """Echo text."""
        return text[::-1]

    with gr.Blocks() as demo:
        t = gr.Textbox(label="Text")
        o = gr.Textbox(label="Out")
        gr.Button("Go").click(predict, t, o, api_name="predict")
    return demo


def serve(role: str, variant: str, port: int, latency: float, tick: float) -> None:
    import gradio as gr
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse

    if variant == "wrong-api":
        demo, title = build_wrong(), "someone/reverser: reverse text"
    elif role == "image":
        demo, title = build_image(variant, latency), "ideogram-ai/ideogram4: text to image"
    else:
        demo, title = build_splat(variant, latency, tick), "VAST-AI/TripoSplat: image to splat"
    demo.queue()  # gradio's defaults: one event at a time
    base = f"http://127.0.0.1:{port}"
    app = FastAPI()

    @app.get("/agents.md")
    def agents_md() -> PlainTextResponse:
        return PlainTextResponse(AGENTS_MD.format(title=title, base=base))

    app = gr.mount_gradio_app(app, demo, path="", ssr_mode=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["image", "splat"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--variant", default="ok")
    p.add_argument("--latency", type=float, default=0.5)
    p.add_argument("--tick", type=float, default=2.0)
    a = p.parse_args()
    serve(a.role, a.variant, a.port, a.latency, a.tick)
