"""A corpus of malformed inputs, generated on the fly (nothing binary is committed).

Each entry: a name, the bytes (or text), and a fragment the one-line error must contain.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from spacesmith.tools.splat.io import write
from spacesmith.tools.splat.synthetic import make_splat

PROPS = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
         "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]


def ply(count: int = 2, *, fmt: str = "binary_little_endian", props: list[str] | None = None,
        element: str = "vertex", body: bytes | None = None, ptype: str = "float",
        end: bool = True) -> bytes:
    """A 3DGS-like PLY with the given header quirks and (default) zero-filled body."""
    names = PROPS if props is None else props
    lines = ["ply", f"format {fmt} 1.0", f"element {element} {count}"]
    lines += [f"property {ptype} {p}" for p in names]
    if end:
        lines.append("end_header")
    if body is None:
        body = np.zeros((max(count, 0), len(names)), np.float32).tobytes()
    return ("\n".join(lines) + "\n").encode() + body


def valid_ply(path: Path, n: int = 64) -> bytes:
    write(make_splat(n, seed=3), path)
    return path.read_bytes()


def ply_corpus(tmp: Path) -> dict[str, tuple[bytes, str]]:
    """Malformed .ply files: name -> (bytes, expected message fragment)."""
    good = valid_ply(tmp / "good-source.ply")
    nan_body = np.zeros((2, len(PROPS)), np.float32)
    nan_body[1, 0] = np.nan
    inf_body = np.zeros((2, len(PROPS)), np.float32)
    inf_body[0, 10] = np.inf
    return {
        "truncated": (good[: len(good) - 100], "truncated"),
        "truncated in header": (good[:40], "end_header"),
        "only magic": (b"ply\n", "end_header"),
        "wrong element": (ply(element="face"), "no 'vertex' element"),
        "missing property": (ply(props=[p for p in PROPS if p != "opacity"]), "'opacity'"),
        "missing colour": (ply(props=[p for p in PROPS if not p.startswith("f_dc")]), "f_dc_0"),
        "ascii claimed binary": (ply(body=b"0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n" * 4),
                                 "body is ASCII"),
        "ascii": (ply(fmt="ascii", body=b"0 " * 34 + b"\n"), "ASCII PLY"),
        "nan": (ply(body=nan_body.tobytes()), "NaN/inf"),
        "inf": (ply(body=inf_body.tobytes()), "NaN/inf"),
        "zero splats": (ply(count=0), "zero splats"),
        "garbage": (bytes(range(256)) * 8, "not a PLY"),
        "empty": (b"", "not a PLY"),
        "huge claimed count": (ply(count=10**12, body=b"\0" * 68), "truncated"),
        "negative count": (ply(count=-5, body=b""), "negative count"),
        "non-numeric count": (ply().replace(b"vertex 2", b"vertex two"), "bad PLY element"),
        "unknown format": (ply(fmt="binary_middle_endian"), "unknown PLY format"),
        "unknown type": (ply(ptype="float128"), "bad PLY property"),
        "list in vertex": (ply(ptype="list uchar int"), "list property"),
        "odd f_rest count": (ply(props=[*PROPS, "f_rest_0", "f_rest_1"]), "SH degree"),
        "compressed ply": (ply(props=["packed_position", *PROPS]), "PlayCanvas"),
    }


def other_splat_corpus(tmp: Path) -> dict[str, tuple[str, bytes, str]]:
    """Malformed .splat/.ksplat/.spz: name -> (suffix, bytes, expected fragment)."""
    splat = make_splat(40, seed=1)
    write(splat, tmp / "ok.ksplat")
    ksplat = (tmp / "ok.ksplat").read_bytes()
    bad_buckets = bytearray(ksplat)
    struct.pack_into("<I", bad_buckets, 4096 + 32, 2**32 - 1)  # full bucket count
    write(splat, tmp / "ok.spz")
    spz_raw = gzip.decompress((tmp / "ok.spz").read_bytes())
    huge_spz = bytearray(spz_raw)
    struct.pack_into("<I", huge_spz, 8, 2**32 - 1)
    return {
        "splat not a multiple of 32": (".splat", b"\0" * 33, "32-byte"),
        "splat empty": (".splat", b"", "zero splats"),
        "ksplat short": (".ksplat", b"\0\x01" + b"\0" * 10, "4096-byte"),
        "ksplat version": (".ksplat", b"\x09\x09" + ksplat[2:], "version"),
        "ksplat truncated": (".ksplat", ksplat[:-50], "truncated"),
        "ksplat bucket counts": (".ksplat", bytes(bad_buckets), "bucket counts"),
        "spz not gzip": (".spz", b"NGSP" + b"\0" * 40, "not a gzip"),
        "spz wrong magic": (".spz", gzip.compress(b"\0" * 64), "magic"),
        "spz huge count": (".spz", gzip.compress(bytes(huge_spz)), "truncated"),
        "spz truncated": (".spz", gzip.compress(spz_raw[:-20]), "truncated"),
        "spz short": (".spz", gzip.compress(b"NGSP"), "16-byte"),
        "unknown extension": (".obj", b"v 0 0 0\n", "unknown splat file extension"),
    }


def agents_md_corpus(host: str) -> dict[str, tuple[str, str]]:
    """Malformed agents.md texts: name -> (text, expected fragment)."""
    ok_call = f"Call endpoint: POST https://{host}/gradio_api/call/v2/{{endpoint}} {{}}"
    ok_schema = f"API schema: GET https://{host}/gradio_api/info"
    return {
        "empty": ("", "API schema"),
        "prose": ("This Space makes images.\nEnjoy!", "API schema"),
        "no call line": (ok_schema, "Call endpoint"),
        "no url": ("API schema: see the docs\n" + ok_call, "has no 'GET/POST"),
        "schema not info": (f"API schema: GET https://{host}/openapi.json\n{ok_call}",
                            "/gradio_api/info"),
        "no placeholder": (f"{ok_schema}\nCall endpoint: POST https://{host}/gradio_api/call/x",
                           "placeholder"),
        "bad poll": (f"{ok_schema}\n{ok_call}\nPoll result: GET https://{host}/gradio_api/x",
                     "poll URL"),
        "too long": (ok_schema + "\n" + ok_call + "\n" + "x" * 70_000, "too long"),
        "foreign schema": (f"API schema: GET https://evil.example/gradio_api/info\n{ok_call}",
                           "evil.example"),
        "userinfo": (f"API schema: GET https://{host}@evil.example/gradio_api/info\n{ok_call}",
                     "evil.example"),
        "credentials": (f"API schema: GET https://u:p@{host}/gradio_api/info\n{ok_call}",
                        "not at the Space's own host"),
        "foreign upload": (f"{ok_schema}\n{ok_call}\nFile inputs: POST https://evil.example/up",
                           "evil.example"),
        "binary junk": ("\x00\x01\x02" * 50, "API schema"),
    }


INFO_CORPUS: dict[str, tuple[object, str]] = {
    "list": ([], "named_endpoints"),
    "string": ("hello", "named_endpoints"),
    "null endpoints": ({"named_endpoints": None}, "named_endpoints"),
    "endpoint not object": ({"named_endpoints": {"/x": 3}}, "'parameters' list"),
    "parameters not list": ({"named_endpoints": {"/x": {"parameters": {}}}}, "'parameters'"),
    "parameter not object": ({"named_endpoints": {"/x": {"parameters": [7]}}}, "not an object"),
    "parameter nameless": ({"named_endpoints": {"/x": {"parameters": [{"label": ""}]}}},
                           "parameter_name"),
    "returns not list": ({"named_endpoints": {"/x": {"parameters": [], "returns": 1.5}}},
                         "returns"),
    "return not object": ({"named_endpoints": {"/x": {"parameters": [], "returns": ["a"]}}},
                          "return value"),
}


GALLERY_CORPUS: dict[str, tuple[str, str]] = {
    "not json": ("{title: 'x'", "not valid JSON"),
    "empty": ("", "not valid JSON"),
    "list": ("[]", "must be a JSON object"),
    "no items": ('{"title": "t"}', "'items'"),
    "empty items": ('{"title": "t", "items": []}', "'items'"),
    "unknown key": ('{"title": "t", "items": [{}], "colour": 1}', "unknown key 'colour'"),
    "missing splat file": ('{"title": "t", "items": [{"name": "a", "splat": "nope.ply"}]}',
                           "file not found"),
    "splat not a splat": ('{"title": "t", "items": [{"name": "a", "splat": "notes.txt"}]}',
                          "must be a"),
    "bad camera": ('{"title": "t", "items": [{"name": "a", "splat": "a.ply", '
                   '"camera": {"position": ["x", 1, 2]}}]}', "three numbers"),
    "bad zoom": ('{"title": "t", "items": [{"name": "a", "splat": "a.ply", "zoom": "big"}]}',
                 "zoom"),
    "bad background": ('{"title": "t", "viewer": {"background": "red"}, "items": '
                       '[{"name": "a", "splat": "a.ply"}]}', "hex colour"),
    "corrupt splat": ('{"title": "t", "items": [{"name": "a", "splat": "bad.ply"}]}',
                      "items[0].splat"),
    "duplicate names": ('{"title": "t", "items": [{"name": "a", "splat": "a.ply"}, '
                        '{"name": "a", "splat": "a.ply"}]}', "duplicate"),
    "deep nesting": ("[" * 100_000, "JSON"),
    "title number": ('{"title": 5, "items": [{"name": "a", "splat": "a.ply"}]}', "title"),
}


GOAL_CORPUS: dict[str, tuple[str | bytes, str]] = {
    "not toml": ("goal = ", "not valid TOML"),
    "no goal": ('subjects = ["a"]', "'goal' is missing"),
    "empty goal": ('goal = "  "', "'goal'"),
    "unknown key": ('goal = "g"\ngoel = "typo"', "unknown key 'goel'"),
    "unknown table key": ('goal = "g"\n[spaces]\nimg = "a/b"', "spaces.img"),
    "subjects not list": ('goal = "g"\nsubjects = "a"', "subjects"),
    "subject empty": ('goal = "g"\nsubjects = ["a", ""]', "subjects"),
    "offline string": ('goal = "g"\noffline = "yes"', "offline"),
    "limits negative": ('goal = "g"\n[limits]\nmax_steps = -1', "max_steps"),
    "limits bool": ('goal = "g"\n[limits]\nmax_space_calls = true', "max_space_calls"),
    "spaces not table": ('goal = "g"\nspaces = "a/b"', "table"),
    "binary": (b"\x80\x81\xfe\xff", "UTF-8"),
    "deep nesting": ("a = " + "[" * 100_000, "goal file"),
    "num_gaussians bool": ('goal = "g"\nnum_gaussians = true', "num_gaussians"),
}
