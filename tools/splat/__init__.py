"""Gaussian splats: read, transform, clean, frame, write (pure numpy + plyfile)."""

#: Every splat file kind read and written here; the format follows the extension.
SPLAT_SUFFIXES = (".ply", ".splat", ".ksplat", ".spz")
