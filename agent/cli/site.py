"""CLI: ``spacesmith site build``, ``spacesmith site preview`` and ``spacesmith deploy``."""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``site`` group and the ``deploy`` command to the top-level parser."""
    site = subparsers.add_parser("site", help="build or preview a gallery site")
    site_sub = site.add_subparsers(dest="site_command", metavar="SUBCOMMAND")

    build = site_sub.add_parser("build", help="render a gallery JSON into a static site folder")
    build.add_argument("gallery", metavar="GALLERY.json", help="the gallery JSON file")
    build.add_argument("-o", "--out", required=True, metavar="DIR", help="the site folder")
    build.add_argument("--no-npm", action="store_true",
                       help="never run npm (use the cached packages, else the CDN)")
    build.set_defaults(handler=_build)

    preview = site_sub.add_parser("preview", help="serve a built site on 127.0.0.1")
    preview.add_argument("dir", metavar="DIR", help="the site folder")
    preview.add_argument("--port", type=int, default=8000, help="TCP port (0: any free port)")
    preview.set_defaults(handler=_preview)

    deploy = subparsers.add_parser("deploy", help="push a built site to a static Space")
    deploy.add_argument("dir", metavar="DIR", help="the site folder")
    deploy.add_argument("--space", required=True, metavar="OWNER/NAME", help="the Space id")
    deploy.add_argument("--private", action="store_true", help="create the Space private")
    deploy.add_argument("--dry-run", action="store_true", help="list what would be pushed")
    deploy.add_argument("--endpoint", default=None, help="the Hub URL (default: huggingface.co)")
    deploy.set_defaults(handler=_deploy)


def _build(args: argparse.Namespace) -> int:
    from spacesmith.tools.site.gallery import load_gallery
    from spacesmith.tools.site.render import build_site

    gallery = load_gallery(args.gallery)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = build_site(gallery, args.out, npm=None if args.no_npm else "npm")
    for warning in caught:
        print(f"Warning: {warning.message}", file=sys.stderr)
    size = result.total_bytes / 1e6
    print(f"Built {result.out_dir}: {len(gallery.items)} splats, {len(result.files)} files, "
          f"{size:.2f} MB" + (" (viewer JS from the CDN)" if result.used_cdn else ""))
    print(f"Preview: spacesmith site preview {result.out_dir}")
    return 0


def _preview(args: argparse.Namespace) -> int:
    from spacesmith.tools.site.preview import serve

    server = serve(args.dir, port=args.port)
    print(f"Serving {server.directory} at {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
    finally:
        server.close()
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from spacesmith.tools.hub.deploy import deploy

    result = deploy(args.dir, args.space, private=args.private, dry_run=args.dry_run,
                    endpoint=args.endpoint)
    if args.dry_run:
        print(f"Would push {len(result.files)} files to {result.url}:")
        for name in result.files:
            print(f"  {name}")
    elif result.committed:
        print(f"Deployed {len(result.files)} files: {result.url}")
    else:
        print(f"Nothing changed; {result.url} is up to date")
    return 0
