"""Payload and first-draw time of a six-item gallery site, .ply against .spz splats.

Builds the same six generated monuments twice (standard 3DGS PLY, and the splat toolkit's
.spz v3), serves each from the preview server, and opens it in headless Debian chromium
(software WebGL) a few times: ``firstDrawMs`` is the page's own ``performance.now()`` at
the first frame drawn with a splat in the scene.  Figures are reported, not asserted.

    .venv/bin/python benchmarks/bench_site.py [--splats 50000] [--runs 3]

Writes benchmarks/results/site.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spacesmith.tools.site.gallery import load_gallery  # noqa: E402
from spacesmith.tools.site.preview import serve  # noqa: E402
from spacesmith.tools.site.render import build_site  # noqa: E402
from tests.fixtures.site import CHROMIUM, CHROMIUM_ARGS, write_gallery  # noqa: E402


def to_spz(gallery_json: Path) -> Path:
    """A copy of the gallery whose splats are .spz files written by the splat toolkit."""
    from spacesmith.tools.splat.io import read_splat_file, write

    data = json.loads(gallery_json.read_text())
    for item in data["items"]:
        src = gallery_json.parent / item["splat"]
        dst = src.with_suffix(".spz")
        write(read_splat_file(src), dst)
        item["splat"] = dst.relative_to(gallery_json.parent).as_posix()
    out = gallery_json.with_name("gallery-spz.json")
    out.write_text(json.dumps(data))
    return out


def first_draw(url: str, runs: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 720})
                page = context.new_page()
                errors: list[str] = []
                page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error"
                        else None)
                page.goto(url)
                page.wait_for_function("window.__gallery && window.__gallery.firstDrawMs",
                                       timeout=120_000)
                page.wait_for_function("window.__gallery.ready", timeout=120_000)
                timing = page.evaluate(
                    "() => ({first: window.__gallery.firstDrawMs, "
                    "dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd})")
                if errors:
                    raise RuntimeError(f"console errors: {errors}")
                results.append({"first_draw_ms": float(timing["first"]),
                                "dom_content_loaded_ms": round(float(timing["dcl"]), 1)})
                context.close()
        finally:
            browser.close()
    return results


def measure(name: str, gallery_json: Path, out: Path, runs: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    site = build_site(load_gallery(gallery_json), out)
    build_s = time.perf_counter() - t0
    splat_bytes = sum((site.out_dir / f).stat().st_size for f in site.files
                      if f.startswith("splats/"))
    with serve(site.out_dir) as server:
        draws = first_draw(server.url, runs)
    firsts = [d["first_draw_ms"] for d in draws]
    return {
        "variant": name,
        "items": len(load_gallery(gallery_json).items),
        "files": len(site.files),
        "total_bytes": site.total_bytes,
        "splat_bytes": splat_bytes,
        "js_css_html_bytes": site.total_bytes - splat_bytes,
        "used_cdn": site.used_cdn,
        "build_s": round(build_s, 3),
        "first_draw_ms_median": statistics.median(firsts),
        "first_draw_ms_runs": firsts,
        "runs": draws,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splats", type=int, default=50_000, help="splats per item")
    parser.add_argument("--runs", type=int, default=3, help="page loads per variant")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ply_json = write_gallery(root / "gallery", 6, n=args.splats)
        results = [measure("ply", ply_json, root / "site-ply", args.runs)]
        try:
            spz_json = to_spz(ply_json)
        except ImportError as exc:  # the splat toolkit's writers are optional here
            print(f"skipping the .spz peer: {exc}", file=sys.stderr)
        else:
            results.append(measure("spz", spz_json, root / "site-spz", args.runs))
    report = {
        "benchmark": "six-item gallery site: payload and time to first splat drawn",
        "browser": "Debian chromium, headless, SwiftShader WebGL (software), 1280x720",
        "splats_per_item": args.splats,
        "results": results,
    }
    out = ROOT / "benchmarks" / "results" / "site.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    for r in results:
        print(f"{r['variant']:>4}: {r['total_bytes'] / 1e6:6.2f} MB total "
              f"({r['splat_bytes'] / 1e6:.2f} MB splats, {r['js_css_html_bytes'] / 1e6:.2f} MB "
              f"JS/CSS/HTML), first splat drawn at {r['first_draw_ms_median']:.0f} ms "
              f"(median of {len(r['first_draw_ms_runs'])}), build {r['build_s']:.2f} s")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
