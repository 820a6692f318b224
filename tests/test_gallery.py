"""Gallery data: the hand-written JSON form, defaults, framing, errors, round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spacesmith.tools.errors import GalleryError
from spacesmith.tools.site.gallery import Gallery, ViewerSettings, load_gallery
from spacesmith.tools.splat.model import Camera
from tests.fixtures.site import GalleryMaker


def test_minimal_form_computes_the_camera_from_the_file(make_gallery: GalleryMaker) -> None:
    path = make_gallery(2, camera=False)
    data = json.loads(path.read_text())
    minimal = {"title": "Two", "items": [{k: item[k] for k in ("name", "caption", "splat")}
                                         for item in data["items"]]}
    path.write_text(json.dumps(minimal))
    before = (path.parent / minimal["items"][0]["splat"]).read_bytes()
    gallery = load_gallery(path)
    assert gallery.title == "Two"
    assert gallery.viewer == ViewerSettings()
    assert [item.name for item in gallery.items] == [i["name"] for i in minimal["items"]]
    for item in gallery.items:
        assert item.splat.is_absolute() and item.splat.is_file()
        cam = item.camera
        distance = sum((p - t) ** 2 for p, t in zip(cam.position, cam.target, strict=True)) ** 0.5
        assert 0.5 < distance < 20  # the generated splats are about 1.6 units tall
    assert (path.parent / minimal["items"][0]["splat"]).read_bytes() == before


def test_tunables_and_order(make_gallery: GalleryMaker) -> None:
    path = make_gallery(3, names=["A", "B", "C"], order=["C", "A"],
                        viewer={"background": "#fff", "transition_s": 2.5,
                                "auto_rotate_speed": 1.5, "idle_s": 9})
    data = json.loads(path.read_text())
    data["items"][1]["zoom"] = 2.0
    path.write_text(json.dumps(data))
    gallery = load_gallery(path)
    assert [item.name for item in gallery.items] == ["C", "A", "B"]
    assert gallery.viewer == ViewerSettings("#fff", 2.5, 1.5, 9.0)
    b = gallery.items[2]
    assert b.zoom == 2.0
    assert b.view_camera().position == pytest.approx((1.0, 0.8, 6.4))
    assert b.view_camera().target == b.camera.target


def test_round_trip(make_gallery: GalleryMaker, tmp_path: Path) -> None:
    gallery = load_gallery(make_gallery(3, description="d", emoji="🗼", color_from="red"))
    for relative in (None, tmp_path / "gallery"):
        copy = tmp_path / "gallery" / f"copy-{relative is None}.json"
        copy.write_text(gallery.to_json(relative_to=relative), encoding="utf-8")
        assert load_gallery(copy) == gallery
    assert isinstance(gallery, Gallery)
    assert json.loads(gallery.to_json(relative_to=tmp_path / "gallery"))["items"][0]["splat"] \
        == "splats/tower0.ply"


def test_a_given_camera_is_used(make_gallery: GalleryMaker) -> None:
    gallery = load_gallery(make_gallery(1))
    assert gallery.items[0].camera == Camera(position=(0.5, 0.4, 3.2), target=(0, 0, 0))


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.pop("title"), "'title'"),
        (lambda d: d.update(items=[]), "'items'"),
        (lambda d: d["items"][1].pop("splat"), "'items[1].splat'"),
        (lambda d: d["items"][0].update(splat="missing.ply"), "'items[0].splat'"),
        (lambda d: d["items"][0].update(splat="gallery.json"), "'items[0].splat'"),
        (lambda d: d["items"][2].update(name=""), "'items[2].name'"),
        (lambda d: d["items"][0].update(zoom="far"), "'items[0].zoom'"),
        (lambda d: d["items"][0].update(camera={"position": [1, 2]}), "items[0].camera.position"),
        (lambda d: d["items"][0].update(colour="red"), "'items[0].colour'"),
        (lambda d: d["viewer"].update(background="blue"), "'viewer.background'"),
        (lambda d: d["viewer"].update(transition_s=-1), "'viewer.transition_s'"),
        (lambda d: d.update(color_from="orange"), "'color_from'"),
        (lambda d: d.update(order=["nope"]), "'order'"),
        (lambda d: d["items"][1].update(name=d["items"][0]["name"]), "'items'"),
        (lambda d: d.update(extra=1), "'extra'"),
    ],
)
def test_bad_json_names_the_key(make_gallery: GalleryMaker, change: Any, key: str) -> None:
    path = make_gallery(3)
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(GalleryError) as info:
        load_gallery(path)
    assert key in info.value.message
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_not_json_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "g.json"
    bad.write_text('{"title": "x",')
    with pytest.raises(GalleryError, match="not valid JSON"):
        load_gallery(bad)
    with pytest.raises(GalleryError, match="cannot read"):
        load_gallery(tmp_path / "absent.json")
    bad.write_text("[1, 2]")
    with pytest.raises(GalleryError, match="'gallery' must be a JSON object"):
        load_gallery(bad)
