"""Spaces named by role are matched to their endpoints from /info, whatever the interface."""

from __future__ import annotations

from typing import Any

import pytest

from spacesmith.agent.calls.roles import match_role
from spacesmith.tools.errors import AgentError
from spacesmith.tools.spaces.schema import parse_info

FILE = {"type": "object", "properties": {"path": {}, "meta": {}}}


def param(name: str, jtype: dict[str, Any], component: str, *, default: Any = None,
          python_type: str = "str") -> dict[str, Any]:
    return {"label": name, "parameter_name": name, "parameter_has_default": default is not None,
            "parameter_default": default, "type": jtype, "component": component,
            "python_type": {"type": python_type, "description": ""}}


def ret(label: str, jtype: dict[str, Any], component: str) -> dict[str, Any]:
    return {"label": label, "type": jtype, "component": component,
            "python_type": {"type": "filepath" if jtype is FILE else "str"}}


# Another image Space: an unrelated endpoint first, the prompt is called "text".
IMAGE_INFO = {"named_endpoints": {
    "/caption": {"parameters": [param("picture", FILE, "Image", python_type="filepath")],
                 "returns": [ret("caption", {"type": "string"}, "Textbox")]},
    "/infer": {"parameters": [param("text", {"type": "string"}, "Textbox"),
                              param("steps", {"type": "number"}, "Slider", default=8)],
               "returns": [ret("image", FILE, "Image")]},
}, "unnamed_endpoints": {}}

# Another splat Space (TRELLIS-like): a preview endpoint, then image_to_3d with a Model3D.
SPLAT_INFO = {"named_endpoints": {
    "/preprocess": {"parameters": [param("input_image", FILE, "Image", python_type="filepath")],
                    "returns": [ret("image", FILE, "Image")]},
    "/image_to_3d": {"parameters": [param("input_image", FILE, "Image", python_type="filepath"),
                                    param("seed", {"type": "integer"}, "Number", default=0)],
                     "returns": [ret("gaussians", FILE, "Model3D")]},
}, "unnamed_endpoints": {}}


def test_another_image_space_is_matched_by_what_it_takes_and_returns() -> None:
    match = match_role(parse_info(IMAGE_INFO, space="x/img"), "image")
    assert (match.endpoint, match.main_param, dict(match.defaults)) == ("/infer", "text", {})


def test_another_splat_space_is_matched_by_its_3d_output() -> None:
    match = match_role(parse_info(SPLAT_INFO, space="x/3d"), "splat", num_gaussians="32768")
    assert (match.endpoint, match.main_param) == ("/image_to_3d", "input_image")
    assert dict(match.defaults) == {}  # no num_gaussians / output_format to set here


def test_a_space_without_a_fitting_endpoint_is_refused_with_what_it_has() -> None:
    with pytest.raises(AgentError, match="/caption, /infer"):
        match_role(parse_info(IMAGE_INFO, space="x/img"), "splat")
