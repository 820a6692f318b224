"""Site build: the folder's files, the Space card, safe data embedding, vendoring, preview."""

from __future__ import annotations

import html
import json
import re
import shutil
import urllib.request
from pathlib import Path

import jinja2
import pytest

from spacesmith.tools.errors import SiteError
from spacesmith.tools.site.gallery import load_gallery
from spacesmith.tools.site.preview import serve
from spacesmith.tools.site.render import build_site, render_index, script_json, space_card
from spacesmith.tools.site.vendor import read_pins, template_dir
from spacesmith.tools.text import slugify
from tests.fixtures.site import GalleryMaker

DATA = re.compile(r'<script id="gallery-data" type="application/json">(.*?)</script>', re.S)


def embedded(page: str) -> dict[str, object]:
    match = DATA.search(page)
    assert match
    return dict(json.loads(match.group(1)))


def test_build_writes_a_self_contained_site(make_gallery: GalleryMaker, tmp_path: Path) -> None:
    result = build_site(load_gallery(make_gallery(3)), tmp_path / "site")
    assert not result.used_cdn
    assert set(result.files) == {
        "README.md", "index.html", "viewer.js", "style.css",
        "splats/01-monument-1-the-tower.ply", "splats/02-monument-2-the-arch.ply",
        "splats/03-monument-3-the-dome.ply",
        "vendor/three/build/three.module.js", "vendor/three/build/three.core.js",
        "vendor/three/examples/jsm/controls/OrbitControls.js",
        "vendor/three/examples/jsm/postprocessing/Pass.js", "vendor/three/LICENSE",
        "vendor/spark/spark.module.min.js", "vendor/spark/LICENSE",
    }
    assert result.total_bytes == sum((result.out_dir / f).stat().st_size for f in result.files)
    page = (result.out_dir / "index.html").read_text()
    assert "https://" not in page  # nothing from a CDN at view time
    data = embedded(page)
    items = data["items"]
    assert isinstance(items, list)
    assert [i["splat"] for i in items] == sorted(f for f in result.files if f.startswith("splats"))
    assert items[0]["camera"]["position"] == [0.5, 0.4, 3.2]
    importmap = json.loads(re.search(r'<script type="importmap">(.*?)</script>', page, re.S)[1])
    for url in importmap["imports"].values():
        assert url.startswith("./vendor/")


def test_rebuild_replaces_the_previous_site(make_gallery: GalleryMaker, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(load_gallery(make_gallery(3)), out)
    second = build_site(load_gallery(make_gallery(1)), out)
    assert [f for f in second.files if f.startswith("splats/")] == \
        ["splats/01-monument-1-the-tower.ply"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gallery", "site"]  # no leftovers


def test_refuses_to_overwrite_a_folder_that_is_not_a_site(make_gallery: GalleryMaker,
                                                          tmp_path: Path) -> None:
    other = tmp_path / "documents"
    other.mkdir()
    (other / "thesis.tex").write_text("precious")
    with pytest.raises(SiteError, match="not a previous site build"):
        build_site(load_gallery(make_gallery(1)), other)
    assert (other / "thesis.tex").read_text() == "precious"


def test_hostile_text_is_escaped(make_gallery: GalleryMaker, tmp_path: Path) -> None:
    name = '</script><script>alert("x")</script>\u2028&amp;'
    gallery = load_gallery(make_gallery(2, names=[name, "ok"], title='Ti"tle<b>',
                                        description="a: b\n---\nsdk: docker"))
    result = build_site(gallery, tmp_path / "site")
    page = (result.out_dir / "index.html").read_text()
    assert page.count("<script") == 3 and page.count("</script>") == 3
    assert "<b>" not in page
    assert embedded(page)["items"][0]["name"] == name  # type: ignore[index]
    assert html.unescape(re.search(r"<h2 id=\"item-title\">(.*?)</h2>", page, re.S)[1]) == name
    card = (result.out_dir / "README.md").read_text()
    front = card.split("---\n")[1]
    assert [line for line in front.splitlines() if line.startswith("sdk")] == ["sdk: static"]
    assert 'short_description: "a: b --- sdk: docker"' in front
    assert 'title: "Ti\\"tle<b>"' in front
    assert "<script>" not in card


def test_space_card(make_gallery: GalleryMaker) -> None:
    card = space_card(load_gallery(make_gallery(2, description="x" * 200, emoji="🗼",
                                                color_from="red", color_to="gray")))
    front = card.split("---\n")[1].splitlines()
    assert front[:8] == ['title: "Generated monuments"', 'emoji: "🗼"', "colorFrom: red",
                         "colorTo: gray", "sdk: static", "app_file: index.html", "pinned: false",
                         f'short_description: "{"x" * 59}…"']
    assert "custom_headers" not in card  # Spark needs no SharedArrayBuffer


def test_template_is_strict() -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir())),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("index.html.j2").render(title="t")


def test_script_json_round_trips() -> None:
    value = {"a": "</script><!-- & \u2028 \u2029 >"}
    text = str(script_json(value))
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == value
    assert render_index  # the renderer is public for the agent's look_at tool


def test_cdn_fallback_says_so(make_gallery: GalleryMaker, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACESMITH_CACHE", str(tmp_path / "empty-cache"))
    with pytest.warns(UserWarning, match="npm is not available"):
        result = build_site(load_gallery(make_gallery(1)), tmp_path / "site", npm=None)
    assert result.used_cdn
    assert not any(f.startswith("vendor/") for f in result.files)
    page = (result.out_dir / "index.html").read_text()
    pins = read_pins()
    assert f"three@{pins.three}/build/three.module.js" in page
    assert f"@sparkjsdev/spark@{pins.spark}/dist/spark.module.min.js" in page


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_installs_into_the_cache_not_the_package(make_gallery: GalleryMaker, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("SPACESMITH_CACHE", str(cache))
    result = build_site(load_gallery(make_gallery(1)), tmp_path / "site")
    assert not result.used_cdn
    installed = list((cache / "npm").glob("*/node_modules/three/package.json"))
    assert len(installed) == 1
    assert json.loads(installed[0].read_text())["version"] == read_pins().three


def test_pins() -> None:
    pins = read_pins()
    assert (pins.three, pins.spark) == ("0.187.0", "2.2.0")
    package = json.loads((template_dir() / "package.json").read_text())
    assert package["dependencies"] == {"three": "0.187.0", "@sparkjsdev/spark": "2.2.0"}


def test_slug() -> None:
    assert slugify("Tour Eiffel!") == "tour-eiffel"
    assert slugify("Île de la Cité") == "ile-de-la-cite"
    assert slugify("Sacré-Cœur") == "sacre-coeur"
    assert slugify("東京") == "item"


def test_preview_serves_with_space_headers(make_gallery: GalleryMaker, tmp_path: Path) -> None:
    result = build_site(load_gallery(make_gallery(1)), tmp_path / "site")
    card = result.out_dir / "README.md"
    card.write_text(card.read_text().replace(
        "pinned: false\n",
        "pinned: false\ncustom_headers:\n  cross-origin-opener-policy: same-origin\n"))
    with serve(result.out_dir) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url + "viewer.js") as response:
            assert response.headers["Content-Type"].startswith("text/javascript")
            assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        with urllib.request.urlopen(server.url + result.files[-4]) as response:
            assert response.status == 200
    with pytest.raises(SiteError, match=r"no index\.html"):
        serve(tmp_path)
