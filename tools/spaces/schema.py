"""``/gradio_api/info`` JSON -> typed endpoints, and arguments checked against them.

:func:`parse_info` reads the schema; :func:`bind_arguments` checks a caller's arguments
(unknown or missing names, enum choices, slider ranges) and coerces text from a command
line into the declared types; :func:`positional_data` lays them out for the older
positional call route, defaults filled in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spacesmith.tools.errors import ParameterError, SchemaError

FILE_COMPONENTS = frozenset(
    {"image", "file", "model3d", "video", "audio", "downloadbutton", "uploadbutton",
     "imageeditor", "simpleimage", "annotatedimage"}
)
_RANGE = re.compile(r"between\s+(-?[\d.]+(?:e-?\d+)?)\s+and\s+(-?[\d.]+(?:e-?\d+)?)", re.I)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Parameter:
    """One input of an endpoint, as /info describes it.

    ``type`` is the JSON-schema type (``string``, ``number``, ``integer``, ``boolean``,
    ``object``, …); ``is_file`` marks inputs given as files (upload then FileData).
    """

    name: str
    label: str
    type: str
    python_type: str
    component: str
    required: bool
    default: Any = None
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    is_file: bool = False
    example: Any = None


@dataclass(frozen=True)
class Return:
    """One output of an endpoint."""

    label: str
    type: str
    python_type: str
    component: str
    is_file: bool


@dataclass(frozen=True)
class Endpoint:
    """A named endpoint: ``name`` is ``/generate``-style, ``api_name`` has no slash."""

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    returns: tuple[Return, ...]

    @property
    def api_name(self) -> str:
        return self.name.lstrip("/")

    def parameter(self, name: str) -> Parameter | None:
        """The parameter called ``name``, if any."""
        return next((p for p in self.parameters if p.name == name), None)


def parse_info(data: object, *, space: str) -> dict[str, Endpoint]:
    """Read a ``/gradio_api/info`` document.

    Args:
        data: the decoded JSON.
        space: the Space's name, for messages.

    Returns:
        The named endpoints by name (``/generate``); unnamed endpoints cannot be called by
        name and are left out.

    Raises:
        SchemaError: the document does not have the shape of a Gradio API schema.
    """
    if not isinstance(data, dict) or not isinstance(data.get("named_endpoints"), dict):
        raise SchemaError("/gradio_api/info has no 'named_endpoints' object", space=space)
    endpoints: dict[str, Endpoint] = {}
    for name, raw in data["named_endpoints"].items():
        if not isinstance(raw, dict) or not isinstance(raw.get("parameters", []), list):
            raise SchemaError(f"/gradio_api/info endpoint {name!r} is not an object with a "
                              "'parameters' list", space=space)
        if not isinstance(raw.get("returns") or [], list):
            raise SchemaError(f"/gradio_api/info endpoint {name!r} has a 'returns' that is "
                              "not a list", space=space)
        key = name if str(name).startswith("/") else f"/{name}"
        params = tuple(_parameter(p, i, key, space)
                       for i, p in enumerate(raw.get("parameters", [])))
        returns = tuple(_return(r, key, space) for r in raw.get("returns") or [])
        description = raw.get("description")
        endpoints[key] = Endpoint(name=key, parameters=params, returns=returns,
                                  description=description if isinstance(description, str) else "")
    return endpoints


def _types(raw: Mapping[str, Any]) -> tuple[dict[str, Any], str, str]:
    jtype: dict[str, Any] = raw["type"] if isinstance(raw.get("type"), dict) else {}
    ptype: dict[str, Any] = raw["python_type"] if isinstance(raw.get("python_type"), dict) else {}
    return jtype, str(jtype.get("type", "object")), str(ptype.get("type", ""))


def _is_file(jtype: Mapping[str, Any], python_type: str, component: str) -> bool:
    props = jtype.get("properties")
    filedata = isinstance(props, dict) and "path" in props and "meta" in props
    return python_type == "filepath" or filedata or component.lower() in FILE_COMPONENTS


def _parameter(raw: object, index: int, endpoint: str, space: str) -> Parameter:
    if not isinstance(raw, dict):
        raise SchemaError(f"parameter {index} of {endpoint} is not an object", space=space)
    name = raw.get("parameter_name") or raw.get("label")
    if not isinstance(name, str) or not name:
        raise SchemaError(f"parameter {index} of {endpoint} has no 'parameter_name'", space=space)
    jtype, type_name, python_type = _types(raw)
    component = str(raw.get("component", ""))
    enum = jtype.get("enum")
    low = high = None
    found = _RANGE.search(str(jtype.get("description", "")))
    if found:
        try:
            low, high = float(found.group(1)), float(found.group(2))
        except ValueError:  # "between 1.2.3 and 4": prose, not a range
            low = high = None
    low = float(jtype["minimum"]) if isinstance(jtype.get("minimum"), (int, float)) else low
    high = float(jtype["maximum"]) if isinstance(jtype.get("maximum"), (int, float)) else high
    return Parameter(
        name=name, label=str(raw.get("label") or name), type=type_name, python_type=python_type,
        component=component, required=not raw.get("parameter_has_default", False),
        default=raw.get("parameter_default"),
        enum=tuple(enum) if isinstance(enum, list) else None, minimum=low, maximum=high,
        is_file=_is_file(jtype, python_type, component), example=raw.get("example_input"),
    )


def _return(raw: object, endpoint: str, space: str) -> Return:
    if not isinstance(raw, dict):
        raise SchemaError(f"a return value of {endpoint} is not an object", space=space)
    jtype, type_name, python_type = _types(raw)
    component = str(raw.get("component", ""))
    return Return(label=str(raw.get("label", "")), type=type_name, python_type=python_type,
                  component=component, is_file=_is_file(jtype, python_type, component))


def bind_arguments(
    endpoint: Endpoint, arguments: Mapping[str, Any], *, space: str
) -> dict[str, Any]:
    """Check arguments against an endpoint and coerce them to the declared types.

    Text (from a command line) becomes a number or a boolean where one is declared; a
    number becomes text where a string choice is declared ("65536" for 65536).

    Args:
        endpoint: the endpoint.
        arguments: names to values; file inputs are left as they are.
        space: the Space's name, for messages.

    Returns:
        The arguments the caller gave, checked and coerced (defaults are not added).

    Raises:
        ParameterError: an unknown or missing name, or a value the endpoint does not accept;
            the message lists what it accepts.
    """
    names = [p.name for p in endpoint.parameters]
    unknown = sorted(set(arguments) - set(names))
    if unknown:
        raise ParameterError(
            f"has no parameter {', '.join(map(repr, unknown))}; it accepts "
            f"{', '.join(names) or 'no parameters'}", space=space, endpoint=endpoint.name)
    missing = [p.name for p in endpoint.parameters if p.required and p.name not in arguments]
    if missing:
        raise ParameterError(f"needs {', '.join(map(repr, missing))} (required, no default)",
                             space=space, endpoint=endpoint.name)
    bound: dict[str, Any] = {}
    for param in endpoint.parameters:
        if param.name in arguments:
            bound[param.name] = _coerce(param, arguments[param.name], space, endpoint.name)
    return bound


def _coerce(param: Parameter, value: Any, space: str, endpoint: str) -> Any:
    if param.is_file or value is None:
        return value

    def bad(why: str) -> ParameterError:
        return ParameterError(f"parameter '{param.name}' {why}", space=space, endpoint=endpoint)

    if param.type in ("number", "integer") and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise bad(f"expects a number, not {value!r}") from None
    if param.type in ("number", "integer") and isinstance(value, float) and (
        param.type == "integer" or value.is_integer()) and math.isfinite(value):
        value = int(value) if value.is_integer() else value
    if param.type == "boolean" and isinstance(value, str):
        if value.lower() not in _TRUE | _FALSE:
            raise bad(f"expects true or false, not {value!r}")
        value = value.lower() in _TRUE
    if param.type == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if param.enum is not None and value not in param.enum:
        choices = ", ".join(repr(c) for c in param.enum)
        raise bad(f"must be one of {choices}, not {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (
        (param.minimum is not None and value < param.minimum)
        or (param.maximum is not None and value > param.maximum)
    ):
        low = "-inf" if param.minimum is None else f"{param.minimum:g}"
        high = "inf" if param.maximum is None else f"{param.maximum:g}"
        raise bad(f"must be between {low} and {high}, not {value}")
    return value


def positional_data(endpoint: Endpoint, bound: Mapping[str, Any]) -> list[Any]:
    """The ``{"data": [...]}`` list for the positional route: /info order, defaults filled."""
    return [bound.get(p.name, p.default) for p in endpoint.parameters]
