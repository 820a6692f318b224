"""Types of the public API (the module itself loads each name on first use)."""

from spacesmith.tools.errors import (
    AppError,
    AuthError,
    BadOutputError,
    DeployError,
    DiscoveryError,
    DownloadError,
    GalleryError,
    InputError,
    ParameterError,
    QuotaError,
    SiteError,
    SpaceError,
    SpacesmithError,
    SpaceTimeoutError,
    SpaceUnavailableError,
    SplatError,
    SplatFormatError,
    TransientSpaceError,
    UploadError,
)
from spacesmith.tools.hub.deploy import DeployResult
from spacesmith.tools.hub.deploy import deploy as deploy_site
from spacesmith.tools.site.gallery import Gallery, GalleryItem, load_gallery
from spacesmith.tools.site.render import SiteResult, build_site
from spacesmith.tools.spaces.agents_md import SpaceSpec
from spacesmith.tools.spaces.client import CallResult, ProgressEvent, SpaceClient
from spacesmith.tools.spaces.discovery import discover
from spacesmith.tools.spaces.schema import Endpoint, Parameter
from spacesmith.tools.splat.convert import ConvertResult
from spacesmith.tools.splat.convert import convert as convert_splat
from spacesmith.tools.splat.io import read_splat_file as read_splat
from spacesmith.tools.splat.io import write as write_splat
from spacesmith.tools.splat.model import Camera, Splat

__version__: str

__all__ = [
    "AppError",
    "AuthError",
    "BadOutputError",
    "CallResult",
    "Camera",
    "ConvertResult",
    "DeployError",
    "DeployResult",
    "DiscoveryError",
    "DownloadError",
    "Endpoint",
    "Gallery",
    "GalleryError",
    "GalleryItem",
    "InputError",
    "Parameter",
    "ParameterError",
    "ProgressEvent",
    "QuotaError",
    "SiteError",
    "SiteResult",
    "SpaceClient",
    "SpaceError",
    "SpaceSpec",
    "SpaceTimeoutError",
    "SpaceUnavailableError",
    "SpacesmithError",
    "Splat",
    "SplatError",
    "SplatFormatError",
    "TransientSpaceError",
    "UploadError",
    "__version__",
    "build_site",
    "convert_splat",
    "deploy_site",
    "discover",
    "load_gallery",
    "read_splat",
    "write_splat",
]
