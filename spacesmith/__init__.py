"""spacesmith: one sentence in, a deployed 3D Gaussian-splat gallery out.

The public face of the library. Names load on first use, so ``import spacesmith`` stays
cheap (the CLI imports this package first, too)::

    from pathlib import Path
    import spacesmith

    with spacesmith.SpaceClient.connect("VAST-AI/TripoSplat") as space:
        result = space.call("/generate", {"image": "photo.png"}, out_dir=Path("out"))
    ply = next(f for f in result.files if f.suffix == ".ply")
    spacesmith.convert_splat(ply, "web/model.spz", flip_y=True, frame=True)
    site = spacesmith.build_site(spacesmith.load_gallery("gallery.json"), "site")
    spacesmith.deploy_site(site.out_dir, "me/my-gallery")

The README's "Use it as a library" runs the same against the local stand-in Spaces.
Every error the library raises is a :class:`SpacesmithError` with a one-line message.
Type checkers read the names' types from ``__init__.pyi``; at run time this module imports
none of the package's modules until a name is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_EXPORTS: dict[str, tuple[str, str]] = {
    # Spaces: discovery, schema, calls
    "SpaceClient": ("spacesmith.tools.spaces.client", "SpaceClient"),
    "CallResult": ("spacesmith.tools.spaces.client", "CallResult"),
    "ProgressEvent": ("spacesmith.tools.spaces.client", "ProgressEvent"),
    "discover": ("spacesmith.tools.spaces.discovery", "discover"),
    "SpaceSpec": ("spacesmith.tools.spaces.agents_md", "SpaceSpec"),
    "Endpoint": ("spacesmith.tools.spaces.schema", "Endpoint"),
    "Parameter": ("spacesmith.tools.spaces.schema", "Parameter"),
    # splats
    "Splat": ("spacesmith.tools.splat.model", "Splat"),
    "Camera": ("spacesmith.tools.splat.model", "Camera"),
    "read_splat": ("spacesmith.tools.splat.io", "read_splat_file"),
    "write_splat": ("spacesmith.tools.splat.io", "write"),
    "convert_splat": ("spacesmith.tools.splat.convert", "convert"),
    "ConvertResult": ("spacesmith.tools.splat.convert", "ConvertResult"),
    # the gallery site and deploy
    "Gallery": ("spacesmith.tools.site.gallery", "Gallery"),
    "GalleryItem": ("spacesmith.tools.site.gallery", "GalleryItem"),
    "load_gallery": ("spacesmith.tools.site.gallery", "load_gallery"),
    "build_site": ("spacesmith.tools.site.render", "build_site"),
    "SiteResult": ("spacesmith.tools.site.render", "SiteResult"),
    "deploy_site": ("spacesmith.tools.hub.deploy", "deploy"),
    "DeployResult": ("spacesmith.tools.hub.deploy", "DeployResult"),
    # errors
    "SpacesmithError": ("spacesmith.tools.errors", "SpacesmithError"),
    "InputError": ("spacesmith.tools.errors", "InputError"),
    "SpaceError": ("spacesmith.tools.errors", "SpaceError"),
    "DiscoveryError": ("spacesmith.tools.errors", "DiscoveryError"),
    "SplatError": ("spacesmith.tools.errors", "SplatError"),
    "SplatFormatError": ("spacesmith.tools.errors", "SplatFormatError"),
    "GalleryError": ("spacesmith.tools.errors", "GalleryError"),
    "SiteError": ("spacesmith.tools.errors", "SiteError"),
    "DeployError": ("spacesmith.tools.errors", "DeployError"),
    "AuthError": ("spacesmith.tools.errors", "AuthError"),
    "ParameterError": ("spacesmith.tools.errors", "ParameterError"),
    "SpaceUnavailableError": ("spacesmith.tools.errors", "SpaceUnavailableError"),
    "TransientSpaceError": ("spacesmith.tools.errors", "TransientSpaceError"),
    "SpaceTimeoutError": ("spacesmith.tools.errors", "SpaceTimeoutError"),
    "QuotaError": ("spacesmith.tools.errors", "QuotaError"),
    "AppError": ("spacesmith.tools.errors", "AppError"),
    "UploadError": ("spacesmith.tools.errors", "UploadError"),
    "DownloadError": ("spacesmith.tools.errors", "DownloadError"),
    "BadOutputError": ("spacesmith.tools.errors", "BadOutputError"),
}

__all__ = ["__version__", *_EXPORTS]  # __init__.pyi lists the same (a test checks)


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'spacesmith' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
