"""/gradio_api/info parsing (on the stand-ins' real schemas) and argument checking."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from spacesmith.tools.errors import ParameterError, SchemaError
from spacesmith.tools.spaces.schema import Endpoint, bind_arguments, parse_info, positional_data


@pytest.fixture(scope="module")
def splat_generate(standins: Any) -> Endpoint:
    info = httpx.get(f"{standins.splat_url}/gradio_api/info").json()
    return parse_info(info, space="splat")["/generate"]


@pytest.fixture(scope="module")
def image_generate(standins: Any) -> Endpoint:
    info = httpx.get(f"{standins.image_url}/gradio_api/info").json()
    return parse_info(info, space="image")["/generate"]


def test_real_splat_schema(splat_generate: Endpoint) -> None:
    names = [p.name for p in splat_generate.parameters]
    assert names == ["image", "seed", "steps", "guidance_scale", "num_gaussians", "output_format"]
    image = splat_generate.parameter("image")
    assert image is not None and image.is_file and image.required
    steps = splat_generate.parameter("steps")
    assert steps is not None and (steps.minimum, steps.maximum, steps.default) == (1, 50, 20)
    count = splat_generate.parameter("num_gaussians")
    assert count is not None and count.enum == ("32768", "65536", "131072", "262144")
    assert [r.is_file for r in splat_generate.returns] == [True, False, True, False]
    assert [r.component for r in splat_generate.returns][2] == "Downloadbutton"
    assert splat_generate.description.startswith("Reconstruct a 3D Gaussian splat")


def test_real_image_schema(image_generate: Endpoint) -> None:
    prompt = image_generate.parameter("prompt")
    assert prompt is not None and prompt.required and not prompt.is_file
    assert image_generate.parameter("seed").type == "integer"  # type: ignore[union-attr]
    assert [r.label for r in image_generate.returns] == ["Result", "Seed used", "Caption"]


def test_bind_coerces_command_line_text(splat_generate: Endpoint) -> None:
    bound = bind_arguments(splat_generate, {"image": "x.png", "seed": "7", "steps": "12",
                                            "num_gaussians": 65536}, space="s")
    assert bound == {"image": "x.png", "seed": 7, "steps": 12, "num_gaussians": "65536"}


@pytest.mark.parametrize("arguments, needle", [
    ({"image": "x", "colour": 1}, "'colour'; it accepts image, seed, steps"),
    ({"seed": 1}, "needs 'image'"),
    ({"image": "x", "num_gaussians": "1000"}, "one of '32768', '65536', '131072', '262144'"),
    ({"image": "x", "steps": 80}, "between 1 and 50"),
    ({"image": "x", "seed": "many"}, "expects a number"),
])
def test_bind_errors_list_what_is_accepted(splat_generate: Endpoint, arguments: dict[str, Any],
                                           needle: str) -> None:
    with pytest.raises(ParameterError) as info:
        bind_arguments(splat_generate, arguments, space="s")
    assert needle in str(info.value)
    assert info.value.endpoint == "/generate"


def test_positional_fills_defaults_in_order(splat_generate: Endpoint) -> None:
    data = positional_data(splat_generate, {"image": {"path": "p"}, "steps": 5})
    assert data == [{"path": "p"}, 42, 5, 3.0, "262144", "ply"]


@pytest.mark.parametrize("doc", [
    [], {"endpoints": {}}, {"named_endpoints": []},
    {"named_endpoints": {"/x": "oops"}},
    {"named_endpoints": {"/x": {"parameters": [{"label": None}]}}},
    {"named_endpoints": {"/x": {"parameters": ["str"]}}},
])
def test_malformed_info_is_a_one_line_schema_error(doc: Any) -> None:
    with pytest.raises(SchemaError) as info:
        parse_info(doc, space="bad")
    assert "\n" not in str(info.value) and str(info.value).startswith("Space 'bad'")
