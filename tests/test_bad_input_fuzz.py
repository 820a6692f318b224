"""Bad input, property-based: every parser of untrusted input either succeeds or raises one of
the project's typed errors (a ``SpacesmithError``), never anything else.

Parsers: agents.md, /gradio_api/info JSON, SSE streams, splat files (.ply, .splat, .ksplat,
.spz), gallery JSON (text and parsed), goal files (TOML), the Space cameras in galleries.
"""

from __future__ import annotations

import json
import struct
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spacesmith.tools.errors import SpacesmithError

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow])

HOST = "owner-name.hf.space"

json_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)


def _typed_or_ok(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except SpacesmithError as exc:
        assert exc.message and "\n" not in exc.message
        return None


# --- agents.md ----------------------------------------------------------------------------

_LABELS = ["API schema", "Call endpoint", "Poll result", "File inputs", "Auth", "api SCHEMA",
           "To use this application (a/b: title)", "- Call endpoint", "garbage"]
_URLS = [f"https://{HOST}/gradio_api/info", f"https://{HOST}/gradio_api/call/v2/{{endpoint}}",
         f"https://{HOST}/gradio_api/call/{{endpoint}}/{{event_id}}", "https://evil.example/x",
         f"https://user:pw@{HOST}/gradio_api/info", f"http://{HOST}:81/gradio_api/info",
         "ftp://x", "", "https://", f"https://{HOST.upper()}/gradio_api/info"]
agents_md_lines = st.builds(
    lambda label, sep, verb, url, tail: f"{label}{sep}{verb} {url}{tail}",
    st.sampled_from(_LABELS), st.sampled_from([":", " :", "", ": "]),
    st.sampled_from(["GET", "POST", "get", ""]), st.sampled_from(_URLS),
    st.sampled_from(["", " {}", ' {"data": [...]}', "\"", ")", "\x00"]),
)


@FUZZ
@given(st.lists(agents_md_lines | st.text(max_size=80), max_size=8))
def test_agents_md_parser_is_total(lines: list[str]) -> None:
    from spacesmith.tools.spaces.agents_md import parse_agents_md

    spec = _typed_or_ok(parse_agents_md, "\n".join(lines), space="a/b", expected_host=HOST)
    if spec is not None:  # whatever it accepted points at the Space's own host only
        from urllib.parse import urlsplit

        for url in (spec.schema_url, spec.call_url, spec.poll_url, spec.upload_url):
            parts = urlsplit(url)
            assert parts.netloc.lower() == HOST and not parts.username


@FUZZ
@given(st.text(max_size=400))
def test_agents_md_parser_takes_any_text(text: str) -> None:
    from spacesmith.tools.spaces.agents_md import parse_agents_md

    _typed_or_ok(parse_agents_md, text, space="a/b", expected_host=HOST)


# --- /gradio_api/info ---------------------------------------------------------------------

_param = st.fixed_dictionaries({}, optional={
    "label": json_scalars, "parameter_name": json_scalars, "parameter_has_default": json_values,
    "parameter_default": json_values, "component": json_scalars, "example_input": json_values,
    "python_type": json_values,
    "type": json_values | st.fixed_dictionaries({}, optional={
        "type": json_scalars, "enum": json_values, "minimum": json_scalars,
        "maximum": json_scalars, "description": json_scalars | st.from_regex(
            r"between -?[\d.]{1,6}(e-?\d)? and -?[\d.]{1,6}", fullmatch=True),
        "properties": json_values}),
})
_endpoint = st.fixed_dictionaries({}, optional={
    "parameters": st.lists(_param | json_values, max_size=3) | json_values,
    "returns": st.lists(_param | json_values, max_size=3) | json_values,
    "description": json_values,
})
info_docs = json_values | st.fixed_dictionaries(
    {"named_endpoints": st.dictionaries(st.text(max_size=10), _endpoint | json_values,
                                        max_size=3) | json_values},
    optional={"unnamed_endpoints": json_values})


@FUZZ
@given(info_docs, st.dictionaries(st.text(max_size=8), json_values, max_size=3))
def test_info_parser_and_binding_are_total(doc: Any, arguments: dict[str, Any]) -> None:
    from spacesmith.tools.spaces.schema import bind_arguments, parse_info

    endpoints = _typed_or_ok(parse_info, doc, space="a/b") or {}
    for endpoint in endpoints.values():
        _typed_or_ok(bind_arguments, endpoint, arguments, space="a/b")


# --- SSE ----------------------------------------------------------------------------------

sse_lines = st.lists(
    st.sampled_from(["", ":", ": heartbeat", "event: complete", "event: error",
                     "event: generating", "event: heartbeat", "data: null", "data: [1]",
                     'data: {"error": "x"}', "data: [", "data:", "data", "id: 3", "retry: x",
                     "data: " + "[" * 5000, "data: 1e999999", "data: \x00"])
    | st.text(max_size=40), max_size=12)


@FUZZ
@given(sse_lines)
def test_sse_parser_is_total(lines: list[str]) -> None:
    from spacesmith.tools.spaces.http_errors import error_from_event
    from spacesmith.tools.spaces.sse import iter_events

    for event in _typed_or_ok(lambda: list(iter_events(lines))) or []:
        assert isinstance(event.name, str)
        if event.name == "error":
            assert isinstance(error_from_event(event.data, space="a/b", endpoint="/x"),
                              SpacesmithError)


# --- splat files --------------------------------------------------------------------------

_PLY_PROPS = ["x", "y", "z", "nx", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0",
              "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3", "f_rest_0", "red"]


@st.composite
def ply_files(draw: Any) -> bytes:
    fmt = draw(st.sampled_from(["binary_little_endian", "binary_big_endian", "ascii",
                                "binary", ""]))
    count = draw(st.sampled_from([0, 1, 2, 3, -1, 2**31, 2**62, 10**30]) | st.integers(0, 5))
    props = draw(st.lists(st.sampled_from(_PLY_PROPS), max_size=17, unique=True)
                 | st.just(_PLY_PROPS[:15]))
    ptype = draw(st.sampled_from(["float", "double", "uchar", "int", "list uchar int", "bogus"]))
    element = draw(st.sampled_from(["vertex", "face", "vertex", "vertex extra"]))
    lines = ["ply", f"format {fmt} 1.0", f"element {element} {count}"]
    lines += [f"property {ptype} {p}" for p in props]
    if draw(st.booleans()):
        lines.append("end_header")
    body = draw(st.binary(max_size=200)
                | st.just(struct.pack("<f", float("nan")) * 15 * 2)
                | st.just(struct.pack("<f", float("inf")) * 15 * 3)
                | st.just(b"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n" * 3))
    return ("\n".join(lines) + "\n").encode() + body


def _read(data: bytes, suffix: str) -> None:
    from spacesmith.tools.splat.io import read_splat_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(data)
        splat = _typed_or_ok(read_splat_file, path)
        if splat is not None:
            assert splat.count > 0


@FUZZ
@given(ply_files())
def test_ply_reader_is_total(data: bytes) -> None:
    _read(data, ".ply")


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([".ply", ".splat", ".ksplat", ".spz", ".xyz"]))
def test_splat_readers_take_any_bytes(data: bytes, suffix: str) -> None:
    _read(data, suffix)


@st.composite
def ksplat_files(draw: Any) -> bytes:
    head = bytearray(4096)
    head[0:2] = bytes(draw(st.sampled_from([(0, 1), (0, 1), (1, 0)])))
    struct.pack_into("<II", head, 4, draw(st.integers(0, 3) | st.just(2**32 - 1)),
                     draw(st.integers(0, 3) | st.just(2**32 - 1)))
    struct.pack_into("<H", head, 20, draw(st.integers(0, 3)))
    section = bytearray(1024)
    u32 = [draw(st.integers(0, 8) | st.sampled_from([2**16, 2**31, 2**32 - 1]))
           for _ in range(10)]
    struct.pack_into("<10I", section, 0, *u32)
    struct.pack_into("<f", section, 16, draw(st.floats(allow_nan=True, width=32)))
    struct.pack_into("<H", section, 40, draw(st.integers(0, 3)))
    return bytes(head) + bytes(section) + draw(st.binary(max_size=400))


@FUZZ
@given(ksplat_files())
def test_ksplat_reader_is_total(data: bytes) -> None:
    _read(data, ".ksplat")


@st.composite
def spz_files(draw: Any) -> bytes:
    import gzip

    header = struct.pack("<III", draw(st.sampled_from([0x5053474E, 0x5053474E, 1])),
                         draw(st.sampled_from([2, 3, 1, 4])),
                         draw(st.integers(0, 4) | st.sampled_from([2**31, 2**32 - 1])))
    header += bytes([draw(st.integers(0, 5)), draw(st.integers(0, 40)), 0, 0])
    return gzip.compress(header + draw(st.binary(max_size=300)))


@FUZZ
@given(spz_files())
def test_spz_reader_is_total(data: bytes) -> None:
    _read(data, ".spz")


# --- gallery JSON -------------------------------------------------------------------------

_item = st.fixed_dictionaries({}, optional={
    "name": json_scalars, "caption": json_scalars, "zoom": json_scalars,
    "splat": st.sampled_from(["a.ply", "missing.ply", "../a.ply", "/etc/passwd", "a.txt", ""])
    | json_scalars, "image": json_scalars,
    "camera": json_values | st.fixed_dictionaries({}, optional={
        k: json_values | st.lists(json_scalars, min_size=3, max_size=3)
        for k in ("position", "target", "up", "fov", "near", "far")}),
})
galleries = json_values | st.fixed_dictionaries({}, optional={
    "title": json_scalars, "description": json_scalars, "emoji": json_scalars,
    "color_from": st.sampled_from(["blue", "nope"]) | json_scalars, "order": json_values,
    "viewer": json_values | st.fixed_dictionaries({}, optional={
        "background": st.sampled_from(["#fff", "red"]) | json_scalars,
        "transition_s": json_scalars, "idle_s": json_scalars}),
    "items": st.lists(_item | json_values, max_size=3) | json_values,
})


@pytest.fixture(scope="module")
def gallery_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("gallery")
    from tests.fixtures.site import write_monument_ply

    write_monument_ply(base / "a.ply", n=64)
    (base / "a.txt").write_text("x")
    return base


@FUZZ
@given(galleries)
def test_gallery_validation_is_total(gallery_dir: Path, data: Any) -> None:
    from spacesmith.tools.site.gallery import gallery_from_dict

    _typed_or_ok(gallery_from_dict, data, base_dir=gallery_dir)


@FEW
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode)
       | galleries.map(lambda d: json.dumps(d).encode()))
def test_gallery_file_loader_is_total(data: bytes) -> None:
    from spacesmith.tools.site.gallery import load_gallery

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gallery.json"
        path.write_bytes(data)
        _typed_or_ok(load_gallery, path)


# --- goal files (TOML) --------------------------------------------------------------------

_toml_values = st.sampled_from(['"x"', '""', "1", "-3", "true", "[]", '["a", ""]', "{}",
                                "1979-05-27", "nan", "inf", '"   "', "[1, 2]", '{a = 1}',
                                "0", "1.5"])
_toml_keys = st.sampled_from(["goal", "subjects", "model", "api_base", "output", "offline",
                              "num_gaussians", "spaces", "deploy", "limits", "bogus",
                              "limits.max_steps", "limits.max_space_calls", "spaces.image",
                              "spaces.splat", "deploy.space", "limits.call_timeout",
                              "limits.retry_backoff_s", "spaces.x"])
goal_texts = (st.lists(st.tuples(_toml_keys, _toml_values), max_size=6).map(
    lambda kv: "\n".join(f"{k} = {v}" for k, v in kv))
    | st.text(max_size=120))


@FUZZ
@given(goal_texts | st.binary(max_size=100).map(lambda b: b.decode("latin-1")))
def test_goal_file_parser_is_total(text: str) -> None:
    from spacesmith.agent.runs.headless import parse_goal_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "goal.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        _typed_or_ok(parse_goal_file, path)


@FEW
@given(st.binary(max_size=100))
def test_goal_file_parser_takes_any_bytes(data: bytes) -> None:
    from spacesmith.agent.runs.headless import parse_goal_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "goal.toml"
        path.write_bytes(data)
        _typed_or_ok(parse_goal_file, path)
