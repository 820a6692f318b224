"""A run end to end: settings, workspace, stand-ins, headless goal files, reports."""
