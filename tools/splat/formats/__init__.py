"""One module per splat file format: its constants, reader and writer."""
