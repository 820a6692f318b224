"""The gallery: its data, the static site, vendored JS, the local preview server."""
