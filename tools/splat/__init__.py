"""Gaussian splats: read, transform, clean, frame, write (pure numpy + plyfile)."""
